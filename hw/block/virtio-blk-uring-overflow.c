/*
 * Overflowed completions of a passthrough io_uring, from its fdinfo.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/block/virtio-blk-uring-overflow.h"

#define OVERFLOW_LIST_HEADER    "\nCqOverflowList:\n"

int uring_cq_overflowed(int ring_fd, GError **errp)
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
                    "%s has no CqOverflowList", path);
        return -1;
    }
    /* Each overflowed completion is an indented line under the header. */
    list += strlen(OVERFLOW_LIST_HEADER);
    return *list == ' ' || *list == '\t';
}
