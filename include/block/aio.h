/*
 * AioContext: an event loop that device back-ends run in.
 *
 * Every -object iothread has one, run by that thread alone.  The main loop
 * has one too, run by whichever thread holds the BQL: the main thread
 * dispatches it among glib's other sources, and a vCPU thread that waits
 * for I/O with the BQL held (aio_wait_while()) runs it itself.  So the state
 * a handler touches needs no lock beyond the BQL or its thread, but a
 * handler may be called when its fd has nothing for it (the other thread
 * consumed the event) and must then do nothing, without blocking
 * (docs/devel/threading.rst).
 *
 * Besides file descriptors, a context can busy-poll: poll handlers are
 * called in a loop for up to poll-max-ns before the thread sleeps, which
 * saves the wake-up latency when requests come fast (QEMU's adaptive
 * polling).  The time is grown while polling finds work and shrunk when it
 * does not.
 */
#ifndef BLOCK_AIO_H
#define BLOCK_AIO_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct AioContext AioContext;

typedef void IOHandler(void *opaque);
/* Check for work without blocking; do it and return true if there was any. */
typedef bool AioPollFn(void *opaque);
/* Polling starts or stops: a handler may turn guest notifications off. */
typedef void AioPollBegin(void *opaque, bool polling);

AioContext *aio_context_new(void);
/* Not the main loop's; bottom halves still scheduled are dropped. */
void aio_context_free(AioContext *ctx);

/* The main loop's context, attached to glib's default context. */
AioContext *qemu_get_aio_context(void);

/*
 * Call io_read when fd is readable and io_poll while polling.  io_read NULL
 * removes the handler.  Call from a thread that may run ctx, or while none
 * can: before it runs, or while the one that may waits in aio_run_sync()
 * for the caller.
 */
void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        AioPollFn *io_poll, AioPollBegin *poll_begin,
                        void *opaque);

/* poll-max-ns, poll-grow and poll-shrink, as in QEMU; 0 disables polling. */
void aio_context_set_poll_params(AioContext *ctx, int64_t max_ns,
                                 int64_t grow, int64_t shrink);

/*
 * Run cb(opaque) once in ctx's thread (for the main loop's context: with
 * the BQL held, in the main thread or a vCPU waiting in aio_wait_while()),
 * soon, in the order scheduled.  Safe from any thread.
 */
void aio_bh_schedule_oneshot(AioContext *ctx, void (*cb)(void *),
                             void *opaque);
/*
 * Run cb(opaque) in ctx's thread and wait for it to return.  A caller that
 * runs ctx (holds the BQL, for the main loop's) calls cb itself; another
 * caller keeps its locks while it waits: with the BQL held, cb must not
 * take it.
 */
void aio_run_sync(AioContext *ctx, void (*cb)(void *), void *opaque);

/* May the calling thread run ctx (is it its thread, or see below)? */
bool aio_context_in_thread(AioContext *ctx);
/* Called by the thread that will run ctx (an iothread). */
void aio_context_set_thread(AioContext *ctx);
/*
 * For the main loop's context, which is run by whichever thread holds the
 * BQL rather than by one thread: owned() says whether the caller holds it.
 */
void aio_context_set_owner(AioContext *ctx, bool (*owned)(void));

/*
 * Run ctx until busy(opaque) is false.  A caller that may run ctx (its
 * thread, or a holder of the BQL for the main loop's context) runs it
 * itself, asking no other thread for anything, so it may wait with the BQL
 * held while another thread waits for it; busy() must become false through
 * ctx's handlers or bottom halves.  Another caller waits while ctx's thread
 * runs it.
 */
void aio_wait_while(AioContext *ctx, bool (*busy)(void *), void *opaque);

/*
 * One iteration, by a thread that may run ctx: run the bottom halves
 * scheduled so far, wait (blocking) or look (not) for events, busy-polling
 * first if enabled, and call the handlers of the fds found ready.
 */
void aio_context_iterate(AioContext *ctx, bool blocking);

#endif
