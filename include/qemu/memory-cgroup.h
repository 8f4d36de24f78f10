/*
 * A memory cgroup of our own for helper processes: a child of the cgroup
 * the VMM runs in, with a limit on the memory its processes and their
 * kernel threads are charged for (their kernel allocations made with
 * __GFP_ACCOUNT, page cache they bring in).
 *
 * Either cgroup version: v1's memory hierarchy (memory.limit_in_bytes) or
 * v2's unified one (memory.max), whichever holds the VMM's memory
 * controller.  The VMM needs the right to create a cgroup beside itself:
 * root on a v1 host; on a v2 host a delegated cgroup whose memory
 * controller can be enabled for children (which v2 allows only in a cgroup
 * without processes of its own, or the root).
 */
#ifndef QEMU_MEMORY_CGROUP_H
#define QEMU_MEMORY_CGROUP_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct MemoryCgroup MemoryCgroup;

/*
 * Create it, named "qemu-PID-PURPOSE" (PID the VMM's; purpose unique in
 * the VMM).  Empty cgroups of such names that VMMs no longer running left
 * behind (they were killed) are removed first.
 */
MemoryCgroup *memory_cgroup_new(const char *purpose, uint64_t limit,
                                GError **errp);
/* Move process pid (and the threads it will create) into it. */
bool memory_cgroup_add(MemoryCgroup *cg, pid_t pid, GError **errp);
/* Remove it; its processes must have exited. */
void memory_cgroup_free(MemoryCgroup *cg);

/*
 * The directory of the memory cgroup process pid is in (*v2: in cgroup
 * v2's hierarchy), for the VMM's own and for tests.
 */
char *memory_cgroup_dir_of(pid_t pid, bool *v2, GError **errp);

#endif
