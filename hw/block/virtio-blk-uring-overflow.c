/*
 * Overflowed completions of a passthrough io_uring: the rings' flag and
 * the ring's fdinfo.
 */
#include <linux/io_uring.h>
#include <string.h>

#include "hw/block/virtio-blk-uring-overflow.h"

#define OVERFLOW_LIST_HEADER    "\nCqOverflowList:\n"
#define FDINFO_TRIES            8

/* 1 if the fdinfo lists overflowed completions, 0 if not, -1 if it does
 * not show the list this time (or cannot be read). */
static int fdinfo_overflow(int ring_fd, GError **errp)
{
    g_autofree char *path = g_strdup_printf("/proc/self/fdinfo/%d", ring_fd);
    g_autofree char *text = NULL;
    const char *list;

    if (!g_file_get_contents(path, &text, NULL, errp)) {
        return -1;
    }
    list = strstr(text, OVERFLOW_LIST_HEADER);
    if (!list) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NOSYS,
                    "%s does not list overflowed completions "
                    "(CqOverflowList)", path);
        return -1;
    }
    /* Each overflowed completion is an indented line under the header. */
    list += strlen(OVERFLOW_LIST_HEADER);
    return *list == ' ' || *list == '\t';
}

bool uring_overflow_watchable(int ring_fd, GError **errp)
{
    return fdinfo_overflow(ring_fd, errp) >= 0;
}

/* In the watch thread. */
bool uring_cq_overflowed(int ring_fd, const uint32_t *sq_flags)
{
    if (__atomic_load_n(sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW) {
        return true;
    }
    for (int i = 0; i < FDINFO_TRIES; i++) {
        int ret = fdinfo_overflow(ring_fd, NULL);

        if (ret >= 0) {
            return ret;
        }
        g_thread_yield();
    }
    return false;
}
