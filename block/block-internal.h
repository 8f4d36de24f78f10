/*
 * Inside the block layer: the BlockBackend object, the image file below it
 * and the two I/O engines that carry its requests out.
 *
 * block-backend.c checks a request (range, read-only, alignment), then
 * hands a BlockIO to an engine; the engine calls blk_io_done() in the
 * backend's AioContext when the kernel is done with it.
 */
#ifndef BLOCK_INTERNAL_H
#define BLOCK_INTERNAL_H

#include <sys/uio.h>

#include "block/accounting.h"
#include "block/block-backend.h"

/* n rounded to a multiple of the power of two a. */
#define ROUND_DOWN(n, a)    ((n) & ~((uint64_t)(a) - 1))
#define ROUND_UP(n, a)      ROUND_DOWN((n) + (a) - 1, (a))

/* What an engine can be asked to do. */
typedef enum BlockOp {
    BLOCK_OP_READ,
    BLOCK_OP_WRITE,
    BLOCK_OP_FLUSH,             /* fdatasync */
    BLOCK_OP_FALLOCATE,         /* fallocate(mode) */
    /* Block device ioctls: io_uring cannot do them, the thread pool can. */
    BLOCK_OP_BLKDISCARD,
    BLOCK_OP_BLKZEROOUT,
} BlockOp;

typedef struct BlockIO {
    BlockOp op;
    int mode;                   /* BLOCK_OP_FALLOCATE */
    uint64_t offset;
    uint64_t bytes;
    const struct iovec *iov;    /* BLOCK_OP_READ and BLOCK_OP_WRITE */
    int iovcnt;
    BlockCompletionFunc *cb;
    void *opaque;
} BlockIO;

/*
 * A read that reaches the end of the file fills the rest with zeroes; a
 * write that makes no progress fails with -ENOSPC.
 */

/* file-posix.c: the open image. */
typedef struct BlockFile {
    int fd;
    char *filename;             /* as given, for messages */
    bool is_bdev;
    bool read_only;
    bool locking;               /* file.locking=on|auto: lock the image */
    uint64_t perm, shared;      /* BLK_PERM_* held, and let others have */
    uint32_t align;             /* 1, or what O_DIRECT needs */
    uint32_t sector_size;       /* block devices: logical block size */
    uint64_t length;
    /* what the file system or device refused with EOPNOTSUPP */
    bool punch_hole_unsupported;
    bool zero_range_unsupported;
    bool blkdiscard_unsupported;
} BlockFile;

/*
 * Open an image, with the permissions of a drive no device uses yet:
 * consistent read, everything shared (docs/system/image-locking.rst).
 * auto_read_only: if the image cannot be written (EACCES, EPERM, EROFS),
 * open it read-only instead (f->read_only tells).
 */
bool file_open(BlockFile *f, const char *filename, BlockCacheMode cache,
               bool read_only, bool auto_read_only, bool locking,
               GError **errp);
/* Closing drops the locks; nothing to do for null-co's (fd -1). */
void file_close(BlockFile *f);
/*
 * Hold perm and let others have shared (BLK_PERM_*): lock the image for
 * them, unless another user's locks conflict; then nothing changes.
 * Called with the BQL held (blk_set_perm(), file_open()).
 */
bool file_set_perm(BlockFile *f, uint64_t perm, uint64_t shared,
                   GError **errp);
/* The request that discards a range; false if there is nothing to do. */
bool file_discard_io(const BlockFile *f, uint64_t offset, uint64_t bytes,
                     BlockIO *io);
/*
 * The cheapest request that makes a range read as zeroes, or false if the
 * zeroes have to be written.  unmap allows deallocating the range.
 */
bool file_zeroes_io(const BlockFile *f, uint64_t offset, uint64_t bytes,
                    bool unmap, BlockIO *io);
/* io failed with -EOPNOTSUPP: do not try it again. */
void file_io_unsupported(BlockFile *f, const BlockIO *io);

/* io_uring.c: aio=io_uring. */
typedef struct UringEngine UringEngine;

UringEngine *uring_engine_new(BlockBackend *blk, int fd, AioContext *ctx,
                              GError **errp);
void uring_engine_free(UringEngine *u);
/* BLOCK_OP_READ, WRITE, FLUSH and FALLOCATE only. */
void uring_engine_submit(UringEngine *u, const BlockIO *io);
/* While plugged, requests are queued and submitted together on unplug. */
void uring_engine_plug(UringEngine *u);
void uring_engine_unplug(UringEngine *u);
/* Submit what is queued, plugged or not. */
void uring_engine_flush(UringEngine *u);
/* Watch for completions in ctx instead (NULL: nowhere). */
void uring_engine_set_aio_context(UringEngine *u, AioContext *ctx);

/* thread-pool.c: aio=threads, and the ioctls for io_uring back-ends. */
typedef struct ThreadPool ThreadPool;

ThreadPool *thread_pool_new(BlockBackend *blk, int fd, AioContext *ctx,
                            GError **errp);
/* Requests not completed yet are dropped; their callbacks never run. */
void thread_pool_free(ThreadPool *p);
/*
 * From the back-end's AioContext.  A request no worker thread could be
 * started for fails with -EAGAIN.
 */
void thread_pool_submit(ThreadPool *p, const BlockIO *io);
void thread_pool_set_aio_context(ThreadPool *p, AioContext *ctx);

/*
 * bounce-pool.c: the memory of a back-end's bounce buffers, an arena of
 * size bytes (a multiple of max_block) mapped on first use.  Buffers are
 * blocks of a power of two times min_block bytes, up to max_block, and
 * aligned to their size (both powers of two).
 */
typedef struct BouncePool BouncePool;

BouncePool *bounce_pool_new(uint64_t size, uint64_t min_block,
                            uint64_t max_block);
void bounce_pool_free(BouncePool *p);
/*
 * A buffer of size bytes (at most max_block) in *buf: 0, or -EAGAIN if no
 * block is free now, or -ENOMEM if the arena cannot be mapped.
 */
int bounce_pool_alloc(BouncePool *p, uint64_t size, void **buf);
/* Give back a buffer: the size it was allocated with. */
void bounce_pool_release(BouncePool *p, void *buf, uint64_t size);

/* block-backend.c: an engine finished a request. */
void blk_io_done(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque,
                 int ret);
/* drive.c opens, block-backend.c keeps track. */
BlockBackend *blk_new(const char *name, BlockFile *file,
                      BlockCacheMode cache, BlockAioEngine engine,
                      bool discard, GError **errp);

/*
 * accounting.c: the counters of a back-end (include/block/accounting.h),
 * by BlockAcctType.  Counted in the back-end's AioContext, read anywhere.
 */
typedef struct BlockAcct {
    GMutex lock;
    /* Protected by lock */
    uint64_t bytes[BLOCK_ACCT__MAX];
    uint64_t ops[BLOCK_ACCT__MAX];
    uint64_t failed[BLOCK_ACCT__MAX];
    uint64_t invalid[BLOCK_ACCT__MAX];
    int64_t total_time_ns[BLOCK_ACCT__MAX];
    int64_t last_ns;            /* the last completion; -1: none yet */
    uint64_t wr_highest_offset;
} BlockAcct;

void block_acct_init(BlockAcct *a);
void block_acct_destroy(BlockAcct *a);
/* CLOCK_MONOTONIC in nanoseconds: a request's start. */
int64_t block_acct_now(void);
/*
 * A request of type that started at start_ns completed; end is where its
 * range ends (offset + bytes, 0 for a flush).
 */
void block_acct_done(BlockAcct *a, BlockAcctType type, uint64_t bytes,
                     uint64_t end, int64_t start_ns, bool failed);
void block_acct_invalid(BlockAcct *a, BlockAcctType type);
void block_acct_get(BlockAcct *a, BlockAcctStats *out);

/* null-co's size when none is given, as in QEMU. */
#define NULL_CO_DEFAULT_SIZE    (1ULL << 30)

/*
 * null-co: a back-end of size bytes without a file or engine, whose
 * requests all succeed in a bottom half of its context; reads fill the
 * buffers with zeroes if read_zeroes, else leave them as they are.
 * blk_get_fd() is -1.
 */
BlockBackend *blk_new_null(const char *name, uint64_t size, bool read_only,
                           bool read_zeroes);
/*
 * What a format node over the back-end changes (blockdev.c), while no
 * device uses it: read-only (false: as the image was opened), flushes that
 * do nothing (cache.no-flush), and whether discards reach the image.
 */
void blk_set_read_only(BlockBackend *blk, bool read_only);
void blk_set_no_flush(BlockBackend *blk, bool no_flush);
void blk_set_discard(BlockBackend *blk, bool discard);

/* iov.c: iovec helpers.  offset counts bytes into the iovec's data. */
uint64_t block_iov_size(const struct iovec *iov, int iovcnt);
void block_iov_to_buf(const struct iovec *iov, int iovcnt, uint64_t offset,
                      void *buf, uint64_t bytes);
void block_iov_from_buf(const struct iovec *iov, int iovcnt, uint64_t offset,
                        const void *buf, uint64_t bytes);
void block_iov_memset(const struct iovec *iov, int iovcnt, uint64_t offset,
                      int c, uint64_t bytes);

/*
 * The most one read or write system call (or SQE) is asked to move.  The
 * kernel moves at most 0x7ffff000 bytes a call, and io_uring's length
 * fields are 32-bit; 1 GiB is less and a multiple of every O_DIRECT
 * alignment, so that a transfer cut there stays aligned.
 */
#define BLOCK_MAX_TRANSFER  (1ULL << 30)

/*
 * The iovecs for the next system call of a transfer of the bytes in iov
 * of which done are done: at most BLOCK_MAX_TRANSFER bytes in at most
 * IOV_MAX iovecs.  That is iov itself for a first call that takes it all;
 * otherwise its slice in *part, allocated on first use (the caller frees
 * it with g_free).  *part_cnt is set to the number of iovecs.
 */
const struct iovec *block_iov_next(const struct iovec *iov, int iovcnt,
                                   uint64_t bytes, uint64_t done,
                                   struct iovec **part, int *part_cnt);

#endif
