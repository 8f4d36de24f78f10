/*
 * A guest physical memory allocator for tests: first fit over one RAM range,
 * with freed blocks merged back into their neighbours.  The test owns the
 * range (under -accel qtest nothing else runs in the guest).
 */
#ifndef LIBQOS_GUEST_ALLOC_H
#define LIBQOS_GUEST_ALLOC_H

#include <stdint.h>

typedef struct GuestAlloc GuestAlloc;

/* Allocations come from [start, end); default alignment is 4 KiB. */
GuestAlloc *guest_alloc_new(uint64_t start, uint64_t end);
/* The RAM of a "pvh" machine with ram_size bytes, above the first MiB. */
GuestAlloc *guest_alloc_new_for_ram(uint64_t ram_size);
/* Checks that everything was freed, so that tests find their leaks. */
void guest_alloc_destroy(GuestAlloc *a);

/* A page-aligned block of size bytes; aborts the test if none is left. */
uint64_t guest_alloc(GuestAlloc *a, uint64_t size);
/* align: a power of two. */
uint64_t guest_alloc_aligned(GuestAlloc *a, uint64_t size, uint64_t align);
void guest_free(GuestAlloc *a, uint64_t addr);

#endif
