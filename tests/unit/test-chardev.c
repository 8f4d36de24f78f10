/*
 * Character devices (chardev/): the registry, claiming, and the file, pty
 * and socket back-ends, driven through the main loop as the VMM does, with
 * qemu_chr_steal_listener() as the QMP monitor uses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev/char.h"
#include "qemu/main-loop.h"

/* What a front end received. */
typedef struct Received {
    GString *data;
    bool closed;
} Received;

static void on_receive(void *opaque, const uint8_t *buf, size_t len)
{
    g_string_append_len(((Received *)opaque)->data, (const char *)buf, len);
}

static void on_closed(void *opaque)
{
    ((Received *)opaque)->closed = true;
}

/* Run the main loop until r holds len bytes (a hang is the suite's timeout). */
static void receive_until(Received *r, size_t len)
{
    while (r->data->len < len) {
        g_main_context_iteration(NULL, TRUE);
    }
}

static Chardev *chardev_new(const char *opts)
{
    g_autoptr(GError) err = NULL;
    Chardev *chr = qemu_chr_new_from_opts(opts, &err);

    g_assert_no_error(err);
    g_assert_nonnull(chr);
    return chr;
}

static void assert_chardev_error(const char *opts, const char *expected)
{
    g_autoptr(GError) err = NULL;

    g_assert_null(qemu_chr_new_from_opts(opts, &err));
    g_assert_nonnull(err);
    g_assert_cmpstr(err->message, ==, expected);
}

static char *socket_path(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-chardev-XXXXXX", NULL);

    g_assert_nonnull(dir);
    return g_build_filename(dir, "sock", NULL);
}

static void remove_socket_dir(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);

    g_unlink(path);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static int unix_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==,
                    0);
    return fd;
}

static int unix_listen(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

static void read_exactly(int fd, const char *expected)
{
    size_t len = strlen(expected);
    g_autofree char *buf = g_malloc0(len + 1);
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        g_assert_cmpint(n, >, 0);
        got += n;
    }
    g_assert_cmpstr(buf, ==, expected);
}

/* "label=filename,in-use" for each registered chardev, as query-chardev. */
static void describe(Chardev *chr, void *opaque)
{
    g_string_append_printf(opaque, "%s=%s,%d ", qemu_chr_label(chr),
                           qemu_chr_filename(chr), qemu_chr_in_use(chr));
}

static void test_registry(void)
{
    Chardev *a = chardev_new("null,id=a");
    g_autoptr(GError) err = NULL;

    g_assert_true(qemu_chr_find("a") == a);
    g_assert_cmpstr(qemu_chr_label(a), ==, "a");
    g_assert_null(qemu_chr_find("b"));
    assert_chardev_error("null,id=a", "Duplicate ID 'a' for chardev");
    assert_chardev_error("null", "chardev: no id specified");
    assert_chardev_error("foo,id=b", "'foo' is not a valid char driver name");
    assert_chardev_error("null,id=b,path=x", "Invalid parameter 'path'");
    assert_chardev_error("file,id=b", "chardev: file: no filename given");
    assert_chardev_error("socket,id=b", "chardev: socket: one of 'path' or "
                         "'fd' is required");
    assert_chardev_error("socket,id=b,fd=0,server=on", "File descriptor '0' "
                         "is not a socket");

    /* One front end at a time. */
    g_assert_true(qemu_chr_claim(a, NULL));
    g_assert_false(qemu_chr_claim(a, &err));
    g_assert_cmpstr(err->message, ==, "Device 'a' is in use");
    qemu_chr_release(a);
    g_assert_true(qemu_chr_claim(a, NULL));
    qemu_chr_release(a);

    /* -serial chardev:ID names it; other legacy specs make one. */
    g_assert_true(qemu_chr_new_legacy("serial0", "chardev:a", NULL) == a);
    g_assert_true(qemu_chr_new_legacy("serial1", "null", NULL) ==
                  qemu_chr_find("serial1"));

    {
        g_autoptr(GString) list = g_string_new(NULL);

        g_assert_true(qemu_chr_claim(a, NULL));
        qemu_chr_foreach(describe, list);
        g_assert_cmpstr(list->str, ==, "a=null,1 serial1=null,0 ");
        qemu_chr_release(a);
    }
    g_clear_error(&err);
    g_assert_null(qemu_chr_new_legacy("serial2", "chardev:b", &err));
    g_assert_cmpstr(err->message, ==, "could not connect serial2 to "
                    "character backend 'chardev:b'");

    qemu_chr_cleanup_all();
    g_assert_null(qemu_chr_find("a"));
}

static void test_file(void)
{
    g_autofree char *path = NULL;
    g_autofree char *opts = NULL;
    g_autofree char *contents = NULL;
    int fd = g_file_open_tmp("test-chardev-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "old contents", 12), ==, 12);
    close(fd);
    opts = g_strdup_printf("file,id=f,path=%s", path);
    qemu_chr_write(chardev_new(opts), "hello", 5);
    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "hello");
    qemu_chr_cleanup_all();
    g_unlink(path);
}

/* A pty's path, as printed on stdout; its slave carries bytes both ways. */
static void test_pty(void)
{
    Received r = { .data = g_string_new(NULL) };
    g_autofree char *expected = NULL;
    char printed[256] = "";
    char ptsname[64] = "";
    int pipefd[2], saved_stdout, slave;
    g_autofree char *big = g_malloc0(1 << 20);
    Chardev *chr;
    ssize_t n;

    g_assert_cmpint(pipe(pipefd), ==, 0);
    saved_stdout = dup(STDOUT_FILENO);
    fflush(stdout);
    dup2(pipefd[1], STDOUT_FILENO);
    chr = chardev_new("pty,id=p");
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    close(pipefd[1]);
    n = read(pipefd[0], printed, sizeof(printed) - 1);
    close(pipefd[0]);
    g_assert_cmpint(n, >, 0);
    g_assert_cmpint(sscanf(printed, "char device redirected to %63s",
                           ptsname), ==, 1);
    g_assert_true(g_str_has_prefix(ptsname, "/dev/pts/"));
    expected = g_strdup_printf("char device redirected to %s (label p)\n",
                               ptsname);
    g_assert_cmpstr(printed, ==, expected);
    g_free(expected);
    expected = g_strdup_printf("pty:%s", ptsname);
    g_assert_cmpstr(qemu_chr_filename(chr), ==, expected);

    slave = open(ptsname, O_RDWR | O_NOCTTY);
    g_assert_cmpint(slave, >=, 0);
    qemu_chr_set_handlers(chr, on_receive, NULL, &r);
    g_assert_cmpint(write(slave, "typed", 5), ==, 5);
    receive_until(&r, 5);
    g_assert_cmpstr(r.data->str, ==, "typed");
    qemu_chr_write(chr, "shown", 5);
    read_exactly(slave, "shown");

    /* Nobody reads: the output that does not fit is dropped, not waited for. */
    qemu_chr_write(chr, big, 1 << 20);
    close(slave);
    qemu_chr_cleanup_all();
    g_string_free(r.data, TRUE);
}

/* The client sends in, which the front end receives, and reads out. */
static void exchange(Chardev *chr, int client, Received *r, const char *in,
                     const char *out)
{
    size_t before = r->data->len;

    g_assert_cmpint(write(client, in, strlen(in)), ==, (ssize_t)strlen(in));
    receive_until(r, before + strlen(in));
    g_assert_cmpstr(r->data->str + before, ==, in);
    qemu_chr_write(chr, out, strlen(out));
    read_exactly(client, out);
}

static void test_socket_server(void)
{
    g_autofree char *path = socket_path();
    g_autofree char *opts = g_strdup_printf("socket,id=s,path=%s,server=on,"
                                            "wait=off", path);
    Received r = { .data = g_string_new(NULL) };
    Chardev *chr = chardev_new(opts);
    int client;

    qemu_chr_set_handlers(chr, on_receive, on_closed, &r);
    client = unix_connect(path);
    exchange(chr, client, &r, "first", "hello 1");
    close(client);
    client = unix_connect(path);
    exchange(chr, client, &r, "second", "hello 2");
    g_assert_false(r.closed);

    /* A client that stops reading does not stall the writer. */
    for (unsigned i = 0; i < 64; i++) {
        static char chunk[65536];
        qemu_chr_write(chr, chunk, sizeof(chunk));
    }
    close(client);
    qemu_chr_cleanup_all();
    /* The socket file it made goes with it. */
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    remove_socket_dir(path);
    g_string_free(r.data, TRUE);
}

/* fd=N: a listening socket the VMM inherited. */
static void test_socket_fd(void)
{
    g_autofree char *path = socket_path();
    int listener = unix_listen(path);
    int pair[2];
    g_autofree char *opts = g_strdup_printf("socket,id=s,fd=%d,server=on,"
                                            "wait=off", listener);
    g_autofree char *bad = NULL;
    g_autofree char *bad_error = NULL;
    Received r = { .data = g_string_new(NULL) };
    Chardev *chr;
    int client;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), ==, 0);
    bad = g_strdup_printf("socket,id=t,fd=%d,server=on", pair[0]);
    bad_error = g_strdup_printf("File descriptor '%d' is not a listening "
                                "socket", pair[0]);
    assert_chardev_error(bad, bad_error);
    close(pair[0]);
    close(pair[1]);

    chr = chardev_new(opts);
    g_assert_cmpint(fcntl(listener, F_GETFD), ==, FD_CLOEXEC);
    qemu_chr_set_handlers(chr, on_receive, NULL, &r);
    client = unix_connect(path);
    exchange(chr, client, &r, "inherited", "served");
    close(client);
    qemu_chr_cleanup_all();
    /* The chardev closed the fd: the number may be reused. */
    g_assert_cmpint(fcntl(listener, F_GETFD), ==, -1);
    remove_socket_dir(path);
    g_string_free(r.data, TRUE);
}

/* The monitor takes the listening socket; the chardev accepts no more. */
static void test_steal_listener(void)
{
    g_autofree char *path = socket_path();
    g_autofree char *opts = g_strdup_printf("socket,id=mon,path=%s,"
                                            "server=on,wait=off", path);
    Chardev *chr = chardev_new(opts);
    Chardev *null = chardev_new("null,id=n");
    g_autoptr(GError) err = NULL;
    int listening = 0, fd, client, conn;
    socklen_t len = sizeof(listening);

    fd = qemu_chr_steal_listener(chr, &err);
    g_assert_no_error(err);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
                               &len), ==, 0);
    g_assert_true(listening);
    g_assert_cmpint(fcntl(fd, F_GETFD), ==, FD_CLOEXEC);

    /* A client knocks while the main loop runs: the chardev leaves it. */
    client = unix_connect(path);
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    g_assert_cmpint(conn, >=, 0);
    g_assert_cmpint(write(client, "qmp", 3), ==, 3);
    read_exactly(conn, "qmp");

    /* It is claimed, and cannot be stolen twice. */
    g_assert_false(qemu_chr_claim(chr, NULL));
    g_assert_cmpint(qemu_chr_steal_listener(chr, &err), ==, -1);
    g_assert_cmpstr(err->message, ==, "chardev 'mon' is not a listening "
                    "socket (server=on,wait=off)");
    g_clear_error(&err);
    g_assert_cmpint(qemu_chr_steal_listener(null, &err), ==, -1);
    g_assert_cmpstr(err->message, ==, "chardev 'n' is not a listening "
                    "socket (server=on,wait=off)");

    close(conn);
    close(client);
    close(fd);
    qemu_chr_cleanup_all();
    remove_socket_dir(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    bql_lock();
    g_test_add_func("/chardev/registry", test_registry);
    g_test_add_func("/chardev/file", test_file);
    g_test_add_func("/chardev/pty", test_pty);
    g_test_add_func("/chardev/socket/server", test_socket_server);
    g_test_add_func("/chardev/socket/fd", test_socket_fd);
    g_test_add_func("/chardev/steal-listener", test_steal_listener);
    return g_test_run();
}
