/*
 * The watch thread of a running passthrough ring
 * (include/hw/block/virtio-blk-uring-watch.h).
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "hw/block/virtio-blk-uring-overflow.h"
#include "hw/block/virtio-blk-uring-state.h"
#include "hw/block/virtio-blk-uring-watch.h"
#include "qemu/error-report.h"
#include "qemu/eventfd.h"

struct UringWatch {
    GThread *thread;
    UringWatchConfig c;
    int stop_fd;                /* signalled by uring_watch_stop() */
    /* In the watch thread: progress seen */
    uint32_t sq_head, cq_tail;
    gint64 last_progress;       /* when the ring last had none to make */
    bool warned;                /* about this stall */
};

/*
 * Warn once per stall: work (requests the kernel holds, or SQEs published
 * while the SQPOLL thread is awake, so not waiting for a doorbell) and no
 * progress for stall_ms.
 */
static void check_progress(UringWatch *w)
{
    const UringWatchConfig *c = &w->c;
    gint64 now = g_get_monotonic_time();
    UringRingState st;
    uint32_t waiting;
    g_autofree char *state = NULL;

    uring_ring_state_read(c->rings, c->params, c->owner_pid, &st);
    waiting = st.sq_flags & IORING_SQ_NEED_WAKEUP ? 0
                                                  : st.sq_tail - st.sq_head;
    if ((!uring_ring_state_held(&st) && !waiting) ||
        st.sq_head != w->sq_head || st.cq_tail != w->cq_tail) {
        w->sq_head = st.sq_head;
        w->cq_tail = st.cq_tail;
        w->last_progress = now;
        w->warned = false;
        return;
    }
    if (w->warned || now - w->last_progress < c->stall_ms * 1000LL) {
        return;
    }
    w->warned = true;
    state = uring_ring_state_format(&st);
    warn_report("%s: uring-passthrough: the ring made no progress for "
                "%.1f s (%s)", c->label,
                (now - w->last_progress) / 1e6, state);
}

/* The watch thread, until stopped or the ring ended. */
static gpointer watch_thread(gpointer opaque)
{
    UringWatch *w = opaque;
    UringWatchEvent event = 0;

    w->last_progress = g_get_monotonic_time();
    while (!event) {
        struct pollfd fds[2] = {
            { .fd = w->stop_fd, .events = POLLIN },
            { .fd = w->c.owner_pidfd, .events = POLLIN },
        };

        if (poll(fds, 2, URING_OVERFLOW_CHECK_MS) < 0) {
            /* EINTR, or ENOMEM for the moment: look again later. */
            if (errno != EINTR) {
                g_usleep(URING_OVERFLOW_CHECK_MS * 1000);
            }
            continue;
        }
        if (fds[0].revents) {
            return NULL;
        }
        if (fds[1].revents) {
            event = URING_WATCH_OWNER_EXITED;
        } else if (w->c.check_overflow &&
                   uring_cq_overflowed(w->c.ring_fd, (const uint32_t *)
                                       ((const uint8_t *)w->c.rings +
                                        w->c.params->sq_off.flags))) {
            event = URING_WATCH_OVERFLOW;
        } else {
            check_progress(w);
        }
    }
    w->c.fn(w->c.opaque, event);
    return NULL;
}

UringWatch *uring_watch_start(const UringWatchConfig *config)
{
    UringWatch *w = g_new0(UringWatch, 1);

    w->c = *config;
    w->stop_fd = eventfd_new();
    w->thread = g_thread_new("uring-watch", watch_thread, w);
    return w;
}

void uring_watch_stop(UringWatch *w)
{
    eventfd_signal(w->stop_fd);
    g_thread_join(w->thread);
    close(w->stop_fd);
    g_free(w);
}
