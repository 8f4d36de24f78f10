/*
 * The QMP schema: loading, checking values against it, introspection.
 *
 * The schema file is compact (QAPI's conventions: "*name" is optional, [T]
 * an array of T, a command's "data" its arguments); introspection expands
 * it into SchemaInfo entries, naming the implicit argument objects
 * "NAME-arg" and the empty object "0" as QEMU does.
 *
 * A flat union ("unions") is an object whose "base" members always apply,
 * one of which, the "discriminator" (an enum), chooses the struct in
 * "data" whose members apply too.  It is introspected as QEMU does: an
 * object with the base's members, a "tag" and "variants".
 */
#include <string.h>

#include "monitor/qmp-schema.h"
#include "qemu/error-report.h"

extern const unsigned char qmp_schema_json[];
extern const size_t qmp_schema_json_size;

typedef struct Schema {
    JsonNode *root;
    JsonObject *enums, *structs, *unions, *commands, *events;
    GPtrArray *command_names;   /* sorted, NULL-terminated */
    JsonNode *introspection;
} Schema;

static Schema schema;

static const char *const builtins[][2] = {
    { "str", "string" }, { "int", "int" }, { "size", "int" },
    { "number", "number" }, { "bool", "boolean" }, { "null", "null" },
    { "any", "value" },
};

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void qmp_schema_init(void)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    JsonObject *top;
    GList *names;

    if (!json_parser_load_from_data(parser, (const char *)qmp_schema_json,
                                    qmp_schema_json_size, &err)) {
        g_error("qapi/qmp-schema.json: %s", err->message);
    }
    schema.root = json_node_ref(json_parser_get_root(parser));
    top = json_node_get_object(schema.root);
    schema.enums = json_object_get_object_member(top, "enums");
    schema.structs = json_object_get_object_member(top, "structs");
    schema.unions = json_object_get_object_member(top, "unions");
    schema.commands = json_object_get_object_member(top, "commands");
    schema.events = json_object_get_object_member(top, "events");

    schema.command_names = g_ptr_array_new();
    names = json_object_get_members(schema.commands);
    for (GList *l = names; l; l = l->next) {
        g_ptr_array_add(schema.command_names, l->data);
    }
    g_list_free(names);
    g_ptr_array_sort(schema.command_names, compare_names);
    g_ptr_array_add(schema.command_names, NULL);
}

bool qmp_schema_has_command(const char *name)
{
    return json_object_has_member(schema.commands, name);
}

const char *const *qmp_schema_command_names(void)
{
    return (const char *const *)schema.command_names->pdata;
}

/*
 * Checking.  A type reference is a JSON string (a builtin, enum, struct or
 * union name), a one-element array (an array of that type), or an object
 * (the members of an implicit struct).
 */
static bool check_value(JsonNode *type, JsonNode *value, const char *where,
                        GError **errp);

static const char *json_type_name(const char *builtin)
{
    for (size_t i = 0; i < G_N_ELEMENTS(builtins); i++) {
        if (!strcmp(builtins[i][0], builtin)) {
            return builtins[i][1];
        }
    }
    return NULL;
}

static bool type_error(const char *where, const char *expected, GError **errp)
{
    if (where) {
        error_setg(errp, "Invalid parameter type for '%s', expected: %s",
                   where, expected);
    } else {
        error_setg(errp, "Invalid parameter type, expected: %s", expected);
    }
    return false;
}

static bool check_builtin(const char *name, JsonNode *value,
                          const char *where, GError **errp)
{
    GType t = JSON_NODE_HOLDS_VALUE(value) ? json_node_get_value_type(value)
                                           : G_TYPE_INVALID;

    if (!strcmp(name, "any")) {
        return true;
    }
    if (!strcmp(name, "str")) {
        return t == G_TYPE_STRING || type_error(where, "string", errp);
    }
    if (!strcmp(name, "bool")) {
        return t == G_TYPE_BOOLEAN || type_error(where, "boolean", errp);
    }
    if (!strcmp(name, "int")) {
        return t == G_TYPE_INT64 || type_error(where, "integer", errp);
    }
    if (!strcmp(name, "size")) {
        if (t != G_TYPE_INT64 || json_node_get_int(value) < 0) {
            return type_error(where, "size", errp);
        }
        return true;
    }
    if (!strcmp(name, "number")) {
        return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE ||
               type_error(where, "number", errp);
    }
    if (!strcmp(name, "null")) {
        return JSON_NODE_HOLDS_NULL(value) || type_error(where, "null", errp);
    }
    g_assert_not_reached();
}

static bool check_enum(JsonArray *values, JsonNode *value, const char *where,
                       GError **errp)
{
    const char *s;

    if (!JSON_NODE_HOLDS_VALUE(value) ||
        json_node_get_value_type(value) != G_TYPE_STRING) {
        return type_error(where, "string", errp);
    }
    s = json_node_get_string(value);
    for (guint i = 0; i < json_array_get_length(values); i++) {
        if (!strcmp(json_array_get_string_element(values, i), s)) {
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'",
               where ? where : "value", s);
    return false;
}

static char *member_path(const char *where, const char *name)
{
    return where ? g_strdup_printf("%s.%s", where, name) : g_strdup(name);
}

static bool check_members(JsonObject *members, JsonNode *value,
                          const char *where, GError **errp)
{
    g_autoptr(GList) names = NULL;
    JsonObject *obj;

    if (!JSON_NODE_HOLDS_OBJECT(value)) {
        return type_error(where, "object", errp);
    }
    obj = json_node_get_object(value);
    names = json_object_get_members(members);
    for (GList *l = names; l; l = l->next) {
        const char *decl = l->data;
        bool optional = decl[0] == '*';
        const char *name = decl + optional;
        g_autofree char *path = member_path(where, name);
        JsonNode *member = json_object_get_member(obj, name);

        if (!member) {
            if (!optional) {
                error_setg(errp, "Parameter '%s' is missing", path);
                return false;
            }
            continue;
        }
        if (!check_value(json_object_get_member(members, decl), member, path,
                         errp)) {
            return false;
        }
    }
    g_list_free(g_steal_pointer(&names));
    names = json_object_get_members(obj);
    for (GList *l = names; l; l = l->next) {
        g_autofree char *opt = g_strconcat("*", (char *)l->data, NULL);

        if (!json_object_has_member(members, l->data) &&
            !json_object_has_member(members, opt)) {
            g_autofree char *path = member_path(where, l->data);
            error_setg(errp, "Parameter '%s' is unexpected", path);
            return false;
        }
    }
    return true;
}

/* A union's base: the members of a named struct, or inline ones. */
static JsonObject *union_base(JsonObject *u)
{
    JsonNode *base = json_object_get_member(u, "base");

    if (JSON_NODE_HOLDS_OBJECT(base)) {
        return json_node_get_object(base);
    }
    return json_object_get_object_member(schema.structs,
                                         json_node_get_string(base));
}

/* The discriminator's declaration in the base: required, an enum. */
static JsonNode *union_tag_type(JsonObject *u)
{
    const char *tag = json_object_get_string_member(u, "discriminator");
    JsonNode *type = json_object_get_member(union_base(u), tag);

    g_assert(type && JSON_NODE_HOLDS_VALUE(type) &&
             json_object_has_member(schema.enums, json_node_get_string(type)));
    return type;
}

/*
 * The base's members, then the variant's (if the tag's value has one): the
 * members a value of the union has, for that value of the tag.
 */
static JsonObject *union_members(JsonObject *u, const char *tag_value)
{
    JsonObject *members = json_object_new();
    JsonObject *variants = json_object_get_object_member(u, "data");
    JsonObject *parts[2] = { union_base(u), NULL };

    if (json_object_has_member(variants, tag_value)) {
        parts[1] = json_object_get_object_member(
            schema.structs,
            json_object_get_string_member(variants, tag_value));
    }
    for (size_t i = 0; i < G_N_ELEMENTS(parts) && parts[i]; i++) {
        g_autoptr(GList) names = json_object_get_members(parts[i]);

        for (GList *l = names; l; l = l->next) {
            json_object_set_member(members, l->data, json_node_copy(
                json_object_get_member(parts[i], l->data)));
        }
    }
    return members;
}

/* The tag first (it says which members apply), then all of them. */
static bool check_union(JsonObject *u, JsonNode *value, const char *where,
                        GError **errp)
{
    const char *tag = json_object_get_string_member(u, "discriminator");
    g_autofree char *path = member_path(where, tag);
    g_autoptr(JsonObject) members = NULL;
    JsonNode *tag_value;

    if (!JSON_NODE_HOLDS_OBJECT(value)) {
        return type_error(where, "object", errp);
    }
    tag_value = json_object_get_member(json_node_get_object(value), tag);
    if (!tag_value) {
        error_setg(errp, "Parameter '%s' is missing", path);
        return false;
    }
    if (!check_value(union_tag_type(u), tag_value, path, errp)) {
        return false;
    }
    members = union_members(u, json_node_get_string(tag_value));
    return check_members(members, value, where, errp);
}

static bool check_value(JsonNode *type, JsonNode *value, const char *where,
                        GError **errp)
{
    const char *name;

    if (JSON_NODE_HOLDS_ARRAY(type)) {
        JsonNode *element = json_array_get_element(json_node_get_array(type),
                                                   0);
        JsonArray *arr;

        if (!JSON_NODE_HOLDS_ARRAY(value)) {
            return type_error(where, "array", errp);
        }
        arr = json_node_get_array(value);
        for (guint i = 0; i < json_array_get_length(arr); i++) {
            g_autofree char *path = g_strdup_printf("%s[%u]",
                                                    where ? where : "", i);
            if (!check_value(element, json_array_get_element(arr, i), path,
                             errp)) {
                return false;
            }
        }
        return true;
    }
    if (JSON_NODE_HOLDS_OBJECT(type)) {
        return check_members(json_node_get_object(type), value, where, errp);
    }
    name = json_node_get_string(type);
    if (json_type_name(name)) {
        return check_builtin(name, value, where, errp);
    }
    if (json_object_has_member(schema.enums, name)) {
        return check_enum(json_object_get_array_member(schema.enums, name),
                          value, where, errp);
    }
    if (json_object_has_member(schema.unions, name)) {
        return check_union(json_object_get_object_member(schema.unions, name),
                           value, where, errp);
    }
    g_assert(json_object_has_member(schema.structs, name));
    return check_members(json_object_get_object_member(schema.structs, name),
                         value, where, errp);
}

static JsonObject *command(const char *name)
{
    return json_object_get_object_member(schema.commands, name);
}

bool qmp_schema_check_args(const char *cmd, JsonObject *args, GError **errp)
{
    JsonNode *data = json_object_get_member(command(cmd), "data");
    g_autoptr(JsonObject) none = json_object_new();
    g_autoptr(JsonNode) value = json_node_new(JSON_NODE_OBJECT);
    g_autoptr(JsonNode) empty = json_node_new(JSON_NODE_OBJECT);

    json_node_set_object(value, args ? args : none);
    json_node_set_object(empty, none);
    return check_value(data ? data : empty, value, NULL, errp);
}

bool qmp_schema_check_return(const char *cmd, JsonNode *ret, GError **errp)
{
    JsonNode *returns = json_object_get_member(command(cmd), "returns");

    if (!returns) {
        if (!JSON_NODE_HOLDS_OBJECT(ret) ||
            json_object_get_size(json_node_get_object(ret))) {
            error_setg(errp, "the reply is not an empty object");
            return false;
        }
        return true;
    }
    return check_value(returns, ret, "return", errp);
}

bool qmp_schema_check_event(const char *event, JsonObject *data, GError **errp)
{
    JsonNode *members = json_object_get_member(schema.events, event);
    g_autoptr(JsonNode) value = NULL;

    if (!members) {
        error_setg(errp, "event %s is not in the schema", event);
        return false;
    }
    value = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(value, data);
    return check_value(members, value, "data", errp);
}

/* Introspection: the schema as SchemaInfo entries. */

typedef struct Introspection {
    JsonArray *entries;
    GHashTable *done;           /* type names already entered */
} Introspection;

static const char *enter_type(Introspection *in, JsonNode *type,
                              const char *implicit_name);

static JsonObject *new_entry(Introspection *in, const char *name,
                             const char *meta_type)
{
    JsonObject *e = json_object_new();

    json_object_set_string_member(e, "name", name);
    json_object_set_string_member(e, "meta-type", meta_type);
    json_array_add_object_element(in->entries, e);
    g_hash_table_add(in->done, g_strdup(name));
    return e;
}

/*
 * The "members" of entry e (an object named name): members' declarations,
 * entering their types.
 */
static void enter_members(Introspection *in, JsonObject *e, const char *name,
                          JsonObject *members)
{
    JsonArray *list = json_array_new();
    g_autoptr(GList) names = NULL;

    json_object_set_array_member(e, "members", list);
    if (!members) {
        return;
    }
    names = json_object_get_members(members);
    for (GList *l = names; l; l = l->next) {
        const char *decl = l->data;
        bool optional = decl[0] == '*';
        g_autofree char *implicit = g_strdup_printf("%s-%s", name,
                                                    decl + optional);
        JsonObject *m = json_object_new();
        const char *type = enter_type(in, json_object_get_member(members,
                                                                 decl),
                                      implicit);

        json_object_set_string_member(m, "name", decl + optional);
        json_object_set_string_member(m, "type", type);
        if (optional) {
            json_object_set_null_member(m, "default");
        }
        json_array_add_object_element(list, m);
    }
}

static void enter_object(Introspection *in, const char *name,
                         JsonObject *members)
{
    enter_members(in, new_entry(in, name, "object"), name, members);
}

/* A flat union: the base's members, the tag, and a type per variant. */
static void enter_union(Introspection *in, const char *name, JsonObject *u)
{
    JsonObject *e = new_entry(in, name, "object");
    JsonObject *data = json_object_get_object_member(u, "data");
    g_autoptr(GList) cases = json_object_get_members(data);
    JsonArray *variants = json_array_new();

    enter_members(in, e, name, union_base(u));
    json_object_set_string_member(e, "tag",
        json_object_get_string_member(u, "discriminator"));
    for (GList *l = cases; l; l = l->next) {
        JsonObject *v = json_object_new();

        json_object_set_string_member(v, "case", l->data);
        json_object_set_string_member(v, "type", enter_type(
            in, json_object_get_member(data, l->data), NULL));
        json_array_add_object_element(variants, v);
    }
    json_object_set_array_member(e, "variants", variants);
}

/* Enter a type (and what it refers to) once; returns its name. */
static const char *enter_type(Introspection *in, JsonNode *type,
                              const char *implicit_name)
{
    const char *name;
    char *key;

    if (JSON_NODE_HOLDS_OBJECT(type)) {
        enter_object(in, implicit_name, json_node_get_object(type));
        return g_hash_table_lookup(in->done, implicit_name);
    }
    if (JSON_NODE_HOLDS_ARRAY(type)) {
        JsonNode *el = json_array_get_element(json_node_get_array(type), 0);
        g_autofree char *elname = g_strdup(enter_type(in, el, implicit_name));
        g_autofree char *arrname = g_strdup_printf("[%s]", elname);

        if (!g_hash_table_contains(in->done, arrname)) {
            JsonObject *e = new_entry(in, arrname, "array");
            json_object_set_string_member(e, "element-type", elname);
        }
        return g_hash_table_lookup(in->done, arrname);
    }
    name = json_node_get_string(type);
    key = g_hash_table_lookup(in->done, name);
    if (key) {
        return key;
    }
    if (json_type_name(name)) {
        JsonObject *e = new_entry(in, name, "builtin");
        json_object_set_string_member(e, "json-type", json_type_name(name));
    } else if (json_object_has_member(schema.enums, name)) {
        JsonArray *values = json_object_get_array_member(schema.enums, name);
        JsonObject *e = new_entry(in, name, "enum");
        JsonArray *members = json_array_new();

        json_object_set_array_member(e, "values", json_array_ref(values));
        for (guint i = 0; i < json_array_get_length(values); i++) {
            JsonObject *m = json_object_new();
            json_object_set_string_member(
                m, "name", json_array_get_string_element(values, i));
            json_array_add_object_element(members, m);
        }
        json_object_set_array_member(e, "members", members);
    } else if (json_object_has_member(schema.unions, name)) {
        enter_union(in, name,
                    json_object_get_object_member(schema.unions, name));
    } else {
        enter_object(in, name,
                     json_object_get_object_member(schema.structs, name));
    }
    return g_hash_table_lookup(in->done, name);
}

static void enter_commands_and_events(Introspection *in)
{
    g_autoptr(JsonNode) empty = json_node_new(JSON_NODE_OBJECT);
    const char *const *cmds = qmp_schema_command_names();
    g_autoptr(GList) events = json_object_get_members(schema.events);

    json_node_take_object(empty, json_object_new());
    enter_type(in, empty, "0");
    for (; *cmds; cmds++) {
        JsonObject *c = command(*cmds);
        g_autofree char *argname = g_strdup_printf("%s-arg", *cmds);
        g_autofree char *retname = g_strdup_printf("%s-ret", *cmds);
        JsonNode *data = json_object_get_member(c, "data");
        JsonNode *ret = json_object_get_member(c, "returns");
        const char *arg_type = data ? enter_type(in, data, argname) : "0";
        const char *ret_type = ret ? enter_type(in, ret, retname) : "0";
        JsonObject *e = new_entry(in, *cmds, "command");

        json_object_set_string_member(e, "arg-type", arg_type);
        json_object_set_string_member(e, "ret-type", ret_type);
        json_object_set_boolean_member(e, "allow-oob", false);
    }
    for (GList *l = events; l; l = l->next) {
        g_autofree char *argname = g_strdup_printf("%s-arg",
                                                   (char *)l->data);
        JsonNode *data = json_object_get_member(schema.events, l->data);
        const char *arg_type =
            json_object_get_size(json_node_get_object(data))
                ? enter_type(in, data, argname) : "0";
        JsonObject *e = new_entry(in, l->data, "event");

        json_object_set_string_member(e, "arg-type", arg_type);
    }
}

JsonNode *qmp_schema_introspect(void)
{
    if (g_once_init_enter(&schema.introspection)) {
        Introspection in = {
            .entries = json_array_new(),
            .done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          NULL),
        };
        JsonNode *node;

        enter_commands_and_events(&in);
        node = json_node_init_array(json_node_alloc(), in.entries);
        json_array_unref(in.entries);
        g_hash_table_destroy(in.done);
        g_once_init_leave(&schema.introspection, node);
    }
    return json_node_ref(schema.introspection);
}
