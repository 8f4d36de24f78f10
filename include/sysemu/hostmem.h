/*
 * Memory back-ends: -object memory-backend-ram|memory-backend-file, which
 * -machine memory-backend=ID makes the guest's RAM.
 *
 * Guest RAM stays at its fixed host address (docs/devel/memory.rst): a
 * back-end only says what is mapped there (anonymous memory, or a file such
 * as one on hugetlbfs, shared or private, preallocated or not).
 *
 * Called with the BQL held, at start-up and exit.
 */
#ifndef SYSEMU_HOSTMEM_H
#define SYSEMU_HOSTMEM_H

#include <glib.h>
#include <stdbool.h>

#include "exec/guest-ram.h"
#include "qemu/option.h"

typedef struct HostMemoryBackend HostMemoryBackend;

/* Is type (-object's qom-type) a memory back-end? */
bool memory_backend_type(const char *type);
/* -object memory-backend-*,id=,size=,...: opts with qom-type and id. */
bool memory_backend_create(QemuOpts *opts, GError **errp);
HostMemoryBackend *memory_backend_find(const char *id);
uint64_t memory_backend_size(HostMemoryBackend *be);
/* What guest_ram_init() maps; dump: -machine dump-guest-core. */
GuestRAMBacking memory_backend_backing(HostMemoryBackend *be, bool dump);
void memory_backend_cleanup_all(void);

#endif
