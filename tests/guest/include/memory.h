/* Guest physical memory: the e820 map and a bump allocator. */
#ifndef GUEST_MEMORY_H
#define GUEST_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "start_info.h"

/* Copy the memory map out of the start_info block (start-up only). */
void memory_init(const struct hvm_start_info *si);

/*
 * Allocate @size bytes aligned to @align (a power of two) from RAM after the
 * loaded image and below 2 GiB, where addresses are identity-mapped.  The
 * memory is not cleared and is never freed.  Panics when RAM runs out.
 */
void *guest_alloc(size_t size, size_t align);

#endif
