/*
 * BlockBackend: an open image, the registry of them, and the path of a
 * request from the device to an I/O engine and back.
 *
 * in_flight counts every operation a back-end has not finished: engine
 * requests, completions deferred to a bottom half, and the block layer's
 * own multi-step requests (bounce buffers, write-zeroes fallbacks), which
 * count once for themselves besides their engine requests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block-internal.h"
#include "qemu/error-report.h"

struct BlockBackend {
    char *name;
    BlockFile file;
    BlockCacheMode cache_mode;
    BlockAioEngine engine;
    bool discard;
    bool read_only;             /* the file's, or a raw node's read-only=on */
    bool no_flush;              /* cache.no-flush=on: flushes do nothing */
    bool null_co;               /* no file, no engine: blk_new_null() */
    bool read_zeroes;           /* null-co: reads return zeroes */
    void *dev;
    AioContext *ctx;
    UringEngine *ring;          /* aio=io_uring */
    ThreadPool *pool;           /* aio=threads; ioctls with io_uring */
    unsigned plugged;
    unsigned in_flight;
    GQueue deferred;            /* of Deferred, waiting in bottom halves */
    BouncePool *bounce_pool;    /* O_DIRECT: bounce buffers */
    GQueue bounce_waiting;      /* of Bounce, for a buffer */
    /* Read-modify-write bounce writes: a write waits for others sharing
     * one of its sectors, lest one's read undo the other's write. */
    GQueue rmw_active, rmw_waiting;
    char *zero_buf;             /* ZERO_BUF_SIZE zeroes, once needed */
    BlockAcct acct;             /* the users' requests (accounting.h) */
    const BlockResizeNotifier *resize_notifier;
    void *resize_opaque;
};

static GPtrArray *backends;

/*
 * Bounce buffers hold BOUNCE_CHUNK bytes, or the alignment if more (it is
 * a power of two).
 */
#define BOUNCE_CHUNK    (4 << 20)

static uint64_t bounce_chunk_size(uint32_t align)
{
    return MAX(BOUNCE_CHUNK, align);
}

/* Name blk and add it to the registry. */
static void blk_register(BlockBackend *blk, const char *name)
{
    blk->name = g_strdup(name);
    blk->read_only = blk->file.read_only;
    block_acct_init(&blk->acct);
    if (!backends) {
        backends = g_ptr_array_new();
    }
    g_ptr_array_add(backends, blk);
}

BlockBackend *blk_new(const char *name, BlockFile *file,
                      BlockCacheMode cache, BlockAioEngine engine,
                      bool discard, GError **errp)
{
    BlockBackend *blk = g_new0(BlockBackend, 1);

    blk->ctx = qemu_get_aio_context();
    if (engine == BLOCK_AIO_IO_URING) {
        blk->ring = uring_engine_new(blk, file->fd, blk->ctx, errp);
    } else {
        blk->pool = thread_pool_new(blk, file->fd, blk->ctx, errp);
    }
    if (!blk->ring && !blk->pool) {
        g_free(blk);
        return NULL;
    }
    if (file->align > 1) {
        uint64_t chunk = bounce_chunk_size(file->align);

        blk->bounce_pool = bounce_pool_new(
            ROUND_UP(MAX(BLK_BOUNCE_BUDGET, chunk), chunk),
            MAX(file->align, 4096), chunk);
    }
    blk->file = *file;
    blk->cache_mode = cache;
    blk->engine = engine;
    blk->discard = discard;
    blk_register(blk, name);
    return blk;
}

BlockBackend *blk_new_null(const char *name, uint64_t size, bool read_only,
                           bool read_zeroes)
{
    BlockBackend *blk = g_new0(BlockBackend, 1);

    blk->ctx = qemu_get_aio_context();
    /* No fd, no lock, no alignment: what file-posix.c reads of it. */
    blk->file = (BlockFile){
        .fd = -1, .filename = g_strdup("null-co://"), .read_only = read_only,
        .shared = BLK_PERM_ALL, .align = 1, .length = size,
    };
    blk->cache_mode = BLOCK_CACHE_WRITEBACK;
    blk->null_co = true;
    blk->read_zeroes = read_zeroes;
    blk_register(blk, name);
    return blk;
}

BlockBackend *blk_by_name(const char *id)
{
    for (guint i = 0; backends && i < backends->len; i++) {
        BlockBackend *blk = g_ptr_array_index(backends, i);

        if (!strcmp(blk->name, id)) {
            return blk;
        }
    }
    return NULL;
}

BlockBackend *blk_next(BlockBackend *blk)
{
    guint i = 0;

    if (!backends) {
        return NULL;
    }
    if (blk) {
        g_assert(g_ptr_array_find(backends, blk, &i));
        i++;
    }
    return i < backends->len ? g_ptr_array_index(backends, i) : NULL;
}

const char *blk_get_filename(BlockBackend *blk)
{
    return blk->file.filename;
}

const char *blk_name(BlockBackend *blk)
{
    return blk->name;
}

/* A completion waiting in a bottom half; blk is NULL once it is gone. */
typedef struct Deferred {
    GList link;
    BlockBackend *blk;
    BlockCompletionFunc *cb;
    void *opaque;
    int ret;
} Deferred;

/* The engines watch for completions in ctx (NULL: nowhere). */
static void blk_engines_set_aio_context(BlockBackend *blk, AioContext *ctx)
{
    if (blk->ring) {
        uring_engine_set_aio_context(blk->ring, ctx);
    }
    if (blk->pool) {
        thread_pool_set_aio_context(blk->pool, ctx);
    }
}

/*
 * Before closing, in the context's thread (which may be an iothread still
 * running), so that no handler or BH of blk runs meanwhile.
 */
static void blk_stop(void *opaque)
{
    BlockBackend *blk = opaque;

    blk_engines_set_aio_context(blk, NULL);
    for (GList *l = blk->deferred.head; l; l = l->next) {
        ((Deferred *)l->data)->blk = NULL;
    }
}

static void bounce_drop_waiting(BlockBackend *blk);

/* Close blk, which is no longer in the registry. */
static void blk_free(BlockBackend *blk)
{
    aio_run_sync(blk->ctx, blk_stop, blk);
    if (blk->ring) {
        uring_engine_free(blk->ring);
    }
    if (blk->pool) {
        thread_pool_free(blk->pool);
    }
    bounce_drop_waiting(blk);
    if (blk->bounce_pool) {
        bounce_pool_free(blk->bounce_pool);
    }
    free(blk->zero_buf);
    file_close(&blk->file);
    block_acct_destroy(&blk->acct);
    g_free(blk->name);
    g_free(blk);
}

void blk_destroy(BlockBackend *blk)
{
    g_assert(!blk->dev);
    g_assert(blk->in_flight == 0);
    g_assert(g_ptr_array_remove(backends, blk));
    blk_free(blk);
}

void blk_destroy_all(void)
{
    for (guint i = 0; backends && i < backends->len; i++) {
        blk_free(g_ptr_array_index(backends, i));
    }
    g_clear_pointer(&backends, g_ptr_array_unref);
}

bool blk_attach_dev(BlockBackend *blk, void *dev, GError **errp)
{
    if (blk->dev) {
        error_setg(errp, "Drive '%s' is already in use by another device",
                   blk->name);
        return false;
    }
    blk->dev = dev;
    return true;
}

void blk_detach_dev(BlockBackend *blk)
{
    blk->dev = NULL;
}

void *blk_get_attached_dev(BlockBackend *blk)
{
    return blk->dev;
}

bool blk_set_perm(BlockBackend *blk, uint64_t perm, uint64_t shared,
                  GError **errp)
{
    return file_set_perm(&blk->file, perm, shared, errp);
}

uint64_t blk_getlength(BlockBackend *blk)
{
    return blk->file.length;
}

void blk_set_resize_notifier(BlockBackend *blk,
                             const BlockResizeNotifier *notifier,
                             void *opaque)
{
    blk->resize_notifier = notifier;
    blk->resize_opaque = opaque;
}

/* QEMU's largest image: INT64_MAX rounded down to 1 GiB. */
#define BLK_MAX_LENGTH  ((uint64_t)INT64_MAX & ~(uint64_t)((1 << 30) - 1))

typedef struct Resize {
    BlockBackend *blk;
    uint64_t size;
    GError *err;
} Resize;

/*
 * In blk's context, so that no request of it starts before this returns:
 * wait until none is in flight, then change the size.  blk's length is
 * read there and with the BQL held, which the caller holds.
 */
static void blk_resize_in_context(void *opaque)
{
    Resize *r = opaque;
    BlockBackend *blk = r->blk;

    blk_drain(blk);
    if (!blk->file.is_bdev && ftruncate(blk->file.fd, r->size) < 0) {
        error_setg_errno(&r->err, errno, "Could not resize file");
        return;
    }
    blk->file.length = r->size;
}

bool blk_resize(BlockBackend *blk, uint64_t size, GError **errp)
{
    const BlockResizeNotifier *n = blk->resize_notifier;
    uint64_t perm = blk->file.perm, shared = blk->file.shared;
    Resize r = { .blk = blk, .size = size };

    if (size > BLK_MAX_LENGTH) {
        error_setg(errp, "offset(%" G_GUINT64_FORMAT ") exceeds maximum(%"
                   G_GUINT64_FORMAT ")", size, BLK_MAX_LENGTH);
        return false;
    }
    if (blk->file.read_only) {
        error_setg(errp, "Image is read-only");
        return false;
    }
    if (blk->file.is_bdev && size > blk->file.length) {
        error_setg(errp, "Cannot grow device files");
        return false;
    }
    /* As QEMU's block_resize, a user of the image that resizes it. */
    if (!file_set_perm(&blk->file, perm | BLK_PERM_RESIZE, shared, errp)) {
        return false;
    }
    if (n && n->prepare && !n->prepare(blk->resize_opaque, size, errp)) {
        file_set_perm(&blk->file, perm, shared, NULL);
        return false;
    }
    aio_run_sync(blk->ctx, blk_resize_in_context, &r);
    /* Giving a permission up cannot fail. */
    file_set_perm(&blk->file, perm, shared, NULL);
    if (n && n->changed) {
        n->changed(blk->resize_opaque, blk->file.length);
    }
    if (r.err) {
        g_propagate_error(errp, r.err);
        return false;
    }
    return true;
}

bool blk_is_read_only(BlockBackend *blk)
{
    return blk->read_only;
}

void blk_set_read_only(BlockBackend *blk, bool read_only)
{
    g_assert(!blk->dev);
    blk->read_only = read_only || blk->file.read_only;
}

void blk_set_no_flush(BlockBackend *blk, bool no_flush)
{
    blk->no_flush = no_flush;
}

bool blk_get_no_flush(BlockBackend *blk)
{
    return blk->no_flush;
}

void blk_set_discard(BlockBackend *blk, bool discard)
{
    blk->discard = discard;
}

bool blk_enable_write_cache(BlockBackend *blk)
{
    return blk->cache_mode == BLOCK_CACHE_WRITEBACK ||
           blk->cache_mode == BLOCK_CACHE_NONE;
}

bool blk_discard_enabled(BlockBackend *blk)
{
    return blk->discard;
}

BlockCacheMode blk_get_cache_mode(BlockBackend *blk)
{
    return blk->cache_mode;
}

BlockAioEngine blk_get_aio_engine(BlockBackend *blk)
{
    return blk->engine;
}

int blk_get_fd(BlockBackend *blk)
{
    return blk->file.fd;
}

bool blk_is_block_device(BlockBackend *blk)
{
    return blk->file.is_bdev;
}

uint32_t blk_get_request_alignment(BlockBackend *blk)
{
    return blk->file.align;
}

void blk_set_aio_context(BlockBackend *blk, AioContext *ctx)
{
    g_assert(!blk->in_flight);
    blk_engines_set_aio_context(blk, ctx);
    blk->ctx = ctx;
}

AioContext *blk_get_aio_context(BlockBackend *blk)
{
    return blk->ctx;
}

void blk_io_done(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque,
                 int ret)
{
    blk->in_flight--;
    cb(opaque, ret);
}

/* In the back-end's AioContext. */
static void blk_deferred_bh(void *opaque)
{
    Deferred *d = opaque;
    BlockBackend *blk = d->blk;

    if (blk) {
        g_queue_unlink(&blk->deferred, &d->link);
        blk_io_done(blk, d->cb, d->opaque, d->ret);
    }
    g_free(d);
}

/* Complete a request that needs no I/O, but not before the caller returns. */
static void blk_complete_later(BlockBackend *blk, BlockCompletionFunc *cb,
                               void *opaque, int ret)
{
    Deferred *d = g_new0(Deferred, 1);

    *d = (Deferred){
        .link.data = d, .blk = blk, .cb = cb, .opaque = opaque, .ret = ret,
    };
    g_queue_push_tail_link(&blk->deferred, &d->link);
    blk->in_flight++;
    aio_bh_schedule_oneshot(blk->ctx, blk_deferred_bh, d);
}

/* The thread pool, for requests io_uring cannot do; NULL if none. */
static ThreadPool *blk_thread_pool(BlockBackend *blk)
{
    if (!blk->pool) {
        blk->pool = thread_pool_new(blk, blk->file.fd, blk->ctx, NULL);
    }
    return blk->pool;
}

static void blk_submit(BlockBackend *blk, const BlockIO *io)
{
    if (blk->null_co) {
        if (io->op == BLOCK_OP_READ && blk->read_zeroes) {
            block_iov_memset(io->iov, io->iovcnt, 0, 0, io->bytes);
        }
        blk_complete_later(blk, io->cb, io->opaque, 0);
    } else if (blk->ring && io->op != BLOCK_OP_BLKDISCARD &&
        io->op != BLOCK_OP_BLKZEROOUT) {
        blk->in_flight++;
        uring_engine_submit(blk->ring, io);
    } else if (blk_thread_pool(blk)) {
        blk->in_flight++;
        thread_pool_submit(blk->pool, io);
    } else {
        /* Without a thread pool (no eventfd to be had): try next time. */
        blk_complete_later(blk, io->cb, io->opaque, -EAGAIN);
    }
}

/* Start a request or fail it: read-only and range checks. */
static bool blk_check_request(BlockBackend *blk, uint64_t offset,
                              uint64_t bytes, bool write,
                              BlockCompletionFunc *cb, void *opaque)
{
    int ret = 0;

    if (write && blk->read_only) {
        ret = -EROFS;
    } else if (offset > blk->file.length ||
               bytes > blk->file.length - offset) {
        ret = -EIO;
    }
    if (ret) {
        blk_complete_later(blk, cb, opaque, ret);
        return false;
    }
    return true;
}

static bool blk_is_aligned(BlockBackend *blk, uint64_t offset,
                           uint64_t bytes, const struct iovec *iov,
                           int iovcnt)
{
    uintptr_t mask = blk->file.align - 1;

    if (!mask) {
        return true;
    }
    if ((offset | bytes) & mask) {
        return false;
    }
    for (int i = 0; i < iovcnt; i++) {
        if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & mask) {
            return false;
        }
    }
    return true;
}

/*
 * An unaligned request on an O_DIRECT back-end goes through a bounce
 * buffer: the aligned range around it, chunk by chunk, each read into the
 * buffer and copied out, or copied in and written.  A write reads first
 * the sectors it covers only in part (read-modify-write).
 *
 * A buffer holds a chunk of bounce_chunk_size() bytes or less, and comes
 * from the back-end's bounce pool of BLK_BOUNCE_BUDGET bytes: a request
 * that finds no room waits, in order of arrival, in bounce_waiting.  Once
 * it has its buffer, a request keeps it to the end and needs nothing more
 * but its own I/O (and a write, the end of earlier writes sharing a
 * sector), so whatever the requests' sizes, those with buffers finish,
 * the pool empties if need be, and those waiting get theirs: none waits
 * for good.
 */
typedef struct Bounce {
    BlockBackend *blk;
    BlockOp op;
    uint64_t offset, bytes;             /* the caller's request */
    const struct iovec *iov;
    int iovcnt;
    BlockCompletionFunc *cb;
    void *opaque;
    uint64_t start, end;                /* the aligned range */
    char *buf;
    uint64_t buf_size;                  /* what buf was allocated for */
    uint64_t pos;                       /* start of the chunk in buf_iov */
    struct iovec buf_iov;
    struct iovec sector_iov[2];         /* head and tail sectors */
    int reads;                          /* sector reads in flight */
    int ret;
    GList link;         /* in bounce_waiting, rmw_active or rmw_waiting */
} Bounce;

static void bounce_run(Bounce *b);
static void bounce_fail(Bounce *b, int ret);

/* Start waiting requests, oldest first, while there are buffers. */
static void bounce_wake(BlockBackend *blk)
{
    Bounce *b;

    while ((b = g_queue_peek_head(&blk->bounce_waiting))) {
        int ret = bounce_pool_alloc(blk->bounce_pool, b->buf_size,
                                    (void **)&b->buf);

        if (ret == -EAGAIN) {
            return;
        }
        g_queue_pop_head_link(&blk->bounce_waiting);
        if (ret < 0) {
            bounce_fail(b, ret);
        } else {
            bounce_run(b);
        }
    }
}

static void bounce_finish(Bounce *b, int ret)
{
    BlockBackend *blk = b->blk;
    BlockCompletionFunc *cb = b->cb;
    void *opaque = b->opaque;

    bounce_pool_release(blk->bounce_pool, b->buf, b->buf_size);
    g_free(b);
    bounce_wake(blk);
    blk_io_done(blk, cb, opaque, ret);
}

/* Its [lo, hi) part of the chunk: the bytes the caller asked for. */
static void bounce_chunk_part(Bounce *b, uint64_t *lo, uint64_t *hi)
{
    *lo = MAX(b->pos, b->offset);
    *hi = MIN(b->pos + b->buf_iov.iov_len, b->offset + b->bytes);
}

/* Point buf_iov at the chunk from pos on. */
static void bounce_next_chunk(Bounce *b)
{
    b->buf_iov = (struct iovec){ b->buf, MIN(b->buf_size, b->end - b->pos) };
}

static void bounce_read_chunk(Bounce *b);

static void bounce_read_done(void *opaque, int ret)
{
    Bounce *b = opaque;
    uint64_t lo, hi;

    if (ret) {
        bounce_finish(b, ret);
        return;
    }
    bounce_chunk_part(b, &lo, &hi);
    block_iov_from_buf(b->iov, b->iovcnt, lo - b->offset,
                       b->buf + lo - b->pos, hi - lo);
    b->pos += b->buf_iov.iov_len;
    if (b->pos < b->end) {
        bounce_read_chunk(b);
    } else {
        bounce_finish(b, 0);
    }
}

static void bounce_read_chunk(Bounce *b)
{
    bounce_next_chunk(b);
    blk_submit(b->blk, &(BlockIO){
        .op = BLOCK_OP_READ, .offset = b->pos, .bytes = b->buf_iov.iov_len,
        .iov = &b->buf_iov, .iovcnt = 1, .cb = bounce_read_done, .opaque = b,
    });
}

static bool rmw_overlaps(BlockBackend *blk, Bounce *b)
{
    for (GList *l = blk->rmw_active.head; l; l = l->next) {
        Bounce *a = l->data;

        if (a->start < b->end && b->start < a->end) {
            return true;
        }
    }
    return false;
}

static void rmw_start(Bounce *b);

static void rmw_finish(Bounce *b, int ret)
{
    BlockBackend *blk = b->blk;

    g_queue_unlink(&blk->rmw_active, &b->link);
    for (GList *l = blk->rmw_waiting.head, *next; l; l = next) {
        Bounce *w = l->data;

        next = l->next;
        if (!rmw_overlaps(blk, w)) {
            g_queue_unlink(&blk->rmw_waiting, l);
            rmw_start(w);
        }
    }
    bounce_finish(b, ret);
}

static void rmw_chunk(Bounce *b);

static void rmw_write_done(void *opaque, int ret)
{
    Bounce *b = opaque;
    BlockFile *file = &b->blk->file;
    uint64_t chunk_end = b->pos + b->buf_iov.iov_len;

    /* The last sector of a file whose size is not aligned: cut it back. */
    if (!ret && chunk_end > file->length &&
        ftruncate(file->fd, file->length) < 0) {
        ret = -errno;
    }
    if (ret || chunk_end == b->end) {
        rmw_finish(b, ret);
        return;
    }
    b->pos = chunk_end;
    rmw_chunk(b);
}

static void rmw_write(Bounce *b)
{
    uint64_t lo, hi;

    bounce_chunk_part(b, &lo, &hi);
    block_iov_to_buf(b->iov, b->iovcnt, lo - b->offset, b->buf + lo - b->pos,
                     hi - lo);
    blk_submit(b->blk, &(BlockIO){
        .op = BLOCK_OP_WRITE, .offset = b->pos, .bytes = b->buf_iov.iov_len,
        .iov = &b->buf_iov, .iovcnt = 1, .cb = rmw_write_done, .opaque = b,
    });
}

static void rmw_read_done(void *opaque, int ret)
{
    Bounce *b = opaque;

    if (ret && !b->ret) {
        b->ret = ret;
    }
    if (--b->reads) {
        return;
    }
    if (b->ret) {
        rmw_finish(b, b->ret);
    } else {
        rmw_write(b);
    }
}

static void rmw_read_sector(Bounce *b, uint64_t pos)
{
    uint32_t align = b->blk->file.align;
    struct iovec *iov = &b->sector_iov[b->reads++];

    iov->iov_base = b->buf + pos - b->pos;
    iov->iov_len = align;
    blk_submit(b->blk, &(BlockIO){
        .op = BLOCK_OP_READ, .offset = pos, .bytes = align,
        .iov = iov, .iovcnt = 1, .cb = rmw_read_done, .opaque = b,
    });
}

/* The chunk at pos: the sectors written in part are read first. */
static void rmw_chunk(Bounce *b)
{
    uint64_t tail = b->end - b->blk->file.align;
    bool head_partial = b->pos == b->start && b->offset != b->start;
    bool tail_partial = b->pos + b->buf_size >= b->end &&
                        b->offset + b->bytes != b->end;

    bounce_next_chunk(b);
    if (head_partial) {
        rmw_read_sector(b, b->start);
    }
    if (tail_partial && !(head_partial && tail == b->start)) {
        rmw_read_sector(b, tail);
    }
    if (!b->reads) {
        rmw_write(b);
    }
}

static void rmw_start(Bounce *b)
{
    g_queue_push_tail_link(&b->blk->rmw_active, &b->link);
    rmw_chunk(b);
}

/*
 * A request fails before any I/O (no memory for the pool); this may be
 * inside the call that submitted it, so the callback runs later.
 */
static void bounce_fail(Bounce *b, int ret)
{
    BlockBackend *blk = b->blk;

    blk_complete_later(blk, b->cb, b->opaque, ret);
    blk->in_flight--;
    g_free(b);
}

/* The request has its buffer: go. */
static void bounce_run(Bounce *b)
{
    BlockBackend *blk = b->blk;

    b->pos = b->start;
    if (b->op == BLOCK_OP_READ) {
        bounce_read_chunk(b);
    } else if (rmw_overlaps(blk, b)) {
        g_queue_push_tail_link(&blk->rmw_waiting, &b->link);
    } else {
        rmw_start(b);
    }
}

/*
 * Closing: requests that wait for a buffer, or with one for a write to
 * end, are dropped like those the engines drop.
 */
static void bounce_drop_waiting(BlockBackend *blk)
{
    GQueue *queues[] = { &blk->bounce_waiting, &blk->rmw_waiting };

    for (size_t i = 0; i < G_N_ELEMENTS(queues); i++) {
        GList *l;

        while ((l = g_queue_pop_head_link(queues[i]))) {
            g_free(l->data);
        }
    }
}

static void bounce_start(BlockBackend *blk, BlockOp op, uint64_t offset,
                         uint64_t bytes, const struct iovec *iov, int iovcnt,
                         BlockCompletionFunc *cb, void *opaque)
{
    uint32_t align = blk->file.align;
    Bounce *b = g_new0(Bounce, 1);

    *b = (Bounce){
        .blk = blk, .op = op, .offset = offset, .bytes = bytes,
        .iov = iov, .iovcnt = iovcnt, .cb = cb, .opaque = opaque,
        .start = ROUND_DOWN(offset, align),
        .end = ROUND_UP(offset + bytes, align),
        .link.data = b,
    };
    b->buf_size = MIN(b->end - b->start, bounce_chunk_size(align));
    blk->in_flight++;
    g_queue_push_tail_link(&blk->bounce_waiting, &b->link);
    bounce_wake(blk);
}

static void blk_rw(BlockBackend *blk, BlockOp op, uint64_t offset,
                   const struct iovec *iov, int iovcnt,
                   BlockCompletionFunc *cb, void *opaque)
{
    uint64_t bytes = block_iov_size(iov, iovcnt);

    if (!blk_check_request(blk, offset, bytes, op == BLOCK_OP_WRITE,
                           cb, opaque)) {
        return;
    }
    if (!bytes) {
        blk_complete_later(blk, cb, opaque, 0);
    } else if (!blk_is_aligned(blk, offset, bytes, iov, iovcnt)) {
        bounce_start(blk, op, offset, bytes, iov, iovcnt, cb, opaque);
    } else {
        blk_submit(blk, &(BlockIO){
            .op = op, .offset = offset, .bytes = bytes,
            .iov = iov, .iovcnt = iovcnt, .cb = cb, .opaque = opaque,
        });
    }
}

/*
 * A user's request, counted when it completes (accounting.h); the block
 * layer's own steps (bounce chunks, the writes of a write-zeroes) are not
 * requests of their own.
 */
typedef struct AcctReq {
    BlockBackend *blk;
    BlockAcctType type;
    uint64_t bytes;
    uint64_t end;               /* offset + bytes */
    int64_t start_ns;
    BlockCompletionFunc *cb;
    void *opaque;
} AcctReq;

/* In the back-end's AioContext. */
static void acct_req_done(void *opaque, int ret)
{
    AcctReq *r = opaque;
    BlockCompletionFunc *cb = r->cb;
    void *cb_opaque = r->opaque;

    block_acct_done(&r->blk->acct, r->type, r->bytes, r->end, r->start_ns,
                    ret != 0);
    g_free(r);
    cb(cb_opaque, ret);
}

static AcctReq *acct_req_new(BlockBackend *blk, BlockAcctType type,
                             uint64_t offset, uint64_t bytes,
                             BlockCompletionFunc *cb, void *opaque)
{
    AcctReq *r = g_new(AcctReq, 1);

    *r = (AcctReq){
        .blk = blk, .type = type, .bytes = bytes, .end = offset + bytes,
        .start_ns = block_acct_now(), .cb = cb, .opaque = opaque,
    };
    return r;
}

void blk_get_stats(BlockBackend *blk, BlockAcctStats *out)
{
    block_acct_get(&blk->acct, out);
}

void blk_account_invalid(BlockBackend *blk, BlockAcctType type)
{
    block_acct_invalid(&blk->acct, type);
}

void blk_aio_preadv(BlockBackend *blk, uint64_t offset,
                    const struct iovec *iov, int iovcnt,
                    BlockCompletionFunc *cb, void *opaque)
{
    AcctReq *r = acct_req_new(blk, BLOCK_ACCT_READ, offset,
                              block_iov_size(iov, iovcnt), cb, opaque);

    blk_rw(blk, BLOCK_OP_READ, offset, iov, iovcnt, acct_req_done, r);
}

void blk_aio_pwritev(BlockBackend *blk, uint64_t offset,
                     const struct iovec *iov, int iovcnt,
                     BlockCompletionFunc *cb, void *opaque)
{
    AcctReq *r = acct_req_new(blk, BLOCK_ACCT_WRITE, offset,
                              block_iov_size(iov, iovcnt), cb, opaque);

    blk_rw(blk, BLOCK_OP_WRITE, offset, iov, iovcnt, acct_req_done, r);
}

void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
    AcctReq *r;

    if (blk->no_flush) {
        blk_complete_later(blk, cb, opaque, 0);
        return;
    }
    r = acct_req_new(blk, BLOCK_ACCT_FLUSH, 0, 0, cb, opaque);
    blk_submit(blk, &(BlockIO){
        .op = BLOCK_OP_FLUSH, .cb = acct_req_done, .opaque = r,
    });
}

/*
 * Discard and write-zeroes try a request the file system or device may
 * refuse with EOPNOTSUPP; it is then remembered and the next way is tried.
 * The last way is writing zeroes: ZERO_IOVS times the back-end's zero
 * buffer per request, which all such writes share (it is only read).
 */
#define ZERO_BUF_SIZE   (1024 * 1024)
#define ZERO_IOVS       16

typedef struct Fallback {
    BlockBackend *blk;
    uint64_t offset, bytes;
    bool unmap;                 /* write-zeroes may deallocate */
    BlockIO io;                 /* the request tried */
    BlockCompletionFunc *cb;
    void *opaque;
    struct iovec zero_iov[ZERO_IOVS];
    uint64_t written;
    uint64_t writing;
} Fallback;

static void fallback_finish(Fallback *f, int ret)
{
    BlockBackend *blk = f->blk;
    BlockCompletionFunc *cb = f->cb;
    void *opaque = f->opaque;

    g_free(f);
    blk_io_done(blk, cb, opaque, ret);
}

static Fallback *fallback_new(BlockBackend *blk, uint64_t offset,
                              uint64_t bytes, BlockCompletionFunc *cb,
                              void *opaque)
{
    Fallback *f = g_new0(Fallback, 1);

    f->blk = blk;
    f->offset = offset;
    f->bytes = bytes;
    f->cb = cb;
    f->opaque = opaque;
    blk->in_flight++;
    return f;
}

static void discard_done(void *opaque, int ret)
{
    Fallback *f = opaque;

    /* Discarding is a hint: a file system that cannot is no error. */
    if (ret == -EOPNOTSUPP) {
        file_io_unsupported(&f->blk->file, &f->io);
        ret = 0;
    }
    fallback_finish(f, ret);
}

static void blk_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                         BlockCompletionFunc *cb, void *opaque)
{
    BlockIO io;
    Fallback *f;

    if (!blk_check_request(blk, offset, bytes, true, cb, opaque)) {
        return;
    }
    if (!blk->discard || !file_discard_io(&blk->file, offset, bytes, &io)) {
        blk_complete_later(blk, cb, opaque, 0);
        return;
    }
    f = fallback_new(blk, offset, bytes, cb, opaque);
    f->io = io;
    f->io.cb = discard_done;
    f->io.opaque = f;
    blk_submit(blk, &f->io);
}

void blk_aio_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                      BlockCompletionFunc *cb, void *opaque)
{
    blk_pdiscard(blk, offset, bytes, acct_req_done,
                 acct_req_new(blk, BLOCK_ACCT_UNMAP, offset, bytes, cb,
                              opaque));
}

static void zeroes_write(Fallback *f);

static void zeroes_write_done(void *opaque, int ret)
{
    Fallback *f = opaque;

    f->written += f->writing;
    if (ret || f->written == f->bytes) {
        fallback_finish(f, ret);
    } else {
        zeroes_write(f);
    }
}

/* The back-end's zero buffer, allocated once needed; NULL if it cannot be. */
static char *blk_zero_buf(BlockBackend *blk)
{
    if (!blk->zero_buf) {
        if (posix_memalign((void **)&blk->zero_buf,
                           MAX(blk->file.align, 4096), ZERO_BUF_SIZE)) {
            blk->zero_buf = NULL;
            return NULL;
        }
        memset(blk->zero_buf, 0, ZERO_BUF_SIZE);
    }
    return blk->zero_buf;
}

static void zeroes_write(Fallback *f)
{
    uint64_t left = f->bytes - f->written;
    char *zeroes = blk_zero_buf(f->blk);
    int n;

    if (!zeroes) {
        /* Maybe in the call that submitted f: complete it later. */
        blk_complete_later(f->blk, f->cb, f->opaque, -ENOMEM);
        f->blk->in_flight--;
        g_free(f);
        return;
    }
    f->writing = 0;
    for (n = 0; n < ZERO_IOVS && f->writing < left; n++) {
        f->zero_iov[n].iov_base = zeroes;
        f->zero_iov[n].iov_len = MIN(left - f->writing, ZERO_BUF_SIZE);
        f->writing += f->zero_iov[n].iov_len;
    }
    blk_rw(f->blk, BLOCK_OP_WRITE, f->offset + f->written, f->zero_iov, n,
           zeroes_write_done, f);
}

static void zeroes_try(Fallback *f);

static void zeroes_done(void *opaque, int ret)
{
    Fallback *f = opaque;

    if (ret == -EOPNOTSUPP) {
        file_io_unsupported(&f->blk->file, &f->io);
        zeroes_try(f);
    } else {
        fallback_finish(f, ret);
    }
}

static void zeroes_try(Fallback *f)
{
    if (!file_zeroes_io(&f->blk->file, f->offset, f->bytes, f->unmap,
                        &f->io)) {
        zeroes_write(f);
        return;
    }
    f->io.cb = zeroes_done;
    f->io.opaque = f;
    blk_submit(f->blk, &f->io);
}

static void blk_pwrite_zeroes(BlockBackend *blk, uint64_t offset,
                              uint64_t bytes, bool may_unmap,
                              BlockCompletionFunc *cb, void *opaque)
{
    Fallback *f;

    if (!blk_check_request(blk, offset, bytes, true, cb, opaque)) {
        return;
    }
    if (!bytes) {
        blk_complete_later(blk, cb, opaque, 0);
        return;
    }
    f = fallback_new(blk, offset, bytes, cb, opaque);
    f->unmap = may_unmap && blk->discard;
    zeroes_try(f);
}

void blk_aio_pwrite_zeroes(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                           bool may_unmap, BlockCompletionFunc *cb,
                           void *opaque)
{
    blk_pwrite_zeroes(blk, offset, bytes, may_unmap, acct_req_done,
                      acct_req_new(blk, BLOCK_ACCT_WRITE, offset, bytes, cb,
                                   opaque));
}

void blk_io_plug(BlockBackend *blk)
{
    if (blk->plugged++ == 0 && blk->ring) {
        uring_engine_plug(blk->ring);
    }
}

void blk_io_unplug(BlockBackend *blk)
{
    g_assert(blk->plugged);
    if (--blk->plugged == 0 && blk->ring) {
        uring_engine_unplug(blk->ring);
    }
}

static bool blk_busy(void *opaque)
{
    BlockBackend *blk = opaque;

    /* Even plugged requests must reach the kernel to finish. */
    if (blk->ring) {
        uring_engine_flush(blk->ring);
    }
    return blk->in_flight;
}

void blk_drain(BlockBackend *blk)
{
    aio_wait_while(blk->ctx, blk_busy, blk);
}

unsigned blk_in_flight(BlockBackend *blk)
{
    return blk->in_flight;
}
