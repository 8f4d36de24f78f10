/*
 * Character device back-ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <glib-unix.h>

#include "chardev/char.h"
#include "qemu/error-report.h"
#include "sysemu/runstate.h"

struct Chardev {
    int in_fd;                  /* -1: no input */
    int out_fd;                 /* -1: output discarded */
    bool owns_fds;
    bool is_stdio;
    guint watch;
    bool escape;                /* stdio saw Ctrl-A */
    ChardevReceive receive;
    ChardevClosed closed;
    void *opaque;
};

static struct termios saved_tty;
static bool tty_modified;

static void stdio_restore_tty(void)
{
    if (tty_modified) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
        tty_modified = false;
    }
}

/* Raw input for the guest, but Ctrl-C still ends the VMM, as in QEMU. */
static void stdio_init_tty(void)
{
    struct termios tty;

    if (tty_modified || !isatty(STDIN_FILENO) ||
        tcgetattr(STDIN_FILENO, &saved_tty) < 0) {
        return;
    }
    tty = saved_tty;
    tty.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                     ICRNL | IXON);
    tty.c_oflag |= OPOST;
    tty.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    tty.c_cc[VMIN] = 1;
    tty.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &tty);
    tty_modified = true;
    atexit(stdio_restore_tty);
}

static int unix_connect(const char *path, GError **errp)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        error_setg_errno(errp, errno, "Failed to connect to '%s'", path);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

Chardev *qemu_chr_new(const char *spec, GError **errp)
{
    Chardev *chr = g_new0(Chardev, 1);

    chr->in_fd = chr->out_fd = -1;
    if (!strcmp(spec, "stdio")) {
        chr->in_fd = STDIN_FILENO;
        chr->out_fd = STDOUT_FILENO;
        chr->is_stdio = true;
        stdio_init_tty();
    } else if (!strcmp(spec, "null")) {
        /* nothing */
    } else if (g_str_has_prefix(spec, "file:")) {
        chr->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                           0666);
        if (chr->out_fd < 0) {
            error_setg_errno(errp, errno, "Could not open '%s'", spec + 5);
            g_free(chr);
            return NULL;
        }
        chr->owns_fds = true;
    } else if (g_str_has_prefix(spec, "unix:")) {
        chr->in_fd = chr->out_fd = unix_connect(spec + 5, errp);
        if (chr->in_fd < 0) {
            g_free(chr);
            return NULL;
        }
        chr->owns_fds = true;
    } else {
        error_setg(errp, "'%s' is not a valid char driver", spec);
        g_free(chr);
        return NULL;
    }
    return chr;
}

void qemu_chr_free(Chardev *chr)
{
    if (!chr) {
        return;
    }
    if (chr->watch) {
        g_source_remove(chr->watch);
    }
    if (chr->owns_fds) {
        close(chr->out_fd);
        if (chr->in_fd != chr->out_fd) {
            close(chr->in_fd);
        }
    }
    if (chr->is_stdio) {
        stdio_restore_tty();
    }
    g_free(chr);
}

void qemu_chr_write(Chardev *chr, const void *buf, size_t len)
{
    const char *p = buf;

    if (!chr || chr->out_fd < 0) {
        return;
    }
    while (len) {
        ssize_t n = write(chr->out_fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;     /* the reader is gone; like QEMU, drop the output */
        }
        p += n;
        len -= n;
    }
}

/*
 * On an interactive stdio, Ctrl-A x ends the VMM and Ctrl-A Ctrl-A sends a
 * Ctrl-A, as QEMU's -nographic console does.
 */
static size_t stdio_filter_escape(Chardev *chr, uint8_t *buf, size_t len)
{
    size_t out = 0;

    for (size_t i = 0; i < len; i++) {
        if (chr->escape) {
            chr->escape = false;
            if (buf[i] == 'x') {
                fprintf(stderr, "QEMU: Terminated\n");
                qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL, 0);
                continue;
            }
            if (buf[i] != 0x01) {
                continue;
            }
        } else if (buf[i] == 0x01) {
            chr->escape = true;
            continue;
        }
        buf[out++] = buf[i];
    }
    return out;
}

static gboolean chr_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    Chardev *chr = opaque;
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        chr->watch = 0;
        if (chr->closed) {
            chr->closed(chr->opaque);
        }
        return G_SOURCE_REMOVE;
    }
    if (chr->is_stdio && tty_modified) {
        n = stdio_filter_escape(chr, buf, n);
    }
    if (n && chr->receive) {
        chr->receive(chr->opaque, buf, n);
    }
    return G_SOURCE_CONTINUE;
}

void qemu_chr_set_handlers(Chardev *chr, ChardevReceive receive,
                           ChardevClosed closed, void *opaque)
{
    chr->receive = receive;
    chr->closed = closed;
    chr->opaque = opaque;
    if (chr->in_fd >= 0 && !chr->watch) {
        chr->watch = g_unix_fd_add(chr->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                   chr_readable, chr);
    }
}
