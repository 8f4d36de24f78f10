/*
 * blk_resize() (block_resize's back-end): the image file and the
 * back-end's size follow, requests see the new end, the resize notifier
 * is told before and after, and QEMU's errors for what cannot be resized.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block-test.h"
#include "qemu/error-report.h"

#define MiB         (1024 * 1024)
#define LEN         4096

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

/* data: the -drive options beyond file= and format=. */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->path = block_test_image("test-block-resize", MiB);
    f->ctx = qemu_get_aio_context();
    f->blk = block_test_open(f->path, data);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    blk_destroy_all();
    unlink(f->path);
    g_free(f->path);
}

static int do_rw(Fixture *f, bool write, uint64_t offset)
{
    return block_test_rw(f->blk, f->ctx, write, offset, f->buf, LEN);
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
    other = block_test_open(f->path, ",readonly=on");
    g_assert_true(blk_set_perm(other, BLK_PERM_CONSISTENT_READ,
                               BLK_PERM_ALL & ~BLK_PERM_RESIZE, &err));
    g_assert_no_error(err);
    resize_fails(f, 2 * MiB, locked);
    g_assert_cmpuint(file_size(f->path), ==, MiB);
    blk_destroy_all();

    f->blk = block_test_open(f->path, ",readonly=on");
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

int main(int argc, char **argv)
{
    static const BlockTestDrive drives[] = {
        { "threads", ",aio=threads" },
        { "io_uring", ",aio=io_uring" },
    };
    static const BlockTestCase tests[] = {
        { "grow", (GTestFixtureFunc)test_grow },
        { "shrink", (GTestFixtureFunc)test_shrink },
        { "errors", (GTestFixtureFunc)test_errors },
        { "notifier", (GTestFixtureFunc)test_notifier },
    };

    g_test_init(&argc, &argv, NULL);
    block_test_add("block-resize", sizeof(Fixture), drives,
                   G_N_ELEMENTS(drives), tests, G_N_ELEMENTS(tests),
                   (GTestFixtureFunc)fixture_setup,
                   (GTestFixtureFunc)fixture_teardown);
    return g_test_run();
}
