/*
 * The machine: what the command line configured and what was built from it.
 */
#ifndef HW_BOARDS_H
#define HW_BOARDS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "exec/guest-ram.h"
#include "exec/memory.h"

typedef struct Chardev Chardev;

/* vCPUs the pvh machine takes at most (-smp, query-machines' cpu-max). */
#define PVH_MAX_CPUS    64

typedef struct MachineState {
    uint64_t ram_size;
    const GuestRAMBacking *ram_backing;     /* what guest RAM maps */
    unsigned smp_cpus;
    char *kernel_filename;
    char *kernel_cmdline;
    Chardev *serials[4];        /* -serial: COM1..COM4's back-ends */
    unsigned nr_serials;
    Chardev *debugcon;          /* -debugcon's back-end, or NULL */
    bool default_devices;       /* false with -nodefaults */
    bool user_debug_exit;       /* -device isa-debug-exit was given */

    MemoryRegion ram[2];
    uint64_t entry;             /* PVH entry point of the kernel */
    uint64_t start_info;        /* guest address of hvm_start_info */
} MachineState;

extern MachineState *current_machine;

/* Build the machine: RAM, firmware-less boot, on-board devices. */
bool pvh_machine_init(MachineState *ms, GError **errp);
/* Put the machine back in its power-on state (with the BQL, vCPUs paused). */
void pvh_machine_reset(MachineState *ms);
void pvh_machine_cleanup(MachineState *ms);

#endif
