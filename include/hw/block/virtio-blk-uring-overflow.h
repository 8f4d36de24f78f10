/*
 * Whether a passthrough io_uring holds overflowed completions.
 *
 * When the completion queue is full the kernel keeps further completions
 * in a list of its own (IORING_FEAT_NODROP), allocating for each, and the
 * SQPOLL thread keeps submitting: a guest that submits without consuming
 * completions would make that list, host kernel memory, grow without end.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_OVERFLOW_H
#define HW_BLOCK_VIRTIO_BLK_URING_OVERFLOW_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* How often the device looks: the list grows by at most about 1 MiB in
 * this time (measured: about 10 MiB/s with NOPs on an idle host). */
#define URING_OVERFLOW_CHECK_MS     100

/*
 * Whether this host's fdinfo of the ring @ring_fd (idle, of this process)
 * lists overflowed completions; false with errp set if not.
 */
bool uring_overflow_watchable(int ring_fd, GError **errp);

/*
 * True if the ring @ring_fd has overflowed completions: the kernel set
 * IORING_SQ_CQ_OVERFLOW in @sq_flags (the rings' SQ flags), or, since the
 * guest can clear that flag, the ring's fdinfo lists overflowed completions.
 * The kernel leaves the list out of fdinfo while another thread holds the
 * ring's lock (the SQPOLL thread, submitting), so fdinfo is read a few
 * times; false if it never showed the list.
 */
bool uring_cq_overflowed(int ring_fd, const uint32_t *sq_flags);

#endif
