/*
 * AioContext: an event loop that device back-ends run in.
 *
 * The main loop has one (with the BQL held while it dispatches) and every
 * -object iothread has one (run by that thread alone).  Handlers registered
 * with a context run in its thread, so the state they touch needs no lock.
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
void aio_context_free(AioContext *ctx);
GMainContext *aio_get_g_main_context(AioContext *ctx);

/* The main loop's context. */
AioContext *qemu_get_aio_context(void);

/*
 * Call io_read when fd is readable and io_poll while polling.  io_read NULL
 * removes the handler.  Call from the context's thread, or before it runs.
 */
void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        AioPollFn *io_poll, AioPollBegin *poll_begin,
                        void *opaque);

/* poll-max-ns, poll-grow and poll-shrink, as in QEMU; 0 disables polling. */
void aio_context_set_poll_params(AioContext *ctx, int64_t max_ns,
                                 int64_t grow, int64_t shrink);

/* Run cb(opaque) once in ctx's thread, soon. Safe from any thread. */
void aio_bh_schedule_oneshot(AioContext *ctx, void (*cb)(void *),
                             void *opaque);
/*
 * Run cb(opaque) in ctx's thread and wait for it to return.  From the main
 * thread with the BQL held, the BQL is kept: cb must not take it.
 */
void aio_run_sync(AioContext *ctx, void (*cb)(void *), void *opaque);

/* Is the calling thread the one that runs ctx (or owns it, see below)? */
bool aio_context_in_thread(AioContext *ctx);
/* Called by the thread that will run ctx (an iothread). */
void aio_context_set_thread(AioContext *ctx);
/*
 * For the main loop's context, which is owned by whichever thread holds the
 * BQL rather than by one thread: owned() says whether the caller holds it,
 * wait_progress() lets the context make progress (dispatch once) and
 * returns with it held again.
 */
void aio_context_set_owner(AioContext *ctx, bool (*owned)(void),
                           void (*wait_progress)(void));

/* From any thread: let ctx run until busy(opaque) is false. */
void aio_wait_while(AioContext *ctx, bool (*busy)(void *), void *opaque);

/* One iteration: wait (or poll) for events and dispatch them. */
void aio_context_iterate(AioContext *ctx, bool blocking);

#endif
