/*
 * The process that owns a passthrough io_uring, seen from the VMM.
 *
 * The ring's SQPOLL thread and io-wq workers are threads of the process
 * that creates the ring, and use its address space, credentials and
 * limits: the owner (hw/block/uring-owner/) is made to give them nothing
 * the guest's I/O does not need.  The VMM starts it for each device, or
 * for each uring-sqpoll object (a child process that executes the owner
 * from memory), places it in a memory cgroup, has it create rings, all on
 * its one SQPOLL thread, and takes their descriptors from it
 * (pidfd_getfd(2)); stopping it ends the rings' threads.
 *
 * Every wait for the owner is bounded, except for its end after SIGKILL,
 * which lasts as long as the ring's requests in flight (the host's block
 * layer bounds those): the device promises that no request of the old
 * ring touches guest memory once a reset is done.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_OWNER_H
#define HW_BLOCK_VIRTIO_BLK_URING_OWNER_H

#include <glib.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <sys/types.h>

#include "qemu/memory-cgroup.h"

/* How long the owner may take to start and create the ring. */
#define URING_OWNER_TIMEOUT_MS  10000

typedef struct UringOwner {
    pid_t pid;                  /* 0: not running */
    int pidfd;
    int channel;                /* the VMM's end of the channel */
} UringOwner;

/*
 * Start the owner in cgroup cg (NULL: the VMM's), with file size limit
 * fsize_limit (UINT64_MAX: none), and its SQPOLL thread on host CPU sq_cpu
 * (-1: any), idle for sq_idle_ms before it sleeps.  False with errp set and
 * the owner gone if it cannot.  Called with the BQL held.
 */
bool uring_owner_start(UringOwner *o, uint64_t fsize_limit, int sq_cpu,
                       unsigned sq_idle_ms, MemoryCgroup *cg, GError **errp);
/*
 * Have the owner make nr_rings rings (1 to URING_OWNER_MAX_RINGS) with
 * io_uring_setup(entries, params), all attached to its SQPOLL thread.  On
 * success fds[0..nr_rings) are the rings' fds in the VMM, and params is
 * filled in by the kernel (the layout of every ring).  False with errp set
 * otherwise: if io_uring_setup() failed, the error's code is its errno and
 * its message only strerror's, and the owner goes on; if the owner did not
 * answer as it should, it is killed (uring_owner_stop() still has to reap
 * it).  Called with the BQL held.
 */
bool uring_owner_make_rings(UringOwner *o, unsigned nr_rings,
                            unsigned entries, struct io_uring_params *params,
                            int *fds, GError **errp);
/*
 * End the owner and wait until it, and the threads of the ring, are gone:
 * as long as the host kernel holds requests the ring submitted, with a
 * warning every URING_OWNER_TIMEOUT_MS.  Called with the BQL held.
 */
void uring_owner_stop(UringOwner *o);

/*
 * If the running owner has exited (its pidfd polls readable), how: "was
 * killed by signal 9 (Killed)", "exited with status 2"; NULL if it has not.
 * Any thread.
 */
char *uring_owner_exit_reason(UringOwner *o);

#endif
