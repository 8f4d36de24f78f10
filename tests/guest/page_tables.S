/*
 * Identity page tables for 0..4 GiB with 2 MiB pages, built at assembly time
 * so that the (emulated) ring-0 boot code does not have to fill them.
 * Every entry is user-accessible and writable: ring 3 does all the work and
 * guest_map_identity() extends these tables from ring 3.  The top GiB holds
 * the MMIO windows (PCI, IOAPIC, local APIC) and is mapped uncached.
 */
#include "paging.h"

        .data
        .balign 4096
        .globl  pml4
pml4:
        .quad   pdpt + PTE_TABLE
        .fill   511, 8, 0

        .balign 4096
pdpt:
        .quad   pd + 0 * 4096 + PTE_TABLE
        .quad   pd + 1 * 4096 + PTE_TABLE
        .quad   pd + 2 * 4096 + PTE_TABLE
        .quad   pd + 3 * 4096 + PTE_TABLE
        .fill   508, 8, 0

        /* Four page directories back to back: 2048 entries of 2 MiB. */
        .balign 4096
pd:
        .set    page, 0
        .rept   3 * 512
        .quad   (page << 21) + PTE_RAM_2M
        .set    page, page + 1
        .endr
        .rept   512
        .quad   (page << 21) + PTE_MMIO_2M
        .set    page, page + 1
        .endr

        .section .note.GNU-stack, "", @progbits
