/*
 * Devices: types, instances, -device.
 */
#include <stdio.h>
#include <string.h>

#include "hw/qdev.h"
#include "qemu/error-report.h"

static GPtrArray *device_classes;
static GPtrArray *devices;      /* realized, in creation order */

void device_class_register(const DeviceClass *dc)
{
    if (!device_classes) {
        device_classes = g_ptr_array_new();
    }
    g_ptr_array_add(device_classes, (gpointer)dc);
}

const DeviceClass *device_class_find(const char *name)
{
    for (guint i = 0; device_classes && i < device_classes->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(device_classes, i);
        if (!strcmp(dc->name, name)) {
            return dc;
        }
    }
    return NULL;
}

bool device_class_is_a(const DeviceClass *dc, const DeviceClass *ancestor)
{
    for (; dc; dc = dc->parent) {
        if (dc == ancestor) {
            return true;
        }
    }
    return false;
}

void device_class_foreach(void (*fn)(const DeviceClass *dc, void *opaque),
                          void *opaque)
{
    for (guint i = 0; device_classes && i < device_classes->len; i++) {
        fn(g_ptr_array_index(device_classes, i), opaque);
    }
}

const Property *device_class_prop_next(const DeviceClass **dc,
                                       const Property *prop)
{
    prop = prop ? prop + 1 : (*dc)->props;
    while (!prop || !prop->name) {
        *dc = (*dc)->parent;
        if (!*dc) {
            return NULL;
        }
        prop = (*dc)->props;
    }
    return prop;
}

void qdev_foreach(void (*fn)(DeviceState *dev, void *opaque), void *opaque)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        fn(g_ptr_array_index(devices, i), opaque);
    }
}

DeviceState *qdev_find_by_id(const char *id)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *dev = g_ptr_array_index(devices, i);

        if (dev->id && !strcmp(dev->id, id)) {
            return dev;
        }
    }
    return NULL;
}

static const Property *qdev_prop_find(const DeviceClass *dc, const char *name)
{
    for (; dc; dc = dc->parent) {
        for (const Property *p = dc->props; p && p->name; p++) {
            if (!strcmp(p->name, name)) {
                return p;
            }
        }
    }
    return NULL;
}

DeviceState *qdev_new(const char *name)
{
    const DeviceClass *dc = device_class_find(name);
    DeviceState *dev;

    g_assert(dc);
    dev = g_malloc0(dc->instance_size);
    dev->klass = dc;
    for (const DeviceClass *c = dc; c; c = c->parent) {
        for (const Property *p = c->props; p && p->name; p++) {
            if (p->info->set_default) {
                p->info->set_default(dev, p);
            }
        }
    }
    return dev;
}

bool qdev_prop_set(DeviceState *dev, const char *name, const char *value,
                   GError **errp)
{
    const Property *prop = qdev_prop_find(dev->klass, name);

    if (!prop) {
        error_setg(errp, "Property '%s.%s' not found", dev->klass->name,
                   name);
        return false;
    }
    return prop->info->set(dev, prop, value, errp);
}

bool qdev_realize(DeviceState *dev, GError **errp)
{
    if (!devices) {
        devices = g_ptr_array_new();
    }
    if (dev->klass->realize && !dev->klass->realize(dev, errp)) {
        return false;
    }
    dev->realized = true;
    g_ptr_array_add(devices, dev);
    return true;
}

static void qdev_free(DeviceState *dev)
{
    for (const DeviceClass *c = dev->klass; c; c = c->parent) {
        for (const Property *p = c->props; p && p->name; p++) {
            if (p->info->release) {
                p->info->release(dev, p);
            }
        }
    }
    g_free(dev->id);
    g_free(dev);
}

void qdev_destroy(DeviceState *dev)
{
    if (dev->realized) {
        if (dev->klass->unrealize) {
            dev->klass->unrealize(dev);
        }
        g_ptr_array_remove(devices, dev);
    }
    qdev_free(dev);
}

void qdev_reset_all(void)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *dev = g_ptr_array_index(devices, i);
        if (dev->klass->reset) {
            dev->klass->reset(dev);
        }
    }
}

void qdev_destroy_all(void)
{
    while (devices && devices->len) {
        qdev_destroy(g_ptr_array_index(devices, devices->len - 1));
    }
}

DeviceState *qdev_find_by_type(const DeviceClass *dc)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *dev = g_ptr_array_index(devices, i);
        if (device_class_is_a(dev->klass, dc)) {
            return dev;
        }
    }
    return NULL;
}

static void qdev_print_devices(void)
{
    printf("Devices:\n");
    for (guint i = 0; i < device_classes->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(device_classes, i);
        if (dc->user_creatable) {
            printf("name \"%s\"%s%s%s\n", dc->name, dc->desc ? ", desc \"" : "",
                   dc->desc ? dc->desc : "", dc->desc ? "\"" : "");
        }
    }
}

static gint compare_prop_names(gconstpointer a, gconstpointer b)
{
    const Property *pa = *(const Property *const *)a;
    const Property *pb = *(const Property *const *)b;

    return strcmp(pa->name, pb->name);
}

/* The properties of dc and its ancestors, sorted by name, as QEMU does. */
static void qdev_print_props(const DeviceClass *dc)
{
    g_autoptr(GPtrArray) props = g_ptr_array_new();

    for (const DeviceClass *c = dc; c; c = c->parent) {
        for (const Property *p = c->props; p && p->name; p++) {
            g_ptr_array_add(props, (gpointer)p);
        }
    }
    g_ptr_array_sort(props, compare_prop_names);
    printf("%s options:\n", dc->name);
    for (guint i = 0; i < props->len; i++) {
        const Property *p = g_ptr_array_index(props, i);
        g_autofree char *defval = p->info->print_default ?
                                  p->info->print_default(p) : NULL;

        qemu_print_property_help(p->name, p->info->type,
                                 p->desc ? p->desc : p->info->description,
                                 defval);
    }
}

bool qdev_device_help(QemuOpts *opts)
{
    const char *driver = qemu_opt_get(opts, "driver");
    const DeviceClass *dc;

    if (is_help_option(driver)) {
        qdev_print_devices();
        return true;
    }
    dc = driver ? device_class_find(driver) : NULL;
    if (!dc || !dc->user_creatable || !qemu_opts_has_help(opts)) {
        return false;
    }
    qdev_print_props(dc);
    return true;
}

typedef struct DeviceAddState {
    DeviceState *dev;
} DeviceAddState;

static bool device_add_prop(void *opaque, const char *name, const char *value,
                            GError **errp)
{
    DeviceAddState *s = opaque;

    if (!strcmp(name, "driver")) {
        return true;
    }
    if (!strcmp(name, "id")) {
        g_free(s->dev->id);
        s->dev->id = g_strdup(value);
        return true;
    }
    return qdev_prop_set(s->dev, name, value, errp);
}

DeviceState *qdev_device_add(QemuOpts *opts, GError **errp)
{
    const char *driver = qemu_opt_get(opts, "driver");
    const DeviceClass *dc;
    DeviceAddState s;

    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    dc = device_class_find(driver);
    if (!dc || !dc->user_creatable) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    s.dev = qdev_new(driver);
    if (!qemu_opt_foreach(opts, device_add_prop, &s, errp) ||
        !qdev_realize(s.dev, errp)) {
        qdev_destroy(s.dev);
        return NULL;
    }
    return s.dev;
}
