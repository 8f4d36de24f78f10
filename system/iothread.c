/*
 * I/O threads.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qemu/error-report.h"
#include "sysemu/iothread.h"

/*
 * Poll for up to 64 us before sleeping, and halve the window (rather than
 * drop it, as QEMU does) when a wait outlasts it.  On a nested hypervisor a
 * sleeping thread takes tens of microseconds to wake, and a 4 KiB write at
 * queue depth 1 takes about 45 us: a window that covers it and survives the
 * occasional slow request keeps such requests from paying for a wake-up.
 */
#define IOTHREAD_POLL_MAX_NS_DEFAULT    65536
#define IOTHREAD_POLL_SHRINK_DEFAULT    2

struct IOThread {
    char *id;
    AioContext *ctx;
    GThread *thread;
    gint stopping;
    GMutex init_lock;
    GCond init_cond;
    bool running;
    pid_t tid;
    uint64_t poll_max_ns, poll_grow, poll_shrink;
};

static GPtrArray *iothreads;

/* The I/O thread: its AioContext only, never the BQL. */
static gpointer iothread_run(gpointer opaque)
{
    IOThread *t = opaque;

    aio_context_set_thread(t->ctx);
    g_mutex_lock(&t->init_lock);
    t->tid = gettid();
    t->running = true;
    g_cond_signal(&t->init_cond);
    g_mutex_unlock(&t->init_lock);
    while (!g_atomic_int_get(&t->stopping)) {
        aio_context_iterate(t->ctx, true);
    }
    return NULL;
}

void iothread_print_help(void)
{
    g_autofree char *max_ns = g_strdup_printf("%d",
                                              IOTHREAD_POLL_MAX_NS_DEFAULT);
    g_autofree char *shrink = g_strdup_printf("%d",
                                              IOTHREAD_POLL_SHRINK_DEFAULT);

    printf("iothread options:\n");
    qemu_print_property_help("poll-grow", "int", "factor the polling time "
                             "grows by (0: double it)", "0");
    qemu_print_property_help("poll-max-ns", "int", "longest time to poll "
                             "before sleeping, in ns", max_ns);
    qemu_print_property_help("poll-shrink", "int", "divisor the polling time "
                             "shrinks by (0: drop it)", shrink);
}

IOThread *iothread_create(QemuOpts *opts, GError **errp)
{
    const char *id = qemu_opt_get(opts, "id");
    uint64_t max_ns, grow, shrink;
    g_autofree char *thread_name = NULL;
    IOThread *t;

    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return NULL;
    }
    if (iothread_by_id(id)) {
        error_setg(errp, "Duplicate ID '%s' for object", id);
        return NULL;
    }
    if (!qemu_opt_get_number(opts, "poll-max-ns",
                             IOTHREAD_POLL_MAX_NS_DEFAULT, &max_ns, errp) ||
        !qemu_opt_get_number(opts, "poll-grow", 0, &grow, errp) ||
        !qemu_opt_get_number(opts, "poll-shrink",
                             IOTHREAD_POLL_SHRINK_DEFAULT, &shrink, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return NULL;
    }
    t = g_new0(IOThread, 1);
    t->id = g_strdup(id);
    t->ctx = aio_context_new();
    t->poll_max_ns = max_ns;
    t->poll_grow = grow;
    t->poll_shrink = shrink;
    aio_context_set_poll_params(t->ctx, max_ns, grow, shrink);
    g_mutex_init(&t->init_lock);
    g_cond_init(&t->init_cond);
    /* As QEMU names it with -name debug-threads=on. */
    thread_name = g_strdup_printf("IO %s", id);
    t->thread = g_thread_new(thread_name, iothread_run, t);
    /* Wait until the context knows its thread (aio_run_sync needs it). */
    g_mutex_lock(&t->init_lock);
    while (!t->running) {
        g_cond_wait(&t->init_cond, &t->init_lock);
    }
    g_mutex_unlock(&t->init_lock);
    if (!iothreads) {
        iothreads = g_ptr_array_new();
    }
    g_ptr_array_add(iothreads, t);
    return t;
}

IOThread *iothread_by_id(const char *id)
{
    for (guint i = 0; iothreads && i < iothreads->len; i++) {
        IOThread *t = g_ptr_array_index(iothreads, i);
        if (!strcmp(t->id, id)) {
            return t;
        }
    }
    return NULL;
}

AioContext *iothread_get_aio_context(IOThread *iothread)
{
    return iothread->ctx;
}

void iothread_foreach(void (*fn)(const IOThreadInfo *info, void *opaque),
                      void *opaque)
{
    for (guint i = 0; iothreads && i < iothreads->len; i++) {
        IOThread *t = g_ptr_array_index(iothreads, i);
        IOThreadInfo info = {
            .id = t->id,
            .thread_id = t->tid,
            .poll_max_ns = t->poll_max_ns,
            .poll_grow = t->poll_grow,
            .poll_shrink = t->poll_shrink,
        };
        fn(&info, opaque);
    }
}

static void iothread_stop(void *opaque)
{
    g_atomic_int_set(&((IOThread *)opaque)->stopping, 1);
}

void iothread_destroy_all(void)
{
    while (iothreads && iothreads->len) {
        IOThread *t = g_ptr_array_steal_index(iothreads, iothreads->len - 1);
        aio_bh_schedule_oneshot(t->ctx, iothread_stop, t);
        g_thread_join(t->thread);
        aio_context_free(t->ctx);
        g_mutex_clear(&t->init_lock);
        g_cond_clear(&t->init_cond);
        g_free(t->id);
        g_free(t);
    }
    g_clear_pointer(&iothreads, g_ptr_array_unref);
}
