/*
 * blk_resize() (block_resize's back-end): the image file and the
 * back-end's size follow, requests see the new end, the resize notifier
 * is told before and after, and QEMU's errors for what cannot be resized.
 *
 * Images live in $BLOCK_TEST_DIR (meson points it at the build directory)
 * or /var/tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block-backend.h"
#include "qemu/error-report.h"

#define MiB         (1024 * 1024)
#define LEN         4096

static const char *test_dir;

typedef struct Fixture {
    char *path;
    AioContext *ctx;
    BlockBackend *blk;
    uint8_t buf[LEN];
} Fixture;

static uint64_t file_size(const char *path)
{
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return st.st_size;
}

static BlockBackend *open_drive(Fixture *f, const char *options)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *str = g_strdup_printf("file=%s,format=raw%s", f->path,
                                           options);
    g_autoptr(QemuOpts) opts = qemu_opts_parse(str, NULL, &err);
    BlockBackend *blk;

    g_assert_no_error(err);
    blk = drive_new(opts, NULL, &err);
    g_assert_no_error(err);
    return blk;
}

/* data: the -drive options beyond file= and format=. */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    int fd;

    f->path = g_build_filename(test_dir, "test-block-resize-XXXXXX", NULL);
    fd = g_mkstemp(f->path);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, MiB), ==, 0);
    close(fd);
    f->ctx = qemu_get_aio_context();
    f->blk = open_drive(f, data);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    blk_destroy_all();
    unlink(f->path);
    g_free(f->path);
}

typedef struct Req {
    bool done;
    int ret;
} Req;

static void req_cb(void *opaque, int ret)
{
    Req *r = opaque;

    r->done = true;
    r->ret = ret;
}

static int do_rw(Fixture *f, bool write, uint64_t offset)
{
    struct iovec iov = { f->buf, LEN };
    Req r = { 0 };

    if (write) {
        blk_aio_pwritev(f->blk, offset, &iov, 1, req_cb, &r);
    } else {
        blk_aio_preadv(f->blk, offset, &iov, 1, req_cb, &r);
    }
    while (!r.done) {
        aio_context_iterate(f->ctx, true);
    }
    return r.ret;
}

static void resize_ok(Fixture *f, uint64_t size)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(blk_resize(f->blk, size, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(blk_getlength(f->blk), ==, size);
    g_assert_cmpuint(file_size(f->path), ==, size);
}

static void resize_fails(Fixture *f, uint64_t size, const char *message)
{
    g_autoptr(GError) err = NULL;

    g_assert_false(blk_resize(f->blk, size, &err));
    g_assert_nonnull(err);
    g_assert_cmpstr(err->message, ==, message);
}

/* Grown: writes up to the new end go through and read back. */
static void test_grow(Fixture *f, gconstpointer data)
{
    g_assert_cmpint(do_rw(f, true, MiB), ==, -EIO);
    resize_ok(f, 2 * MiB);
    memset(f->buf, 0xa5, LEN);
    g_assert_cmpint(do_rw(f, true, 2 * MiB - LEN), ==, 0);
    g_assert_cmpint(do_rw(f, true, 2 * MiB), ==, -EIO);
    memset(f->buf, 0, LEN);
    g_assert_cmpint(do_rw(f, false, 2 * MiB - LEN), ==, 0);
    for (int i = 0; i < LEN; i++) {
        g_assert_cmpuint(f->buf[i], ==, 0xa5);
    }
    g_assert_cmpuint(file_size(f->path), ==, 2 * MiB);
}

/* Shrunk: the file is cut, requests past the new end fail. */
static void test_shrink(Fixture *f, gconstpointer data)
{
    resize_ok(f, MiB / 2 + 1000);
    g_assert_cmpint(do_rw(f, true, MiB / 2 + LEN), ==, -EIO);
    g_assert_cmpint(do_rw(f, false, MiB / 2 + LEN), ==, -EIO);
    g_assert_cmpint(do_rw(f, true, MiB / 2 - LEN), ==, 0);
    g_assert_cmpuint(file_size(f->path), ==, MiB / 2 + 1000);
    /* The same size again changes nothing. */
    resize_ok(f, MiB / 2 + 1000);
}

/* QEMU's errors, and nothing changes. */
static void test_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *locked = g_strdup_printf(
        "Failed to get \"resize\" lock (is another process using the "
        "image [%s]?)", f->path);
    BlockBackend *other;

    resize_fails(f, 9223372035781033985ULL,
                 "offset(9223372035781033985) exceeds "
                 "maximum(9223372035781033984)");
    g_assert_cmpuint(blk_getlength(f->blk), ==, MiB);

    /* Another user of the image that does not share resizing. */
    other = open_drive(f, ",readonly=on");
    g_assert_true(blk_set_perm(other, BLK_PERM_CONSISTENT_READ,
                               BLK_PERM_ALL & ~BLK_PERM_RESIZE, &err));
    g_assert_no_error(err);
    resize_fails(f, 2 * MiB, locked);
    g_assert_cmpuint(file_size(f->path), ==, MiB);
    blk_destroy_all();

    f->blk = open_drive(f, ",readonly=on");
    resize_fails(f, 2 * MiB, "Image is read-only");
    g_assert_cmpuint(file_size(f->path), ==, MiB);
}

typedef struct Watcher {
    Fixture *f;
    bool refuse;
    int prepared, changed;
    uint64_t new_size, size;
    uint64_t file_size_at_prepare;
} Watcher;

static bool watch_prepare(void *opaque, uint64_t new_size, GError **errp)
{
    Watcher *w = opaque;

    w->prepared++;
    w->new_size = new_size;
    w->file_size_at_prepare = file_size(w->f->path);
    if (w->refuse) {
        error_setg(errp, "not now");
        return false;
    }
    return true;
}

static void watch_changed(void *opaque, uint64_t size)
{
    Watcher *w = opaque;

    w->changed++;
    w->size = size;
}

static const BlockResizeNotifier watcher_notifier = {
    .prepare = watch_prepare,
    .changed = watch_changed,
};

/* The notifier is told before the file changes and after; it may refuse. */
static void test_notifier(Fixture *f, gconstpointer data)
{
    Watcher w = { .f = f };

    blk_set_resize_notifier(f->blk, &watcher_notifier, &w);
    resize_ok(f, 3 * MiB);
    g_assert_cmpint(w.prepared, ==, 1);
    g_assert_cmpuint(w.new_size, ==, 3 * MiB);
    g_assert_cmpuint(w.file_size_at_prepare, ==, MiB);
    g_assert_cmpint(w.changed, ==, 1);
    g_assert_cmpuint(w.size, ==, 3 * MiB);

    w.refuse = true;
    resize_fails(f, MiB, "not now");
    g_assert_cmpint(w.prepared, ==, 2);
    g_assert_cmpint(w.changed, ==, 1);
    g_assert_cmpuint(blk_getlength(f->blk), ==, 3 * MiB);
    g_assert_cmpuint(file_size(f->path), ==, 3 * MiB);

    blk_set_resize_notifier(f->blk, NULL, NULL);
    resize_ok(f, MiB);
    g_assert_cmpint(w.prepared, ==, 2);
}

typedef void FixtureTest(Fixture *f, gconstpointer data);

int main(int argc, char **argv)
{
    static const char *const drives[][2] = {
        { "threads", ",aio=threads" },
        { "io_uring", ",aio=io_uring" },
    };
    static const struct { const char *name; FixtureTest *fn; } tests[] = {
        { "grow", test_grow },
        { "shrink", test_shrink },
        { "errors", test_errors },
        { "notifier", test_notifier },
    };

    g_test_init(&argc, &argv, NULL);
    test_dir = g_getenv("BLOCK_TEST_DIR");
    if (!test_dir) {
        test_dir = "/var/tmp";
    }
    for (size_t i = 0; i < G_N_ELEMENTS(drives); i++) {
        for (size_t j = 0; j < G_N_ELEMENTS(tests); j++) {
            g_autofree char *path = g_strdup_printf("/block-resize/%s/%s",
                                                    drives[i][0],
                                                    tests[j].name);

            g_test_add(path, Fixture, drives[i][1], fixture_setup,
                       tests[j].fn, fixture_teardown);
        }
    }
    return g_test_run();
}
