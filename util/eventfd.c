/*
 * eventfd helpers.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <glib.h>

#include "qemu/eventfd.h"

int eventfd_new(void)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    if (fd < 0) {
        g_error("eventfd: %s", g_strerror(errno));
    }
    return fd;
}

void eventfd_signal(int fd)
{
    uint64_t one = 1;
    ssize_t ret = write(fd, &one, sizeof(one));

    (void)ret;  /* EAGAIN: the counter is at its maximum, still signalled */
}

bool eventfd_consume(int fd)
{
    uint64_t count;

    return read(fd, &count, sizeof(count)) == sizeof(count);
}
