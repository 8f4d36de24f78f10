/*
 * Block back-ends: the disk images behind -drive, and the asynchronous
 * requests devices make on them.
 *
 *   -drive file=PATH,if=none|virtio,id=ID,format=raw,
 *          cache=none|writeback|directsync|writethrough,
 *          aio=io_uring|threads,readonly=on|off,auto-read-only=on|off,
 *          discard=ignore|unmap,file.locking=on|off|auto
 *   -drive file=null-co://,...,file.read-zeroes=on|off,size=SIZE
 *
 * and -blockdev's protocol nodes (include/block/blockdev.h).
 *
 * A back-end belongs to one AioContext at a time (the main loop's, or the
 * iothread of the device using it): requests are made from that context's
 * thread and their completion callbacks run there.  Requests between
 * blk_io_plug() and blk_io_unplug() are submitted together.
 */
#ifndef BLOCK_BLOCK_BACKEND_H
#define BLOCK_BLOCK_BACKEND_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/aio.h"
#include "qemu/option.h"

typedef struct BlockBackend BlockBackend;

/* The bounce buffer memory of one back-end (see the requests below). */
#define BLK_BOUNCE_BUDGET   (64 << 20)

/* ret is 0 on success or a negative errno. */
typedef void BlockCompletionFunc(void *opaque, int ret);

typedef enum BlockCacheMode {
    BLOCK_CACHE_WRITEBACK,      /* page cache, guest sees a volatile cache */
    BLOCK_CACHE_NONE,           /* O_DIRECT, guest sees a volatile cache */
    BLOCK_CACHE_DIRECTSYNC,     /* O_DIRECT | O_DSYNC */
    BLOCK_CACHE_WRITETHROUGH,   /* page cache, O_DSYNC */
} BlockCacheMode;

typedef enum BlockAioEngine {
    BLOCK_AIO_THREADS,
    BLOCK_AIO_IO_URING,
} BlockAioEngine;

/*
 * Open a -drive.  *if_virtio (may be NULL) says whether if=virtio asked
 * for a virtio-blk-pci device to be created for it.  Without id=, if=none
 * drives are named none0, none1, ... and if=virtio ones virtio0, ...
 */
BlockBackend *drive_new(QemuOpts *opts, bool *if_virtio, GError **errp);
BlockBackend *blk_by_name(const char *id);
const char *blk_name(BlockBackend *blk);
/* The back-end after blk (the first with NULL), in creation order. */
BlockBackend *blk_next(BlockBackend *blk);
/* The image's file name, as the user gave it. */
const char *blk_get_filename(BlockBackend *blk);
/*
 * Close every back-end.  Drain first: requests still in flight are dropped
 * and their callbacks never run.
 */
void blk_destroy_all(void);
/*
 * Close one back-end no device uses and with no request in flight (for
 * blockdev-del).  Called with the BQL held.
 */
void blk_destroy(BlockBackend *blk);

/* One device at a time may use a back-end. */
bool blk_attach_dev(BlockBackend *blk, void *dev, GError **errp);
void blk_detach_dev(BlockBackend *blk);
/* The device attached, or NULL. */
void *blk_get_attached_dev(BlockBackend *blk);

/*
 * Permissions on the image, QEMU's: what a back-end's user does with it,
 * and what it lets other processes do meanwhile.  They are locked on the
 * image, so that VMMs (ours and QEMU's) on one image keep out of each
 * other's way: docs/system/image-locking.rst.
 */
#define BLK_PERM_CONSISTENT_READ    (1u << 0)   /* reads what was written */
#define BLK_PERM_WRITE              (1u << 1)   /* changes the contents */
#define BLK_PERM_WRITE_UNCHANGED    (1u << 2)   /* writes what is there */
#define BLK_PERM_RESIZE             (1u << 3)
#define BLK_PERM_BITS               4
#define BLK_PERM_ALL                ((1u << BLK_PERM_BITS) - 1)

/*
 * Hold perm and let others have shared, or fail (with QEMU's message) if
 * another process's permissions conflict; then nothing changes.  A drive
 * no device uses holds consistent read and shares everything.  perm may
 * hold BLK_PERM_WRITE only if the back-end is not read-only.  With
 * file.locking=off nothing is locked or checked.  Called with the BQL held.
 */
bool blk_set_perm(BlockBackend *blk, uint64_t perm, uint64_t shared,
                  GError **errp);

uint64_t blk_getlength(BlockBackend *blk);

/*
 * block_resize: make the image size bytes long, as QEMU does for raw
 * images: a regular file is truncated or extended (sparse), a block device
 * only shrinks (the guest sees less of it).  It waits for a moment with no
 * request of blk in flight (in blk's context, so none starts meanwhile),
 * then changes the size.  Read-only drives are refused, and so are resizes
 * another process's image locks forbid.  The user's resize notifier sees
 * it happen.  Called with the BQL held.
 */
bool blk_resize(BlockBackend *blk, uint64_t size, GError **errp);

/*
 * What a back-end's user (its device) is told of a resize, with the BQL
 * held: prepare(opaque, new_size, errp) before the size changes, which may
 * refuse (returning false with errp set); if it did not, changed(opaque,
 * size) after, with the size the image has then (the old one if the
 * resize failed).  Either may be NULL.
 */
typedef struct BlockResizeNotifier {
    bool (*prepare)(void *opaque, uint64_t new_size, GError **errp);
    void (*changed)(void *opaque, uint64_t size);
} BlockResizeNotifier;

/* One notifier per back-end; NULL removes it.  Called with the BQL held. */
void blk_set_resize_notifier(BlockBackend *blk,
                             const BlockResizeNotifier *notifier,
                             void *opaque);
bool blk_is_read_only(BlockBackend *blk);
/* Does the guest see a volatile write cache, so that flushes matter? */
bool blk_enable_write_cache(BlockBackend *blk);
/* discard=unmap: discards reach the image (hole punching). */
bool blk_discard_enabled(BlockBackend *blk);
/* cache.no-flush=on: flushes succeed without reaching the image. */
bool blk_get_no_flush(BlockBackend *blk);
BlockCacheMode blk_get_cache_mode(BlockBackend *blk);
BlockAioEngine blk_get_aio_engine(BlockBackend *blk);
/* The open file (for the io_uring passthrough); -1 for null-co. */
int blk_get_fd(BlockBackend *blk);
bool blk_is_block_device(BlockBackend *blk);
/* Offset, length and buffer alignment O_DIRECT needs (1 without it). */
uint32_t blk_get_request_alignment(BlockBackend *blk);

/*
 * Move to another context; no request may be in flight.  Call it from the
 * thread of either context while the other one is not running: before it
 * runs, or with its thread waiting in aio_run_sync() for the caller.
 */
void blk_set_aio_context(BlockBackend *blk, AioContext *ctx);
AioContext *blk_get_aio_context(BlockBackend *blk);

/*
 * Requests.  The iovec array and the buffers must stay valid until cb runs.
 * Unaligned requests on an O_DIRECT back-end go through a bounce buffer;
 * a back-end's bounce buffers take BLK_BOUNCE_BUDGET bytes at most, and
 * requests wait for their turn if they would take more.  A request whose
 * bounce buffer cannot be allocated fails with -ENOMEM.
 * A read past the end of a file that shrank returns zeroes.
 *
 * cb never runs before the call that submits returns.  Requests that go
 * beyond blk_getlength() fail with -EIO; writes, discards and write-zeroes
 * on a read-only back-end with -EROFS.  With discard=ignore, discards do
 * nothing and succeed.
 */
void blk_aio_preadv(BlockBackend *blk, uint64_t offset,
                    const struct iovec *iov, int iovcnt,
                    BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwritev(BlockBackend *blk, uint64_t offset,
                     const struct iovec *iov, int iovcnt,
                     BlockCompletionFunc *cb, void *opaque);
void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_aio_pdiscard(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                      BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwrite_zeroes(BlockBackend *blk, uint64_t offset, uint64_t bytes,
                           bool may_unmap, BlockCompletionFunc *cb,
                           void *opaque);

void blk_io_plug(BlockBackend *blk);
void blk_io_unplug(BlockBackend *blk);

/*
 * Run blk's context until no request is in flight.  From its thread, or as
 * aio_wait_while() allows.
 */
void blk_drain(BlockBackend *blk);
/*
 * Requests submitted and not yet completed (one that needs several steps,
 * such as a bounced write, may count more than once); 0 when idle.
 */
unsigned blk_in_flight(BlockBackend *blk);

#endif
