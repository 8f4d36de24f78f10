/*
 * Physical memory map and bump allocator.
 *
 * Allocation starts at the end of the loaded image (linked at 1 MiB), so it
 * never hands out low memory, where the loader's start_info block, memory
 * map and command line and the AP trampoline page live.
 */
#include "memory.h"

#include "exit.h"
#include "libc.h"

#define MEMMAP_MAX      64
#define ALLOC_LIMIT     0x80000000ull   /* 2 GiB: above is MMIO, then 4 GiB+ */

extern char image_end[];                /* from the linker script */

static struct hvm_memmap_entry memmap[MEMMAP_MAX];
static unsigned int memmap_entries;
static uint64_t alloc_next;

void memory_init(const struct hvm_start_info *si)
{
    const struct hvm_memmap_entry *map;

    if (si->version < 1 || !si->memmap_paddr) {
        guest_panic("start_info v%u carries no memory map", si->version);
    }
    map = (const void *)(uintptr_t)si->memmap_paddr;
    memmap_entries = si->memmap_entries < MEMMAP_MAX ? si->memmap_entries : MEMMAP_MAX;
    memcpy(memmap, map, memmap_entries * sizeof(*map));
    alloc_next = (uintptr_t)image_end;
}

void *guest_alloc(size_t size, size_t align)
{
    for (unsigned int i = 0; i < memmap_entries; i++) {
        const struct hvm_memmap_entry *e = &memmap[i];
        uint64_t start = alloc_next > e->addr ? alloc_next : e->addr;
        uint64_t end = e->addr + e->size < ALLOC_LIMIT ? e->addr + e->size : ALLOC_LIMIT;

        start = (start + align - 1) & ~(uint64_t)(align - 1);
        if (e->type == HVM_MEMMAP_RAM && start < end && end - start >= size) {
            alloc_next = start + size;
            return (void *)(uintptr_t)start;
        }
    }
    guest_panic("guest_alloc: no %zu bytes of RAM left below 2 GiB", size);
}
