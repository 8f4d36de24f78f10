/*
 * QMP monitors: the monitor thread, its sockets and clients, and the
 * protocol's framing (greeting, capabilities negotiation, replies, events).
 * Commands are handed to the main thread (qmp-dispatch.c).
 *
 * Threads and locks: monitor_lock protects every client's output queue and
 * state flags, which the main thread (replies) and any thread (events)
 * append to; everything else of a client belongs to the monitor thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>

#include "config-host.h"
#include "monitor/json-stream.h"
#include "monitor/monitor.h"
#include "monitor/monitor-internal.h"
#include "monitor/qmp-schema.h"
#include "qemu/error-report.h"

/* Commands a client may have queued before the monitor stops reading. */
#define CLIENT_QUEUE_MAX    8

typedef struct Monitor Monitor;

struct QmpClient {
    gint refcount;
    Monitor *mon;
    int in_fd, out_fd;
    GSource *in_source;         /* NULL while reading is paused */
    JsonStream stream;
    /* Under monitor_lock: */
    GString *out;
    bool out_scheduled;         /* a flush is queued in the monitor thread */
    GSource *out_source;        /* waiting for the fd to take more */
    bool command_mode;          /* capabilities negotiated */
    bool closed;
    guint queued;               /* requests not yet answered */
};

struct Monitor {
    char *label;
    int listen_fd;              /* -1: stdio */
    GSource *accept_source;
    QmpClient *client;          /* the one being served, or NULL */
};

static GMutex monitor_lock;
static GPtrArray *monitors;     /* of Monitor */
static GMainContext *mon_ctx;
static GMainLoop *mon_loop;
static GThread *mon_thread;
static bool mon_stopping;       /* cleanup is flushing: accept nothing */

static void client_flush(QmpClient *c);
static void monitor_accept_resume(Monitor *mon);

QmpClient *qmp_client_ref(QmpClient *c)
{
    g_atomic_int_inc(&c->refcount);
    return c;
}

void qmp_client_unref(QmpClient *c)
{
    if (g_atomic_int_dec_and_test(&c->refcount)) {
        g_string_free(c->out, TRUE);
        g_free(c);
    }
}

/*
 * A GSource in the monitor context, or attached there from another thread.
 * destroy (may be NULL) runs when the source goes, dispatched or not: at
 * the latest when monitor_cleanup() drops the context.
 */
static void attach(GSource *src, gpointer func, gpointer data,
                   GDestroyNotify destroy)
{
    g_source_set_callback(src, func, data, destroy);
    g_source_attach(src, mon_ctx);
}

static gboolean flush_scheduled(gpointer opaque)
{
    QmpClient *c = opaque;

    g_mutex_lock(&monitor_lock);
    c->out_scheduled = false;
    g_mutex_unlock(&monitor_lock);
    client_flush(c);
    return G_SOURCE_REMOVE;
}

/* Called with monitor_lock held: have the monitor thread write. */
static void schedule_flush_locked(QmpClient *c)
{
    GSource *src;

    if (c->out_scheduled) {
        return;
    }
    c->out_scheduled = true;
    src = g_idle_source_new();
    attach(src, flush_scheduled, qmp_client_ref(c),
           (GDestroyNotify)qmp_client_unref);
    g_source_unref(src);
}

/* Called with monitor_lock held. */
static void queue_output_locked(QmpClient *c, JsonNode *msg)
{
    g_autofree char *text = NULL;

    if (c->closed) {
        return;
    }
    text = json_to_string(msg, FALSE);
    if (c->out->len + strlen(text) + 2 > MONITOR_OUTPUT_MAX) {
        /* The client does not read: stop queueing, drop it. */
        c->closed = true;
        g_string_truncate(c->out, 0);
    } else {
        g_string_append(c->out, text);
        g_string_append(c->out, "\r\n");
    }
    schedule_flush_locked(c);
}

void qmp_client_send(QmpClient *c, JsonNode *msg)
{
    g_mutex_lock(&monitor_lock);
    queue_output_locked(c, msg);
    g_mutex_unlock(&monitor_lock);
}

void qmp_client_request_done(QmpClient *c)
{
    g_mutex_lock(&monitor_lock);
    c->queued--;
    /* Reading may have paused on a full queue: the flush resumes it. */
    schedule_flush_locked(c);
    g_mutex_unlock(&monitor_lock);
}

bool qmp_client_negotiate(QmpClient *c)
{
    bool was;

    g_mutex_lock(&monitor_lock);
    was = c->command_mode;
    c->command_mode = true;
    g_mutex_unlock(&monitor_lock);
    return !was;
}

bool qmp_client_in_command_mode(QmpClient *c)
{
    bool mode;

    g_mutex_lock(&monitor_lock);
    mode = c->command_mode;
    g_mutex_unlock(&monitor_lock);
    return mode;
}

void qmp_event_send(const char *event, JsonObject *data)
{
    g_autoptr(JsonObject) owned = data ? data : json_object_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) msg = NULL;
    JsonObject *obj, *ts;
    gint64 now = g_get_real_time();

    /* Monitors are all created before anything sends an event. */
    if (!g_atomic_pointer_get(&monitors)) {
        return;
    }
    msg = json_node_new(JSON_NODE_OBJECT);
    obj = json_object_new();
    ts = json_object_new();
    if (!qmp_schema_check_event(event, owned, &err)) {
        g_error("QMP event %s does not match the schema: %s", event,
                err->message);
    }
    json_object_set_string_member(obj, "event", event);
    if (json_object_get_size(owned)) {
        json_object_set_object_member(obj, "data", json_object_ref(owned));
    }
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(obj, "timestamp", ts);
    json_node_take_object(msg, obj);

    g_mutex_lock(&monitor_lock);
    for (guint i = 0; monitors && i < monitors->len; i++) {
        Monitor *mon = monitors->pdata[i];

        if (mon->client && mon->client->command_mode) {
            queue_output_locked(mon->client, msg);
        }
    }
    g_mutex_unlock(&monitor_lock);
}

/* The rest runs in the monitor thread. */

static void client_close(QmpClient *c)
{
    Monitor *mon = c->mon;

    if (c->in_source) {
        g_source_destroy(c->in_source);
        g_clear_pointer(&c->in_source, g_source_unref);
    }
    g_mutex_lock(&monitor_lock);
    c->closed = true;
    if (c->out_source) {
        g_source_destroy(c->out_source);
        g_clear_pointer(&c->out_source, g_source_unref);
    }
    mon->client = NULL;
    g_mutex_unlock(&monitor_lock);
    json_stream_destroy(&c->stream);
    if (c->out_fd != c->in_fd) {
        close(c->out_fd);
    }
    close(c->in_fd);
    c->in_fd = c->out_fd = -1;
    qmp_client_unref(c);
    if (mon->listen_fd >= 0 && !mon_stopping) {
        monitor_accept_resume(mon);
    }
}

static gboolean client_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    QmpClient *c = opaque;

    g_mutex_lock(&monitor_lock);
    g_clear_pointer(&c->out_source, g_source_unref);
    g_mutex_unlock(&monitor_lock);
    client_flush(c);
    return G_SOURCE_REMOVE;
}

static gboolean client_readable(gint fd, GIOCondition cond, gpointer opaque);

static void client_resume_input(QmpClient *c)
{
    if (!c->in_source) {
        c->in_source = g_unix_fd_source_new(c->in_fd, G_IO_IN | G_IO_HUP |
                                            G_IO_ERR);
        attach(c->in_source, client_readable, c, NULL);
    }
}

/* Write what is queued; close a client that was dropped or failed. */
static void client_flush(QmpClient *c)
{
    bool closed, resume;

    if (c->in_fd < 0) {
        return;                 /* already closed */
    }
    g_mutex_lock(&monitor_lock);
    while (c->out->len && !c->closed) {
        ssize_t n = write(c->out_fd, c->out->str, c->out->len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            if (!c->out_source) {
                c->out_source = g_unix_fd_source_new(c->out_fd, G_IO_OUT);
                attach(c->out_source, client_writable, c, NULL);
            }
            break;
        }
        if (n <= 0) {
            c->closed = true;
            break;
        }
        g_string_erase(c->out, 0, n);
    }
    closed = c->closed;
    resume = c->queued < CLIENT_QUEUE_MAX;
    g_mutex_unlock(&monitor_lock);
    if (closed) {
        client_close(c);
    } else if (resume) {
        client_resume_input(c);
    }
}

/* Reply to a message that never reached a command. */
static void client_error(QmpClient *c, JsonNode *id, const char *desc)
{
    g_autoptr(JsonNode) reply = qmp_error_reply(id, "GenericError", desc);

    qmp_client_send(c, reply);
}

static void client_message(void *opaque, const char *text, size_t len)
{
    QmpClient *c = opaque;
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) err = NULL;
    JsonNode *root;

    if (!text) {
        client_error(c, NULL, "JSON message too large or too deeply nested "
                     "(at most 1 MiB and 1024 levels)");
        return;
    }
    parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, text, len, &err)) {
        g_autofree char *desc = g_strdup_printf("JSON parse error, %s",
                                                err->message);
        client_error(c, NULL, desc);
        return;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        client_error(c, NULL, "QMP input must be a JSON object");
        return;
    }
    g_mutex_lock(&monitor_lock);
    c->queued++;
    g_mutex_unlock(&monitor_lock);
    qmp_dispatch_request(c, root);
}

static gboolean client_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    QmpClient *c = opaque;
    char buf[4096];
    ssize_t n;
    bool pause;

    n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        g_clear_pointer(&c->in_source, g_source_unref);
        client_close(c);
        return G_SOURCE_REMOVE;
    }
    qmp_client_ref(c);
    json_stream_feed(&c->stream, buf, n);
    g_mutex_lock(&monitor_lock);
    pause = c->queued >= CLIENT_QUEUE_MAX && !c->closed;
    g_mutex_unlock(&monitor_lock);
    if (c->in_fd >= 0 && pause && c->in_source) {
        /* Wait for the main thread to catch up before reading more. */
        g_source_destroy(c->in_source);
        g_clear_pointer(&c->in_source, g_source_unref);
        qmp_client_unref(c);
        return G_SOURCE_REMOVE;
    }
    qmp_client_unref(c);
    return c->in_fd >= 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static JsonNode *greeting(void)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "QMP");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_value(b, qmp_version_info());
    json_builder_set_member_name(b, "capabilities");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static void client_new(Monitor *mon, int in_fd, int out_fd)
{
    QmpClient *c = g_new0(QmpClient, 1);
    g_autoptr(JsonNode) hello = greeting();

    c->refcount = 1;
    c->mon = mon;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->out = g_string_new(NULL);
    json_stream_init(&c->stream, client_message, c);
    g_mutex_lock(&monitor_lock);
    mon->client = c;
    queue_output_locked(c, hello);
    g_mutex_unlock(&monitor_lock);
    client_resume_input(c);
}

static gboolean monitor_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    Monitor *mon = opaque;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (cfd < 0) {
        return G_SOURCE_CONTINUE;
    }
    /* One client at a time: the next ones wait in the backlog. */
    g_clear_pointer(&mon->accept_source, g_source_unref);
    client_new(mon, cfd, cfd);
    return G_SOURCE_REMOVE;
}

static void monitor_accept_resume(Monitor *mon)
{
    mon->accept_source = g_unix_fd_source_new(mon->listen_fd, G_IO_IN);
    attach(mon->accept_source, monitor_accept, mon, NULL);
}

static gpointer monitor_thread(gpointer opaque)
{
    g_main_context_push_thread_default(mon_ctx);
    g_main_loop_run(mon_loop);
    g_main_context_pop_thread_default(mon_ctx);
    return NULL;
}

/* Set-up and tear-down, in the main thread. */

static Monitor *monitor_add(const char *label, int listen_fd)
{
    Monitor *mon = g_new0(Monitor, 1);

    mon->label = g_strdup(label);
    mon->listen_fd = listen_fd;
    if (!monitors) {
        monitors = g_ptr_array_new();
        mon_ctx = g_main_context_new();
        mon_loop = g_main_loop_new(mon_ctx, FALSE);
        qmp_schema_init();
    }
    g_mutex_lock(&monitor_lock);
    g_ptr_array_add(monitors, mon);
    g_mutex_unlock(&monitor_lock);
    return mon;
}

/* Accept the first client now, as wait=on asks. */
static bool wait_for_client(Monitor *mon, GError **errp)
{
    int cfd;

    info_report("QEMU waiting for connection on: disconnected:%s",
                mon->label);
    do {
        cfd = accept4(mon->listen_fd, NULL, NULL,
                      SOCK_CLOEXEC | SOCK_NONBLOCK);
    } while (cfd < 0 && errno == EINTR);
    if (cfd < 0) {
        error_setg_errno(errp, errno, "Failed to accept connection");
        return false;
    }
    client_new(mon, cfd, cfd);
    return true;
}

bool monitor_new_qmp_listener(int listen_fd, const char *label, bool wait,
                              GError **errp)
{
    Monitor *mon = monitor_add(label, listen_fd);

    return !wait || wait_for_client(mon, errp);
}

/* A description of the stdio fds of our own, non-blocking. */
static int reopen_stdio(int fd, int flags)
{
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
    int nfd = open(path, flags | O_NONBLOCK | O_CLOEXEC);

    return nfd >= 0 ? nfd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

void monitor_new_qmp_stdio(void)
{
    Monitor *mon = monitor_add("stdio", -1);

    client_new(mon, reopen_stdio(STDIN_FILENO, O_RDONLY),
               reopen_stdio(STDOUT_FILENO, O_WRONLY));
}

void monitor_start(void)
{
    if (!monitors) {
        return;
    }
    qmp_dispatch_init();
    for (guint i = 0; i < monitors->len; i++) {
        Monitor *mon = monitors->pdata[i];

        if (mon->listen_fd >= 0 && !mon->client) {
            monitor_accept_resume(mon);
        }
    }
    mon_thread = g_thread_new("IO monitor", monitor_thread, NULL);
}

/* In the monitor thread: done once every queue is written or dropped. */
static gboolean flush_all(gpointer opaque)
{
    gint64 *deadline = opaque;
    bool pending = false;

    mon_stopping = true;
    for (guint i = 0; i < monitors->len; i++) {
        Monitor *mon = monitors->pdata[i];

        if (mon->accept_source) {
            g_source_destroy(mon->accept_source);
            g_clear_pointer(&mon->accept_source, g_source_unref);
        }
        if (mon->client) {
            client_flush(mon->client);
        }
        g_mutex_lock(&monitor_lock);
        pending |= mon->client && mon->client->out->len;
        g_mutex_unlock(&monitor_lock);
    }
    if (!pending || g_get_monotonic_time() >= *deadline) {
        for (guint i = 0; i < monitors->len; i++) {
            Monitor *mon = monitors->pdata[i];
            if (mon->client) {
                client_close(mon->client);
            }
        }
        g_main_loop_quit(mon_loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void monitor_cleanup(void)
{
    gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
    GPtrArray *all;
    GSource *src;

    if (!monitors) {
        return;
    }
    if (mon_thread) {
        src = g_timeout_source_new(10);
        attach(src, flush_all, &deadline, NULL);
        g_source_unref(src);
        g_thread_join(mon_thread);
        mon_thread = NULL;
    }
    /* From here on events (from any thread) go nowhere. */
    g_mutex_lock(&monitor_lock);
    all = g_steal_pointer(&monitors);
    g_mutex_unlock(&monitor_lock);
    mon_stopping = true;
    for (guint i = 0; i < all->len; i++) {
        Monitor *mon = all->pdata[i];

        if (mon->client) {
            /* The thread never started: close in this thread. */
            client_close(mon->client);
        }
        if (mon->listen_fd >= 0) {
            close(mon->listen_fd);
        }
        g_free(mon->label);
        g_free(mon);
    }
    g_ptr_array_unref(all);
    qmp_dispatch_cleanup();
    g_clear_pointer(&mon_loop, g_main_loop_unref);
    g_clear_pointer(&mon_ctx, g_main_context_unref);
}
