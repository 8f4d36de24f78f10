/*
 * AioContext: fd handlers, bottom halves and adaptive polling.
 *
 * aio_context_iterate() polls a context's file descriptors itself and runs
 * its handlers and bottom halves directly: an I/O thread does nothing else,
 * and a thread holding the BQL does it on the main loop's context to wait
 * for I/O (aio_wait_while()), whatever the main thread is doing meanwhile.
 * The main loop's context is also a GSource of glib's default context,
 * through which the main thread dispatches it among its other sources.
 * Either thread may therefore find an fd readable whose event the other
 * one has consumed: handlers tolerate a call with nothing to do.
 *
 * Bottom halves are kept in a list of the context's own and announced
 * through an eventfd that is one of its fd handlers.
 */
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "block/aio.h"
#include "qemu/eventfd.h"

typedef struct AioHandler {
    int fd;
    gpointer tag;               /* from g_source_add_unix_fd(), if a GSource */
    IOHandler *io_read;
    AioPollFn *io_poll;
    AioPollBegin *poll_begin;
    void *opaque;
} AioHandler;

/* The GSource through which glib's main loop dispatches a context. */
typedef struct AioSource {
    GSource source;
    AioContext *ctx;
} AioSource;

typedef struct BH {
    void (*cb)(void *);
    void *opaque;
    struct BH *next;
} BH;

struct AioContext {
    GPtrArray *handlers;        /* of AioHandler */
    AioSource *source;          /* the main loop's only */
    GThread *thread;            /* the thread that runs it */
    bool (*owned)(void);        /* the main loop's: is the BQL held? */
    /* Bottom halves, scheduled from any thread. */
    pthread_mutex_t bh_lock;    /* protects the list and its length */
    BH *bh_head, **bh_tail;
    unsigned bh_count;          /* also read without the lock (atomic) */
    int bh_notifier;            /* signalled when the list becomes non-empty */
    int64_t poll_max_ns, poll_grow, poll_shrink;
    int64_t poll_ns;            /* current adaptive polling time */
};

static AioContext *main_aio_context;

#define POLL_GROW_DEFAULT   2
#define POLL_START_NS       4000
/* Handlers polled without allocating; more are rare. */
#define POLLFDS_ON_STACK    16

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static BH *aio_bh_pop(AioContext *ctx)
{
    BH *bh;

    pthread_mutex_lock(&ctx->bh_lock);
    bh = ctx->bh_head;
    if (bh) {
        ctx->bh_head = bh->next;
        if (!ctx->bh_head) {
            ctx->bh_tail = &ctx->bh_head;
        }
        __atomic_fetch_sub(&ctx->bh_count, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&ctx->bh_lock);
    return bh;
}

/*
 * Run the bottom halves scheduled before the call, one at a time, so that
 * one that waits (a nested aio_context_iterate()) runs those after it.
 * Those scheduled meanwhile, which may have found the list non-empty and
 * not signalled, run in the next iteration: the notifier is signalled
 * again for them.
 */
static bool aio_bh_poll(AioContext *ctx)
{
    unsigned n, ran = 0;
    bool pending;

    /* Consumed before the list is read: a later schedule signals anew. */
    eventfd_consume(ctx->bh_notifier);
    n = __atomic_load_n(&ctx->bh_count, __ATOMIC_RELAXED);
    for (; ran < n; ran++) {
        BH *bh = aio_bh_pop(ctx);

        if (!bh) {
            break;      /* a nested call ran the rest */
        }
        bh->cb(bh->opaque);
        g_free(bh);
    }
    pthread_mutex_lock(&ctx->bh_lock);
    pending = ctx->bh_head;
    pthread_mutex_unlock(&ctx->bh_lock);
    if (pending) {
        eventfd_signal(ctx->bh_notifier);
    }
    return ran;
}

static void aio_bh_notified(void *opaque)
{
    aio_bh_poll(opaque);
}

void aio_bh_schedule_oneshot(AioContext *ctx, void (*cb)(void *),
                             void *opaque)
{
    BH *bh = g_new(BH, 1);
    bool was_empty;

    *bh = (BH){ .cb = cb, .opaque = opaque };
    pthread_mutex_lock(&ctx->bh_lock);
    was_empty = !ctx->bh_head;
    *ctx->bh_tail = bh;
    ctx->bh_tail = &bh->next;
    __atomic_fetch_add(&ctx->bh_count, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&ctx->bh_lock);
    if (was_empty) {
        eventfd_signal(ctx->bh_notifier);
    }
}

static AioHandler *find_handler(AioContext *ctx, int fd, guint *index)
{
    for (guint i = 0; i < ctx->handlers->len; i++) {
        AioHandler *h = g_ptr_array_index(ctx->handlers, i);

        if (h->fd == fd) {
            if (index) {
                *index = i;
            }
            return h;
        }
    }
    return NULL;
}

static gboolean aio_source_dispatch(GSource *source, GSourceFunc cb,
                                    gpointer data)
{
    AioContext *ctx = ((AioSource *)source)->ctx;

    /* A handler may remove others: walk by index and recheck. */
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

/* Before sleeping, poll for up to poll_ns with guest notifications off. */
static bool aio_busy_poll(AioContext *ctx)
{
    int64_t deadline;
    bool progress = false;

    if (ctx->poll_ns) {
        deadline = now_ns() + ctx->poll_ns;
        aio_begin_polling(ctx, true);
        do {
            progress = aio_run_poll_handlers(ctx);
        } while (!progress && now_ns() < deadline);
        aio_begin_polling(ctx, false);
    }
    /* Work that arrived while notifications were still off. */
    return aio_run_poll_handlers(ctx) || progress;
}

void aio_context_iterate(AioContext *ctx, bool blocking)
{
    struct pollfd stack_fds[POLLFDS_ON_STACK], *fds = stack_fds;
    bool polling = blocking && ctx->poll_max_ns;
    bool progress;
    int64_t start = 0;
    guint n;
    int ret;

    /* The main loop's context needs the BQL; another one its thread. */
    g_assert(!ctx->owned || ctx->owned());
    /*
     * Bottom halves first: a bottom half waiting here may need those behind
     * it, whose notification its caller consumed.
     */
    progress = __atomic_load_n(&ctx->bh_count, __ATOMIC_RELAXED) &&
               aio_bh_poll(ctx);
    /* After them: a bottom half may add or remove handlers. */
    n = ctx->handlers->len;
    if (n > POLLFDS_ON_STACK) {
        fds = g_new(struct pollfd, n);
    }
    for (guint i = 0; i < n; i++) {
        AioHandler *h = g_ptr_array_index(ctx->handlers, i);
        fds[i] = (struct pollfd){ .fd = h->fd, .events = POLLIN };
    }
    if (polling && !progress) {
        start = now_ns();
        progress = aio_busy_poll(ctx);
    }
    ret = poll(fds, n, blocking && !progress ? -1 : 0);
    if (start) {
        aio_adjust_polling(ctx, now_ns() - start);
    }
    /* Handlers may come and go meanwhile: look each one up by its fd. */
    for (guint i = 0; ret > 0 && i < n; i++) {
        AioHandler *h;

        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
            (h = find_handler(ctx, fds[i].fd, NULL))) {
            h->io_read(h->opaque);
        }
    }
    if (fds != stack_fds) {
        g_free(fds);
    }
}

AioContext *aio_context_new(void)
{
    AioContext *ctx = g_new0(AioContext, 1);

    ctx->handlers = g_ptr_array_new_with_free_func(g_free);
    pthread_mutex_init(&ctx->bh_lock, NULL);
    ctx->bh_tail = &ctx->bh_head;
    ctx->bh_notifier = eventfd_new();
    aio_set_fd_handler(ctx, ctx->bh_notifier, aio_bh_notified, NULL, NULL,
                       ctx);
    return ctx;
}

void aio_context_free(AioContext *ctx)
{
    g_assert(ctx != main_aio_context);
    /* Bottom halves never run now are dropped. */
    while (ctx->bh_head) {
        g_free(aio_bh_pop(ctx));
    }
    g_ptr_array_unref(ctx->handlers);
    close(ctx->bh_notifier);
    pthread_mutex_destroy(&ctx->bh_lock);
    g_free(ctx);
}

AioContext *qemu_get_aio_context(void)
{
    AioContext *ctx = main_aio_context;

    if (!ctx) {
        ctx = aio_context_new();
        ctx->source = (AioSource *)g_source_new(&aio_source_funcs,
                                                sizeof(AioSource));
        ctx->source->ctx = ctx;
        /*
         * GLib takes a non-recursive source's fds out of the poll set while
         * it dispatches it and puts them back after: syscalls on every
         * wake-up.
         */
        g_source_set_can_recurse(&ctx->source->source, TRUE);
        for (guint i = 0; i < ctx->handlers->len; i++) {
            AioHandler *h = g_ptr_array_index(ctx->handlers, i);
            h->tag = g_source_add_unix_fd(&ctx->source->source, h->fd,
                                          G_IO_IN);
        }
        g_source_attach(&ctx->source->source, NULL);
        main_aio_context = ctx;
    }
    return ctx;
}

void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        AioPollFn *io_poll, AioPollBegin *poll_begin,
                        void *opaque)
{
    AioHandler *h;
    guint i;

    h = find_handler(ctx, fd, &i);
    if (h) {
        if (ctx->source) {
            g_source_remove_unix_fd(&ctx->source->source, h->tag);
        }
        g_ptr_array_remove_index(ctx->handlers, i);
    }
    if (!io_read) {
        return;
    }
    h = g_new0(AioHandler, 1);
    *h = (AioHandler){
        .fd = fd, .io_read = io_read, .io_poll = io_poll,
        .poll_begin = poll_begin, .opaque = opaque,
    };
    if (ctx->source) {
        h->tag = g_source_add_unix_fd(&ctx->source->source, fd, G_IO_IN);
    }
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

void aio_context_set_owner(AioContext *ctx, bool (*owned)(void))
{
    ctx->owned = owned;
}

typedef struct WaitWhile {
    AioContext *ctx;
    bool (*busy)(void *);
    void *opaque;
} WaitWhile;

/* In ctx's thread, or with the BQL for the main loop's context. */
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

    aio_run_sync(ctx, wait_while_in_thread, &w);
}

void aio_context_set_thread(AioContext *ctx)
{
    ctx->thread = g_thread_self();
}
