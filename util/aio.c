/*
 * AioContext: fd handlers, bottom halves and adaptive polling on top of a
 * GMainContext.
 */
#include <poll.h>
#include <time.h>

#include "block/aio.h"

typedef struct AioHandler {
    int fd;
    gpointer tag;               /* from g_source_add_unix_fd() */
    IOHandler *io_read;
    AioPollFn *io_poll;
    AioPollBegin *poll_begin;
    void *opaque;
} AioHandler;

/* The one GSource through which a context dispatches its fd handlers. */
typedef struct AioSource {
    GSource source;
    AioContext *ctx;
} AioSource;

struct AioContext {
    GMainContext *gctx;
    AioSource *source;
    GPtrArray *handlers;        /* of AioHandler */
    GThread *thread;            /* the thread that runs it */
    bool (*owned)(void);        /* the main loop's: is the BQL held? */
    void (*wait_progress)(void);
    int64_t poll_max_ns, poll_grow, poll_shrink;
    int64_t poll_ns;            /* current adaptive polling time */
};

static AioContext *main_aio_context;
static __thread AioContext *thread_aio_context;

#define POLL_GROW_DEFAULT   2
#define POLL_START_NS       4000

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static gboolean aio_source_dispatch(GSource *source, GSourceFunc cb,
                                    gpointer data)
{
    AioContext *ctx = ((AioSource *)source)->ctx;

    /* A handler may remove others: walk a snapshot by index and recheck. */
    for (guint i = 0; i < ctx->handlers->len; i++) {
        AioHandler *h = g_ptr_array_index(ctx->handlers, i);
        if (g_source_query_unix_fd(source, h->tag) & (G_IO_IN | G_IO_HUP |
                                                      G_IO_ERR)) {
            h->io_read(h->opaque);
        }
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs aio_source_funcs = {
    .dispatch = aio_source_dispatch,
};

static void aio_begin_polling(AioContext *ctx, bool polling)
{
    for (guint i = 0; i < ctx->handlers->len; i++) {
        AioHandler *h = g_ptr_array_index(ctx->handlers, i);
        if (h->poll_begin) {
            h->poll_begin(h->opaque, polling);
        }
    }
}

static bool aio_run_poll_handlers(AioContext *ctx)
{
    bool progress = false;

    for (guint i = 0; i < ctx->handlers->len; i++) {
        AioHandler *h = g_ptr_array_index(ctx->handlers, i);
        if (h->io_poll && h->io_poll(h->opaque)) {
            progress = true;
        }
    }
    return progress;
}

/*
 * How long polling should last, from how long this wait for an event took
 * in all (block_ns): a wait that polling covered needs no change; one that
 * ended soon after the polling window grows the window (up to poll-max-ns),
 * so that the next one is caught; one longer than poll-max-ns could not
 * have been caught, and shrinks it.
 */
static void aio_adjust_polling(AioContext *ctx, int64_t block_ns)
{
    if (block_ns <= ctx->poll_ns) {
        return;
    }
    if (block_ns > ctx->poll_max_ns) {
        ctx->poll_ns = ctx->poll_shrink ? ctx->poll_ns / ctx->poll_shrink : 0;
    } else if (ctx->poll_ns < ctx->poll_max_ns) {
        ctx->poll_ns = ctx->poll_ns ? ctx->poll_ns * ctx->poll_grow
                                    : POLL_START_NS;
        ctx->poll_ns = MIN(ctx->poll_ns, ctx->poll_max_ns);
    }
}

/*
 * Before sleeping, poll for up to poll_ns with guest notifications off.
 */
static gint aio_poll_func(GPollFD *fds, guint nfds, gint timeout)
{
    AioContext *ctx = thread_aio_context;
    int64_t start, deadline;
    bool progress = false;
    gint ret;

    if (timeout == 0 || !ctx || !ctx->poll_max_ns) {
        return poll((struct pollfd *)fds, nfds, timeout);
    }
    start = now_ns();
    if (ctx->poll_ns) {
        deadline = start + ctx->poll_ns;
        aio_begin_polling(ctx, true);
        do {
            progress = aio_run_poll_handlers(ctx);
        } while (!progress && now_ns() < deadline);
        aio_begin_polling(ctx, false);
    }
    /* Work that arrived while notifications were still off. */
    progress |= aio_run_poll_handlers(ctx);
    ret = poll((struct pollfd *)fds, nfds, progress ? 0 : timeout);
    aio_adjust_polling(ctx, now_ns() - start);
    return ret;
}

static AioContext *aio_context_wrap(GMainContext *gctx)
{
    AioContext *ctx = g_new0(AioContext, 1);

    ctx->gctx = gctx;
    ctx->handlers = g_ptr_array_new_with_free_func(g_free);
    ctx->source = (AioSource *)g_source_new(&aio_source_funcs,
                                            sizeof(AioSource));
    ctx->source->ctx = ctx;
    /*
     * GLib takes a non-recursive source's fds out of the poll set while it
     * dispatches it and puts them back after: syscalls on every wake-up.
     * Recursion also lets a handler iterate the context (aio_wait_while).
     */
    g_source_set_can_recurse(&ctx->source->source, TRUE);
    g_source_attach(&ctx->source->source, gctx);
    return ctx;
}

AioContext *aio_context_new(void)
{
    GMainContext *gctx = g_main_context_new();

    g_main_context_set_poll_func(gctx, aio_poll_func);
    return aio_context_wrap(gctx);
}

void aio_context_free(AioContext *ctx)
{
    g_source_destroy(&ctx->source->source);
    g_source_unref(&ctx->source->source);
    g_ptr_array_unref(ctx->handlers);
    if (ctx != main_aio_context) {
        g_main_context_unref(ctx->gctx);
    }
    g_free(ctx);
}

GMainContext *aio_get_g_main_context(AioContext *ctx)
{
    return ctx->gctx;
}

AioContext *qemu_get_aio_context(void)
{
    if (!main_aio_context) {
        main_aio_context = aio_context_wrap(g_main_context_default());
    }
    return main_aio_context;
}

void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        AioPollFn *io_poll, AioPollBegin *poll_begin,
                        void *opaque)
{
    AioHandler *h;

    for (guint i = 0; i < ctx->handlers->len; i++) {
        h = g_ptr_array_index(ctx->handlers, i);
        if (h->fd == fd) {
            g_source_remove_unix_fd(&ctx->source->source, h->tag);
            g_ptr_array_remove_index(ctx->handlers, i);
            break;
        }
    }
    if (!io_read) {
        return;
    }
    h = g_new0(AioHandler, 1);
    *h = (AioHandler){
        .fd = fd, .io_read = io_read, .io_poll = io_poll,
        .poll_begin = poll_begin, .opaque = opaque,
        .tag = g_source_add_unix_fd(&ctx->source->source, fd, G_IO_IN),
    };
    g_ptr_array_add(ctx->handlers, h);
}

void aio_context_set_poll_params(AioContext *ctx, int64_t max_ns,
                                 int64_t grow, int64_t shrink)
{
    ctx->poll_max_ns = max_ns;
    ctx->poll_grow = grow ? grow : POLL_GROW_DEFAULT;
    ctx->poll_shrink = shrink;
    ctx->poll_ns = MIN(POLL_START_NS, max_ns);
}

typedef struct BH {
    void (*cb)(void *);
    void *opaque;
} BH;

static gboolean bh_run(gpointer data)
{
    BH *bh = data;

    bh->cb(bh->opaque);
    return G_SOURCE_REMOVE;
}

void aio_bh_schedule_oneshot(AioContext *ctx, void (*cb)(void *),
                             void *opaque)
{
    GSource *src = g_idle_source_new();
    BH *bh = g_new(BH, 1);

    bh->cb = cb;
    bh->opaque = opaque;
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, bh_run, bh, g_free);
    g_source_attach(src, ctx->gctx);
    g_source_unref(src);
}

typedef struct SyncCall {
    void (*cb)(void *);
    void *opaque;
    GMutex lock;
    GCond cond;
    bool done;
} SyncCall;

static void sync_call_run(void *opaque)
{
    SyncCall *sc = opaque;

    sc->cb(sc->opaque);
    g_mutex_lock(&sc->lock);
    sc->done = true;
    g_cond_signal(&sc->cond);
    g_mutex_unlock(&sc->lock);
}

void aio_run_sync(AioContext *ctx, void (*cb)(void *), void *opaque)
{
    SyncCall sc = { .cb = cb, .opaque = opaque };

    if (aio_context_in_thread(ctx) || (!ctx->thread && !ctx->owned)) {
        cb(opaque);
        return;
    }
    g_mutex_init(&sc.lock);
    g_cond_init(&sc.cond);
    aio_bh_schedule_oneshot(ctx, sync_call_run, &sc);
    g_mutex_lock(&sc.lock);
    while (!sc.done) {
        g_cond_wait(&sc.cond, &sc.lock);
    }
    g_mutex_unlock(&sc.lock);
    g_mutex_clear(&sc.lock);
    g_cond_clear(&sc.cond);
}

bool aio_context_in_thread(AioContext *ctx)
{
    return ctx->owned ? ctx->owned() : ctx->thread == g_thread_self();
}

void aio_context_set_owner(AioContext *ctx, bool (*owned)(void),
                           void (*wait_progress)(void))
{
    ctx->owned = owned;
    ctx->wait_progress = wait_progress;
}

typedef struct WaitWhile {
    AioContext *ctx;
    bool (*busy)(void *);
    void *opaque;
} WaitWhile;

static void wait_while_in_thread(void *opaque)
{
    WaitWhile *w = opaque;

    while (w->busy(w->opaque)) {
        aio_context_iterate(w->ctx, true);
    }
}

void aio_wait_while(AioContext *ctx, bool (*busy)(void *), void *opaque)
{
    WaitWhile w = { ctx, busy, opaque };

    if (ctx->owned) {
        g_assert(ctx->owned());
        while (busy(opaque)) {
            ctx->wait_progress();
        }
    } else {
        aio_run_sync(ctx, wait_while_in_thread, &w);
    }
}

void aio_context_set_thread(AioContext *ctx)
{
    ctx->thread = g_thread_self();
    thread_aio_context = ctx;
}

void aio_context_iterate(AioContext *ctx, bool blocking)
{
    g_main_context_iteration(ctx->gctx, blocking);
}
