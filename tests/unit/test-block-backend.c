/*
 * Block back-end tests: requests through both engines (aio=threads and
 * aio=io_uring) and cache modes, checked against the image file itself;
 * requests of 4 GiB and more, and more iovecs than a system call takes;
 * the memory bounce buffers take; -drive option errors; image locking;
 * resources released on close, and a host that lets no thread start.
 *
 * Images live in $BLOCK_TEST_DIR (meson points it at the build directory)
 * or /var/tmp, not /tmp, which may be a tmpfs that refuses O_DIRECT.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/loop.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "block/block-backend.h"
#include "block/block-internal.h"
#include "qemu/error-report.h"

#define IMG_SIZE    (4 * 1024 * 1024)
#define ROUND_UP_U64(n, a)  (((n) + (a) - 1) / (a) * (a))

static const char *test_dir;

typedef struct Params {
    const char *aio;
    const char *cache;
    size_t size;                /* of the image; 0 for IMG_SIZE */
} Params;

typedef struct Fixture {
    const Params *p;
    char *path;
    uint8_t *shadow;            /* what the image should contain */
    size_t size;
    AioContext *ctx;
    BlockBackend *blk;
} Fixture;

/* Deterministic, position dependent bytes. */
static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    GRand *rand = g_rand_new_with_seed(seed);

    for (size_t i = 0; i < len; i++) {
        buf[i] = g_rand_int(rand);
    }
    g_rand_free(rand);
}

static void *aligned_alloc0(size_t size)
{
    void *buf = NULL;

    g_assert_cmpint(posix_memalign(&buf, 4096, MAX(size, 1)), ==, 0);
    memset(buf, 0, MAX(size, 1));
    return buf;
}

static char *make_image(size_t size, uint8_t **contents)
{
    char *path = g_build_filename(test_dir, "test-block-XXXXXX", NULL);
    uint8_t *data = g_malloc(size);
    int fd = g_mkstemp(path);

    g_assert_cmpint(fd, >=, 0);
    fill_pattern(data, size, size);
    g_assert_cmpint(pwrite(fd, data, size, 0), ==, size);
    close(fd);
    if (contents) {
        *contents = data;
    } else {
        g_free(data);
    }
    return path;
}

static BlockBackend *open_drive(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static BlockBackend *open_drive(const char *fmt, ...)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *str = NULL;
    g_autoptr(QemuOpts) opts = NULL;
    BlockBackend *blk;
    va_list ap;

    va_start(ap, fmt);
    str = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    opts = qemu_opts_parse(str, NULL, &err);
    g_assert_no_error(err);
    blk = drive_new(opts, NULL, &err);
    g_assert_no_error(err);
    return blk;
}

/* Open the fixture's image again, with extra options. */
static void reopen(Fixture *f, const char *extra)
{
    blk_destroy_all();
    f->blk = open_drive("file=%s,format=raw,aio=%s,cache=%s%s", f->path,
                        f->p->aio, f->p->cache, extra);
    blk_set_aio_context(f->blk, f->ctx);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->p = data;
    f->size = f->p->size ? f->p->size : IMG_SIZE;
    f->path = make_image(f->size, &f->shadow);
    f->ctx = aio_context_new();
    aio_context_set_thread(f->ctx);
    reopen(f, ",discard=unmap");
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    blk_destroy_all();
    aio_context_free(f->ctx);
    unlink(f->path);
    g_free(f->path);
    g_free(f->shadow);
}

/* The image file is exactly what the requests should have made it. */
static void check_file(Fixture *f)
{
    g_autofree uint8_t *data = g_malloc(f->size);
    int fd = open(f->path, O_RDONLY);
    struct stat st;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, f->size);
    g_assert_cmpint(pread(fd, data, f->size, 0), ==, f->size);
    close(fd);
    for (size_t i = 0; i < f->size; i++) {
        if (data[i] != f->shadow[i]) {
            g_error("byte %zu is 0x%02x, expected 0x%02x", i, data[i],
                    f->shadow[i]);
        }
    }
}

typedef struct Req {
    bool done;
    int ret;
} Req;

static void req_cb(void *opaque, int ret)
{
    Req *r = opaque;

    g_assert_false(r->done);
    r->done = true;
    r->ret = ret;
}

static int wait_req(AioContext *ctx, Req *r)
{
    while (!r->done) {
        aio_context_iterate(ctx, true);
    }
    return r->ret;
}

/*
 * Requests are made through these, which check that the callback does not
 * run inside the call that submits.
 */
static void submit_readv(Fixture *f, uint64_t offset, struct iovec *iov,
                         int iovcnt, Req *r)
{
    blk_aio_preadv(f->blk, offset, iov, iovcnt, req_cb, r);
    g_assert_false(r->done);
}

static void submit_writev(Fixture *f, uint64_t offset, struct iovec *iov,
                          int iovcnt, Req *r)
{
    blk_aio_pwritev(f->blk, offset, iov, iovcnt, req_cb, r);
    g_assert_false(r->done);
}

static int do_preadv(Fixture *f, uint64_t offset, struct iovec *iov,
                     int iovcnt)
{
    Req r = { 0 };

    submit_readv(f, offset, iov, iovcnt, &r);
    return wait_req(f->ctx, &r);
}

static int do_pwritev(Fixture *f, uint64_t offset, struct iovec *iov,
                      int iovcnt)
{
    Req r = { 0 };

    submit_writev(f, offset, iov, iovcnt, &r);
    return wait_req(f->ctx, &r);
}

static int do_pread(Fixture *f, uint64_t offset, void *buf, size_t len)
{
    struct iovec iov = { buf, len };

    return do_preadv(f, offset, &iov, 1);
}

static int do_pwrite(Fixture *f, uint64_t offset, void *buf, size_t len)
{
    struct iovec iov = { buf, len };

    return do_pwritev(f, offset, &iov, 1);
}

static int do_flush(Fixture *f)
{
    Req r = { 0 };

    blk_aio_flush(f->blk, req_cb, &r);
    g_assert_false(r.done);
    return wait_req(f->ctx, &r);
}

static int do_discard(Fixture *f, uint64_t offset, uint64_t bytes)
{
    Req r = { 0 };

    blk_aio_pdiscard(f->blk, offset, bytes, req_cb, &r);
    g_assert_false(r.done);
    return wait_req(f->ctx, &r);
}

static int do_zeroes(Fixture *f, uint64_t offset, uint64_t bytes, bool unmap)
{
    Req r = { 0 };

    blk_aio_pwrite_zeroes(f->blk, offset, bytes, unmap, req_cb, &r);
    g_assert_false(r.done);
    return wait_req(f->ctx, &r);
}

/* Write len pattern bytes at offset, through buf (which may be unaligned). */
static void write_and_check(Fixture *f, uint64_t offset, size_t len,
                            size_t buf_misalign)
{
    uint8_t *mem = aligned_alloc0(len + buf_misalign);
    uint8_t *buf = mem + buf_misalign;

    fill_pattern(buf, len, offset * 31 + len);
    g_assert_cmpint(do_pwrite(f, offset, buf, len), ==, 0);
    memcpy(f->shadow + offset, buf, len);

    memset(buf, 0xa5, len);
    g_assert_cmpint(do_pread(f, offset, buf, len), ==, 0);
    g_assert_cmpmem(buf, len, f->shadow + offset, len);
    free(mem);
}

static void test_properties(Fixture *f, gconstpointer data)
{
    bool direct = !strcmp(f->p->cache, "none");
    uint32_t align = blk_get_request_alignment(f->blk);

    g_assert_cmpuint(blk_getlength(f->blk), ==, IMG_SIZE);
    g_assert_false(blk_is_read_only(f->blk));
    g_assert_false(blk_is_block_device(f->blk));
    g_assert_true(blk_discard_enabled(f->blk));
    g_assert_true(blk_enable_write_cache(f->blk));
    g_assert_cmpint(blk_get_cache_mode(f->blk), ==,
                    direct ? BLOCK_CACHE_NONE : BLOCK_CACHE_WRITEBACK);
    g_assert_cmpint(blk_get_aio_engine(f->blk), ==,
                    strcmp(f->p->aio, "io_uring") ? BLOCK_AIO_THREADS
                                                  : BLOCK_AIO_IO_URING);
    g_assert_cmpint(!!(fcntl(blk_get_fd(f->blk), F_GETFL) & O_DIRECT), ==,
                    direct);
    if (direct) {
        g_assert_cmpuint(align, >=, 512);
        g_assert_cmpuint(align & (align - 1), ==, 0);
    } else {
        g_assert_cmpuint(align, ==, 1);
    }
    g_assert_true(blk_get_aio_context(f->blk) == f->ctx);
}

static void test_rw(Fixture *f, gconstpointer data)
{
    write_and_check(f, 0, 4096, 0);
    write_and_check(f, 1024 * 1024, 65536, 0);
    write_and_check(f, IMG_SIZE - 8192, 8192, 0);
    check_file(f);
}

static void test_vectored(Fixture *f, gconstpointer data)
{
    /* Written as 4k + 8k + 4k, read back as 12k + 4k. */
    size_t wlen[] = { 4096, 8192, 4096 }, rlen[] = { 12288, 4096 };
    struct iovec wiov[3], riov[2];
    g_autofree uint8_t *expect = g_malloc(16384);
    size_t pos = 0;

    for (int i = 0; i < 3; i++) {
        wiov[i] = (struct iovec){ aligned_alloc0(wlen[i]), wlen[i] };
        fill_pattern(wiov[i].iov_base, wlen[i], i + 1);
        memcpy(expect + pos, wiov[i].iov_base, wlen[i]);
        pos += wlen[i];
    }
    g_assert_cmpint(do_pwritev(f, 65536, wiov, 3), ==, 0);
    memcpy(f->shadow + 65536, expect, 16384);
    for (int i = 0; i < 2; i++) {
        riov[i] = (struct iovec){ aligned_alloc0(rlen[i]), rlen[i] };
    }
    g_assert_cmpint(do_preadv(f, 65536, riov, 2), ==, 0);
    g_assert_cmpmem(riov[0].iov_base, 12288, expect, 12288);
    g_assert_cmpmem(riov[1].iov_base, 4096, expect + 12288, 4096);

    /* Odd-sized pieces (bounced under cache=none) */
    riov[0].iov_len = 100;
    riov[1].iov_len = 3996;
    memset(riov[1].iov_base, 0, 4096);
    g_assert_cmpint(do_preadv(f, 65536 + 4096, riov, 2), ==, 0);
    g_assert_cmpmem(riov[0].iov_base, 100, expect + 4096, 100);
    g_assert_cmpmem(riov[1].iov_base, 3996, expect + 4196, 3996);
    g_assert_cmpint(do_pwritev(f, 4096, riov, 2), ==, 0);
    memcpy(f->shadow + 4096, expect + 4096, 4096);

    for (int i = 0; i < 3; i++) {
        free(wiov[i].iov_base);
    }
    for (int i = 0; i < 2; i++) {
        free(riov[i].iov_base);
    }
    check_file(f);
}

static void test_unaligned(Fixture *f, gconstpointer data)
{
    static const struct { uint64_t offset; size_t len; size_t misalign; }
    cases[] = {
        { 1, 10, 0 },               /* inside one sector */
        { 511, 2, 0 },              /* across a sector boundary */
        { 4095, 4098, 0 },          /* partial head and tail */
        { 8192 + 100, 8192, 0 },
        { 0, 513, 0 },              /* aligned start */
        { 16384, 1000, 0 },
        { 32768 - 7, 7, 0 },        /* aligned end */
        { 65536, 4096, 1 },         /* aligned range, unaligned buffer */
        { IMG_SIZE - 3, 3, 0 },     /* the last bytes */
    };
    uint8_t buf[16];

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        write_and_check(f, cases[i].offset, cases[i].len, cases[i].misalign);
    }
    check_file(f);

    /* Unaligned reads of what is there */
    g_assert_cmpint(do_pread(f, 12345, buf, sizeof(buf)), ==, 0);
    g_assert_cmpmem(buf, sizeof(buf), f->shadow + 12345, sizeof(buf));
}

/* Unaligned writes sharing a sector, in flight together, all land. */
static void test_unaligned_concurrent(Fixture *f, gconstpointer data)
{
    enum { N = 16, LEN = 64 };
    uint8_t bufs[N][LEN];
    Req reqs[N] = { 0 };
    struct iovec iov[N];

    blk_io_plug(f->blk);
    for (int i = 0; i < N; i++) {
        /* 64-byte slices of two sectors, neighbours in flight together */
        uint64_t offset = 8192 + (i % (N / 2)) * 128 + (i >= N / 2) * 64;

        fill_pattern(bufs[i], LEN, i + 100);
        iov[i] = (struct iovec){ bufs[i], LEN };
        memcpy(f->shadow + offset, bufs[i], LEN);
        submit_writev(f, offset, &iov[i], 1, &reqs[i]);
    }
    blk_io_unplug(f->blk);
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(wait_req(f->ctx, &reqs[i]), ==, 0);
    }
    check_file(f);
}

static void test_flush(Fixture *f, gconstpointer data)
{
    write_and_check(f, 4096, 4096, 0);
    g_assert_cmpint(do_flush(f), ==, 0);
    check_file(f);
}

static void expect_zeroes(Fixture *f, uint64_t offset, size_t len)
{
    uint8_t *buf = aligned_alloc0(len);

    memset(f->shadow + offset, 0, len);
    memset(buf, 0xa5, len);
    g_assert_cmpint(do_pread(f, offset, buf, len), ==, 0);
    g_assert_cmpmem(buf, len, f->shadow + offset, len);
    free(buf);
}

static void test_discard(Fixture *f, gconstpointer data)
{
    g_assert_cmpint(do_discard(f, 65536, 65536), ==, 0);
    expect_zeroes(f, 65536, 65536);
    /* Unaligned: partial blocks are zeroed, what is around them kept. */
    g_assert_cmpint(do_discard(f, 300000, 10000), ==, 0);
    expect_zeroes(f, 300000, 10000);
    check_file(f);

    /* discard=ignore leaves the data alone. */
    reopen(f, ",discard=ignore");
    g_assert_false(blk_discard_enabled(f->blk));
    g_assert_cmpint(do_discard(f, 1024 * 1024, 65536), ==, 0);
    check_file(f);
}

static void test_write_zeroes(Fixture *f, gconstpointer data)
{
    g_assert_cmpint(do_zeroes(f, 0, 65536, false), ==, 0);
    expect_zeroes(f, 0, 65536);
    g_assert_cmpint(do_zeroes(f, 131072, 65536, true), ==, 0);
    expect_zeroes(f, 131072, 65536);
    g_assert_cmpint(do_zeroes(f, 200001, 7777, false), ==, 0);
    expect_zeroes(f, 200001, 7777);
    g_assert_cmpint(do_zeroes(f, 300001, 7777, true), ==, 0);
    expect_zeroes(f, 300001, 7777);
    g_assert_cmpint(do_zeroes(f, IMG_SIZE - 1, 1, false), ==, 0);
    expect_zeroes(f, IMG_SIZE - 1, 1);
    check_file(f);
}

static void test_read_only(Fixture *f, gconstpointer data)
{
    uint8_t *buf = aligned_alloc0(4096);

    reopen(f, ",readonly=on");
    g_assert_true(blk_is_read_only(f->blk));
    g_assert_cmpint(do_pwrite(f, 0, buf, 4096), ==, -EROFS);
    g_assert_cmpint(do_pwrite(f, 1, buf, 10), ==, -EROFS);
    g_assert_cmpint(do_discard(f, 0, 4096), ==, -EROFS);
    g_assert_cmpint(do_zeroes(f, 0, 4096, true), ==, -EROFS);
    g_assert_cmpint(do_pread(f, 0, buf, 4096), ==, 0);
    g_assert_cmpmem(buf, 4096, f->shadow, 4096);
    g_assert_cmpint(do_flush(f), ==, 0);
    free(buf);
    check_file(f);
}

static void test_past_end(Fixture *f, gconstpointer data)
{
    uint8_t *buf = aligned_alloc0(8192);

    g_assert_cmpint(do_pread(f, IMG_SIZE, buf, 4096), ==, -EIO);
    g_assert_cmpint(do_pread(f, IMG_SIZE - 4096, buf, 8192), ==, -EIO);
    g_assert_cmpint(do_pread(f, UINT64_MAX - 1, buf, 4096), ==, -EIO);
    g_assert_cmpint(do_pwrite(f, IMG_SIZE - 4096, buf, 8192), ==, -EIO);
    g_assert_cmpint(do_pwrite(f, IMG_SIZE + 1, buf, 1), ==, -EIO);
    g_assert_cmpint(do_discard(f, IMG_SIZE - 4096, 8192), ==, -EIO);
    g_assert_cmpint(do_zeroes(f, IMG_SIZE, 1, false), ==, -EIO);
    /* Up to the end is fine, and so is nothing at the end. */
    g_assert_cmpint(do_pread(f, IMG_SIZE - 4096, buf, 4096), ==, 0);
    g_assert_cmpint(do_pread(f, IMG_SIZE, buf, 0), ==, 0);
    free(buf);
    check_file(f);
}

/* Many requests in flight, more than the io_uring SQ ring holds. */
static void test_many_in_flight(Fixture *f, gconstpointer data)
{
    enum { N = 300, LEN = 4096 };
    uint8_t *bufs = aligned_alloc0(N * LEN);
    struct iovec iov[N];
    Req reqs[N];

    /* Writes of distinct blocks, plugged, in the reverse order */
    memset(reqs, 0, sizeof(reqs));
    blk_io_plug(f->blk);
    for (int i = N - 1; i >= 0; i--) {
        uint64_t offset = (uint64_t)i * 2 * LEN;

        fill_pattern(bufs + i * LEN, LEN, 1000 + i);
        memcpy(f->shadow + offset, bufs + i * LEN, LEN);
        iov[i] = (struct iovec){ bufs + i * LEN, LEN };
        submit_writev(f, offset, &iov[i], 1, &reqs[i]);
    }
    g_assert_cmpuint(blk_in_flight(f->blk), ==, N);
    blk_io_unplug(f->blk);
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(wait_req(f->ctx, &reqs[i]), ==, 0);
    }
    g_assert_cmpuint(blk_in_flight(f->blk), ==, 0);

    /* 64 reads, not plugged */
    memset(bufs, 0, N * LEN);
    memset(reqs, 0, sizeof(reqs));
    for (int i = 0; i < 64; i++) {
        submit_readv(f, (uint64_t)i * 2 * LEN, &iov[i], 1, &reqs[i]);
    }
    g_assert_cmpuint(blk_in_flight(f->blk), ==, 64);
    for (int i = 0; i < 64; i++) {
        g_assert_cmpint(wait_req(f->ctx, &reqs[i]), ==, 0);
        g_assert_cmpmem(bufs + i * LEN, LEN, f->shadow + i * 2 * LEN, LEN);
    }
    free(bufs);
    check_file(f);
}

static void test_drain(Fixture *f, gconstpointer data)
{
    enum { N = 32, LEN = 4096 };
    uint8_t *bufs = aligned_alloc0(N * LEN);
    struct iovec iov[N + 2];
    Req reqs[N + 2] = { 0 };

    blk_io_plug(f->blk);
    for (int i = 0; i < N; i++) {
        fill_pattern(bufs + i * LEN, LEN, i);
        memcpy(f->shadow + i * LEN, bufs + i * LEN, LEN);
        iov[i] = (struct iovec){ bufs + i * LEN, LEN };
        submit_writev(f, i * LEN, &iov[i], 1, &reqs[i]);
    }
    iov[N] = iov[0];
    /* One failing at once, one unaligned (several steps with O_DIRECT) */
    submit_readv(f, IMG_SIZE, &iov[N], 1, &reqs[N]);
    iov[N + 1] = (struct iovec){ bufs, 100 };
    submit_writev(f, N * LEN + 1, &iov[N + 1], 1, &reqs[N + 1]);
    memcpy(f->shadow + N * LEN + 1, bufs, 100);
    /* Drained even while plugged */
    blk_drain(f->blk);
    g_assert_cmpuint(blk_in_flight(f->blk), ==, 0);
    for (int i = 0; i < N + 2; i++) {
        g_assert_true(reqs[i].done);
        g_assert_cmpint(reqs[i].ret, ==, i == N ? -EIO : 0);
    }
    blk_io_unplug(f->blk);
    free(bufs);
    check_file(f);
}

/* The main loop's context, a polling context, and back. */
static void test_aio_context(Fixture *f, gconstpointer data)
{
    AioContext *own = f->ctx, *polling = aio_context_new();

    blk_set_aio_context(f->blk, qemu_get_aio_context());
    f->ctx = qemu_get_aio_context();
    write_and_check(f, 0, 4096, 0);
    write_and_check(f, 5, 50, 0);

    aio_context_set_thread(polling);
    aio_context_set_poll_params(polling, 1000 * 1000, 0, 0);
    blk_set_aio_context(f->blk, polling);
    f->ctx = polling;
    for (int i = 0; i < 20; i++) {
        write_and_check(f, 65536 + i * 4096, 4096, 0);
    }
    check_file(f);

    aio_context_set_thread(own);
    blk_set_aio_context(f->blk, own);
    f->ctx = own;
    write_and_check(f, 8192, 4096, 0);
    aio_context_free(polling);
}

/* A context run by another thread, as an -object iothread's is. */
typedef struct IOThread {
    AioContext *ctx;
    GThread *thread;
    GMutex lock;
    GCond cond;
    bool started;
    int stop;
} IOThread;

static gpointer iothread_run(gpointer opaque)
{
    IOThread *t = opaque;

    aio_context_set_thread(t->ctx);
    g_mutex_lock(&t->lock);
    t->started = true;
    g_cond_signal(&t->cond);
    g_mutex_unlock(&t->lock);
    while (!g_atomic_int_get(&t->stop)) {
        aio_context_iterate(t->ctx, true);
    }
    return NULL;
}

static void iothread_start(IOThread *t)
{
    memset(t, 0, sizeof(*t));
    g_mutex_init(&t->lock);
    g_cond_init(&t->cond);
    t->ctx = aio_context_new();
    t->thread = g_thread_new("iothread", iothread_run, t);
    g_mutex_lock(&t->lock);
    while (!t->started) {
        g_cond_wait(&t->cond, &t->lock);
    }
    g_mutex_unlock(&t->lock);
}

static void iothread_stop_bh(void *opaque)
{
    IOThread *t = opaque;

    g_atomic_int_set(&t->stop, 1);
}

static void iothread_stop(IOThread *t)
{
    aio_bh_schedule_oneshot(t->ctx, iothread_stop_bh, t);
    g_thread_join(t->thread);
    aio_context_free(t->ctx);
    g_mutex_clear(&t->lock);
    g_cond_clear(&t->cond);
}

/* A request made and completed in the iothread, waited for here. */
typedef struct ThreadReq {
    IOThread *t;
    BlockBackend *blk;
    bool write;
    uint64_t offset;
    struct iovec iov;
    bool done;
    int ret;
} ThreadReq;

static void thread_req_cb(void *opaque, int ret)
{
    ThreadReq *r = opaque;

    g_assert_true(aio_context_in_thread(r->t->ctx));
    g_mutex_lock(&r->t->lock);
    r->done = true;
    r->ret = ret;
    g_cond_broadcast(&r->t->cond);
    g_mutex_unlock(&r->t->lock);
}

static void thread_req_submit(void *opaque)
{
    ThreadReq *r = opaque;

    if (r->write) {
        blk_aio_pwritev(r->blk, r->offset, &r->iov, 1, thread_req_cb, r);
    } else {
        blk_aio_preadv(r->blk, r->offset, &r->iov, 1, thread_req_cb, r);
    }
}

/* Move r->blk to the context of the thread this runs in. */
static void thread_take_blk(void *opaque)
{
    ThreadReq *r = opaque;

    blk_set_aio_context(r->blk, r->t->ctx);
}

static int thread_req_run(IOThread *t, ThreadReq *r)
{
    r->t = t;
    aio_run_sync(t->ctx, thread_req_submit, r);
    g_mutex_lock(&t->lock);
    while (!r->done) {
        g_cond_wait(&t->cond, &t->lock);
    }
    g_mutex_unlock(&t->lock);
    return r->ret;
}

static void thread_return_blk(void *opaque)
{
    Fixture *f = opaque;

    blk_set_aio_context(f->blk, f->ctx);
}

/*
 * Moved into and out of a running iothread, from there while this thread
 * waits, as devices do; then closed while in the iothread.
 */
static void test_iothread(Fixture *f, gconstpointer data)
{
    enum { N = 8, LEN = 4096 };
    uint8_t *buf = aligned_alloc0(N * LEN);
    IOThread t;
    ThreadReq take = { .t = &t, .blk = f->blk }, reqs[N];

    iothread_start(&t);
    aio_run_sync(t.ctx, thread_take_blk, &take);
    g_assert_true(blk_get_aio_context(f->blk) == t.ctx);
    for (int i = 0; i < N; i++) {
        ThreadReq r = {
            .blk = f->blk, .write = true, .offset = i * 3 * LEN + i,
            .iov = { buf + i * LEN, LEN },
        };

        fill_pattern(buf + i * LEN, LEN, 500 + i);
        memcpy(f->shadow + r.offset, buf + i * LEN, LEN);
        g_assert_cmpint(thread_req_run(&t, &r), ==, 0);
    }
    memset(buf, 0, N * LEN);
    for (int i = 0; i < N; i++) {
        ThreadReq r = {
            .blk = f->blk, .offset = i * 3 * LEN + i,
            .iov = { buf + i * LEN, LEN },
        };

        g_assert_cmpint(thread_req_run(&t, &r), ==, 0);
        g_assert_cmpmem(buf + i * LEN, LEN, f->shadow + r.offset, LEN);
    }

    /* Drained from here while the iothread runs the requests */
    for (int i = 0; i < N; i++) {
        reqs[i] = (ThreadReq){
            .t = &t, .blk = f->blk, .write = true, .offset = i * LEN,
            .iov = { buf + i * LEN, LEN },
        };
        memcpy(f->shadow + i * LEN, buf + i * LEN, LEN);
        aio_run_sync(t.ctx, thread_req_submit, &reqs[i]);
    }
    blk_drain(f->blk);
    for (int i = 0; i < N; i++) {
        g_assert_true(reqs[i].done);
        g_assert_cmpint(reqs[i].ret, ==, 0);
    }

    /* Back here for a while */
    aio_run_sync(t.ctx, thread_return_blk, f);
    write_and_check(f, 65536, 4096, 0);

    aio_run_sync(t.ctx, thread_take_blk, &take);
    blk_destroy_all();
    iothread_stop(&t);
    free(buf);
    check_file(f);
}

/* A size that is not a multiple of the sector size. */
static void test_odd_size(Fixture *f, gconstpointer data)
{
    uint8_t buf[1000];

    g_assert_cmpint(truncate(f->path, 10000), ==, 0);
    f->size = 10000;
    reopen(f, "");
    g_assert_cmpuint(blk_getlength(f->blk), ==, 10000);
    g_assert_cmpint(do_pread(f, 9000, buf, 1000), ==, 0);
    g_assert_cmpmem(buf, 1000, f->shadow + 9000, 1000);
    write_and_check(f, 9900, 100, 0);
    write_and_check(f, 8192, 1808, 0);
    g_assert_cmpint(do_pwrite(f, 9999, buf, 2), ==, -EIO);
    check_file(f);
}

/* More iovecs than one system call takes (IOV_MAX), both directions. */
static void test_many_iovecs(Fixture *f, gconstpointer data)
{
    enum { N = 2048, LEN = IMG_SIZE / N };
    uint8_t *buf = aligned_alloc0(IMG_SIZE);
    struct iovec *iov = g_new(struct iovec, N);

    /* Every other piece of the buffer first, then the rest. */
    for (int i = 0; i < N; i++) {
        int piece = i < N / 2 ? 2 * i : 2 * (i - N / 2) + 1;

        iov[i] = (struct iovec){ buf + piece * LEN, LEN };
    }
    fill_pattern(buf, IMG_SIZE, 77);
    g_assert_cmpint(do_pwritev(f, 0, iov, N), ==, 0);
    for (int i = 0; i < N; i++) {
        memcpy(f->shadow + (uint64_t)i * LEN, iov[i].iov_base, LEN);
    }
    check_file(f);
    memset(buf, 0xa5, IMG_SIZE);
    g_assert_cmpint(do_preadv(f, 0, iov, N), ==, 0);
    for (int i = 0; i < N; i++) {
        g_assert_cmpmem(iov[i].iov_base, LEN, f->shadow + (uint64_t)i * LEN,
                        LEN);
    }
    g_free(iov);
    free(buf);
}

/* What the test allows besides a back-end's bounce buffers. */
#define BOUNCE_SLACK    (16 << 20)
#define BOUNCE_IMG_SIZE (96 << 20)

static uint64_t proc_status_kib(const char *field)
{
    g_autofree char *status = NULL;
    g_autofree char *key = g_strdup_printf("\n%s:", field);
    const char *line;

    g_assert_true(g_file_get_contents("/proc/self/status", &status, NULL,
                                      NULL));
    line = strstr(status, key);
    g_assert_nonnull(line);
    return g_ascii_strtoull(line + strlen(key), NULL, 10);
}

/* Start measuring the peak resident set size (VmHWM) from now. */
static uint64_t reset_peak_rss(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "5", 1), ==, 1);
    close(fd);
    return proc_status_kib("VmRSS") * 1024;
}

/*
 * Misaligned requests whose bounce buffers add up to far more than the
 * budget, all in flight at once: they wait for bounce memory instead of
 * taking it, and all complete.  Reads of one range into one buffer, then
 * writes of one buffer to one range, which wait for each other besides.
 */
static void test_bounce_budget(Fixture *f, gconstpointer data)
{
    enum { N = 64, LEN = 8 << 20, OFFSET = 4096 + 1 };
    uint8_t *mem = aligned_alloc0(LEN + 1), *buf = mem + 1;
    struct iovec iov = { buf, LEN };
    Req reqs[N];
    uint64_t rss;

    memset(buf, 0xa5, LEN);
    memset(reqs, 0, sizeof(reqs));
    rss = reset_peak_rss();
    blk_io_plug(f->blk);
    for (int i = 0; i < N; i++) {
        submit_readv(f, OFFSET, &iov, 1, &reqs[i]);
    }
    blk_io_unplug(f->blk);
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(wait_req(f->ctx, &reqs[i]), ==, 0);
    }
    g_assert_cmpuint(proc_status_kib("VmHWM") * 1024, <=,
                     rss + BLK_BOUNCE_BUDGET + BOUNCE_SLACK);
    g_assert_cmpmem(buf, LEN, f->shadow + OFFSET, LEN);

    fill_pattern(buf, LEN, 4242);
    memcpy(f->shadow + OFFSET, buf, LEN);
    memset(reqs, 0, sizeof(reqs));
    rss = reset_peak_rss();
    blk_io_plug(f->blk);
    for (int i = 0; i < N; i++) {
        submit_writev(f, OFFSET, &iov, 1, &reqs[i]);
    }
    blk_io_unplug(f->blk);
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(wait_req(f->ctx, &reqs[i]), ==, 0);
    }
    g_assert_cmpuint(proc_status_kib("VmHWM") * 1024, <=,
                     rss + BLK_BOUNCE_BUDGET + BOUNCE_SLACK);
    check_file(f);
    free(mem);
}

/* One misaligned request larger than the whole budget, each way. */
static void test_bounce_over_budget(Fixture *f, gconstpointer data)
{
    enum { LEN = BLK_BOUNCE_BUDGET + (16 << 20) + 3, OFFSET = 12345 };

    write_and_check(f, OFFSET, LEN, 1);
    check_file(f);
}

/*
 * Requests of 4 GiB and more on a sparse image with data at known offsets
 * around and past 4 GiB.  Their buffers are made of BIG_WINDOW bytes of
 * memory used again and again, so that the test needs far less than 4 GiB.
 */
#define BIG_WINDOW      (64ULL << 20)
#define BIG_IMG_SIZE    ((4ULL << 30) + (64ULL << 20))
#define BIG_OFFSET      ((1ULL << 20) + 1)      /* misaligned */

typedef enum BigLayout {
    /* iovecs: the window again and again, and a tail of its own */
    BIG_VECTORED,
    /* one buffer: the window mapped again and again */
    BIG_CONTIGUOUS,
} BigLayout;

typedef struct BigParams {
    const char *aio;
    const char *cache;          /* none: bounced, the request is misaligned */
    BigLayout layout;
    uint64_t bytes;
} BigParams;

/* What the image holds: these pieces of pattern, zeroes elsewhere. */
static const struct { uint64_t offset, len; } big_pieces[] = {
    { BIG_OFFSET, 4096 },
    { (4ULL << 30) - (96ULL << 20), 1 << 20 },
    { (4ULL << 30) - (80ULL << 20) + 5, 1 << 20 },
    { (4ULL << 30) - (50ULL << 20), 1 << 20 },
    { (4ULL << 30) - (512 << 10), 1 << 20 },          /* across 4 GiB */
    { (4ULL << 30) + (16ULL << 20), 1 << 20 },
    { (4ULL << 30) + (32ULL << 20), 2 << 20 },
    { BIG_IMG_SIZE - 4096, 4096 },
};

/* The image's bytes [pos, pos + len) into out. */
static void big_content(uint64_t pos, uint64_t len, uint8_t *out)
{
    memset(out, 0, len);
    for (size_t i = 0; i < G_N_ELEMENTS(big_pieces); i++) {
        uint64_t start = MAX(pos, big_pieces[i].offset);
        uint64_t end = MIN(pos + len, big_pieces[i].offset +
                                      big_pieces[i].len);
        g_autofree uint8_t *piece = NULL;

        if (start >= end) {
            continue;
        }
        piece = g_malloc(big_pieces[i].len);
        fill_pattern(piece, big_pieces[i].len, i + 1);
        memcpy(out + start - pos, piece + start - big_pieces[i].offset,
               end - start);
    }
}

static char *big_image_new(const char *dir)
{
    char *path = g_build_filename(dir, "test-block-big-XXXXXX", NULL);
    int fd = g_mkstemp(path);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, BIG_IMG_SIZE), ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(big_pieces); i++) {
        g_autofree uint8_t *piece = g_malloc(big_pieces[i].len);

        fill_pattern(piece, big_pieces[i].len, i + 1);
        g_assert_cmpint(pwrite(fd, piece, big_pieces[i].len,
                               big_pieces[i].offset), ==, big_pieces[i].len);
    }
    close(fd);
    return path;
}

static void assert_bytes(const uint8_t *got, const uint8_t *expect,
                         uint64_t len, const char *what)
{
    bool data = false;

    for (uint64_t i = 0; i < len; i++) {
        if (got[i] != expect[i]) {
            g_error("%s: byte %" G_GUINT64_FORMAT " is 0x%02x, expected "
                    "0x%02x", what, i, got[i], expect[i]);
        }
        data |= expect[i];
    }
    /* Else the check could not tell data from the zeroes of a hole. */
    g_assert_true(data);
}

/*
 * The window holds what the last request bytes mapped to each of its
 * bytes read: pieces of the request, each mapped to the window's start.
 */
static void big_expect_window(const uint64_t *piece_len, int n,
                              uint8_t *expect)
{
    uint64_t pos = BIG_OFFSET, filled = 0;

    for (int i = 0; i < n; i++) {
        pos += piece_len[i];
    }
    for (int i = n - 1; i >= 0 && filled < BIG_WINDOW; i--) {
        pos -= piece_len[i];
        if (piece_len[i] > filled) {
            big_content(pos + filled, piece_len[i] - filled, expect + filled);
            filled = piece_len[i];
        }
    }
}

/* BIG_WINDOW bytes of memory, mapped again and again to fill bytes. */
static uint8_t *big_mirror_new(uint64_t bytes, int *memfd)
{
    uint64_t size = ROUND_UP_U64(bytes, BIG_WINDOW);
    uint8_t *base = mmap(NULL, size, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    g_assert_true(base != MAP_FAILED);
    *memfd = memfd_create("big-window", MFD_CLOEXEC);
    g_assert_cmpint(*memfd, >=, 0);
    g_assert_cmpint(ftruncate(*memfd, BIG_WINDOW), ==, 0);
    for (uint64_t off = 0; off < size; off += BIG_WINDOW) {
        void *p = mmap(base + off, BIG_WINDOW, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_FIXED | MAP_POPULATE, *memfd, 0);

        g_assert_true(p == base + off);
    }
    return base;
}

static void test_big_read(gconstpointer data)
{
    const BigParams *p = data;
    /* Buffered reads of tmpfs holes fill no page cache. */
    const char *dir = strcmp(p->cache, "none") &&
                      g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
                      ? "/dev/shm" : test_dir;
    g_autofree char *path = big_image_new(dir);
    AioContext *ctx = qemu_get_aio_context();
    g_autofree uint8_t *expect = g_malloc(BIG_WINDOW);
    g_autofree struct iovec *iov = NULL;
    g_autofree uint64_t *piece_len = NULL;
    uint8_t *window, *tail = NULL;
    int n = 0, memfd = -1;
    BlockBackend *blk;
    Req r = { 0 };

    blk = open_drive("file=%s,format=raw,aio=%s,cache=%s", path, p->aio,
                     p->cache);
    g_assert_cmpuint(blk_getlength(blk), ==, BIG_IMG_SIZE);
    /* The pieces of the request that land in the window. */
    piece_len = g_new(uint64_t, p->bytes / BIG_WINDOW + 1);
    for (uint64_t left = p->bytes - (p->layout == BIG_VECTORED ? BIG_WINDOW
                                                                : 0);
         left; n++) {
        piece_len[n] = MIN(left, BIG_WINDOW);
        left -= piece_len[n];
    }
    if (p->layout == BIG_VECTORED) {
        window = aligned_alloc0(BIG_WINDOW);
        tail = aligned_alloc0(BIG_WINDOW);
        memset(tail, 0xa5, BIG_WINDOW);
        iov = g_new(struct iovec, n + 1);
        for (int i = 0; i < n; i++) {
            iov[i] = (struct iovec){ window, piece_len[i] };
        }
        iov[n] = (struct iovec){ tail, BIG_WINDOW };
    } else {
        window = big_mirror_new(p->bytes, &memfd);
        iov = g_new(struct iovec, 1);
        iov[0] = (struct iovec){ window, p->bytes };
    }
    memset(window, 0xa5, BIG_WINDOW);

    blk_aio_preadv(blk, BIG_OFFSET, iov, p->layout == BIG_VECTORED ? n + 1
                                                                  : 1,
                   req_cb, &r);
    g_assert_cmpint(wait_req(ctx, &r), ==, 0);

    big_expect_window(piece_len, n, expect);
    assert_bytes(window, expect, BIG_WINDOW, "window");
    if (tail) {
        big_content(BIG_OFFSET + p->bytes - BIG_WINDOW, BIG_WINDOW, expect);
        assert_bytes(tail, expect, BIG_WINDOW, "tail");
        free(tail);
        free(window);
    } else {
        munmap(window, ROUND_UP_U64(p->bytes, BIG_WINDOW));
        close(memfd);
    }
    blk_destroy_all();
    unlink(path);
}

/* A file that shrank under the back-end reads as zeroes past its end. */
static void test_shrunk(Fixture *f, gconstpointer data)
{
    uint8_t *buf = aligned_alloc0(8192);

    g_assert_cmpint(truncate(f->path, IMG_SIZE - 4096), ==, 0);
    memset(buf, 0xa5, 8192);
    g_assert_cmpint(do_pread(f, IMG_SIZE - 8192, buf, 8192), ==, 0);
    g_assert_cmpmem(buf, 4096, f->shadow + IMG_SIZE - 8192, 4096);
    memset(f->shadow + IMG_SIZE - 4096, 0, 4096);
    g_assert_cmpmem(buf + 4096, 4096, f->shadow + IMG_SIZE - 4096, 4096);
    free(buf);
}

/* A loop device over the image: the block device paths. */
static void test_block_device(Fixture *f, gconstpointer data)
{
    g_autofree char *dev = NULL;
    struct loop_config cfg = { .info.lo_flags = LO_FLAGS_AUTOCLEAR };
    int ctl, num, loop_fd, img_fd;

    ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    num = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
    if (ctl >= 0) {
        close(ctl);
    }
    dev = g_strdup_printf("/dev/loop%d", num);
    loop_fd = num < 0 ? -1 : open(dev, O_RDWR | O_CLOEXEC);
    img_fd = open(f->path, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(img_fd, >=, 0);
    cfg.fd = img_fd;
    if (loop_fd < 0 || ioctl(loop_fd, LOOP_CONFIGURE, &cfg) < 0) {
        g_test_skip("no loop device");
        if (loop_fd >= 0) {
            close(loop_fd);
        }
        close(img_fd);
        return;
    }
    close(img_fd);

    blk_destroy_all();
    f->blk = open_drive("file=%s,format=raw,aio=%s,cache=%s,discard=unmap",
                        dev, f->p->aio, f->p->cache);
    /* Autoclear once the back-end has it open too */
    close(loop_fd);
    blk_set_aio_context(f->blk, f->ctx);
    g_assert_true(blk_is_block_device(f->blk));
    g_assert_cmpuint(blk_getlength(f->blk), ==, IMG_SIZE);

    write_and_check(f, 0, 4096, 0);
    write_and_check(f, 700, 1000, 0);
    g_assert_cmpint(do_discard(f, 65536, 65536), ==, 0);
    expect_zeroes(f, 65536, 65536);
    g_assert_cmpint(do_zeroes(f, 262144, 65536, false), ==, 0);
    expect_zeroes(f, 262144, 65536);
    g_assert_cmpint(do_zeroes(f, 500000, 1000, true), ==, 0);
    expect_zeroes(f, 500000, 1000);
    g_assert_cmpint(do_flush(f), ==, 0);
    g_assert_cmpint(do_pread(f, IMG_SIZE, &num, 1), ==, -EIO);
    blk_destroy_all();
    check_file(f);
}

/* -drive errors, with the message the user sees. */
static void test_drive_errors(void)
{
    g_autofree char *img = make_image(65536, NULL);
    g_autofree char *dir = g_strdup(test_dir);
    g_autofree char *dir_msg = g_strdup_printf(
        "'%s' is not a regular file or a block device", dir);
    const struct { const char *opts; const char *arg; const char *msg; }
    cases[] = {
        { "if=none,format=raw", NULL, "Parameter 'file' is missing" },
        { "file=%s,if=ide", img,
          "if=ide is not supported (only none and virtio)" },
        { "file=%s,format=qcow2", img, "Image format 'qcow2' is not supported (only raw)" },
        { "file=%s,cache=unsafe", img, "Parameter 'cache' expects 'none', "
          "'writeback', 'directsync' or 'writethrough'" },
        { "file=%s,aio=native", img,
          "aio=native is not supported (only io_uring and threads)" },
        { "file=%s,aio=posix", img,
          "Parameter 'aio' expects 'io_uring' or 'threads'" },
        { "file=%s,readonly=maybe", img,
          "Parameter 'readonly' expects 'on' or 'off'" },
        { "file=%s,discard=sometimes", img,
          "Parameter 'discard' expects 'ignore' or 'unmap'" },
        { "file=%s,foo=bar,if=ide", img, "Invalid parameter 'foo'" },
        { "file=%s,id=0bad", img, "Parameter 'id' expects an identifier" },
        { "file=%s,format=raw,id=d0", img, "Duplicate ID 'd0' for drive" },
        { "file=%s,file.locking=maybe", img,
          "Parameter 'file.locking' expects 'on', 'off' or 'auto'" },
        { "file=%s,format=raw", "/nonexistent/x.img",
          "Could not open '/nonexistent/x.img': No such file or directory" },
        { "file=%s,format=raw,readonly=on", dir, dir_msg },
    };

    /* d0 has the image open for writing. */
    open_drive("file=%s,format=raw,id=d0", img);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *str = g_strdup_printf(cases[i].opts, cases[i].arg);
        g_autoptr(QemuOpts) opts = qemu_opts_parse(str, NULL, NULL);
        g_autoptr(GError) err = NULL;
        bool if_virtio = true;

        g_assert_nonnull(opts);
        g_assert_null(drive_new(opts, &if_virtio, &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(err->message, ==, cases[i].msg);
        g_assert_null(blk_by_name("none0"));
    }
    blk_destroy_all();
    unlink(img);
}

static void test_drive_names(void)
{
    g_autofree char *img = make_image(65536, NULL);
    g_autoptr(GError) err = NULL;
    BlockBackend *blk[4];
    bool if_virtio = true;
    g_autoptr(QemuOpts) opts = NULL;
    g_autofree char *str = NULL;
    int dev1, dev2;

    str = g_strdup_printf("file=%s,format=raw,readonly=on", img);
    opts = qemu_opts_parse(str, NULL, &err);
    blk[0] = drive_new(opts, &if_virtio, &err);
    g_assert_no_error(err);
    g_assert_false(if_virtio);
    g_assert_cmpstr(blk_name(blk[0]), ==, "none0");

    blk[1] = open_drive("file=%s,format=raw,readonly=on,id=virtio0", img);
    blk[2] = open_drive("file=%s,format=raw,readonly=on,if=none", img);
    g_assert_cmpstr(blk_name(blk[2]), ==, "none1");

    g_clear_pointer(&opts, qemu_opts_free);
    g_free(str);
    str = g_strdup_printf("file=%s,format=raw,readonly=on,if=virtio", img);
    opts = qemu_opts_parse(str, NULL, &err);
    blk[3] = drive_new(opts, &if_virtio, &err);
    g_assert_no_error(err);
    g_assert_true(if_virtio);
    /* virtio0 is taken */
    g_assert_cmpstr(blk_name(blk[3]), ==, "virtio1");

    for (int i = 0; i < 4; i++) {
        g_assert_true(blk_by_name(blk_name(blk[i])) == blk[i]);
    }
    g_assert_null(blk_by_name("virtio2"));

    g_assert_true(blk_attach_dev(blk[0], &dev1, &err));
    g_assert_false(blk_attach_dev(blk[0], &dev2, &err));
    g_assert_cmpstr(err->message, ==,
                    "Drive 'none0' is already in use by another device");
    blk_detach_dev(blk[0]);
    g_assert_true(blk_attach_dev(blk[0], &dev2, NULL));

    blk_destroy_all();
    g_assert_null(blk_by_name("none0"));
    unlink(img);
}

static void test_drive_cache_modes(void)
{
    g_autofree char *img = make_image(65536, NULL);
    static const struct {
        const char *name;
        BlockCacheMode mode;
        bool write_cache;
        int flags;
    } modes[] = {
        { "writeback", BLOCK_CACHE_WRITEBACK, true, 0 },
        { "none", BLOCK_CACHE_NONE, true, O_DIRECT },
        { "directsync", BLOCK_CACHE_DIRECTSYNC, false, O_DIRECT | O_DSYNC },
        { "writethrough", BLOCK_CACHE_WRITETHROUGH, false, O_DSYNC },
    };
    BlockBackend *blk;

    blk = open_drive("file=%s,format=raw", img);
    g_assert_cmpint(blk_get_cache_mode(blk), ==, BLOCK_CACHE_WRITEBACK);
    g_assert_cmpint(blk_get_aio_engine(blk), ==, BLOCK_AIO_THREADS);
    g_assert_false(blk_discard_enabled(blk));
    blk_destroy_all();
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        int flags;

        blk = open_drive("file=%s,format=raw,cache=%s", img, modes[i].name);
        flags = fcntl(blk_get_fd(blk), F_GETFL);
        g_assert_cmpint(blk_get_cache_mode(blk), ==, modes[i].mode);
        g_assert_cmpint(blk_enable_write_cache(blk), ==,
                        modes[i].write_cache);
        g_assert_cmpint(flags & (O_DIRECT | O_DSYNC), ==, modes[i].flags);
        blk_destroy_all();
    }
    unlink(img);
}

static void test_drive_format_warning(void)
{
    if (g_test_subprocess()) {
        g_autofree char *img = make_image(4096, NULL);

        open_drive("file=%s", img);
        open_drive("file=%s,format=raw,readonly=on", img);
        blk_destroy_all();
        unlink(img);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*warning: Image format was not specified "
                              "for '*test-block-*', so raw is assumed*");
    /* Once: not for the drive that says format=raw */
    g_test_trap_assert_stderr_unmatched("*assumed*assumed*");
}

/* Does anyone hold a lock on byte of the image? */
static bool byte_locked(const char *img, off_t byte)
{
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
    };
    int fd = open(img, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fcntl(fd, F_OFD_GETLK, &fl), ==, 0);
    close(fd);
    return fl.l_type != F_UNLCK;
}

/*
 * Locks (docs/system/image-locking.rst): a drive alone holds consistent
 * read and shares everything; a device's permissions conflict with what
 * another user holds or does not share, as QEMU's do.  Two drives of one
 * image are two open file descriptions, so they see each other's locks.
 */
static void test_locking(void)
{
    const uint64_t read = BLK_PERM_CONSISTENT_READ;
    const uint64_t rw = read | BLK_PERM_WRITE;
    const uint64_t dev_shared = read | BLK_PERM_WRITE_UNCHANGED |
                                BLK_PERM_RESIZE;
    g_autofree char *img = make_image(65536, NULL);
    g_autofree char *write_msg = g_strdup_printf(
        "Failed to get \"write\" lock (is another process using the image "
        "[%s]?)", img);
    g_autofree char *shared_write_msg = g_strdup_printf(
        "Failed to get shared \"write\" lock (is another process using the "
        "image [%s]?)", img);
    BlockBackend *w = open_drive("file=%s,format=raw,id=w", img);
    BlockBackend *r = open_drive("file=%s,format=raw,readonly=on,id=r", img);
    BlockBackend *w2 = open_drive("file=%s,format=raw,aio=io_uring,id=w2",
                                  img);
    BlockBackend *off = open_drive("file=%s,format=raw,file.locking=off,"
                                   "id=off", img);
    GError *err = NULL;
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 201, .l_len = 1,
    };
    int fd;

    g_assert_true(byte_locked(img, 100));
    g_assert_true(blk_set_perm(w, rw, dev_shared, &err));
    g_assert_no_error(err);
    g_assert_true(byte_locked(img, 101) && byte_locked(img, 201));

    /* A reader that does not share "write", a second writer: refused. */
    g_assert_false(blk_set_perm(r, read, dev_shared, &err));
    g_assert_cmpstr(err->message, ==, shared_write_msg);
    g_clear_error(&err);
    g_assert_false(blk_set_perm(w2, rw, BLK_PERM_ALL, &err));
    g_assert_cmpstr(err->message, ==, write_msg);
    g_clear_error(&err);
    /* A reader that shares it, and one that locks nothing: allowed. */
    g_assert_true(blk_set_perm(r, read, dev_shared | BLK_PERM_WRITE, NULL));
    g_assert_true(blk_set_perm(off, rw, dev_shared, NULL));

    /* Giving "write" up lets the second writer in. */
    g_assert_true(blk_set_perm(w, read, BLK_PERM_ALL, NULL));
    /* ... and the refusals left nothing behind: byte 201 is free. */
    g_assert_false(byte_locked(img, 101) || byte_locked(img, 201));
    g_assert_true(blk_set_perm(w2, rw, dev_shared, NULL));
    blk_destroy_all();
    g_assert_false(byte_locked(img, 100));

    /*
     * Someone's exclusive lock on a byte to lock fails as in QEMU, and the
     * byte locked before it (101) is let go again.
     */
    fd = open(img, O_RDWR);
    g_assert_cmpint(fcntl(fd, F_OFD_SETLK, &fl), ==, 0);
    w = open_drive("file=%s,format=raw", img);
    g_assert_false(blk_set_perm(w, rw, dev_shared, &err));
    g_assert_cmpstr(err->message, ==, "Failed to lock byte 201");
    g_clear_error(&err);
    g_assert_false(byte_locked(img, 101));
    close(fd);
    /* Closing drops the locks. */
    blk_destroy_all();
    w = open_drive("file=%s,format=raw", img);
    g_assert_true(blk_set_perm(w, rw, dev_shared, NULL));
    blk_destroy_all();
    unlink(img);
}

static unsigned count_fds(void)
{
    GDir *dir = g_dir_open("/proc/self/fd", 0, NULL);
    unsigned n = 0;

    while (g_dir_read_name(dir)) {
        n++;
    }
    g_dir_close(dir);
    return n;
}

static unsigned count_workers(void)
{
    GDir *dir = g_dir_open("/proc/self/task", 0, NULL);
    const char *tid;
    unsigned n = 0;

    while ((tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/comm",
                                                tid);
        g_autofree char *comm = NULL;

        if (g_file_get_contents(path, &comm, NULL, NULL) &&
            g_str_has_prefix(comm, "blk-worker")) {
            n++;
        }
    }
    g_dir_close(dir);
    return n;
}

static void async_cb(void *opaque, int ret)
{
    int *pending = opaque;

    g_assert_cmpint(ret, ==, 0);
    (*pending)--;
}

/* Closing releases every descriptor and worker thread. */
static void test_no_leaks(void)
{
    g_autofree char *img = make_image(1024 * 1024, NULL);
    AioContext *ctx = qemu_get_aio_context();
    unsigned fds = count_fds();
    static uint8_t buf[16][4096];
    struct iovec iov[16];
    BlockBackend *blk[2];
    int pending = 0;

    blk[0] = open_drive("file=%s,format=raw,aio=threads,readonly=on", img);
    blk[1] = open_drive("file=%s,format=raw,aio=io_uring,discard=unmap",
                        img);
    g_assert_cmpuint(count_fds(), >, fds);
    for (int i = 0; i < 16; i++) {
        iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
        blk_aio_preadv(blk[i % 2], i * 4096, &iov[i], 1, async_cb, &pending);
        pending++;
    }
    blk_aio_pdiscard(blk[1], 0, 4096, async_cb, &pending);
    blk_aio_flush(blk[1], async_cb, &pending);
    pending += 2;
    while (pending) {
        aio_context_iterate(ctx, true);
    }
    g_assert_cmpuint(count_workers(), >, 0);
    blk_destroy_all();
    g_assert_cmpuint(count_fds(), ==, fds);
    g_assert_cmpuint(count_workers(), ==, 0);
    unlink(img);
}

/*
 * The bounce pool: blocks aligned to their size, none past the arena, a
 * full arena says -EAGAIN, and freed blocks merge back into bigger ones.
 */
static void test_bounce_pool(void)
{
    enum { MB = 1 << 20, ARENA = 64 * MB, MAX_BLOCK = 4 * MB };
    static const uint64_t min_blocks[] = { 4096, 65536 };

    for (size_t i = 0; i < G_N_ELEMENTS(min_blocks); i++) {
        uint64_t min = min_blocks[i], n = ARENA / min;
        BouncePool *p = bounce_pool_new(ARENA, min, MAX_BLOCK);
        g_autofree char **small = g_new(char *, n);
        char *big[ARENA / MAX_BLOCK], *lo = NULL, *buf;

        for (int j = 0; j < ARENA / MAX_BLOCK; j++) {
            g_assert_cmpint(bounce_pool_alloc(p, MAX_BLOCK, (void **)&big[j]),
                            ==, 0);
            g_assert_cmpuint((uintptr_t)big[j] % MAX_BLOCK, ==, 0);
            memset(big[j], j, MAX_BLOCK);
            lo = lo && lo < big[j] ? lo : big[j];
        }
        g_assert_cmpint(bounce_pool_alloc(p, 1, (void **)&buf), ==, -EAGAIN);
        for (int j = 0; j < ARENA / MAX_BLOCK; j++) {
            g_assert_true(big[j] >= lo && big[j] < lo + ARENA);
            g_assert_cmpint(big[j][MAX_BLOCK - 1], ==, j);
        }

        /* One block freed: small blocks fit in it, a big one no more. */
        bounce_pool_release(p, big[3], MAX_BLOCK);
        g_assert_cmpint(bounce_pool_alloc(p, min + 1, (void **)&buf), ==, 0);
        g_assert_cmpuint((uintptr_t)buf % (2 * min), ==, 0);
        g_assert_true(buf >= big[3] && buf < big[3] + MAX_BLOCK);
        g_assert_cmpint(bounce_pool_alloc(p, MAX_BLOCK, (void **)&big[3]),
                        ==, -EAGAIN);
        bounce_pool_release(p, buf, min + 1);
        for (int j = 0; j < ARENA / MAX_BLOCK; j++) {
            if (j != 3) {
                bounce_pool_release(p, big[j], MAX_BLOCK);
            }
        }

        /* The smallest blocks fill the arena, each once. */
        for (uint64_t j = 0; j < n; j++) {
            g_assert_cmpint(bounce_pool_alloc(p, min, (void **)&small[j]), ==,
                            0);
            g_assert_true(small[j] >= lo && small[j] < lo + ARENA);
            g_assert_cmpuint((uintptr_t)small[j] % min, ==, 0);
            *small[j] = 1;
        }
        g_assert_cmpint(bounce_pool_alloc(p, min, (void **)&buf), ==,
                        -EAGAIN);
        for (uint64_t j = 0; j < n; j++) {
            g_assert_cmpint(*small[j], ==, 1);
            *small[j] = 0;
        }
        /* All back: the biggest blocks fit again. */
        for (uint64_t j = 0; j < n; j++) {
            bounce_pool_release(p, small[j], min);
        }
        for (int j = 0; j < ARENA / MAX_BLOCK; j++) {
            g_assert_cmpint(bounce_pool_alloc(p, MAX_BLOCK, (void **)&big[j]),
                            ==, 0);
        }
        bounce_pool_free(p);
    }
}

/*
 * From now on, system call nr fails with err in this process, only when
 * its second argument is arg1 if arg1 is not -1.
 */
static void deny_syscall(int nr, int64_t arg1, int err)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data,
                                                    arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data,
                                                    args[1])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arg1, 0, arg1 == -1 ? 0 : 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { G_N_ELEMENTS(filter), filter };

    g_assert_cmpint(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), ==, 0);
    g_assert_cmpint(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), ==,
                    0);
}

/*
 * io_uring_enter() short of memory: the requests wait and go with the
 * next submission that works.  Two requests submitted together fail with
 * ENOMEM (a filter on to_submit), a third one makes it three.
 */
static void test_uring_enter_enomem(void)
{
    if (g_test_subprocess()) {
        uint8_t *data, *buf = aligned_alloc0(3 * 4096);
        g_autofree char *img = NULL;
        AioContext *ctx = qemu_get_aio_context();
        struct iovec iov[3];
        BlockBackend *blk;
        Req r[3] = { 0 };

        img = make_image(65536, &data);
        blk = open_drive("file=%s,format=raw,aio=io_uring", img);
        deny_syscall(__NR_io_uring_enter, 2, ENOMEM);
        blk_io_plug(blk);
        for (int i = 0; i < 2; i++) {
            iov[i] = (struct iovec){ buf + i * 4096, 4096 };
            blk_aio_preadv(blk, i * 4096, &iov[i], 1, req_cb, &r[i]);
        }
        blk_io_unplug(blk);
        for (int i = 0; i < 10; i++) {
            aio_context_iterate(ctx, false);
        }
        g_assert_false(r[0].done || r[1].done);
        iov[2] = (struct iovec){ buf + 2 * 4096, 4096 };
        blk_aio_preadv(blk, 2 * 4096, &iov[2], 1, req_cb, &r[2]);
        for (int i = 0; i < 3; i++) {
            g_assert_cmpint(wait_req(ctx, &r[i]), ==, 0);
        }
        g_assert_cmpmem(buf, 3 * 4096, data, 3 * 4096);
        blk_destroy_all();
        unlink(img);
        g_free(data);
        free(buf);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
}

/*
 * A host that lets no worker thread start: aio=threads requests fail with
 * -EAGAIN, and the back-end closes as usual.
 */
static void test_no_worker_threads(void)
{
    if (g_test_subprocess()) {
        g_autofree char *img = make_image(65536, NULL);
        AioContext *ctx = qemu_get_aio_context();
        uint8_t buf[4096];
        struct iovec iov = { buf, sizeof(buf) };
        BlockBackend *blk;
        Req r = { 0 };

        blk = open_drive("file=%s,format=raw,aio=threads", img);
        deny_syscall(__NR_clone3, -1, EAGAIN);
        blk_aio_preadv(blk, 0, &iov, 1, req_cb, &r);
        g_assert_cmpint(wait_req(ctx, &r), ==, -EAGAIN);
        blk_destroy_all();
        unlink(img);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
}

/* No eventfd to be had for aio=threads: -drive fails, with why. */
static void test_no_eventfd(void)
{
    if (g_test_subprocess()) {
        g_autofree char *img = make_image(65536, NULL);
        g_autofree char *str = g_strdup_printf("file=%s,format=raw,"
                                               "aio=threads", img);
        g_autoptr(QemuOpts) opts = qemu_opts_parse(str, NULL, NULL);
        g_autoptr(GError) err = NULL;

        /* It has its eventfd from start-up on, as in the VMM. */
        qemu_get_aio_context();
        deny_syscall(__NR_eventfd2, -1, EMFILE);
        g_assert_null(drive_new(opts, NULL, &err));
        g_assert_cmpstr(err->message, ==, "Could not create an eventfd: "
                        "Too many open files");
        unlink(img);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
}

/* tmpfs has no FALLOC_FL_ZERO_RANGE: zeroes are written instead. */
static void test_zeroes_fallback(void)
{
    enum { SIZE = 40 * 1024 * 1024, ZEROES = 20 * 1024 * 1024 };
    static const Params params[] = {
        { "threads", "writeback", SIZE }, { "io_uring", "writeback", SIZE },
    };
    const char *saved = test_dir;
    Fixture fix, *f = &fix;

    if (!g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)) {
        g_test_skip("no /dev/shm");
        return;
    }
    test_dir = "/dev/shm";
    for (size_t i = 0; i < G_N_ELEMENTS(params); i++) {
        memset(f, 0, sizeof(*f));
        fixture_setup(f, &params[i]);
        /* More than one write's worth */
        g_assert_cmpint(do_zeroes(f, 12345, ZEROES, false), ==, 0);
        expect_zeroes(f, 12345, ZEROES);
        g_assert_cmpint(do_zeroes(f, 4096, 4096, false), ==, 0);
        expect_zeroes(f, 4096, 4096);
        check_file(f);
        fixture_teardown(f, &params[i]);
    }
    test_dir = saved;
}

/* Does test_dir take O_DIRECT? */
static bool direct_io_supported(void)
{
    g_autofree char *path = make_image(4096, NULL);
    int fd = open(path, O_RDWR | O_DIRECT);

    unlink(path);
    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

static void test_skip_direct(void)
{
    g_test_skip("the test directory does not support O_DIRECT");
}

typedef void FixtureTest(Fixture *f, gconstpointer data);

int main(int argc, char **argv)
{
    static const Params params[] = {
        { "threads", "writeback" }, { "threads", "none" },
        { "io_uring", "writeback" }, { "io_uring", "none" },
    };
    static const Params more_modes[] = {
        { "threads", "directsync" }, { "threads", "writethrough" },
        { "io_uring", "directsync" }, { "io_uring", "writethrough" },
    };
    static const Params bounce_params[] = {
        { "threads", "none", BOUNCE_IMG_SIZE },
        { "io_uring", "none", BOUNCE_IMG_SIZE },
    };
#define BIG_PARAMS(aio, cache, layout) \
    { aio, cache, layout, 4ULL << 30 }, \
    { aio, cache, layout, (4ULL << 30) + (32ULL << 20) }
    static const BigParams big_params[] = {
        BIG_PARAMS("threads", "none", BIG_VECTORED),
        BIG_PARAMS("io_uring", "none", BIG_VECTORED),
        BIG_PARAMS("threads", "writeback", BIG_VECTORED),
        BIG_PARAMS("io_uring", "writeback", BIG_VECTORED),
        BIG_PARAMS("threads", "writeback", BIG_CONTIGUOUS),
        BIG_PARAMS("io_uring", "writeback", BIG_CONTIGUOUS),
    };
#undef BIG_PARAMS
    static const struct { const char *name; FixtureTest *fn; } tests[] = {
        { "properties", test_properties },
        { "rw", test_rw },
        { "vectored", test_vectored },
        { "unaligned", test_unaligned },
        { "unaligned-concurrent", test_unaligned_concurrent },
        { "flush", test_flush },
        { "discard", test_discard },
        { "write-zeroes", test_write_zeroes },
        { "read-only", test_read_only },
        { "past-end", test_past_end },
        { "many-in-flight", test_many_in_flight },
        { "drain", test_drain },
        { "aio-context", test_aio_context },
        { "iothread", test_iothread },
        { "odd-size", test_odd_size },
        { "shrunk", test_shrunk },
        { "many-iovecs", test_many_iovecs },
        { "block-device", test_block_device },
    };
    bool direct;

    g_test_init(&argc, &argv, NULL);
    test_dir = g_getenv("BLOCK_TEST_DIR");
    if (!test_dir) {
        test_dir = "/var/tmp";
    }
    direct = direct_io_supported();

    for (size_t i = 0; i < G_N_ELEMENTS(params); i++) {
        const Params *p = &params[i];
        bool needs_direct = !strcmp(p->cache, "none");

        for (size_t j = 0; j < G_N_ELEMENTS(tests); j++) {
            g_autofree char *path = g_strdup_printf("/block-backend/%s/%s/%s",
                                                    p->aio, p->cache,
                                                    tests[j].name);
            if (needs_direct && !direct) {
                g_test_add_func(path, test_skip_direct);
                continue;
            }
            g_test_add(path, Fixture, p, fixture_setup, tests[j].fn,
                       fixture_teardown);
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(more_modes); i++) {
        const Params *p = &more_modes[i];
        g_autofree char *path = g_strdup_printf("/block-backend/%s/%s/rw",
                                                p->aio, p->cache);

        if (!strcmp(p->cache, "directsync") && !direct) {
            g_test_add_func(path, test_skip_direct);
            continue;
        }
        g_test_add(path, Fixture, p, fixture_setup, test_rw,
                   fixture_teardown);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bounce_params); i++) {
        const Params *p = &bounce_params[i];
        static const struct { const char *name; FixtureTest *fn; } t[] = {
            { "bounce-budget", test_bounce_budget },
            { "bounce-over-budget", test_bounce_over_budget },
        };

        for (size_t j = 0; j < G_N_ELEMENTS(t); j++) {
            g_autofree char *path = g_strdup_printf("/block-backend/%s/%s/%s",
                                                    p->aio, p->cache,
                                                    t[j].name);
            if (!direct) {
                g_test_add_func(path, test_skip_direct);
                continue;
            }
            g_test_add(path, Fixture, p, fixture_setup, t[j].fn,
                       fixture_teardown);
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(big_params); i++) {
        const BigParams *p = &big_params[i];
        g_autofree char *path = g_strdup_printf(
            "/block-backend/%s/%s/read-%s-%" G_GUINT64_FORMAT "m",
            p->aio, p->cache,
            p->layout == BIG_VECTORED ? "vectored" : "contiguous",
            p->bytes >> 20);

        if (!strcmp(p->cache, "none") && !direct) {
            g_test_add_func(path, test_skip_direct);
            continue;
        }
        g_test_add_data_func(path, p, test_big_read);
    }
    g_test_add_func("/block-backend/zeroes-fallback", test_zeroes_fallback);
    g_test_add_func("/block-backend/drive/errors", test_drive_errors);
    g_test_add_func("/block-backend/drive/names", test_drive_names);
    g_test_add_func("/block-backend/drive/cache-modes",
                    test_drive_cache_modes);
    g_test_add_func("/block-backend/drive/format-warning",
                    test_drive_format_warning);
    g_test_add_func("/block-backend/drive/locking", test_locking);
    g_test_add_func("/block-backend/no-leaks", test_no_leaks);
    g_test_add_func("/block-backend/bounce-pool", test_bounce_pool);
    g_test_add_func("/block-backend/uring-enter-enomem",
                    test_uring_enter_enomem);
    g_test_add_func("/block-backend/no-worker-threads",
                    test_no_worker_threads);
    g_test_add_func("/block-backend/no-eventfd", test_no_eventfd);
    return g_test_run();
}
