/*
 * What ends a running passthrough ring behind the device's back, watched
 * from a thread of its own, off the BQL: the guest letting the completion
 * queue overflow (virtio-blk-uring-overflow.h), and the end of the ring's
 * owner process (killed by the host's OOM killer or an administrator:
 * without its SQPOLL thread the ring would silently stop).
 *
 * The watch thread ("uring-watch") waits on the owner's pidfd and, every
 * URING_OVERFLOW_CHECK_MS, looks for overflowed completions.  At the first
 * event it calls the device's callback, once, from its own thread, and
 * looks no further; the device withdraws the rings under the BQL.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_WATCH_H
#define HW_BLOCK_VIRTIO_BLK_URING_WATCH_H

#include <stdbool.h>
#include <stdint.h>

typedef struct UringWatch UringWatch;

typedef enum UringWatchEvent {
    URING_WATCH_OVERFLOW = 1,       /* the CQ overflowed */
    URING_WATCH_OWNER_EXITED,       /* the owner process ended */
} UringWatchEvent;

/* Called in the watch thread, at most once per watch. */
typedef void UringWatchFn(void *opaque, UringWatchEvent event);

/*
 * Watch the owner process behind owner_pidfd and, if check_overflow, the
 * ring ring_fd (sq_flags: the SQ flags in its mapped rings) for overflowed
 * completions.  All must stay valid until uring_watch_stop().
 * Called with the BQL held.
 */
UringWatch *uring_watch_start(int ring_fd, const uint32_t *sq_flags,
                              bool check_overflow, int owner_pidfd,
                              UringWatchFn *fn, void *opaque);
/*
 * Stop the thread and wait for it (at most one fdinfo check); fn is not
 * called after this returns.  Called with the BQL held.
 */
void uring_watch_stop(UringWatch *w);

#endif
