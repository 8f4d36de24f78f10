/*
 * QMP's object-model commands over this VMM's objects.  There is no QOM
 * here; the tree QEMU's paths name is made from what exists:
 *
 *   /machine                       the pvh machine (or -machine none)
 *   /machine/cpu[N]                its vCPUs
 *   /machine/peripheral/ID         devices with an id
 *   /machine/peripheral-anon/device[N], /machine/unattached/device[N]
 *                                  user-creatable and built-in devices
 *                                  without an id (N counts each container)
 *   /machine/peripheral/ID/virtio-backend
 *                                  a virtio-blk-pci's virtio-blk-device, as
 *                                  QEMU names the device that holds the drive
 *                                  (query-block's "qdev"); one object here,
 *                                  so it has no property but "type"
 *   /objects/ID                    -object iothread
 *
 * A device's properties are its qdev properties, plus "type" and
 * "realized".  Main thread, BQL held.
 */
#include <string.h>

#include "hw/boards.h"
#include "hw/qdev-json.h"
#include "monitor/qmp.h"
#include "qemu/error-report.h"
#include "sysemu/iothread.h"
#include "sysemu/machine-opts.h"

typedef enum NodeKind {
    NODE_CONTAINER,
    NODE_MACHINE,
    NODE_CPU,
    NODE_DEVICE,
    NODE_VIRTIO_BACKEND,
    NODE_IOTHREAD,
} NodeKind;

typedef struct Node {
    NodeKind kind;
    const char *type;
    DeviceState *dev;
    const char *children;       /* NODE_CONTAINER: which */
} Node;

/* Children of a path: (name, node) pairs. */
typedef struct Children {
    GPtrArray *names;           /* of char *, owned */
    GArray *nodes;              /* of Node */
} Children;

static void add_child(Children *ch, char *name, Node node)
{
    g_ptr_array_add(ch->names, name);
    g_array_append_val(ch->nodes, node);
}

typedef struct DeviceWalk {
    Children *ch;
    const char *container;
    unsigned anon_n, unattached_n;
} DeviceWalk;

static void walk_device(DeviceState *dev, void *opaque)
{
    DeviceWalk *w = opaque;
    Node n = { .kind = NODE_DEVICE, .type = dev->klass->name, .dev = dev };

    if (dev->id) {
        if (!strcmp(w->container, "peripheral")) {
            add_child(w->ch, g_strdup(dev->id), n);
        }
    } else if (dev->klass->user_creatable) {
        unsigned i = w->anon_n++;
        if (!strcmp(w->container, "peripheral-anon")) {
            add_child(w->ch, g_strdup_printf("device[%u]", i), n);
        }
    } else {
        unsigned i = w->unattached_n++;
        if (!strcmp(w->container, "unattached")) {
            add_child(w->ch, g_strdup_printf("device[%u]", i), n);
        }
    }
}

static void walk_iothread(const IOThreadInfo *info, void *opaque)
{
    Node n = { .kind = NODE_IOTHREAD, .type = "iothread" };

    add_child(opaque, g_strdup(info->id), n);
}

static void list_children(const Node *parent, Children *ch)
{
    static const char *const containers[] = {
        "peripheral", "peripheral-anon", "unattached",
    };

    if (parent->kind == NODE_MACHINE) {
        for (size_t i = 0; i < G_N_ELEMENTS(containers); i++) {
            Node n = { .kind = NODE_CONTAINER, .type = "container",
                       .children = containers[i] };
            add_child(ch, g_strdup(containers[i]), n);
        }
        for (unsigned i = 0; current_machine && i < current_machine->smp_cpus;
             i++) {
            Node n = { .kind = NODE_CPU, .type = "host-x86_64-cpu" };
            add_child(ch, g_strdup_printf("cpu[%u]", i), n);
        }
    } else if (parent->kind == NODE_DEVICE &&
               !strcmp(parent->dev->klass->name, "virtio-blk-pci")) {
        Node n = { .kind = NODE_VIRTIO_BACKEND, .type = "virtio-blk-device" };
        add_child(ch, g_strdup("virtio-backend"), n);
    } else if (parent->kind == NODE_CONTAINER && !parent->children) {
        Node m = { .kind = NODE_MACHINE,
                   .type = machine_opts.none ? "none-machine" : "pvh-machine" };
        Node o = { .kind = NODE_CONTAINER, .type = "container",
                   .children = "objects" };
        add_child(ch, g_strdup("machine"), m);
        add_child(ch, g_strdup("objects"), o);
    } else if (parent->kind == NODE_CONTAINER &&
               !strcmp(parent->children, "objects")) {
        iothread_foreach(walk_iothread, ch);
    } else if (parent->kind == NODE_CONTAINER) {
        DeviceWalk w = { .ch = ch, .container = parent->children };
        qdev_foreach(walk_device, &w);
    }
}

static void children_init(Children *ch)
{
    ch->names = g_ptr_array_new_with_free_func(g_free);
    ch->nodes = g_array_new(FALSE, FALSE, sizeof(Node));
}

static void children_free(Children *ch)
{
    g_ptr_array_unref(ch->names);
    g_array_unref(ch->nodes);
}

/* Resolve an absolute path. */
static bool resolve(const char *path, Node *out, GError **errp)
{
    g_auto(GStrv) parts = NULL;
    Node n = { .kind = NODE_CONTAINER, .type = "container" };

    if (path[0] != '/') {
        error_setg(errp, "Device '%s' not found", path);
        return false;
    }
    parts = g_strsplit(path + 1, "/", -1);
    for (char **p = parts; *p; p++) {
        Children ch;
        bool found = false;

        if (!**p) {
            continue;
        }
        children_init(&ch);
        list_children(&n, &ch);
        for (guint i = 0; i < ch.names->len; i++) {
            if (!strcmp(ch.names->pdata[i], *p)) {
                n = g_array_index(ch.nodes, Node, i);
                found = true;
                break;
            }
        }
        children_free(&ch);
        if (!found) {
            g_set_error(errp, QMP_ERROR, QMP_ERROR_CLASS_DEVICE_NOT_FOUND,
                        "Device '%s' not found", path);
            return false;
        }
    }
    *out = n;
    return true;
}

static JsonObject *prop_info(const char *name, const char *type,
                             const char *desc, JsonNode *defval)
{
    JsonObject *p = json_object_new();

    json_object_set_string_member(p, "name", name);
    json_object_set_string_member(p, "type", type);
    if (desc) {
        json_object_set_string_member(p, "description", desc);
    }
    if (defval) {
        json_object_set_member(p, "default-value", defval);
    }
    return p;
}

static const char *const iothread_props[] = {
    "poll-max-ns", "poll-grow", "poll-shrink",
};

static JsonNode *qom_list(JsonObject *args, GError **errp)
{
    const char *path = qmp_arg_str(args, "path");
    JsonArray *list;
    Children ch;
    Node n;

    if (!resolve(path, &n, errp)) {
        return NULL;
    }
    list = json_array_new();
    json_array_add_object_element(list, prop_info("type", "string", NULL,
                                                  NULL));
    children_init(&ch);
    list_children(&n, &ch);
    for (guint i = 0; i < ch.names->len; i++) {
        g_autofree char *type = g_strdup_printf(
            "child<%s>", g_array_index(ch.nodes, Node, i).type);
        json_array_add_object_element(list, prop_info(ch.names->pdata[i],
                                                      type, NULL, NULL));
    }
    children_free(&ch);
    if (n.kind == NODE_DEVICE) {
        const DeviceClass *dc = n.dev->klass;

        json_array_add_object_element(list, prop_info("realized", "bool",
                                                      NULL, NULL));
        for (const Property *p = device_class_prop_next(&dc, NULL); p;
             p = device_class_prop_next(&dc, p)) {
            json_array_add_object_element(list, prop_info(p->name,
                                                          p->info->type,
                                                          NULL, NULL));
        }
    } else if (n.kind == NODE_IOTHREAD) {
        for (size_t i = 0; i < G_N_ELEMENTS(iothread_props); i++) {
            json_array_add_object_element(list, prop_info(iothread_props[i],
                                                          "int", NULL, NULL));
        }
    }
    return qmp_return_array(list);
}

static JsonNode *str_value(const char *s)
{
    JsonNode *v = json_node_new(JSON_NODE_VALUE);

    json_node_set_string(v, s);
    return v;
}

typedef struct IOThreadLookup {
    const char *id, *prop;
    JsonNode *value;
} IOThreadLookup;

static void iothread_get(const IOThreadInfo *info, void *opaque)
{
    IOThreadLookup *l = opaque;
    uint64_t v;

    if (strcmp(info->id, l->id)) {
        return;
    }
    v = !strcmp(l->prop, "poll-max-ns") ? info->poll_max_ns :
        !strcmp(l->prop, "poll-grow") ? info->poll_grow : info->poll_shrink;
    l->value = json_node_new(JSON_NODE_VALUE);
    json_node_set_int(l->value, v);
}

static JsonNode *qom_get(JsonObject *args, GError **errp)
{
    const char *path = qmp_arg_str(args, "path");
    const char *prop = qmp_arg_str(args, "property");
    Node n;

    if (!resolve(path, &n, errp)) {
        return NULL;
    }
    if (!strcmp(prop, "type")) {
        return str_value(n.type);
    }
    if (n.kind == NODE_DEVICE) {
        const DeviceClass *dc = n.dev->klass;

        if (!strcmp(prop, "realized")) {
            JsonNode *v = json_node_new(JSON_NODE_VALUE);
            json_node_set_boolean(v, n.dev->realized);
            return v;
        }
        for (const Property *p = device_class_prop_next(&dc, NULL); p;
             p = device_class_prop_next(&dc, p)) {
            if (!strcmp(p->name, prop)) {
                JsonNode *v = qdev_prop_get_json(n.dev, p);
                return v ? v : json_node_new(JSON_NODE_NULL);
            }
        }
    } else if (n.kind == NODE_IOTHREAD) {
        IOThreadLookup l = { .id = strrchr(path, '/') + 1, .prop = prop };

        for (size_t i = 0; i < G_N_ELEMENTS(iothread_props); i++) {
            if (!strcmp(iothread_props[i], prop)) {
                iothread_foreach(iothread_get, &l);
                return l.value;
            }
        }
    }
    error_setg(errp, "Property '%s.%s' not found", n.type, prop);
    return NULL;
}

/* The types: device classes, and the other kinds of object above. */
static const struct {
    const char *name, *parent;
    bool abstract;
} other_types[] = {
    { "object", NULL, true },
    { "device", "object", true },
    { "machine", "object", true },
    { "pvh-machine", "machine", false },
    { "none-machine", "machine", false },
    { "memory-backend", "object", true },
    { "memory-backend-ram", "memory-backend", false },
    { "memory-backend-file", "memory-backend", false },
    { "container", "object", false },
    { "iothread", "object", false },
    { "secret", "object", false },
    { "cpu", "device", true },
    { "host-x86_64-cpu", "cpu", false },
    { "max-x86_64-cpu", "cpu", false },
};

static const char *parent_of(const char *type)
{
    const DeviceClass *dc = device_class_find(type);

    if (dc) {
        return dc->parent ? dc->parent->name : "device";
    }
    for (size_t i = 0; i < G_N_ELEMENTS(other_types); i++) {
        if (!strcmp(other_types[i].name, type)) {
            return other_types[i].parent;
        }
    }
    return NULL;
}

static bool type_exists(const char *type)
{
    return device_class_find(type) || parent_of(type) ||
           !strcmp(type, "object");
}

static bool implements(const char *type, const char *ancestor)
{
    for (; type; type = parent_of(type)) {
        if (!strcmp(type, ancestor)) {
            return true;
        }
    }
    return false;
}

typedef struct TypeList {
    JsonArray *list;
    const char *implements;
    bool abstract;
} TypeList;

static void add_type(TypeList *t, const char *name, bool abstract)
{
    JsonObject *o;
    const char *parent = parent_of(name);

    if ((abstract && !t->abstract) ||
        (t->implements && !implements(name, t->implements))) {
        return;
    }
    o = json_object_new();
    json_object_set_string_member(o, "name", name);
    if (abstract) {
        json_object_set_boolean_member(o, "abstract", true);
    }
    if (parent) {
        json_object_set_string_member(o, "parent", parent);
    }
    json_array_add_object_element(t->list, o);
}

static void add_device_type(const DeviceClass *dc, void *opaque)
{
    add_type(opaque, dc->name, false);
}

static JsonNode *qom_list_types(JsonObject *args, GError **errp)
{
    TypeList t = {
        .list = json_array_new(),
        .implements = qmp_arg_str(args, "implements"),
        .abstract = qmp_arg_bool(args, "abstract", false),
    };

    for (size_t i = 0; i < G_N_ELEMENTS(other_types); i++) {
        add_type(&t, other_types[i].name, other_types[i].abstract);
    }
    device_class_foreach(add_device_type, &t);
    return qmp_return_array(t.list);
}

static JsonArray *device_props(const DeviceClass *dc)
{
    JsonArray *list = json_array_new();

    for (const Property *p = device_class_prop_next(&dc, NULL); p;
         p = device_class_prop_next(&dc, p)) {
        json_array_add_object_element(list, prop_info(
            p->name, p->info->type, p->desc, qdev_prop_default_json(p)));
    }
    return list;
}

static JsonNode *device_list_properties(JsonObject *args, GError **errp)
{
    const char *type = qmp_arg_str(args, "typename");
    const DeviceClass *dc = device_class_find(type);

    if (!dc) {
        if (type_exists(type) && implements(type, "device")) {
            error_setg(errp, "Parameter 'typename' expects a non-abstract "
                       "device type");
        } else {
            g_set_error(errp, QMP_ERROR, QMP_ERROR_CLASS_DEVICE_NOT_FOUND,
                        "Device '%s' not found", type);
        }
        return NULL;
    }
    return qmp_return_array(device_props(dc));
}

/*
 * What -machine (system/machine-opts.c) and -object memory-backend-*
 * (system/memory-backend.c) accept, besides "type".
 */
typedef struct PropName {
    const char *name, *type;
} PropName;

static const PropName machine_props[] = {
    { "usb", "bool" },
    { "dump-guest-core", "bool" },
    { "memory-backend", "string" },
};

static const PropName memory_backend_props[] = {
    { "size", "int" },
    { "share", "bool" },
    { "prealloc", "bool" },
    { "merge", "bool" },
    { "dump", "bool" },
};

static void add_props(JsonArray *list, const PropName *props, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_array_add_object_element(list, prop_info(props[i].name,
                                                      props[i].type, NULL,
                                                      NULL));
    }
}

static JsonNode *qom_list_properties(JsonObject *args, GError **errp)
{
    const char *type = qmp_arg_str(args, "typename");
    const DeviceClass *dc = device_class_find(type);
    JsonArray *list;

    if (dc) {
        return qmp_return_array(device_props(dc));
    }
    if (!type_exists(type)) {
        g_set_error(errp, QMP_ERROR, QMP_ERROR_CLASS_DEVICE_NOT_FOUND,
                    "Class '%s' not found", type);
        return NULL;
    }
    list = json_array_new();
    json_array_add_object_element(list, prop_info("type", "string", NULL,
                                                  NULL));
    if (!strcmp(type, "iothread")) {
        for (size_t i = 0; i < G_N_ELEMENTS(iothread_props); i++) {
            json_array_add_object_element(list, prop_info(iothread_props[i],
                                                          "int", NULL, NULL));
        }
    } else if (implements(type, "machine")) {
        add_props(list, machine_props, G_N_ELEMENTS(machine_props));
    } else if (implements(type, "memory-backend")) {
        add_props(list, memory_backend_props,
                  G_N_ELEMENTS(memory_backend_props));
        if (!strcmp(type, "memory-backend-file")) {
            json_array_add_object_element(list, prop_info("mem-path",
                                                          "string", NULL,
                                                          NULL));
        }
    }
    return qmp_return_array(list);
}

static const QmpCommand qom_commands[] = {
    { "qom-list", qom_list },
    { "qom-get", qom_get },
    { "qom-list-types", qom_list_types },
    { "device-list-properties", device_list_properties },
    { "qom-list-properties", qom_list_properties },
};
QMP_COMMANDS_REGISTER(qom_commands)
