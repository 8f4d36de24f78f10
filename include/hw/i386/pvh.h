/*
 * Booting an ELF kernel through its PVH entry point, without firmware.
 *
 * The structures are those of the Xen PVH boot ABI (arch/x86/pvh.html in
 * Xen's documentation), written out here from the specification.
 */
#ifndef HW_I386_PVH_H
#define HW_I386_PVH_H

#include <glib.h>
#include <stdint.h>

typedef struct MachineState MachineState;

#define XEN_ELFNOTE_PHYS32_ENTRY    18
#define HVM_START_MAGIC             0x336ec578

struct hvm_start_info {
    uint32_t magic;
    uint32_t version;           /* 1: has memmap_* */
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_memmap_table_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;              /* E820 types: 1 RAM, 2 reserved */
    uint32_t reserved;
};

#define E820_RAM        1
#define E820_RESERVED   2

/* Where the VMM puts the boot information in guest RAM. */
#define PVH_START_INFO_ADDR     0x1000
#define PVH_MEMMAP_ADDR         (PVH_START_INFO_ADDR + 0x40)
#define PVH_MEMMAP_MAX          16
#define PVH_CMDLINE_ADDR        0x2000
#define PVH_CMDLINE_MAX         0x2000  /* bytes, with the final NUL */
#define PVH_BOOT_INFO_END       (PVH_CMDLINE_ADDR + PVH_CMDLINE_MAX)

/* Read the kernel file once; check it is a PVH ELF that fits in RAM. */
bool pvh_kernel_open(MachineState *ms, GError **errp);
/* (Re)load the segments and boot information into guest RAM. */
void pvh_kernel_load(MachineState *ms);
void pvh_kernel_close(void);

#endif
