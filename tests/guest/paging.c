/*
 * Run-time identity mappings above 4 GiB.
 *
 * No TLB flush is needed (and none would be possible from ring 3): every
 * entry written here goes from not-present to present, and the CPU never
 * caches a translation or paging-structure entry for a not-present entry,
 * so the next access on any CPU walks the tables and finds the new entry.
 * Entries that are already present are left alone.  A new table is filled
 * (zeroed) before the entry pointing to it is written; x86 keeps the two
 * stores in order, the compiler barrier keeps the compiler from reordering.
 */
#include "paging.h"

#include "libc.h"
#include "memory.h"

#define PAGE_2M         (1ull << 21)
#define PTE_ADDR_MASK   0x000ffffffffff000ull

extern uint64_t pml4[512];

/* The table @entry points to, created empty if @entry is not present. */
static uint64_t *next_table(uint64_t *entry)
{
    if (!(*entry & PTE_PRESENT)) {
        uint64_t *table = guest_alloc(4096, 4096);

        memset(table, 0, 4096);
        __asm__ volatile("" ::: "memory");
        *entry = (uintptr_t)table | PTE_TABLE;
    }
    return (uint64_t *)(uintptr_t)(*entry & PTE_ADDR_MASK);
}

void guest_map_identity(uint64_t phys, uint64_t size)
{
    uint64_t end = phys + size;

    for (uint64_t a = phys & ~(PAGE_2M - 1); a < end; a += PAGE_2M) {
        uint64_t *pdpt = next_table(&pml4[a >> 39 & 511]);
        uint64_t *pd = next_table(&pdpt[a >> 30 & 511]);
        uint64_t *pde = &pd[a >> 21 & 511];

        if (!(*pde & PTE_PRESENT)) {
            *pde = a | PTE_MMIO_2M;
        }
    }
}
