/*
 * The watch thread of a passthrough device
 * (include/hw/block/virtio-blk-uring-watch.h).
 *
 * The thread polls the owner's pidfd and a wake-up eventfd without the
 * lock, and looks at the ring only with the lock held and the ring still
 * watched: uring_watch_stop() takes the lock, so it waits for at most the
 * check in progress, and the ring and its descriptors can go once it has
 * returned.
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
    char *label;
    UringWatchFn *fn;
    void *opaque;
    int wake_fd;                /* makes the thread look at the state now */
    GMutex lock;
    GCond started;
    /* Protected by lock */
    UringWatchConfig c;
    bool watching;              /* c is a running ring, not yet ended */
    unsigned generation;        /* of c: one more for each ring */
    bool quit;
    /* The watch thread's own: progress seen on the ring watched */
    uint32_t sq_head, cq_tail;
    gint64 last_progress;       /* when the ring last had none to make */
    bool warned;                /* about this stall */
    /* Protected by lock: uring_watch_totals() of the ring watched */
    uint64_t submitted, completed;
    uint32_t counted_sq_head, counted_cq_tail;
};

/* Add the indexes' progress since the last call to the totals.  With the
 * lock held, a ring watched. */
static void count_progress(UringWatch *w)
{
    UringRingState st;

    uring_ring_state_read(w->c.rings, w->c.params, &st);
    w->submitted += (uint32_t)(st.sq_head - w->counted_sq_head);
    w->completed += (uint32_t)(st.cq_tail - w->counted_cq_tail);
    w->counted_sq_head = st.sq_head;
    w->counted_cq_tail = st.cq_tail;
}

/*
 * Warn once per stall: work (requests the kernel holds, or SQEs published
 * while the SQPOLL thread is awake, so not waiting for a doorbell) and no
 * progress for stall_ms.  With the lock held.
 */
static void check_progress(UringWatch *w)
{
    const UringWatchConfig *c = &w->c;
    gint64 now = g_get_monotonic_time();
    UringRingState st;
    uint32_t waiting;
    g_autofree char *state = NULL;

    uring_ring_state_read(c->rings, c->params, &st);
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
    uring_ring_state_read_owner(c->owner_pid, &st);
    state = uring_ring_state_format(&st);
    warn_report("%s: uring-passthrough: the ring made no progress for "
                "%.1f s (%s)", w->label,
                (now - w->last_progress) / 1e6, state);
}

/* With the lock held, a ring watched: what ended it, or 0. */
static UringWatchEvent check_ring(UringWatch *w, bool owner_exited)
{
    const UringWatchConfig *c = &w->c;

    count_progress(w);
    if (owner_exited) {
        return URING_WATCH_OWNER_EXITED;
    }
    if (c->check_overflow &&
        uring_cq_overflowed(c->ring_fd, (const uint32_t *)
                            ((const uint8_t *)c->rings +
                             c->params->sq_off.flags))) {
        return URING_WATCH_OVERFLOW;
    }
    check_progress(w);
    return 0;
}

static gpointer watch_thread(gpointer opaque)
{
    UringWatch *w = opaque;

    g_mutex_lock(&w->lock);
    while (!w->quit) {
        struct pollfd fds[2] = {
            { .fd = w->wake_fd, .events = POLLIN },
            { .fd = -1, .events = POLLIN },
        };
        UringWatchEvent event;
        unsigned generation;

        if (!w->watching) {
            g_cond_wait(&w->started, &w->lock);
            continue;
        }
        fds[1].fd = w->c.owner_pidfd;
        generation = w->generation;
        g_mutex_unlock(&w->lock);
        if (poll(fds, 2, URING_OVERFLOW_CHECK_MS) < 0 && errno != EINTR) {
            /* ENOMEM, for the moment: look again later. */
            g_usleep(URING_OVERFLOW_CHECK_MS * 1000);
        }
        eventfd_consume(w->wake_fd);
        g_mutex_lock(&w->lock);
        /* The ring may have been stopped, or replaced, meanwhile. */
        if (!w->watching || w->generation != generation) {
            continue;
        }
        event = check_ring(w, fds[1].revents);
        if (event) {
            w->watching = false;
            w->fn(w->opaque, event);
        }
    }
    g_mutex_unlock(&w->lock);
    return NULL;
}

UringWatch *uring_watch_new(const char *label, UringWatchFn *fn,
                            void *opaque)
{
    UringWatch *w = g_new0(UringWatch, 1);

    w->label = g_strdup(label);
    w->fn = fn;
    w->opaque = opaque;
    w->wake_fd = eventfd_new();
    g_mutex_init(&w->lock);
    g_cond_init(&w->started);
    w->thread = g_thread_new("uring-watch", watch_thread, w);
    return w;
}

void uring_watch_free(UringWatch *w)
{
    g_mutex_lock(&w->lock);
    w->quit = true;
    w->watching = false;
    g_cond_signal(&w->started);
    g_mutex_unlock(&w->lock);
    eventfd_signal(w->wake_fd);
    g_thread_join(w->thread);
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->started);
    close(w->wake_fd);
    g_free(w->label);
    g_free(w);
}

void uring_watch_start(UringWatch *w, const UringWatchConfig *config)
{
    g_mutex_lock(&w->lock);
    w->c = *config;
    w->watching = true;
    w->generation++;
    w->last_progress = g_get_monotonic_time();
    w->warned = false;
    w->submitted = w->completed = 0;
    w->counted_sq_head = w->counted_cq_tail = 0;
    /* Since negotiation: the ring's indexes started at 0. */
    count_progress(w);
    g_cond_signal(&w->started);
    g_mutex_unlock(&w->lock);
}

void uring_watch_totals(UringWatch *w, uint64_t *submitted,
                        uint64_t *completed)
{
    g_mutex_lock(&w->lock);
    if (w->watching) {
        count_progress(w);
        *submitted = w->submitted;
        *completed = w->completed;
    } else {
        *submitted = *completed = 0;
    }
    g_mutex_unlock(&w->lock);
}

void uring_watch_stop(UringWatch *w)
{
    g_mutex_lock(&w->lock);
    w->watching = false;
    g_mutex_unlock(&w->lock);
    /* Out of its poll of the owner's pidfd, which is about to close. */
    eventfd_signal(w->wake_fd);
}
