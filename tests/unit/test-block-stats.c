/*
 * Block back-end accounting (include/block/accounting.h): counts, bytes and
 * times after known requests through both engines, failed and invalid
 * requests, idle time, and snapshots taken while another thread counts.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/accounting.h"
#include "block-test.h"

#define IMG_SIZE    (1024 * 1024)
#define LEN         4096

typedef struct Fixture {
    char *path;
    AioContext *ctx;
    BlockBackend *blk;
    uint8_t *buf;               /* LEN * 4 bytes, aligned for O_DIRECT */
} Fixture;

/* data: the -drive options beyond file= and format=. */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->path = block_test_image("test-block-stats", IMG_SIZE);
    f->ctx = aio_context_new();
    aio_context_set_thread(f->ctx);
    f->blk = block_test_open(f->path, data);
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

static int wait_req(Fixture *f, BlockTestReq *r)
{
    return block_test_wait(f->ctx, r);
}

static int do_rw(Fixture *f, bool write, uint64_t offset, void *buf,
                 size_t len)
{
    return block_test_rw(f->blk, f->ctx, write, offset, buf, len);
}

static int do_flush(Fixture *f)
{
    BlockTestReq r = { 0 };

    blk_aio_flush(f->blk, block_test_req_cb, &r);
    return wait_req(f, &r);
}

static int do_discard(Fixture *f, uint64_t offset, uint64_t bytes)
{
    BlockTestReq r = { 0 };

    blk_aio_pdiscard(f->blk, offset, bytes, block_test_req_cb, &r);
    return wait_req(f, &r);
}

static int do_zeroes(Fixture *f, uint64_t offset, uint64_t bytes)
{
    BlockTestReq r = { 0 };

    blk_aio_pwrite_zeroes(f->blk, offset, bytes, false, block_test_req_cb,
                          &r);
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
    f->blk = block_test_open(f->path, ",readonly=on");
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
        BlockTestReq r = { 0 };

        blk_aio_preadv(f->blk, (i % 64) * LEN, &iov, 1, block_test_req_cb,
                       &r);
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

int main(int argc, char **argv)
{
    static const BlockTestDrive drives[] = {
        { "threads", ",aio=threads" },
        { "io_uring", ",aio=io_uring" },
        { "io_uring-direct", ",aio=io_uring,cache=none" },
    };
    static const BlockTestCase tests[] = {
        { "fresh", (GTestFixtureFunc)test_fresh },
        { "counts", (GTestFixtureFunc)test_counts },
        { "failed", (GTestFixtureFunc)test_failed },
        { "invalid", (GTestFixtureFunc)test_invalid },
        { "monotonic", (GTestFixtureFunc)test_monotonic },
        { "other-thread", (GTestFixtureFunc)test_other_thread },
    };

    g_test_init(&argc, &argv, NULL);
    block_test_add("block-stats", sizeof(Fixture), drives,
                   G_N_ELEMENTS(drives), tests, G_N_ELEMENTS(tests),
                   (GTestFixtureFunc)fixture_setup,
                   (GTestFixtureFunc)fixture_teardown);
    return g_test_run();
}
