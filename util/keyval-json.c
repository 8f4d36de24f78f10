/*
 * QEMU's JSON syntax for -device, -object and -blockdev, read into QemuOpts;
 * also blockdev-add's arguments, which are -blockdev's.
 */
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "qemu/error-report.h"
#include "qemu/keyval-json.h"

static bool add_object(QemuOpts *opts, const char *prefix, JsonObject *obj,
                       GError **errp);

/* A member of an object: key=value, or its own members as key.name=. */
static bool add_member(QemuOpts *opts, const char *key, JsonNode *node,
                       GError **errp)
{
    char num[G_ASCII_DTOSTR_BUF_SIZE];

    if (JSON_NODE_HOLDS_OBJECT(node)) {
        g_autofree char *prefix = g_strconcat(key, ".", NULL);

        return add_object(opts, prefix, json_node_get_object(node), errp);
    }
    if (!JSON_NODE_HOLDS_VALUE(node)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: a "
                   "string, number or boolean", key);
        return false;
    }
    switch (json_node_get_value_type(node)) {
    case G_TYPE_BOOLEAN:
        qemu_opt_set(opts, key, json_node_get_boolean(node) ? "on" : "off");
        break;
    case G_TYPE_INT64:
        g_snprintf(num, sizeof(num), "%" PRId64, json_node_get_int(node));
        qemu_opt_set(opts, key, num);
        break;
    case G_TYPE_DOUBLE:
        qemu_opt_set(opts, key, g_ascii_dtostr(num, sizeof(num),
                                               json_node_get_double(node)));
        break;
    default:
        qemu_opt_set(opts, key, json_node_get_string(node));
        break;
    }
    return true;
}

/* The members of obj, in their order, their keys prefixed. */
static bool add_object(QemuOpts *opts, const char *prefix, JsonObject *obj,
                       GError **errp)
{
    g_autoptr(GList) members = json_object_get_members(obj);

    for (GList *l = members; l; l = l->next) {
        g_autofree char *key = g_strconcat(prefix, l->data, NULL);

        if (!add_member(opts, key, json_object_get_member(obj, l->data),
                        errp)) {
            return false;
        }
    }
    return true;
}

QemuOpts *qemu_opts_from_json(const char *json, GError **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(parser, json, -1, &err)) {
        /* json-glib says "<data>:LINE:COLUMN: Parse error: what". */
        const char *what = strstr(err->message, "Parse error: ");
        unsigned line, column;

        if (what && sscanf(err->message, "<data>:%u:%u:", &line,
                           &column) == 2) {
            error_setg(errp, "JSON parse error at character %u, %s", column,
                       what + strlen("Parse error: "));
        } else {
            error_setg(errp, "JSON parse error, %s", err->message);
        }
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        error_setg(errp, "JSON parse error, expected an object");
        return NULL;
    }
    return qemu_opts_from_json_object(json_node_get_object(root), errp);
}

QemuOpts *qemu_opts_from_json_object(JsonObject *obj, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_new();

    if (!add_object(opts, "", obj, errp)) {
        return NULL;
    }
    return g_steal_pointer(&opts);
}

QemuOpts *qemu_opts_parse_dict(const char *params, const char *implied_key,
                               GError **errp)
{
    if (params[0] == '{') {
        return qemu_opts_from_json(params, errp);
    }
    return qemu_opts_parse(params, implied_key, errp);
}
