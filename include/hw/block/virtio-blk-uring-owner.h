/*
 * The process that owns a passthrough io_uring.
 *
 * io_uring_setup() makes the SQPOLL thread (and later the io-wq workers) a
 * thread of the calling process, and those threads submit the guest's
 * writes.  A small child process creates the ring so that their limits are
 * its own: RLIMIT_FSIZE is the image size, which stops a write past the end
 * from growing the image.  The child hands the ring's file descriptor over
 * and then only waits; stopping it ends the SQPOLL thread and io-wq
 * workers with it.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_OWNER_H
#define HW_BLOCK_VIRTIO_BLK_URING_OWNER_H

#include <glib.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct UringOwner {
    pid_t pid;
} UringOwner;

/*
 * Start the owner, which calls io_uring_setup(entries, params) with file
 * size limit fsize_limit (RLIM_INFINITY: none).  Returns the ring's fd
 * (params filled in by the kernel), or -1 with errp set.
 */
int uring_owner_start(UringOwner *o, unsigned entries,
                      struct io_uring_params *params, uint64_t fsize_limit,
                      GError **errp);
/* End the owner and wait until it, and the threads of the ring, are gone. */
void uring_owner_stop(UringOwner *o);

#endif
