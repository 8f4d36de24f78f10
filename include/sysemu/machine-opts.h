/*
 * The machine and system options that management tools (libvirt) pass:
 * -machine's usb=, dump-guest-core=, memory-backend= and "none", -cpu,
 * -overcommit, -rtc, -boot, -no-acpi, -uuid, -name, -msg, -no-user-config,
 * -audiodev, -audio, -sandbox, -run-with.  Each is taken with QEMU's meaning
 * or refused with one line (docs/system/machine-options.rst).
 *
 * Parsed in the main thread before anything starts; read-only afterwards,
 * from any thread.
 */
#ifndef SYSEMU_MACHINE_OPTS_H
#define SYSEMU_MACHINE_OPTS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "qemu/option.h"

typedef struct MachineOpts {
    bool none;                  /* -machine none: no RAM, vCPU or device */
    bool dump_guest_core;       /* guest RAM in core dumps (default on) */
    const char *memory_backend; /* -machine memory-backend=ID, or NULL */
    bool mem_lock;              /* -overcommit mem-lock=on */
    bool have_uuid;             /* -uuid */
    uint8_t uuid[16];
    char *name;                 /* -name guest=, or NULL */
    bool exit_with_parent;      /* -run-with exit-with-parent=on */
} MachineOpts;

extern MachineOpts machine_opts;

/* Does option (a QEMU_OPTION_* index) belong here? */
bool machine_opts_handles(int option);
/* Parse one of those options; errors are about it. */
bool machine_opts_parse(int option, const char *arg, GError **errp);
/*
 * The keys of -machine beyond type= and accel= (usb, dump-guest-core,
 * memory-backend), and the type: "none" or "pvh".
 */
bool machine_opts_parse_machine(QemuOpts *opts, const char *type,
                                GError **errp);
/* -name guest=,process=,debug-threads= */
bool machine_opts_parse_name(const char *arg, GError **errp);
/*
 * What must happen before anything else runs: -run-with's parent watch,
 * -overcommit mem-lock's mlockall().
 */
bool machine_opts_apply(GError **errp);

#endif
