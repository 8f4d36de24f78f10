/*
 * Whether a passthrough io_uring holds overflowed completions.
 *
 * When the completion queue is full the kernel keeps further completions
 * in a list of its own (IORING_FEAT_NODROP), allocating for each, and the
 * SQPOLL thread keeps submitting: a guest that submits without consuming
 * completions would make that list, host kernel memory, grow without end.
 * The flag IORING_SQ_CQ_OVERFLOW cannot tell, because it lies in memory the
 * guest can write; the ring's fdinfo lists the kernel's own overflow list.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_OVERFLOW_H
#define HW_BLOCK_VIRTIO_BLK_URING_OVERFLOW_H

#include <glib.h>
#include <stdbool.h>

/* How often the device looks: the list grows by at most about 1 MiB in
 * this time (measured: about 10 MiB/s with NOPs on an idle host). */
#define URING_OVERFLOW_CHECK_MS     100

/*
 * True if the ring @ring_fd (a descriptor of this process) has overflowed
 * completions, false if not; -1 with errp set if its fdinfo cannot be read.
 */
int uring_cq_overflowed(int ring_fd, GError **errp);

#endif
