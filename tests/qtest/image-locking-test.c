/*
 * Image locking (docs/system/image-locking.rst): two VMMs on one image
 * exclude each other as stock QEMU's do, whichever of ours and stock QEMU
 * holds the image and whichever comes second.
 *
 * Stock QEMU (qemu-system-x86_64 in the PATH, installed by
 * scripts/install-deps.sh) is the reference peer: it runs as q35 under TCG,
 * stopped (-S), so that no guest code runs.  Our VMM runs under -accel
 * qtest.  Each runs with "-qmp stdio" or "-qtest stdio": its answer to a
 * command says it has opened its drives and devices, and closing stdin
 * (after a QMP "quit" for stock QEMU) makes it exit.
 *
 * Every child dies with the test (PR_SET_PDEATHSIG), and every wait is
 * bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libqtest.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk-uring.h"

#define PROG            "qemu-system-x86_64: "
#define IMAGE_SIZE      (1 << 20)
/* How long a VMM may take to start, to exit or to fail. */
#define WAIT_US         (30 * G_USEC_PER_SEC)
/* Lock bytes are looked for below this offset, and none may be beyond. */
#define SCAN_END        512

typedef enum Vmm {
    OURS,
    STOCK,
} Vmm;

static const char *const vmm_names[] = { "ours", "stock" };

/* What a VMM opens the image with: -drive and -device options. */
typedef struct Use {
    const char *name;
    const char *drive;          /* appended to -drive */
    const char *device;         /* appended to -device, NULL: no device */
} Use;

static const Use writer = { "writer", "", "" };
static const Use reader = { "reader", ",readonly=on", "" };
static const Use writer_share = { "writer-share-rw", "", ",share-rw=on" };
static const Use reader_share = { "reader-share-rw", ",readonly=on",
                                  ",share-rw=on" };
static const Use drive_only = { "drive-only", "", NULL };
static const Use writer_nolock = { "writer-locking-off", ",file.locking=off",
                                   "" };

/* The image, unlinked: /proc/PID/fd/N of the test, as VMMs open it. */
static char *image;

static const char *stock_qemu(void)
{
    static char *path;

    if (!path) {
        path = g_find_program_in_path("qemu-system-x86_64");
        if (!path || !strcmp(path, qtest_qemu_binary())) {
            g_error("stock QEMU (qemu-system-x86_64, Debian package "
                    "qemu-system-x86) is not installed: run "
                    "scripts/install-deps.sh");
        }
    }
    return path;
}

static char *drive_opt(const Use *use)
{
    return g_strdup_printf("-drive file=%s,if=none,id=d0,format=raw%s",
                           image, use->drive);
}

static char *device_opt(const Use *use)
{
    return g_strdup_printf("-device virtio-blk-pci,drive=d0%s", use->device);
}

/* The command line of vmm using the image as use says, split into words. */
static char **vmm_argv(Vmm vmm, const Use *use)
{
    g_autofree char *drive = drive_opt(use);
    g_autofree char *device = use->device ? device_opt(use) : g_strdup("");
    g_autofree char *cmd = NULL;
    char **argv;

    if (vmm == OURS) {
        cmd = g_strdup_printf("%s -accel qtest -qtest stdio -qtest-log none "
                              "-display none -nodefaults %s %s",
                              qtest_qemu_binary(), drive, device);
    } else {
        cmd = g_strdup_printf("%s -machine q35 -accel tcg -S -nodefaults "
                              "-display none -qmp stdio %s %s",
                              stock_qemu(), drive, device);
    }
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    return argv;
}

/* In the child, before exec: die with the test. */
static void die_with_test(gpointer unused)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/*
 * vmm with a pipe on stdin, stdout a pipe (out) or nowhere (the test's is
 * its TAP stream) and stderr a pipe (err) or the test's.
 */
static GPid vmm_spawn(Vmm vmm, const Use *use, int *in, int *out, int *err)
{
    g_auto(GStrv) argv = vmm_argv(vmm, use);
    g_autoptr(GError) gerr = NULL;
    GPid pid;

    if (!g_spawn_async_with_pipes(NULL, argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD |
                                  (out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL),
                                  die_with_test, NULL, &pid, in, out, err,
                                  &gerr)) {
        g_error("cannot start %s: %s", argv[0], gerr->message);
    }
    return pid;
}

#define QMP_CAPABILITIES    "{\"execute\": \"qmp_capabilities\"}\n"
#define QMP_QUIT            "{\"execute\": \"quit\"}\n"

/* Write text to a VMM's stdin; one that exited already cannot read it. */
static void vmm_write(int in, const char *text)
{
    if (write(in, text, strlen(text)) < 0) {
        g_assert_cmpint(errno, ==, EPIPE);
    }
}

/* Wait for pid to exit; its exit status, or -1 if it was killed. */
static int wait_exit(GPid pid)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    int status;
    pid_t ret;

    for (;;) {
        ret = waitpid(pid, &status, WNOHANG);
        if (ret == pid) {
            break;
        }
        g_assert_true(ret == 0 || errno == EINTR);
        if (g_get_monotonic_time() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            g_error("VMM %d did not exit within %d s", (int)pid,
                    (int)(WAIT_US / G_USEC_PER_SEC));
        }
        g_usleep(1000);
    }
    g_spawn_close_pid(pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Read fd until end of file (collect) or the first newline; false on end
 * of file or when the deadline passes.
 */
static bool read_fd(int fd, GString *text, bool collect)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    char c;
    ssize_t n;

    for (;;) {
        int ms = (deadline - g_get_monotonic_time()) / 1000;

        if (ms <= 0 || poll(&pfd, 1, ms) == 0) {
            return false;
        }
        n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return collect;
        }
        g_string_append_c(text, c);
        if (!collect && c == '\n') {
            return true;
        }
    }
}

/* A VMM that holds the image open. */
typedef struct Holder {
    Vmm vmm;
    GPid pid;
    int in, out;
} Holder;

/*
 * Start vmm on the image and wait until it has opened it: until it answers
 * a command, which its main loop does once start-up is over.  (Stock
 * QEMU's QMP greeting comes earlier, from the monitor's own thread.)
 */
static Holder holder_start(Vmm vmm, const Use *use)
{
    Holder h = { .vmm = vmm };
    const char *reply = vmm == OURS ? "OK" : "{\"return\"";

    h.pid = vmm_spawn(vmm, use, &h.in, &h.out, NULL);
    vmm_write(h.in, vmm == OURS ? "readb 0x0\n" : QMP_CAPABILITIES);
    for (;;) {
        g_autoptr(GString) line = g_string_new(NULL);

        if (!read_fd(h.out, line, false)) {
            kill(h.pid, SIGKILL);
            g_error("%s VMM (%s) did not start: exit status %d",
                    vmm_names[vmm], use->name, wait_exit(h.pid));
        }
        if (g_str_has_prefix(line->str, reply)) {
            return h;
        }
    }
}

/* Make the holder exit (ours exits when stdin closes); status 0. */
static void holder_stop(Holder *h)
{
    if (h->vmm == STOCK) {
        vmm_write(h->in, QMP_QUIT);
    }
    close(h->in);
    g_assert_cmpint(wait_exit(h->pid), ==, 0);
    close(h->out);
}

/* Kill the holder, so that it closes nothing itself. */
static void holder_kill(Holder *h)
{
    kill(h->pid, SIGKILL);
    g_assert_cmpint(wait_exit(h->pid), ==, -1);
    close(h->in);
    close(h->out);
}

/*
 * Start vmm on the image as a second user and let it exit at once;
 * returns its exit status and sets *err to its stderr.
 */
static int open_image(Vmm vmm, const Use *use, char **err)
{
    g_autoptr(GString) text = g_string_new(NULL);
    int in, errfd;
    GPid pid = vmm_spawn(vmm, use, &in, NULL, &errfd);

    if (vmm == STOCK) {
        vmm_write(in, QMP_CAPABILITIES QMP_QUIT);
    }
    close(in);
    if (!read_fd(errfd, text, true)) {
        kill(pid, SIGKILL);
        g_error("%s VMM (%s) did not close stderr within %d s",
                vmm_names[vmm], use->name, (int)(WAIT_US / G_USEC_PER_SEC));
    }
    close(errfd);
    *err = g_string_free(g_steal_pointer(&text), FALSE);
    return wait_exit(pid);
}

/* vmm may use the image as use says: it starts and exits with status 0. */
static void assert_opens(Vmm vmm, const Use *use)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(open_image(vmm, use, &err), ==, 0);
    g_assert_cmpstr(err, ==, "");
}

/*
 * The error vmm prints when it cannot get permission perm on the image
 * ("write" lock, shared "write" lock) for option opt: stock QEMU's hint
 * on a line of its own, ours in the same line.
 */
static char *lock_error(Vmm vmm, const char *opt, const char *perm)
{
    if (vmm == STOCK) {
        return g_strdup_printf(PROG "%s: Failed to get %s lock\n"
                               "Is another process using the image [%s]?\n",
                               opt, perm, image);
    }
    return g_strdup_printf(PROG "%s: Failed to get %s lock (is another "
                           "process using the image [%s]?)\n",
                           opt, perm, image);
}

/* vmm may not use the image as use says: -device fails for perm. */
static void assert_refused(Vmm vmm, const Use *use, const char *perm)
{
    g_autofree char *device = device_opt(use);
    g_autofree char *expected = lock_error(vmm, device, perm);
    g_autofree char *err = NULL;

    g_assert_cmpint(open_image(vmm, use, &err), ==, 1);
    g_assert_cmpstr(err, ==, expected);
}

/*
 * The image's locks held by others, as "100 101 201": each byte below
 * SCAN_END with a shared lock, "!" after one locked exclusively.
 */
static char *locked_bytes(void)
{
    g_autoptr(GString) s = g_string_new(NULL);
    int fd = open(image, O_RDWR | O_CLOEXEC);
    struct flock fl;

    g_assert_cmpint(fd, >=, 0);
    for (off_t byte = 0; byte <= SCAN_END; byte++) {
        /* An exclusive lock conflicts with any lock another one holds. */
        fl = (struct flock){
            .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte,
            .l_len = byte == SCAN_END ? 0 : 1,
        };
        g_assert_cmpint(fcntl(fd, F_OFD_GETLK, &fl), ==, 0);
        if (fl.l_type == F_UNLCK) {
            continue;
        }
        if (byte == SCAN_END) {
            g_string_append_printf(s, "%s%d+", s->len ? " " : "", SCAN_END);
            break;
        }
        g_string_append_printf(s, "%s%d%s", s->len ? " " : "", (int)byte,
                               fl.l_type == F_WRLCK ? "!" : "");
    }
    close(fd);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/*
 * 1. The lock bytes: each use holds what stock QEMU's holds (byte 100 + n
 * for a permission it holds, 200 + n for one it does not share), stock
 * QEMU first so that a wrong expectation shows as stock's.
 */

typedef struct BytesCase {
    const Use *use;
    const char *bytes;
} BytesCase;

static const BytesCase bytes_cases[] = {
    { &writer, "100 101 201" },
    { &reader, "100 201" },
    { &writer_share, "100 101" },
    { &reader_share, "100" },
    { &drive_only, "100" },
};

static void test_bytes(gconstpointer data)
{
    static const Vmm order[] = { STOCK, OURS };
    const BytesCase *c = data;

    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        Vmm vmm = order[i];
        Holder h = holder_start(vmm, c->use);
        g_autofree char *bytes = locked_bytes();

        holder_stop(&h);
        if (strcmp(bytes, c->bytes)) {
            g_error("%s VMM as %s locks bytes '%s', expected '%s'",
                    vmm_names[vmm], c->use->name, bytes, c->bytes);
        }
    }
}

/*
 * 2. A second VMM while one holds the image, for each of ours and stock
 * QEMU in each place: refused with the permission that conflicts, or
 * allowed; and once the holder has exited, the second one may open the
 * image.
 */

typedef struct PairCase {
    const Use *first, *second;
    const char *perm;           /* that the second cannot get, or NULL */
} PairCase;

static const PairCase pair_cases[] = {
    { &writer, &writer, "\"write\"" },
    { &writer, &reader, "shared \"write\"" },
    { &reader, &writer, "\"write\"" },
    { &reader, &reader, NULL },
    /* share-rw=on lets other writers in, when they let others in too. */
    { &writer_share, &writer_share, NULL },
    { &writer_share, &writer, "shared \"write\"" },
    { &writer, &writer_share, "\"write\"" },
    { &writer, &reader_share, NULL },
};

typedef struct PairTest {
    Vmm first, second;
    const PairCase *c;
} PairTest;

static void test_pair(gconstpointer data)
{
    const PairTest *t = data;
    Holder h = holder_start(t->first, t->c->first);

    if (t->c->perm) {
        assert_refused(t->second, t->c->second, t->c->perm);
    } else {
        assert_opens(t->second, t->c->second);
    }
    holder_stop(&h);
    assert_opens(t->second, t->c->second);
}

/* A holder that is killed lets go of the image all the same. */
static void test_killed(gconstpointer data)
{
    Vmm vmm = GPOINTER_TO_INT(data);
    Holder h = holder_start(vmm, &writer);

    assert_refused(OURS, &writer, "\"write\"");
    holder_kill(&h);
    assert_opens(OURS, &writer);
    assert_opens(STOCK, &writer);
}

/*
 * 3. The check when the drive is opened: someone who does not share
 * "consistent read" (byte 200) keeps every user out, at -drive already.
 */
static void test_consistent_read(void)
{
    int fd = open(image, O_RDWR | O_CLOEXEC);
    struct flock fl = {
        .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 1,
    };
    g_autofree char *drive = drive_opt(&drive_only);
    g_autofree char *stock_expected = g_strdup_printf(
        PROG "%s: Failed to get \"consistent read\" lock\n", drive);
    g_autofree char *ours_expected = lock_error(OURS, drive,
                                                "\"consistent read\"");
    g_autofree char *err = NULL, *err2 = NULL;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fcntl(fd, F_OFD_SETLK, &fl), ==, 0);
    /* Stock QEMU gives no hint for a failure at -drive. */
    g_assert_cmpint(open_image(STOCK, &drive_only, &err), ==, 1);
    g_assert_cmpstr(err, ==, stock_expected);
    g_assert_cmpint(open_image(OURS, &drive_only, &err2), ==, 1);
    g_assert_cmpstr(err2, ==, ours_expected);
    assert_opens(OURS, &writer_nolock);
    close(fd);
    assert_opens(OURS, &drive_only);
}

/*
 * 4. file.locking=off: ours takes no lock and checks none, beside a
 * holder or as one.  on and auto lock as by default.
 */
static void test_locking_off(void)
{
    Holder h = holder_start(STOCK, &writer);
    g_autofree char *bytes = NULL;

    assert_opens(OURS, &writer_nolock);
    holder_stop(&h);

    h = holder_start(OURS, &writer_nolock);
    bytes = locked_bytes();
    g_assert_cmpstr(bytes, ==, "");
    assert_opens(STOCK, &writer);
    assert_opens(OURS, &writer);
    holder_stop(&h);
}

static void test_locking_on_auto(gconstpointer data)
{
    const Use use = { "writer", data, "" };
    Holder h = holder_start(OURS, &use);
    g_autofree char *bytes = locked_bytes();

    g_assert_cmpstr(bytes, ==, "100 101 201");
    assert_refused(OURS, &reader, "shared \"write\"");
    holder_stop(&h);
}

static void test_locking_bad_value(void)
{
    const Use use = { "bad", ",file.locking=bogus", "" };
    g_autofree char *drive = drive_opt(&use);
    g_autofree char *expected = g_strdup_printf(
        PROG "%s: Parameter 'file.locking' expects 'on', 'off' or 'auto'\n",
        drive);
    g_autofree char *err = NULL;

    g_assert_cmpint(open_image(OURS, &use, &err), ==, 1);
    g_assert_cmpstr(err, ==, expected);
}

/*
 * 5. The io_uring passthrough opens the image a second time, in the same
 * process, for its ring (through /proc/self/fd), and closes that
 * descriptor once the ring holds the file.  Neither the opening nor the
 * closing may touch the drive's locks: the ring does its I/O, and a second
 * VMM is still refused.
 */
static void test_uring_passthrough(void)
{
    QTestState *qts = qtest_initf("-m 64M -drive file=%s,if=none,id=d0,"
                                  "format=raw -device virtio-blk-pci,"
                                  "drive=d0,uring-passthrough=on,uring-iopoll=off", image);
    GuestAlloc *alloc = guest_alloc_new_for_ram(64 << 20);
    QVirtioBlkUring *u = qvirtio_blk_uring_new(qts);
    uint64_t buf = guest_alloc(alloc, 4096);
    uint8_t data[4096], back[4096];
    g_autofree char *bytes = NULL;
    int fd;

    qvirtio_blk_uring_start(u);
    memset(data, 0x5a, sizeof(data));
    qtest_memwrite(qts, buf, data, sizeof(data));
    g_assert_cmpint(qvirtio_blk_uring_rw(u, IORING_OP_WRITE_FIXED, buf,
                                         sizeof(data), 8192), ==,
                    sizeof(data));
    fd = open(image, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(pread(fd, back, sizeof(back), 8192), ==, sizeof(back));
    close(fd);
    g_assert_cmpmem(back, sizeof(back), data, sizeof(data));

    bytes = locked_bytes();
    g_assert_cmpstr(bytes, ==, "100 101 201");
    assert_refused(OURS, &reader, "shared \"write\"");
    assert_refused(STOCK, &writer, "\"write\"");

    guest_free(alloc, buf);
    guest_alloc_destroy(alloc);
    qvirtio_blk_uring_free(u);
    qtest_quit(qts);
    assert_opens(OURS, &writer);
}

static void add_pair_tests(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pair_cases); i++) {
        for (Vmm first = OURS; first <= STOCK; first++) {
            for (Vmm second = OURS; second <= STOCK; second++) {
                PairTest *t = g_new(PairTest, 1);
                g_autofree char *path = NULL;

                *t = (PairTest){ first, second, &pair_cases[i] };
                path = g_strdup_printf("/image-locking/pair/%s-%s/%s-%s",
                                       vmm_names[first],
                                       pair_cases[i].first->name,
                                       vmm_names[second],
                                       pair_cases[i].second->name);
                g_test_add_data_func_full(path, t, test_pair, g_free);
            }
        }
    }
}

int main(int argc, char **argv)
{
    g_autofree char *name = NULL;
    int fd, ret;

    g_test_init(&argc, &argv, NULL);
    /* Writing to a VMM that exited must fail with EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    fd = g_file_open_tmp("image-locking-XXXXXX.img", &name, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(g_unlink(name), ==, 0);
    g_assert_cmpint(ftruncate(fd, IMAGE_SIZE), ==, 0);
    image = g_strdup_printf("/proc/%d/fd/%d", (int)getpid(), fd);
    stock_qemu();

    for (size_t i = 0; i < G_N_ELEMENTS(bytes_cases); i++) {
        g_autofree char *path = g_strdup_printf("/image-locking/bytes/%s",
                                                bytes_cases[i].use->name);

        g_test_add_data_func(path, &bytes_cases[i], test_bytes);
    }
    add_pair_tests();
    g_test_add_data_func("/image-locking/killed/ours",
                         GINT_TO_POINTER(OURS), test_killed);
    g_test_add_data_func("/image-locking/killed/stock",
                         GINT_TO_POINTER(STOCK), test_killed);
    g_test_add_func("/image-locking/drive/consistent-read",
                    test_consistent_read);
    g_test_add_func("/image-locking/file-locking/off", test_locking_off);
    g_test_add_data_func("/image-locking/file-locking/on",
                         ",file.locking=on", test_locking_on_auto);
    g_test_add_data_func("/image-locking/file-locking/auto",
                         ",file.locking=auto", test_locking_on_auto);
    g_test_add_func("/image-locking/file-locking/bad-value",
                    test_locking_bad_value);
    g_test_add_func("/image-locking/uring-passthrough",
                    test_uring_passthrough);
    ret = g_test_run();
    close(fd);
    g_free(image);
    return ret;
}
