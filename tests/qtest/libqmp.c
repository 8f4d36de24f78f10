/*
 * libqmp: a test's QMP client.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libqmp.h"

#define QMP_REPLY_TIMEOUT_MS    30000

struct QmpTestClient {
    int fd;
    GString *rx;
    GQueue events;              /* of JsonObject */
    JsonObject *greeting;
};

int qmp_client_fd(QmpTestClient *c)
{
    return c->fd;
}

JsonObject *qmp_client_greeting(QmpTestClient *c)
{
    return c->greeting;
}

/* The next line as a JSON object, or NULL at end of file. */
static JsonObject *read_message(QmpTestClient *c)
{
    gint64 deadline = g_get_monotonic_time() +
                      QMP_REPLY_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

    for (;;) {
        char *nl = memchr(c->rx->str, '\n', c->rx->len);
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        char buf[65536];
        ssize_t n;
        int left;

        if (nl) {
            g_autoptr(JsonParser) p = json_parser_new();
            g_autoptr(GError) err = NULL;
            size_t len = nl - c->rx->str + 1;
            g_autofree char *line = g_strndup(c->rx->str, len);

            g_string_erase(c->rx, 0, len);
            if (!json_parser_load_from_data(p, line, -1, &err) ||
                !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
                g_error("QMP: not a JSON object: %s", line);
            }
            return json_object_ref(json_node_get_object(
                json_parser_get_root(p)));
        }
        left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0 || poll(&pfd, 1, left) == 0) {
            g_error("QMP: no message within %d s", QMP_REPLY_TIMEOUT_MS / 1000);
        }
        n = read(c->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(c->rx, buf, n);
    }
}

JsonObject *qmp_client_receive(QmpTestClient *c)
{
    JsonObject *msg;

    while ((msg = read_message(c)) && json_object_has_member(msg, "event")) {
        g_queue_push_tail(&c->events, msg);
    }
    return msg;
}

void qmp_client_send_raw(QmpTestClient *c, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = write(c->fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        g_assert_cmpint(n, >, 0);
        p += n;
        len -= n;
    }
}

JsonObject *qmp_client_cmd(QmpTestClient *c, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    JsonObject *reply;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_strdelimit(cmd, "'", '"');
    qmp_client_send_raw(c, cmd, strlen(cmd));
    qmp_client_send_raw(c, "\n", 1);
    reply = qmp_client_receive(c);
    if (!reply) {
        g_error("QMP: the VMM closed the connection after %s", cmd);
    }
    return reply;
}

JsonObject *qmp_client_event_wait(QmpTestClient *c, const char *event)
{
    for (;;) {
        JsonObject *msg = g_queue_pop_head(&c->events);

        if (!msg) {
            msg = read_message(c);
            if (!msg) {
                g_error("QMP: connection closed while waiting for %s", event);
            }
            if (!json_object_has_member(msg, "event")) {
                g_error("QMP: a reply while waiting for event %s", event);
            }
        }
        if (!strcmp(json_object_get_string_member(msg, "event"), event)) {
            return msg;
        }
        json_object_unref(msg);
    }
}

GPtrArray *qmp_client_events(QmpTestClient *c)
{
    GPtrArray *list = g_ptr_array_new_with_free_func(
        (GDestroyNotify)json_object_unref);

    for (GList *l = c->events.head; l; l = l->next) {
        g_ptr_array_add(list, json_object_ref(l->data));
    }
    return list;
}

QmpTestClient *qmp_client_connect(const char *path, bool raw)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    QmpTestClient *c = g_new0(QmpTestClient, 1);

    g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(c->fd, >=, 0);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        g_error("QMP: cannot connect to %s: %s", path, g_strerror(errno));
    }
    c->rx = g_string_new(NULL);
    g_queue_init(&c->events);
    c->greeting = read_message(c);
    g_assert(c->greeting);
    g_assert(json_object_has_member(c->greeting, "QMP"));
    if (!raw) {
        g_autoptr(JsonObject) r = qmp_client_cmd(c, "{'execute': "
                                                 "'qmp_capabilities'}");
        qmp_reply_return(r);
    }
    return c;
}

void qmp_client_close(QmpTestClient *c)
{
    close(c->fd);
    g_string_free(c->rx, TRUE);
    g_queue_clear_full(&c->events, (GDestroyNotify)json_object_unref);
    json_object_unref(c->greeting);
    g_free(c);
}

JsonNode *qmp_reply_return(JsonObject *reply)
{
    if (!json_object_has_member(reply, "return")) {
        g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
        g_autofree char *text = NULL;

        json_node_set_object(n, reply);
        text = json_to_string(n, FALSE);
        g_error("QMP: expected success, got %s", text);
    }
    return json_object_get_member(reply, "return");
}

static JsonObject *error_of(JsonObject *reply)
{
    if (!json_object_has_member(reply, "error")) {
        g_error("QMP: expected an error reply");
    }
    return json_object_get_object_member(reply, "error");
}

const char *qmp_reply_error_class(JsonObject *reply)
{
    return json_object_get_string_member(error_of(reply), "class");
}

const char *qmp_reply_error_desc(JsonObject *reply)
{
    return json_object_get_string_member(error_of(reply), "desc");
}

JsonObject *qmp_find_by(JsonArray *array, const char *member,
                        const char *value)
{
    for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonObject *o = json_array_get_object_element(array, i);

        if (!g_strcmp0(json_object_get_string_member_with_default(
                           o, member, NULL), value)) {
            return o;
        }
    }
    return NULL;
}

JsonObject *qmp_blockstats_only(JsonObject *reply, const char *device,
                                const char *qdev)
{
    JsonArray *list = json_node_get_array(qmp_reply_return(reply));
    JsonObject *entry;

    g_assert_cmpuint(json_array_get_length(list), ==, 1);
    entry = json_array_get_object_element(list, 0);
    g_assert_cmpstr(json_object_get_string_member(entry, "device"), ==,
                    device);
    if (qdev) {
        g_assert_cmpstr(json_object_get_string_member(entry, "qdev"), ==,
                        qdev);
    }
    g_assert_true(json_object_has_member(entry, "stats"));
    return entry;
}
