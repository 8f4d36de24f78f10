/*
 * Page-table entry bits (shared with page_tables.S) and run-time additions
 * to the identity map.
 */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#define PTE_PRESENT     0x01
#define PTE_WRITE       0x02
#define PTE_USER        0x04
#define PTE_PWT         0x08
#define PTE_PCD         0x10
#define PTE_LARGE       0x80    /* 2 MiB page in a page directory */
#define PTE_TABLE       (PTE_PRESENT | PTE_WRITE | PTE_USER)
#define PTE_RAM_2M      (PTE_TABLE | PTE_LARGE)
#define PTE_MMIO_2M     (PTE_RAM_2M | PTE_PCD | PTE_PWT)       /* uncached */

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * Identity-map [phys, phys + size) uncached with 2 MiB pages, for MMIO such
 * as 64-bit PCI BARs placed above 4 GiB.  The first 4 GiB are always mapped.
 * Runs in ring 3 (the page tables are user-writable).
 */
void guest_map_identity(uint64_t phys, uint64_t size);
#endif

#endif
