/*
 * aio=threads: worker threads carry requests out with blocking syscalls
 * (preadv, pwritev, fdatasync, fallocate, block device ioctls) and hand
 * them back to the back-end's AioContext through an eventfd.
 *
 * Workers are started when requests outnumber idle workers, up to
 * POOL_MAX_THREADS (as many as the host lets start), and run until the
 * pool is freed.  Requests are submitted and completed in the back-end's
 * AioContext; the workers share the queue and the done list under lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "block-internal.h"
#include "qemu/error-report.h"

#define POOL_MAX_THREADS 64

typedef struct PoolRequest {
    BlockIO io;
    int ret;
    struct PoolRequest *next;
} PoolRequest;

struct ThreadPool {
    BlockBackend *blk;
    int fd;
    int efd;                    /* readable when done is not empty */
    AioContext *ctx;
    GThread *threads[POOL_MAX_THREADS];
    unsigned nthreads;

    /* pthread rather than GMutex, which ThreadSanitizer does not know */
    pthread_mutex_t lock;       /* protects what follows */
    pthread_cond_t work;        /* requests queued, or stopping */
    PoolRequest *queue_head, **queue_tail;
    unsigned queued;
    unsigned idle;              /* workers waiting for work */
    PoolRequest *done;          /* finished, newest first (atomic) */
    bool stopping;
};

/* As many calls as the transfer takes (block_iov_next()). */
static int pool_rw(int fd, const BlockIO *io)
{
    struct iovec *part = NULL;
    uint64_t done = 0;
    int ret = 0;

    while (done < io->bytes) {
        int iovcnt;
        const struct iovec *iov = block_iov_next(io->iov, io->iovcnt,
                                                 io->bytes, done, &part,
                                                 &iovcnt);
        ssize_t n = io->op == BLOCK_OP_READ
                    ? preadv(fd, iov, iovcnt, io->offset + done)
                    : pwritev(fd, iov, iovcnt, io->offset + done);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ret = -errno;
            break;
        }
        if (n == 0) {
            if (io->op == BLOCK_OP_READ) {
                block_iov_memset(io->iov, io->iovcnt, done, 0,
                                 io->bytes - done);
            } else {
                ret = -ENOSPC;
            }
            break;
        }
        done += n;
    }
    g_free(part);
    return ret;
}

static int pool_run(int fd, const BlockIO *io)
{
    uint64_t range[2] = { io->offset, io->bytes };
    int ret = 0;

    switch (io->op) {
    case BLOCK_OP_READ:
    case BLOCK_OP_WRITE:
        return pool_rw(fd, io);
    case BLOCK_OP_FLUSH:
        ret = fdatasync(fd);
        break;
    case BLOCK_OP_FALLOCATE:
        ret = fallocate(fd, io->mode, io->offset, io->bytes);
        break;
    case BLOCK_OP_BLKDISCARD:
        ret = ioctl(fd, BLKDISCARD, range);
        break;
    case BLOCK_OP_BLKZEROOUT:
        ret = ioctl(fd, BLKZEROOUT, range);
        break;
    }
    return ret < 0 ? -errno : 0;
}

/* req is finished: hand it to the context.  Any thread, lock not held. */
static void pool_finish(ThreadPool *p, PoolRequest *req)
{
    bool was_empty;

    pthread_mutex_lock(&p->lock);
    req->next = g_atomic_pointer_get(&p->done);
    was_empty = !req->next;
    g_atomic_pointer_set(&p->done, req);
    pthread_mutex_unlock(&p->lock);
    /*
     * Only the first of a batch notifies: the consumer reads the eventfd
     * before it takes the list, so none is missed.
     */
    if (was_empty) {
        eventfd_write(p->efd, 1);
    }
}

/* A blk-worker thread: no BQL, no device state. */
static gpointer pool_worker(gpointer opaque)
{
    ThreadPool *p = opaque;
    sigset_t all;

    /* Signals are for the main thread and the vCPUs. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);

    pthread_mutex_lock(&p->lock);
    for (;;) {
        PoolRequest *req;

        while (!p->queue_head && !p->stopping) {
            p->idle++;
            pthread_cond_wait(&p->work, &p->lock);
            p->idle--;
        }
        if (p->stopping) {
            break;
        }
        req = p->queue_head;
        p->queue_head = req->next;
        if (!p->queue_head) {
            p->queue_tail = &p->queue_head;
        }
        p->queued--;
        pthread_mutex_unlock(&p->lock);

        req->ret = pool_run(p->fd, &req->io);
        pool_finish(p, req);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Run the callbacks of finished requests, oldest first. */
static void pool_complete(ThreadPool *p)
{
    PoolRequest *done, *fifo = NULL;

    pthread_mutex_lock(&p->lock);
    done = g_atomic_pointer_get(&p->done);
    g_atomic_pointer_set(&p->done, NULL);
    pthread_mutex_unlock(&p->lock);

    while (done) {
        PoolRequest *req = done;

        done = req->next;
        req->next = fifo;
        fifo = req;
    }
    while (fifo) {
        PoolRequest *req = fifo;
        BlockCompletionFunc *cb = req->io.cb;
        void *opaque = req->io.opaque;
        int ret = req->ret;

        fifo = req->next;
        g_free(req);
        blk_io_done(p->blk, cb, opaque, ret);
    }
}

/* In the back-end's AioContext; a spurious call finds nothing. */
static void pool_event(void *opaque)
{
    ThreadPool *p = opaque;
    eventfd_t count;

    eventfd_read(p->efd, &count);
    pool_complete(p);
}

/* In the back-end's AioContext. */
static bool pool_poll(void *opaque)
{
    ThreadPool *p = opaque;

    if (!g_atomic_pointer_get(&p->done)) {
        return false;
    }
    pool_complete(p);
    return true;
}

ThreadPool *thread_pool_new(BlockBackend *blk, int fd, AioContext *ctx,
                            GError **errp)
{
    ThreadPool *p = g_new0(ThreadPool, 1);

    p->blk = blk;
    p->fd = fd;
    p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->efd < 0) {
        error_setg_errno(errp, errno, "Could not create an eventfd");
        g_free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    p->queue_tail = &p->queue_head;
    thread_pool_set_aio_context(p, ctx);
    return p;
}

static void pool_free_list(PoolRequest *req)
{
    while (req) {
        PoolRequest *next = req->next;

        g_free(req);
        req = next;
    }
}

void thread_pool_free(ThreadPool *p)
{
    thread_pool_set_aio_context(p, NULL);
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++) {
        g_thread_join(p->threads[i]);
    }
    pool_free_list(p->queue_head);
    pool_free_list(p->done);
    close(p->efd);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    g_free(p);
}

void thread_pool_submit(ThreadPool *p, const BlockIO *io)
{
    PoolRequest *req = g_new(PoolRequest, 1);
    bool spawn;

    req->io = *io;
    req->next = NULL;
    pthread_mutex_lock(&p->lock);
    spawn = p->queued >= p->idle && p->nthreads < POOL_MAX_THREADS;
    pthread_mutex_unlock(&p->lock);
    if (spawn) {
        GThread *t = g_thread_try_new("blk-worker", pool_worker, p, NULL);

        if (t) {
            p->threads[p->nthreads++] = t;
        } else if (!p->nthreads) {
            /* The host let no worker start: fail, as if one had run it. */
            req->ret = -EAGAIN;
            pool_finish(p, req);
            return;
        }
    }
    pthread_mutex_lock(&p->lock);
    *p->queue_tail = req;
    p->queue_tail = &req->next;
    p->queued++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void thread_pool_set_aio_context(ThreadPool *p, AioContext *ctx)
{
    if (p->ctx) {
        aio_set_fd_handler(p->ctx, p->efd, NULL, NULL, NULL, NULL);
    }
    p->ctx = ctx;
    if (ctx) {
        aio_set_fd_handler(ctx, p->efd, pool_event, pool_poll, NULL, p);
    }
}
