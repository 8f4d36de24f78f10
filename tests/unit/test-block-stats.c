/*
 * Block back-end accounting (include/block/accounting.h): counts, bytes and
 * times after known requests through both engines, failed and invalid
 * requests, idle time, and snapshots taken while another thread counts.
 *
 * Images live in $BLOCK_TEST_DIR (meson points it at the build directory)
 * or /var/tmp, not /tmp, which may be a tmpfs that refuses O_DIRECT.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/accounting.h"
#include "block/block-backend.h"

#define IMG_SIZE    (1024 * 1024)
#define LEN         4096

static const char *test_dir;

typedef struct Fixture {
    char *path;
    AioContext *ctx;
    BlockBackend *blk;
    uint8_t *buf;               /* LEN * 4 bytes, aligned for O_DIRECT */
} Fixture;

static char *make_image(size_t size)
{
    char *path = g_build_filename(test_dir, "test-block-stats-XXXXXX", NULL);
    int fd = g_mkstemp(path);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

static BlockBackend *open_drive(const char *path, const char *options)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *str = g_strdup_printf("file=%s,format=raw%s", path,
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
    f->path = make_image(IMG_SIZE);
    f->ctx = aio_context_new();
    aio_context_set_thread(f->ctx);
    f->blk = open_drive(f->path, data);
    blk_set_aio_context(f->blk, f->ctx);
    g_assert_cmpint(posix_memalign((void **)&f->buf, LEN, LEN * 4), ==, 0);
    memset(f->buf, 0x5a, LEN * 4);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    blk_destroy_all();
    aio_context_free(f->ctx);
    unlink(f->path);
    g_free(f->path);
    free(f->buf);
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

static int wait_req(Fixture *f, Req *r)
{
    while (!r->done) {
        aio_context_iterate(f->ctx, true);
    }
    return r->ret;
}

static int do_rw(Fixture *f, bool write, uint64_t offset, void *buf,
                 size_t len)
{
    struct iovec iov = { buf, len };
    Req r = { 0 };

    if (write) {
        blk_aio_pwritev(f->blk, offset, &iov, 1, req_cb, &r);
    } else {
        blk_aio_preadv(f->blk, offset, &iov, 1, req_cb, &r);
    }
    return wait_req(f, &r);
}

static int do_flush(Fixture *f)
{
    Req r = { 0 };

    blk_aio_flush(f->blk, req_cb, &r);
    return wait_req(f, &r);
}

static int do_discard(Fixture *f, uint64_t offset, uint64_t bytes)
{
    Req r = { 0 };

    blk_aio_pdiscard(f->blk, offset, bytes, req_cb, &r);
    return wait_req(f, &r);
}

static int do_zeroes(Fixture *f, uint64_t offset, uint64_t bytes)
{
    Req r = { 0 };

    blk_aio_pwrite_zeroes(f->blk, offset, bytes, false, req_cb, &r);
    return wait_req(f, &r);
}

/* A new back-end has counted nothing and has never been busy. */
static void test_fresh(Fixture *f, gconstpointer data)
{
    BlockAcctStats st;

    blk_get_stats(f->blk, &st);
    g_assert_cmpuint(st.rd_operations + st.wr_operations +
                     st.flush_operations + st.unmap_operations, ==, 0);
    g_assert_cmpuint(st.rd_bytes + st.wr_bytes + st.unmap_bytes, ==, 0);
    g_assert_cmpint(st.idle_time_ns, ==, -1);
    g_assert_true(st.account_invalid);
    g_assert_true(st.account_failed);
}

/*
 * Every kind of request, counted once however the block layer carries it
 * out (a write-zeroes may become writes, an unaligned request on O_DIRECT
 * goes through a bounce buffer in several steps).
 */
static void test_counts(Fixture *f, gconstpointer data)
{
    BlockAcctStats st;

    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(do_rw(f, true, i * LEN, f->buf, LEN), ==, 0);
    }
    g_assert_cmpint(do_rw(f, true, 3 * LEN + 7, f->buf, 100), ==, 0);
    g_assert_cmpint(do_rw(f, false, 0, f->buf, 2 * LEN), ==, 0);
    g_assert_cmpint(do_rw(f, false, 8 * LEN, f->buf, 4 * LEN), ==, 0);
    g_assert_cmpint(do_flush(f), ==, 0);
    g_assert_cmpint(do_discard(f, 16 * LEN, LEN), ==, 0);
    g_assert_cmpint(do_zeroes(f, 20 * LEN, 2 * LEN), ==, 0);

    blk_get_stats(f->blk, &st);
    g_assert_cmpuint(st.wr_operations, ==, 5);
    g_assert_cmpuint(st.wr_bytes, ==, 3 * LEN + 100 + 2 * LEN);
    g_assert_cmpuint(st.rd_operations, ==, 2);
    g_assert_cmpuint(st.rd_bytes, ==, 6 * LEN);
    g_assert_cmpuint(st.flush_operations, ==, 1);
    g_assert_cmpuint(st.unmap_operations, ==, 1);
    g_assert_cmpuint(st.unmap_bytes, ==, LEN);
    g_assert_cmpuint(st.failed_rd_operations + st.failed_wr_operations +
                     st.failed_flush_operations +
                     st.failed_unmap_operations, ==, 0);
    g_assert_cmpuint(st.invalid_rd_operations + st.invalid_wr_operations +
                     st.invalid_flush_operations +
                     st.invalid_unmap_operations, ==, 0);
    g_assert_cmpint(st.rd_total_time_ns, >, 0);
    g_assert_cmpint(st.wr_total_time_ns, >, 0);
    g_assert_cmpint(st.flush_total_time_ns, >, 0);
    g_assert_cmpint(st.unmap_total_time_ns, >, 0);
    g_assert_cmpint(st.idle_time_ns, >=, 0);
}

/* Requests the block layer fails count as failed, their bytes nowhere. */
static void test_failed(Fixture *f, gconstpointer data)
{
    BlockAcctStats st;

    g_assert_cmpint(do_rw(f, false, IMG_SIZE - LEN, f->buf, 2 * LEN), ==,
                    -EIO);
    g_assert_cmpint(do_rw(f, true, IMG_SIZE, f->buf, LEN), ==, -EIO);
    g_assert_cmpint(do_discard(f, IMG_SIZE, LEN), ==, -EIO);
    blk_get_stats(f->blk, &st);
    g_assert_cmpuint(st.failed_rd_operations, ==, 1);
    g_assert_cmpuint(st.failed_wr_operations, ==, 1);
    g_assert_cmpuint(st.failed_unmap_operations, ==, 1);
    g_assert_cmpuint(st.rd_operations + st.wr_operations +
                     st.unmap_operations, ==, 0);
    g_assert_cmpuint(st.rd_bytes + st.wr_bytes + st.unmap_bytes, ==, 0);
    /* account_failed: they were activity */
    g_assert_cmpint(st.idle_time_ns, >=, 0);

    /* A read-only drive refuses writes */
    blk_destroy_all();
    f->blk = open_drive(f->path, ",readonly=on");
    blk_set_aio_context(f->blk, f->ctx);
    g_assert_cmpint(do_rw(f, true, 0, f->buf, LEN), ==, -EROFS);
    g_assert_cmpint(do_zeroes(f, 0, LEN), ==, -EROFS);
    blk_get_stats(f->blk, &st);
    g_assert_cmpuint(st.failed_wr_operations, ==, 2);
    g_assert_cmpuint(st.wr_operations, ==, 0);
}

/* What the device refuses counts by type, and as activity. */
static void test_invalid(Fixture *f, gconstpointer data)
{
    BlockAcctStats st;

    blk_account_invalid(f->blk, BLOCK_ACCT_READ);
    blk_account_invalid(f->blk, BLOCK_ACCT_WRITE);
    blk_account_invalid(f->blk, BLOCK_ACCT_WRITE);
    blk_account_invalid(f->blk, BLOCK_ACCT_UNMAP);
    blk_get_stats(f->blk, &st);
    g_assert_cmpuint(st.invalid_rd_operations, ==, 1);
    g_assert_cmpuint(st.invalid_wr_operations, ==, 2);
    g_assert_cmpuint(st.invalid_flush_operations, ==, 0);
    g_assert_cmpuint(st.invalid_unmap_operations, ==, 1);
    g_assert_cmpuint(st.rd_operations + st.wr_operations +
                     st.failed_rd_operations + st.failed_wr_operations, ==, 0);
    g_assert_cmpint(st.idle_time_ns, >=, 0);
}

/* Totals only grow; idle time grows between requests, restarts at one. */
static void test_monotonic(Fixture *f, gconstpointer data)
{
    BlockAcctStats prev, st;

    g_assert_cmpint(do_rw(f, true, 0, f->buf, LEN), ==, 0);
    blk_get_stats(f->blk, &prev);
    for (int i = 0; i < 20; i++) {
        g_assert_cmpint(do_rw(f, i & 1, i * LEN, f->buf, LEN), ==, 0);
        blk_get_stats(f->blk, &st);
        g_assert_cmpuint(st.rd_operations + st.wr_operations, ==,
                         prev.rd_operations + prev.wr_operations + 1);
        g_assert_cmpint(st.rd_total_time_ns, >=, prev.rd_total_time_ns);
        g_assert_cmpint(st.wr_total_time_ns, >=, prev.wr_total_time_ns);
        g_assert_cmpint(st.rd_total_time_ns + st.wr_total_time_ns, >,
                        prev.rd_total_time_ns + prev.wr_total_time_ns);
        prev = st;
    }
    blk_get_stats(f->blk, &st);
    g_assert_cmpint(st.idle_time_ns, >=, prev.idle_time_ns);
}

/*
 * Reads counted in another thread while this one takes snapshots: each
 * snapshot is of one moment, bytes and operations together.
 */
typedef struct Counter {
    Fixture *f;
    AioContext *ctx;
    int reads;
    gint done;
} Counter;

static gpointer counter_thread(gpointer opaque)
{
    Counter *c = opaque;
    Fixture *f = c->f;

    aio_context_set_thread(c->ctx);
    blk_set_aio_context(f->blk, c->ctx);
    for (int i = 0; i < c->reads; i++) {
        struct iovec iov = { f->buf, LEN };
        Req r = { 0 };

        blk_aio_preadv(f->blk, (i % 64) * LEN, &iov, 1, req_cb, &r);
        while (!r.done) {
            aio_context_iterate(c->ctx, true);
        }
        g_assert_cmpint(r.ret, ==, 0);
    }
    /* Back to the fixture's context, which this thread's caller runs. */
    blk_set_aio_context(f->blk, f->ctx);
    g_atomic_int_set(&c->done, 1);
    return NULL;
}

static void test_other_thread(Fixture *f, gconstpointer data)
{
    Counter c = { .f = f, .ctx = aio_context_new(), .reads = 2000 };
    GThread *t;
    BlockAcctStats st;

    /* The thread takes the back-end before it runs any of this context. */
    t = g_thread_new("counter", counter_thread, &c);
    while (!g_atomic_int_get(&c.done)) {
        blk_get_stats(f->blk, &st);
        g_assert_cmpuint(st.rd_bytes, ==, st.rd_operations * LEN);
    }
    g_thread_join(t);
    blk_get_stats(f->blk, &st);
    g_assert_cmpuint(st.rd_operations, ==, c.reads);
    g_assert_cmpuint(st.rd_bytes, ==, (uint64_t)c.reads * LEN);
    aio_context_free(c.ctx);
}

typedef void FixtureTest(Fixture *f, gconstpointer data);

int main(int argc, char **argv)
{
    static const char *const drives[][2] = {
        { "threads", ",aio=threads" },
        { "io_uring", ",aio=io_uring" },
        { "io_uring-direct", ",aio=io_uring,cache=none" },
    };
    static const struct { const char *name; FixtureTest *fn; } tests[] = {
        { "fresh", test_fresh },
        { "counts", test_counts },
        { "failed", test_failed },
        { "invalid", test_invalid },
        { "monotonic", test_monotonic },
        { "other-thread", test_other_thread },
    };

    g_test_init(&argc, &argv, NULL);
    test_dir = g_getenv("BLOCK_TEST_DIR");
    if (!test_dir) {
        test_dir = "/var/tmp";
    }
    for (size_t i = 0; i < G_N_ELEMENTS(drives); i++) {
        for (size_t j = 0; j < G_N_ELEMENTS(tests); j++) {
            g_autofree char *path = g_strdup_printf("/block-stats/%s/%s",
                                                    drives[i][0],
                                                    tests[j].name);

            g_test_add(path, Fixture, drives[i][1], fixture_setup,
                       tests[j].fn, fixture_teardown);
        }
    }
    return g_test_run();
}
