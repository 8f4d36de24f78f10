/*
 * Character devices: the registry, writing, and reading in the main loop.
 * Each back-end (chardev/char-*.c) opens its fds; chardev/char-opts.c turns
 * options into back-ends.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include "chardev/char-internal.h"
#include "qemu/error-report.h"
#include "sysemu/runstate.h"

/* Registered chardevs, in creation order. */
static GPtrArray *registry;

Chardev *qemu_chr_alloc(const char *label)
{
    Chardev *chr = g_new0(Chardev, 1);

    chr->label = g_strdup(label);
    chr->in_fd = chr->out_fd = -1;
    chr->pty_slave_fd = -1;
    chr->listen_fd = -1;
    return chr;
}

void qemu_chr_register(Chardev *chr)
{
    if (!registry) {
        registry = g_ptr_array_new();
    }
    g_ptr_array_add(registry, chr);
}

Chardev *qemu_chr_find(const char *id)
{
    for (guint i = 0; registry && i < registry->len; i++) {
        Chardev *chr = g_ptr_array_index(registry, i);
        if (chr->label && !strcmp(chr->label, id)) {
            return chr;
        }
    }
    return NULL;
}

void qemu_chr_cleanup_all(void)
{
    if (!registry) {
        return;
    }
    /* Newest first, the reverse of creation. */
    for (guint i = registry->len; i-- > 0;) {
        qemu_chr_free(g_ptr_array_index(registry, i));
    }
    g_clear_pointer(&registry, g_ptr_array_unref);
}

static void close_connection(Chardev *chr)
{
    if (chr->watch) {
        g_source_remove(chr->watch);
        chr->watch = 0;
    }
    if (chr->owns_fds) {
        if (chr->out_fd >= 0) {
            close(chr->out_fd);
        }
        if (chr->in_fd >= 0 && chr->in_fd != chr->out_fd) {
            close(chr->in_fd);
        }
    }
    chr->in_fd = chr->out_fd = -1;
}

void qemu_chr_free(Chardev *chr)
{
    if (!chr) {
        return;
    }
    if (registry) {
        g_ptr_array_remove(registry, chr);
    }
    close_connection(chr);
    if (chr->pty_slave_fd >= 0) {
        close(chr->pty_slave_fd);
    }
    qemu_chr_close_socket(chr);
    if (chr->is_stdio) {
        qemu_chr_close_stdio(chr);
    }
    g_free(chr->label);
    g_free(chr->filename);
    g_free(chr);
}

const char *qemu_chr_label(Chardev *chr)
{
    return chr->label;
}

const char *qemu_chr_filename(Chardev *chr)
{
    return chr->filename;
}

bool qemu_chr_in_use(Chardev *chr)
{
    return chr->in_use;
}

void qemu_chr_foreach(void (*fn)(Chardev *chr, void *opaque), void *opaque)
{
    for (guint i = 0; registry && i < registry->len; i++) {
        fn(g_ptr_array_index(registry, i), opaque);
    }
}

bool qemu_chr_claim(Chardev *chr, GError **errp)
{
    if (chr->in_use) {
        error_setg(errp, "Device '%s' is in use", chr->label);
        return false;
    }
    chr->in_use = true;
    return true;
}

void qemu_chr_release(Chardev *chr)
{
    if (!chr) {
        return;
    }
    if (chr->watch) {
        g_source_remove(chr->watch);
        chr->watch = 0;
    }
    chr->receive = NULL;
    chr->closed = NULL;
    chr->opaque = NULL;
    chr->in_use = false;
}

/*
 * Called from the vCPU thread that wrote a UART or debugcon port, or the
 * main loop (qtest replies), with the BQL held.
 */
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
            /*
             * The reader is gone or, for a pty or socket, has left no
             * room: like QEMU, drop the output.
             */
            return;
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

/* Main loop, BQL held. */
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
        if (chr->listen_fd >= 0) {
            qemu_chr_socket_client_gone(chr);
            return G_SOURCE_REMOVE;
        }
        if (chr->closed) {
            chr->closed(chr->opaque);
        }
        return G_SOURCE_REMOVE;
    }
    if (chr->is_stdio && qemu_chr_stdio_is_raw()) {
        n = stdio_filter_escape(chr, buf, n);
    }
    if (n && chr->receive) {
        chr->receive(chr->opaque, buf, n);
    }
    return G_SOURCE_CONTINUE;
}

static void watch_input(Chardev *chr)
{
    if (chr->in_fd >= 0 && !chr->watch && (chr->receive || chr->closed)) {
        chr->watch = g_unix_fd_add(chr->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                   chr_readable, chr);
    }
}

void qemu_chr_set_handlers(Chardev *chr, ChardevReceive receive,
                           ChardevClosed closed, void *opaque)
{
    chr->receive = receive;
    chr->closed = closed;
    chr->opaque = opaque;
    watch_input(chr);
}

void qemu_chr_connected(Chardev *chr, int fd)
{
    close_connection(chr);
    chr->in_fd = chr->out_fd = fd;
    watch_input(chr);
}
