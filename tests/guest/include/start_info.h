/*
 * The boot information block of the Xen PVH boot ABI, whose physical address
 * the loader passes in %ebx.  All addresses are guest-physical.
 */
#ifndef GUEST_START_INFO_H
#define GUEST_START_INFO_H

#include <stdint.h>

#define HVM_START_MAGIC     0x336ec578

struct hvm_start_info {
    uint32_t magic;             /* HVM_START_MAGIC */
    uint32_t version;           /* 0, or 1 with the memory map fields */
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;     /* NUL-terminated, 0 if none */
    uint64_t rsdp_paddr;        /* ACPI RSDP, 0 if none given */
    /* version >= 1 */
    uint64_t memmap_paddr;      /* array of struct hvm_memmap_entry */
    uint32_t memmap_entries;
    uint32_t reserved;
};

/* e820 types */
#define HVM_MEMMAP_RAM      1

struct hvm_memmap_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};

#endif
