/*
 * aio_wait_while() and the main loop's AioContext, which every thread that
 * holds the BQL may run (docs/devel/threading.rst).
 *
 * The first cases have the shape of the reset deadlock: a thread other than
 * the main one (a vCPU) holds the BQL and waits for work that only a
 * handler or bottom half of the main loop's context completes, while the
 * main thread waits for that thread with the BQL released, as
 * kvm_vcpus_pause() waits for a vCPU to park.  The waiting thread must run
 * the context itself.  The others check that the main loop still dispatches
 * the context and that waits nest.
 *
 * Each case runs in a subprocess under a watchdog, so that a hang fails
 * the case ("child timed out") instead of stalling the suite.
 */
#include <glib.h>
#include <unistd.h>

#include "block/aio.h"
#include "qemu/eventfd.h"
#include "qemu/main-loop.h"
#include "sysemu/runstate.h"

/* Generous: the machine running the tests may be loaded. */
#define WATCHDOG_USEC   (60 * G_USEC_PER_SEC)

/* Work that completes in a context, and a thread that waits for it. */
typedef struct Work {
    AioContext *ctx;            /* where it completes */
    int fd;                     /* an eventfd whose handler completes it */
    bool use_bh;                /* else a bottom half completes it */
    bool done;                  /* set in ctx */
    void (*on_done)(void *);    /* then called in ctx, if set */
    void *on_done_opaque;
    bool waited;                /* the waiter's aio_wait_while() returned */
} Work;

static GCond waited_cond;

static bool work_pending(void *opaque)
{
    Work *w = opaque;

    return !w->done;
}

static void work_complete(Work *w)
{
    w->done = true;
    if (w->on_done) {
        w->on_done(w->on_done_opaque);
    }
}

static void work_bh(void *opaque)
{
    work_complete(opaque);
}

/* A spurious call (nothing to read) must not block or complete anything. */
static void work_fd_read(void *opaque)
{
    Work *w = opaque;

    if (eventfd_consume(w->fd)) {
        work_complete(w);
    }
}

/* Called in w->ctx's thread (with the BQL for the main loop's context). */
static void work_attach(void *opaque)
{
    Work *w = opaque;

    aio_set_fd_handler(w->ctx, w->fd, work_fd_read, NULL, NULL, w);
}

static void work_detach(void *opaque)
{
    Work *w = opaque;

    aio_set_fd_handler(w->ctx, w->fd, NULL, NULL, NULL, NULL);
}

static void work_init(Work *w, AioContext *ctx, bool use_bh)
{
    *w = (Work){ .ctx = ctx, .fd = eventfd_new(), .use_bh = use_bh };
    aio_run_sync(ctx, work_attach, w);
}

static void work_cleanup(Work *w)
{
    aio_run_sync(w->ctx, work_detach, w);
    close(w->fd);
}

/* Start the work: from here on only w->ctx can complete it. */
static void work_start(Work *w)
{
    if (w->use_bh) {
        aio_bh_schedule_oneshot(w->ctx, work_bh, w);
    } else {
        eventfd_signal(w->fd);
    }
}

/* A vCPU's device reset: BQL held, wait for the work in flight. */
static gpointer bql_holder_thread(gpointer opaque)
{
    Work *w = opaque;

    bql_lock();
    work_start(w);
    aio_wait_while(w->ctx, work_pending, w);
    w->waited = true;
    g_cond_broadcast(&waited_cond);
    bql_unlock();
    return NULL;
}

/*
 * The main thread holds the BQL and waits for the holder thread as
 * kvm_vcpus_pause() waits for a vCPU, dispatching nothing meanwhile.
 */
static void wait_for_bql_holder(Work *w)
{
    GThread *holder;

    holder = g_thread_new("bql-holder", bql_holder_thread, w);
    while (!w->waited) {
        bql_cond_wait(&waited_cond);
    }
    g_thread_join(holder);
    g_assert_true(w->done);
}

static void bql_holder_waits_for_main_context(bool use_bh)
{
    Work w;

    main_loop_init();
    bql_lock();
    work_init(&w, qemu_get_aio_context(), use_bh);
    wait_for_bql_holder(&w);
    work_cleanup(&w);
    bql_unlock();
}

static void test_bql_holder_bh(void)
{
    bql_holder_waits_for_main_context(true);
}

static void test_bql_holder_fd_handler(void)
{
    bql_holder_waits_for_main_context(false);
}

/* A minimal I/O thread: runs its context until told to stop. */
typedef struct IOThread {
    AioContext *ctx;
    GThread *thread;
    GMutex lock;
    GCond cond;
    bool running;
    bool stop;                  /* set in ctx */
} IOThread;

static gpointer iothread_run(gpointer opaque)
{
    IOThread *t = opaque;

    aio_context_set_thread(t->ctx);
    g_mutex_lock(&t->lock);
    t->running = true;
    g_cond_signal(&t->cond);
    g_mutex_unlock(&t->lock);
    while (!t->stop) {
        aio_context_iterate(t->ctx, true);
    }
    return NULL;
}

static void iothread_stop_bh(void *opaque)
{
    IOThread *t = opaque;

    t->stop = true;
}

static void iothread_start(IOThread *t)
{
    *t = (IOThread){ .ctx = aio_context_new() };
    g_mutex_init(&t->lock);
    g_cond_init(&t->cond);
    t->thread = g_thread_new("iothread", iothread_run, t);
    g_mutex_lock(&t->lock);
    while (!t->running) {
        g_cond_wait(&t->cond, &t->lock);
    }
    g_mutex_unlock(&t->lock);
}

static void iothread_join(IOThread *t)
{
    aio_bh_schedule_oneshot(t->ctx, iothread_stop_bh, t);
    g_thread_join(t->thread);
    aio_context_free(t->ctx);
    g_mutex_clear(&t->lock);
    g_cond_clear(&t->cond);
}

/* The same wait for an I/O thread's context: that thread does the work. */
static void test_bql_holder_iothread(void)
{
    IOThread t;
    Work w;

    main_loop_init();
    bql_lock();
    iothread_start(&t);
    work_init(&w, t.ctx, false);
    wait_for_bql_holder(&w);
    work_cleanup(&w);
    iothread_join(&t);
    bql_unlock();
}

/* The main thread waits for the main loop's context itself. */
static gpointer start_work_thread(gpointer opaque)
{
    work_start(opaque);
    return NULL;
}

static void test_main_thread_waits(void)
{
    GThread *starter;
    Work w;

    main_loop_init();
    bql_lock();
    work_init(&w, qemu_get_aio_context(), false);
    /* Started without the BQL, by a thread that is not the context's. */
    starter = g_thread_new("starter", start_work_thread, &w);
    aio_wait_while(w.ctx, work_pending, &w);
    g_thread_join(starter);
    work_cleanup(&w);
    bql_unlock();
}

/*
 * The main loop dispatches the context's handlers and bottom halves, the
 * latter scheduled from a thread without the BQL; the second to complete
 * ends the loop.
 */
typedef struct LoopEnd {
    Work fd_work, bh_work;
} LoopEnd;

/* A shutdown request ends the loop; nothing else is expected. */
static bool shutdown_requested(int *status)
{
    ShutdownCause cause;
    bool taken = qemu_shutdown_take(&cause, status);
    ShutdownCause reset;

    g_assert(!qemu_reset_take(&reset));
    return taken;
}

static void end_loop_when_both_done(void *opaque)
{
    LoopEnd *e = opaque;

    if (e->fd_work.done && e->bh_work.done) {
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR, 3);
    }
}

static gpointer start_both_thread(gpointer opaque)
{
    LoopEnd *e = opaque;

    work_start(&e->fd_work);
    work_start(&e->bh_work);
    return NULL;
}

static void test_main_loop_dispatches(void)
{
    LoopEnd e;
    GThread *starter;

    main_loop_init();
    bql_lock();
    work_init(&e.fd_work, qemu_get_aio_context(), false);
    work_init(&e.bh_work, qemu_get_aio_context(), true);
    e.fd_work.on_done = e.bh_work.on_done = end_loop_when_both_done;
    e.fd_work.on_done_opaque = e.bh_work.on_done_opaque = &e;
    starter = g_thread_new("starter", start_both_thread, &e);
    g_assert_cmpint(main_loop_run(shutdown_requested), ==, 3);
    g_thread_join(starter);
    work_cleanup(&e.fd_work);
    work_cleanup(&e.bh_work);
    bql_unlock();
}

/*
 * A bottom half of the main loop that waits for another one (a device
 * reset run from the main loop): the wait runs the context recursively.
 */
static void outer_bh(void *opaque)
{
    Work *inner = opaque;

    work_start(inner);
    aio_wait_while(inner->ctx, work_pending, inner);
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR, 5);
}

static void test_nested_wait(void)
{
    Work inner;

    main_loop_init();
    bql_lock();
    work_init(&inner, qemu_get_aio_context(), true);
    aio_bh_schedule_oneshot(inner.ctx, outer_bh, &inner);
    g_assert_cmpint(main_loop_run(shutdown_requested), ==, 5);
    work_cleanup(&inner);
    bql_unlock();
}

/*
 * A vCPU holding the BQL waits while the main loop runs as usual: either
 * thread may dispatch the handler (the other then calls it spuriously).
 */
static gpointer waits_then_ends_loop_thread(gpointer opaque)
{
    Work *w = opaque;

    bql_holder_thread(w);
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR, 7);
    return NULL;
}

static void test_bql_holder_beside_main_loop(void)
{
    GThread *holder;
    Work w;

    main_loop_init();
    bql_lock();
    work_init(&w, qemu_get_aio_context(), false);
    holder = g_thread_new("bql-holder", waits_then_ends_loop_thread, &w);
    g_assert_cmpint(main_loop_run(shutdown_requested), ==, 7);
    bql_unlock();
    g_thread_join(holder);
    bql_lock();
    g_assert_true(w.done);
    work_cleanup(&w);
    bql_unlock();
}

/* Run the case named by data in a subprocess, under the watchdog. */
static void run_watched(gconstpointer data)
{
    void (*fn)(void) = (void (*)(void))data;

    if (g_test_subprocess()) {
        fn();
        return;
    }
    g_test_trap_subprocess(NULL, WATCHDOG_USEC, 0);
    /* Not g_test_trap_assert_passed(): the other cases still run. */
    if (!g_test_trap_has_passed()) {
        g_test_fail_printf("the case failed or hung (watchdog: %d s)",
                           (int)(WATCHDOG_USEC / G_USEC_PER_SEC));
    }
}

static void add_watched(const char *path, void (*fn)(void))
{
    g_test_add_data_func(path, (gconstpointer)fn, run_watched);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_watched("/aio-wait/bql-holder/main-context/bh", test_bql_holder_bh);
    add_watched("/aio-wait/bql-holder/main-context/fd-handler",
                test_bql_holder_fd_handler);
    add_watched("/aio-wait/bql-holder/iothread", test_bql_holder_iothread);
    add_watched("/aio-wait/bql-holder/beside-main-loop",
                test_bql_holder_beside_main_loop);
    add_watched("/aio-wait/main-thread", test_main_thread_waits);
    add_watched("/aio-wait/main-loop-dispatches", test_main_loop_dispatches);
    add_watched("/aio-wait/nested", test_nested_wait);
    return g_test_run();
}
