/*
 * The watch thread of a running passthrough ring
 * (include/hw/block/virtio-blk-uring-watch.h).
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "hw/block/virtio-blk-uring-overflow.h"
#include "hw/block/virtio-blk-uring-watch.h"
#include "qemu/eventfd.h"

struct UringWatch {
    GThread *thread;
    int ring_fd;
    const uint32_t *sq_flags;
    bool check_overflow;
    int owner_pidfd;
    int stop_fd;                /* signalled by uring_watch_stop() */
    UringWatchFn *fn;
    void *opaque;
};

/* The watch thread, until stopped or something happened. */
static gpointer watch_thread(gpointer opaque)
{
    UringWatch *w = opaque;
    UringWatchEvent event = 0;

    while (!event) {
        struct pollfd fds[2] = {
            { .fd = w->stop_fd, .events = POLLIN },
            { .fd = w->owner_pidfd, .events = POLLIN },
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
        } else if (w->check_overflow &&
                   uring_cq_overflowed(w->ring_fd, w->sq_flags)) {
            event = URING_WATCH_OVERFLOW;
        }
    }
    w->fn(w->opaque, event);
    return NULL;
}

UringWatch *uring_watch_start(int ring_fd, const uint32_t *sq_flags,
                              bool check_overflow, int owner_pidfd,
                              UringWatchFn *fn, void *opaque)
{
    UringWatch *w = g_new0(UringWatch, 1);

    *w = (UringWatch){
        .ring_fd = ring_fd, .sq_flags = sq_flags,
        .check_overflow = check_overflow, .owner_pidfd = owner_pidfd,
        .stop_fd = eventfd_new(), .fn = fn, .opaque = opaque,
    };
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
