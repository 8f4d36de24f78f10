/*
 * aio=io_uring: one ring per back-end.
 *
 * A request becomes an SQE at once if there is room.  While the back-end
 * is plugged, and while completions are being processed (their callbacks
 * often submit more), SQEs only accumulate; one io_uring_submit() hands
 * them all to the kernel when that ends.  Otherwise each request is
 * submitted straight away.  Requests that find no room (the SQ ring full,
 * or as many requests in the kernel as the CQ ring has entries) wait in a
 * list until completions make some.  A request longer than one SQE takes
 * is carried out in several.
 *
 * Completions are noticed through the ring fd, which polls readable while
 * the CQ ring is not empty, or by the AioContext's adaptive polling, which
 * calls uring_poll() to look at the CQ ring in shared memory without a
 * syscall.  Either way every available CQE is reaped.
 *
 * Request structs come from slabs through a free list: the hot path does
 * not allocate.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "block-internal.h"
#include "qemu/error-report.h"

#define URING_ENTRIES   128     /* SQ ring size; the CQ ring is twice that */
#define REQS_PER_SLAB   64

typedef struct UringRequest {
    BlockIO io;
    uint64_t done;              /* bytes transferred by earlier attempts */
    struct iovec *rest;         /* block_iov_next()'s slice of io.iov */
    struct UringRequest *next;  /* in the free list or the wait list */
} UringRequest;

struct UringEngine {
    struct io_uring ring;
    BlockBackend *blk;
    AioContext *ctx;
    int fd;                     /* the file, or its index if registered */
    unsigned sqe_flags;         /* IOSQE_FIXED_FILE when registered */
    bool plugged;
    unsigned reaping;           /* nesting of uring_reap() */
    unsigned queued;            /* SQEs prepared but not submitted */
    unsigned in_kernel;         /* submitted, CQE not reaped yet */
    /* Requests that found no room (uring_queue()), oldest first */
    UringRequest *wait_head, **wait_tail;
    UringRequest *free_reqs;
    GPtrArray *slabs;
    bool retry_scheduled;       /* uring_retry_bh() pending */
    bool closed;                /* freed while it was: it frees u */
};

static UringRequest *uring_req_alloc(UringEngine *u)
{
    UringRequest *req = u->free_reqs;

    if (!req) {
        UringRequest *slab = g_new0(UringRequest, REQS_PER_SLAB);

        g_ptr_array_add(u->slabs, slab);
        for (int i = REQS_PER_SLAB - 1; i >= 0; i--) {
            slab[i].next = u->free_reqs;
            u->free_reqs = &slab[i];
        }
        req = u->free_reqs;
    }
    u->free_reqs = req->next;
    return req;
}

static void uring_req_free(UringEngine *u, UringRequest *req)
{
    g_free(req->rest);
    req->rest = NULL;
    req->next = u->free_reqs;
    u->free_reqs = req;
}

/*
 * Read or write what earlier attempts left, or as much of it as one SQE
 * takes (block_iov_next()): the kernel's short transfer brings the request
 * back here for the rest.
 */
static void uring_prep_rw(UringEngine *u, struct io_uring_sqe *sqe,
                          UringRequest *req)
{
    const BlockIO *io = &req->io;
    uint64_t offset = io->offset + req->done;
    bool write = io->op == BLOCK_OP_WRITE;
    int iovcnt;
    const struct iovec *iov = block_iov_next(io->iov, io->iovcnt, io->bytes,
                                             req->done, &req->rest, &iovcnt);

    /* One buffer: READ and WRITE spare the kernel copying an iovec. */
    if (iovcnt == 1 && write) {
        io_uring_prep_write(sqe, u->fd, iov->iov_base, iov->iov_len, offset);
    } else if (iovcnt == 1) {
        io_uring_prep_read(sqe, u->fd, iov->iov_base, iov->iov_len, offset);
    } else if (write) {
        io_uring_prep_writev(sqe, u->fd, iov, iovcnt, offset);
    } else {
        io_uring_prep_readv(sqe, u->fd, iov, iovcnt, offset);
    }
}

/*
 * Put req in an SQE; false if the SQ ring is full, or if the CQ ring could
 * not take one more completion.  With no more requests in the kernel than
 * the CQ ring has entries, completions never overflow it: the kernel keeps
 * no overflow list (which it allocates, and may fail to), and
 * io_uring_enter() has no overflow to report.
 */
static bool uring_queue(UringEngine *u, UringRequest *req)
{
    struct io_uring_sqe *sqe;
    const BlockIO *io = &req->io;

    if (u->in_kernel + u->queued >= u->ring.cq.ring_entries ||
        !(sqe = io_uring_get_sqe(&u->ring))) {
        return false;
    }
    switch (io->op) {
    case BLOCK_OP_READ:
    case BLOCK_OP_WRITE:
        uring_prep_rw(u, sqe, req);
        break;
    case BLOCK_OP_FLUSH:
        io_uring_prep_fsync(sqe, u->fd, IORING_FSYNC_DATASYNC);
        break;
    case BLOCK_OP_FALLOCATE:
        io_uring_prep_fallocate(sqe, u->fd, io->mode, io->offset, io->bytes);
        break;
    default:
        g_assert_not_reached();
    }
    sqe->flags |= u->sqe_flags;
    io_uring_sqe_set_data(sqe, req);
    u->queued++;
    return true;
}

static void uring_wait(UringEngine *u, UringRequest *req)
{
    req->next = NULL;
    *u->wait_tail = req;
    u->wait_tail = &req->next;
}

static void uring_submit_queued(UringEngine *u);

/* In the back-end's AioContext. */
static void uring_retry_bh(void *opaque)
{
    UringEngine *u = opaque;

    u->retry_scheduled = false;
    if (u->closed) {
        g_free(u);
        return;
    }
    uring_submit_queued(u);
}

/* Hand every queued SQE to the kernel, and waiting requests after them. */
static void uring_submit_queued(UringEngine *u)
{
    for (;;) {
        UringRequest *req;
        int ret;

        while ((req = u->wait_head) && uring_queue(u, req)) {
            u->wait_head = req->next;
            if (!u->wait_head) {
                u->wait_tail = &u->wait_head;
            }
        }
        if (!u->queued) {
            return;
        }
        ret = io_uring_submit(&u->ring);
        if (ret == -EINTR) {
            continue;
        }
        if (ret == 0 || ret == -EAGAIN || ret == -ENOMEM) {
            /*
             * The kernel is short of memory (EAGAIN: for requests; ENOMEM:
             * for the first submission from this thread): try again when
             * a completion comes, or soon if none will.
             */
            if (!u->in_kernel && !u->retry_scheduled) {
                u->retry_scheduled = true;
                aio_bh_schedule_oneshot(u->ctx, uring_retry_bh, u);
            }
            return;
        }
        /*
         * A request cannot cause an error here: what goes wrong with an
         * SQE is in its CQE.  Of the errors io_uring_enter(2) lists, EBUSY
         * and EBADR need overflowed completions, which uring_queue() rules
         * out, and the rest (EBADF, EBADFD, EFAULT, EINVAL, ENXIO,
         * EOPNOTSUPP) would mean that the ring is not the one set up here.
         */
        if (ret < 0) {
            error_report("io_uring_submit: %s", g_strerror(-ret));
            g_assert_not_reached();
        }
        u->queued -= ret;
        u->in_kernel += ret;
    }
}

static void uring_complete(UringEngine *u, UringRequest *req, int res)
{
    const BlockIO *io = &req->io;
    BlockCompletionFunc *cb = io->cb;
    void *opaque = io->opaque;

    if (res == -EINTR || res == -EAGAIN) {
        goto resubmit;
    }
    if (io->op == BLOCK_OP_READ || io->op == BLOCK_OP_WRITE) {
        if (res > 0) {
            req->done += res;
            if (req->done < io->bytes) {
                goto resubmit;
            }
            res = 0;
        } else if (res == 0 && req->done < io->bytes) {
            if (io->op == BLOCK_OP_READ) {
                block_iov_memset(io->iov, io->iovcnt, req->done, 0,
                                 io->bytes - req->done);
            } else {
                res = -ENOSPC;
            }
        }
    }
    uring_req_free(u, req);
    blk_io_done(u->blk, cb, opaque, res);
    return;

resubmit:
    /* Submitted at the end of uring_reap(). */
    if (!uring_queue(u, req)) {
        uring_wait(u, req);
    }
}

/* In the back-end's AioContext; a spurious call finds no CQE. */
static void uring_reap(void *opaque)
{
    UringEngine *u = opaque;
    struct io_uring_cqe *cqe;

    u->reaping++;
    /* One CQE at a time: a callback may run a nested event loop. */
    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        UringRequest *req = io_uring_cqe_get_data(cqe);
        int res = cqe->res;

        io_uring_cqe_seen(&u->ring, cqe);
        u->in_kernel--;
        uring_complete(u, req, res);
    }
    if (--u->reaping == 0 && !u->plugged) {
        uring_submit_queued(u);
    }
}

/* In the back-end's AioContext. */
static bool uring_poll(void *opaque)
{
    UringEngine *u = opaque;

    if (!io_uring_cq_ready(&u->ring)) {
        return false;
    }
    uring_reap(u);
    return true;
}

UringEngine *uring_engine_new(BlockBackend *blk, int fd, AioContext *ctx,
                              GError **errp)
{
    UringEngine *u = g_new0(UringEngine, 1);
    int ret = io_uring_queue_init(URING_ENTRIES, &u->ring, 0);

    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not set up io_uring");
        g_free(u);
        return NULL;
    }
    u->blk = blk;
    /* A registered file saves the kernel a file lookup per request. */
    if (io_uring_register_files(&u->ring, &fd, 1) == 0) {
        u->fd = 0;
        u->sqe_flags = IOSQE_FIXED_FILE;
    } else {
        u->fd = fd;
    }
    u->wait_tail = &u->wait_head;
    u->slabs = g_ptr_array_new_with_free_func(g_free);
    uring_engine_set_aio_context(u, ctx);
    return u;
}

void uring_engine_free(UringEngine *u)
{
    uring_engine_set_aio_context(u, NULL);
    /*
     * The ring is torn down asynchronously: let go of the file now, so that
     * its locks go away when the back-end closes it.
     */
    if (u->sqe_flags & IOSQE_FIXED_FILE) {
        io_uring_unregister_files(&u->ring);
    }
    io_uring_queue_exit(&u->ring);
    /* Requests still in flight are dropped. */
    for (guint i = 0; i < u->slabs->len; i++) {
        UringRequest *slab = g_ptr_array_index(u->slabs, i);

        for (int j = 0; j < REQS_PER_SLAB; j++) {
            g_free(slab[j].rest);
        }
    }
    g_ptr_array_unref(u->slabs);
    if (u->retry_scheduled) {
        u->closed = true;
    } else {
        g_free(u);
    }
}

void uring_engine_submit(UringEngine *u, const BlockIO *io)
{
    UringRequest *req = uring_req_alloc(u);

    req->io = *io;
    req->done = 0;
    if (!uring_queue(u, req)) {
        /* The SQ ring is full: submit to make room, then try again. */
        uring_submit_queued(u);
        if (!uring_queue(u, req)) {
            uring_wait(u, req);
        }
    }
    if (!u->plugged && !u->reaping) {
        uring_submit_queued(u);
    }
}

void uring_engine_plug(UringEngine *u)
{
    u->plugged = true;
}

void uring_engine_unplug(UringEngine *u)
{
    u->plugged = false;
    if (!u->reaping) {
        uring_submit_queued(u);
    }
}

void uring_engine_flush(UringEngine *u)
{
    uring_submit_queued(u);
}

void uring_engine_set_aio_context(UringEngine *u, AioContext *ctx)
{
    if (u->ctx) {
        aio_set_fd_handler(u->ctx, u->ring.ring_fd, NULL, NULL, NULL, NULL);
    }
    u->ctx = ctx;
    if (ctx) {
        aio_set_fd_handler(ctx, u->ring.ring_fd, uring_reap, uring_poll,
                           NULL, u);
    }
}
