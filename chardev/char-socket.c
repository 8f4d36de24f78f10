/*
 * The socket back-end: a Unix socket, as a client (path=) or a server
 * (path=,server=on), or an inherited socket (fd=N: connected, or
 * listening with server=on).
 *
 * A server serves one client at a time: while one is connected it accepts
 * no other, and when that one leaves it accepts the next.  With wait=on
 * (QEMU's default for servers) start-up waits for the first client.
 * Connections a server accepted are non-blocking, so a client that stops
 * reading loses output instead of stalling the VMM; a client connection
 * (qtest's) blocks, so that every byte arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "chardev/char-internal.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"

static bool unix_address(const char *path, struct sockaddr_un *addr,
                         GError **errp)
{
    *addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr->sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", path);
        return false;
    }
    strcpy(addr->sun_path, path);
    return true;
}

static int unix_connect(const char *path, GError **errp)
{
    struct sockaddr_un addr;
    int fd;

    if (!unix_address(path, &addr, errp)) {
        return -1;
    }
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

static int unix_listen(const char *path, GError **errp)
{
    struct sockaddr_un addr;
    struct stat st;
    int fd;

    if (!unix_address(path, &addr, errp)) {
        return -1;
    }
    /* A socket file left by an earlier run is replaced, as QEMU does. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create socket");
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to %s", path);
        close(fd);
        return -1;
    }
    if (listen(fd, 1) < 0) {
        error_setg_errno(errp, errno, "Failed to listen on socket");
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

/* fd=N: an fd the VMM inherited, a listening socket if server. */
static int inherited_socket(const char *str, bool server, GError **errp)
{
    uint64_t n;
    struct stat st;
    int listening = 0;
    socklen_t len = sizeof(listening);

    if (!parse_uint64(str, &n) || n > INT32_MAX) {
        error_setg(errp, "Unable to parse FD number %s", str);
        return -1;
    }
    if (fstat(n, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        error_setg(errp, "File descriptor '%s' is not a socket", str);
        return -1;
    }
    if (getsockopt(n, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
        listening = 0;
    }
    if (server != !!listening) {
        error_setg(errp, server ? "File descriptor '%s' is not a listening "
                   "socket" : "File descriptor '%s' is a listening socket "
                   "(use server=on)", str);
        return -1;
    }
    if (fcntl(n, F_SETFD, FD_CLOEXEC) < 0) {
        error_setg_errno(errp, errno, "File descriptor '%s'", str);
        return -1;
    }
    return n;
}

static gboolean socket_accept(gint fd, GIOCondition cond, gpointer opaque);

static void listen_for_client(Chardev *chr)
{
    if (chr->listen_fd >= 0 && !chr->listen_watch) {
        chr->listen_watch = g_unix_fd_add(chr->listen_fd, G_IO_IN,
                                          socket_accept, chr);
    }
}

/* Main loop, BQL held: a client knocks. */
static gboolean socket_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    Chardev *chr = opaque;
    int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (conn < 0) {
        return G_SOURCE_CONTINUE;       /* gone already, or EINTR */
    }
    chr->listen_watch = 0;
    qemu_chr_connected(chr, conn);
    return G_SOURCE_REMOVE;
}

/* Main loop, BQL held. */
void qemu_chr_socket_client_gone(Chardev *chr)
{
    qemu_chr_connected(chr, -1);
    listen_for_client(chr);
}

bool qemu_chr_open_socket(Chardev *chr, QemuOpts *opts, GError **errp)
{
    const char *path = qemu_opt_get(opts, "path");
    const char *fd_str = qemu_opt_get(opts, "fd");
    bool server, wait;
    int fd;

    if (!qemu_opt_get_bool(opts, "server", false, &server, errp) ||
        !qemu_opt_get_bool(opts, "wait", true, &wait, errp)) {
        return false;
    }
    if (qemu_opt_get(opts, "host") || qemu_opt_get(opts, "port")) {
        error_setg(errp, "chardev: socket: TCP sockets are not supported "
                   "(use path= or fd=)");
        return false;
    }
    if (!!path == !!fd_str) {
        error_setg(errp, "chardev: socket: one of 'path' or 'fd' is "
                   "required");
        return false;
    }
    if (!server) {
        fd = path ? unix_connect(path, errp)
                  : inherited_socket(fd_str, false, errp);
        if (fd < 0) {
            return false;
        }
        chr->filename = path ? g_strdup_printf("unix:%s", path)
                             : g_strdup_printf("socket:fd=%d", fd);
        qemu_chr_connected(chr, fd);
        chr->owns_fds = true;
        return true;
    }
    fd = path ? unix_listen(path, errp) : inherited_socket(fd_str, true, errp);
    if (fd < 0) {
        return false;
    }
    chr->listen_fd = fd;
    chr->owns_fds = true;
    chr->unlink_path = g_strdup(path);
    chr->filename = path ? g_strdup_printf("unix:%s,server=on", path)
                         : g_strdup_printf("socket:fd=%d,server=on", fd);
    if (wait) {
        int conn;

        info_report("QEMU waiting for connection on: disconnected:%s",
                    chr->filename);
        do {
            conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        } while (conn < 0 && errno == EINTR);
        if (conn < 0) {
            error_setg_errno(errp, errno, "Failed to accept a connection");
            return false;
        }
        qemu_chr_connected(chr, conn);
        return true;
    }
    listen_for_client(chr);
    return true;
}

void qemu_chr_close_socket(Chardev *chr)
{
    if (chr->listen_watch) {
        g_source_remove(chr->listen_watch);
        chr->listen_watch = 0;
    }
    if (chr->listen_fd >= 0) {
        close(chr->listen_fd);
        chr->listen_fd = -1;
    }
    if (chr->unlink_path) {
        unlink(chr->unlink_path);
        g_clear_pointer(&chr->unlink_path, g_free);
    }
}

int qemu_chr_steal_listener(Chardev *chr, GError **errp)
{
    int fd = chr->listen_fd;

    if (fd < 0 || chr->in_fd >= 0) {
        error_setg(errp, "chardev '%s' is not a listening socket "
                   "(server=on,wait=off)", chr->label ? chr->label : "");
        return -1;
    }
    if (!qemu_chr_claim(chr, errp)) {
        return -1;
    }
    if (chr->listen_watch) {
        g_source_remove(chr->listen_watch);
        chr->listen_watch = 0;
    }
    chr->listen_fd = -1;
    return fd;
}
