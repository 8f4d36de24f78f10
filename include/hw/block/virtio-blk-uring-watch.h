/*
 * A passthrough device's running ring, watched from a thread of the
 * device's own, off the BQL ("uring-watch"), for what ends it behind the
 * device's back:
 *
 * - the guest letting the completion queue overflow
 *   (virtio-blk-uring-overflow.h), looked for every
 *   URING_OVERFLOW_CHECK_MS;
 * - the end of the ring's owner process (the host's OOM killer, an
 *   administrator: without its SQPOLL thread the ring would silently
 *   stop), seen at once on its pidfd.
 *
 * At the first such event it calls the device's callback, once per ring,
 * from its own thread, and looks no further; the device withdraws the
 * rings under the BQL.
 *
 * It also warns, once per stall, when the ring makes no progress for
 * stall_ms although it has work (requests the kernel took and did not
 * complete, or SQEs published while the SQPOLL thread is awake), with the
 * ring's state (virtio-blk-uring-state.h): the host is what holds them.
 *
 * The thread lives as long as the device; it sleeps while no ring runs.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_WATCH_H
#define HW_BLOCK_VIRTIO_BLK_URING_WATCH_H

#include <linux/io_uring.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct UringWatch UringWatch;

typedef enum UringWatchEvent {
    URING_WATCH_OVERFLOW = 1,       /* the CQ overflowed */
    URING_WATCH_OWNER_EXITED,       /* the owner process ended */
} UringWatchEvent;

/* Called in the watch thread, at most once per ring. */
typedef void UringWatchFn(void *opaque, UringWatchEvent event);

/* What to watch; it must stay valid until uring_watch_stop(). */
typedef struct UringWatchConfig {
    int ring_fd;
    const void *rings;          /* the VMM's mapping of the rings */
    const struct io_uring_params *params;   /* their layout */
    pid_t owner_pid;
    int owner_pidfd;
    bool check_overflow;
    uint32_t stall_ms;          /* warn after this long without progress */
} UringWatchConfig;

/*
 * The device's watch thread, which names it as label in messages and
 * calls fn(opaque, event).  Called with the BQL held (device realize).
 */
UringWatch *uring_watch_new(const char *label, UringWatchFn *fn,
                            void *opaque);
/* End the thread.  Called with the BQL held (device unrealize). */
void uring_watch_free(UringWatch *w);

/* Watch the ring of config.  Called with the BQL held. */
void uring_watch_start(UringWatch *w, const UringWatchConfig *config);
/*
 * Requests the ring's kernel side took from the SQ (sq_head) and
 * completed into the CQ (cq_tail) since uring_watch_start(), as 64-bit
 * totals: the 32-bit indexes wrap, so the thread adds up their progress
 * at every check (a ring cannot take 2^32 requests between two).  The
 * indexes are in memory the guest writes too: these are the figures as
 * they are.  0 when no ring is watched.  Called with the BQL held.
 */
void uring_watch_totals(UringWatch *w, uint64_t *submitted,
                        uint64_t *completed);

/*
 * Stop watching the ring: once this returns, the thread touches nothing of
 * it and fn is not called for it (it waits for at most one check).
 * Called with the BQL held.
 */
void uring_watch_stop(UringWatch *w);

#endif
