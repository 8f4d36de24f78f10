/*
 * Running QMP commands: requests are queued by the monitor thread and run
 * in the main thread with the BQL held, in the order each client sent
 * them; arguments and replies are checked against the schema.
 */
#include <string.h>

#include "monitor/monitor-internal.h"
#include "monitor/qmp-schema.h"
#include "monitor/qmp.h"
#include "qemu/error-report.h"

G_DEFINE_QUARK(qmp-error-quark, qmp_error)

typedef struct Request {
    QmpClient *client;
    JsonNode *msg;
} Request;

static GHashTable *commands;    /* name -> QmpCommand, from constructors */
static GMutex queue_lock;
static GQueue queue = G_QUEUE_INIT;     /* of Request, under queue_lock */
static bool run_scheduled;              /* under queue_lock */

void qmp_command_register(const QmpCommand *cmd)
{
    if (!commands) {
        commands = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_hash_table_insert(commands, (gpointer)cmd->name, (gpointer)cmd);
}

/* Main thread: every command in the schema has a handler, and back. */
void qmp_dispatch_init(void)
{
    const char *const *names = qmp_schema_command_names();
    GHashTableIter it;
    gpointer key;

    for (; *names; names++) {
        if (!strcmp(*names, "qmp_capabilities")) {
            continue;
        }
        if (!commands || !g_hash_table_contains(commands, *names)) {
            g_error("QMP command %s has no handler", *names);
        }
    }
    g_hash_table_iter_init(&it, commands);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!qmp_schema_has_command(key)) {
            g_error("QMP command %s is not in the schema", (char *)key);
        }
    }
}

void qmp_dispatch_cleanup(void)
{
    Request *r;

    g_mutex_lock(&queue_lock);
    while ((r = g_queue_pop_head(&queue))) {
        qmp_client_unref(r->client);
        json_node_unref(r->msg);
        g_free(r);
    }
    g_mutex_unlock(&queue_lock);
}

const char *qmp_error_class_name(const GError *err)
{
    static const char *const names[] = {
        [QMP_ERROR_CLASS_GENERIC_ERROR] = "GenericError",
        [QMP_ERROR_CLASS_COMMAND_NOT_FOUND] = "CommandNotFound",
        [QMP_ERROR_CLASS_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
        [QMP_ERROR_CLASS_DEVICE_NOT_FOUND] = "DeviceNotFound",
        [QMP_ERROR_CLASS_KVM_MISSING_CAP] = "KVMMissingCap",
    };

    if (err->domain == QMP_ERROR && err->code >= 0 &&
        err->code < (int)G_N_ELEMENTS(names)) {
        return names[err->code];
    }
    return "GenericError";
}

static void set_id(JsonObject *reply, JsonNode *id)
{
    if (id) {
        json_object_set_member(reply, "id", json_node_copy(id));
    }
}

JsonNode *qmp_error_reply(JsonNode *id, const char *klass, const char *desc)
{
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);
    JsonObject *reply = json_object_new();
    JsonObject *error = json_object_new();

    json_object_set_string_member(error, "class", klass);
    json_object_set_string_member(error, "desc", desc);
    json_object_set_object_member(reply, "error", error);
    set_id(reply, id);
    json_node_take_object(node, reply);
    return node;
}

static JsonNode *error_reply(JsonNode *id, GError *err)
{
    return qmp_error_reply(id, qmp_error_class_name(err), err->message);
}

static JsonNode *capabilities(QmpClient *c, JsonObject *args, GError **errp)
{
    JsonArray *enable = args && json_object_has_member(args, "enable")
        ? json_object_get_array_member(args, "enable") : NULL;

    if (qmp_client_in_command_mode(c)) {
        g_set_error(errp, QMP_ERROR, QMP_ERROR_CLASS_COMMAND_NOT_FOUND,
                    "Capabilities negotiation is already complete, command "
                    "ignored");
        return NULL;
    }
    if (enable && json_array_get_length(enable)) {
        error_setg(errp, "Capability '%s' not available",
                   json_array_get_string_element(enable, 0));
        return NULL;
    }
    qmp_client_negotiate(c);
    return qmp_return_empty();
}

/* The checks QMP's specification asks of a command message. */
static bool check_message(JsonObject *msg, const char **name,
                          JsonObject **args, GError **errp)
{
    g_autoptr(GList) members = json_object_get_members(msg);
    JsonNode *exec = json_object_get_member(msg, "execute");
    JsonNode *arguments = json_object_get_member(msg, "arguments");

    for (GList *l = members; l; l = l->next) {
        const char *m = l->data;

        if (!strcmp(m, "exec-oob")) {
            error_setg(errp, "QMP input member 'exec-oob' is unexpected: "
                       "out-of-band execution is not available");
            return false;
        }
        if (strcmp(m, "execute") && strcmp(m, "arguments") &&
            strcmp(m, "id")) {
            error_setg(errp, "QMP input member '%s' is unexpected", m);
            return false;
        }
    }
    if (!exec) {
        error_setg(errp, "QMP input lacks member 'execute'");
        return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(exec) ||
        json_node_get_value_type(exec) != G_TYPE_STRING) {
        error_setg(errp, "QMP input member 'execute' must be a string");
        return false;
    }
    if (arguments && !JSON_NODE_HOLDS_OBJECT(arguments)) {
        error_setg(errp, "QMP input member 'arguments' must be an object");
        return false;
    }
    *name = json_node_get_string(exec);
    *args = arguments ? json_node_get_object(arguments) : NULL;
    return true;
}

static JsonNode *run(QmpClient *c, JsonObject *msg, GError **errp)
{
    const QmpCommand *cmd;
    const char *name;
    JsonObject *args;
    JsonNode *ret;
    g_autoptr(GError) err = NULL;

    if (!check_message(msg, &name, &args, errp)) {
        return NULL;
    }
    if (!qmp_client_in_command_mode(c) && strcmp(name, "qmp_capabilities")) {
        g_set_error(errp, QMP_ERROR, QMP_ERROR_CLASS_COMMAND_NOT_FOUND,
                    "Expecting capabilities negotiation with "
                    "'qmp_capabilities'");
        return NULL;
    }
    if (!qmp_schema_has_command(name)) {
        g_set_error(errp, QMP_ERROR, QMP_ERROR_CLASS_COMMAND_NOT_FOUND,
                    "The command %s has not been found", name);
        return NULL;
    }
    if (!qmp_schema_check_args(name, args, errp)) {
        return NULL;
    }
    if (!strcmp(name, "qmp_capabilities")) {
        return capabilities(c, args, errp);
    }
    cmd = g_hash_table_lookup(commands, name);
    ret = cmd->fn(args, errp);
    if (ret && !qmp_schema_check_return(name, ret, &err)) {
        /* A bug here, not the client's: say so rather than lie. */
        warn_report("QMP command %s: reply does not match the schema: %s",
                    name, err->message);
        error_setg(errp, "internal error: the reply of %s does not match "
                   "the schema", name);
        json_node_unref(ret);
        return NULL;
    }
    return ret;
}

static void answer(Request *r)
{
    JsonObject *msg = json_node_get_object(r->msg);
    JsonNode *id = json_object_get_member(msg, "id");
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonNode) ret = run(r->client, msg, &err);
    g_autoptr(JsonNode) reply = NULL;

    if (ret) {
        JsonObject *obj = json_object_new();

        json_object_set_member(obj, "return", json_node_ref(ret));
        set_id(obj, id);
        reply = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(reply, obj);
    } else {
        reply = error_reply(id, err);
    }
    qmp_client_send(r->client, reply);
    qmp_client_request_done(r->client);
}

/* Main thread, BQL held (a main-loop callback). */
static gboolean run_queue(gpointer opaque)
{
    Request *r;

    for (;;) {
        g_mutex_lock(&queue_lock);
        r = g_queue_pop_head(&queue);
        if (!r) {
            run_scheduled = false;
        }
        g_mutex_unlock(&queue_lock);
        if (!r) {
            return G_SOURCE_REMOVE;
        }
        answer(r);
        qmp_client_unref(r->client);
        json_node_unref(r->msg);
        g_free(r);
    }
}

void qmp_dispatch_request(QmpClient *c, JsonNode *msg)
{
    Request *r = g_new(Request, 1);

    r->client = qmp_client_ref(c);
    r->msg = json_node_ref(msg);
    g_mutex_lock(&queue_lock);
    g_queue_push_tail(&queue, r);
    if (!run_scheduled) {
        GSource *src = g_idle_source_new();

        run_scheduled = true;
        g_source_set_callback(src, run_queue, NULL, NULL);
        g_source_attach(src, NULL);
        g_source_unref(src);
    }
    g_mutex_unlock(&queue_lock);
}

JsonNode *qmp_return_empty(void)
{
    return qmp_return_object(json_object_new());
}

JsonNode *qmp_return_object(JsonObject *obj)
{
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(node, obj);
    return node;
}

JsonNode *qmp_return_array(JsonArray *arr)
{
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);

    json_node_take_array(node, arr);
    return node;
}

const char *qmp_arg_str(JsonObject *args, const char *name)
{
    return args && json_object_has_member(args, name)
        ? json_object_get_string_member(args, name) : NULL;
}

bool qmp_arg_bool(JsonObject *args, const char *name, bool def)
{
    return args && json_object_has_member(args, name)
        ? json_object_get_boolean_member(args, name) : def;
}

gint64 qmp_arg_int(JsonObject *args, const char *name, gint64 def)
{
    return args && json_object_has_member(args, name)
        ? json_object_get_int_member(args, name) : def;
}
