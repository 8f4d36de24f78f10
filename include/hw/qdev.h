/*
 * Devices: named types with typed properties, created from -device.
 *
 * A device type is a DeviceClass; a type may derive from a parent type whose
 * instance struct its own embeds as first member, and then also has the
 * parent's properties and realize/reset behaviour (the child's realize is
 * responsible for calling the parent's, as it needs).
 */
#ifndef HW_QDEV_H
#define HW_QDEV_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qemu/option.h"

typedef struct DeviceState DeviceState;
typedef struct DeviceClass DeviceClass;
typedef struct Property Property;

typedef struct PropertyInfo {
    const char *type;           /* as shown by "-device foo,help" */
    /* Shown by "-device foo,help" for properties without a description. */
    const char *description;
    /* The default as "-device foo,help" shows it; NULL: it has none. */
    char *(*print_default)(const Property *prop);
    bool (*set)(DeviceState *dev, const Property *prop, const char *str,
                GError **errp);
    void (*set_default)(DeviceState *dev, const Property *prop);
    /* Undo what set did, when the device is freed. */
    void (*release)(DeviceState *dev, const Property *prop);
} PropertyInfo;

struct Property {
    const char *name;
    const PropertyInfo *info;
    size_t offset;
    uint64_t defval;
    uint64_t max;               /* for integers; 0 means the type's maximum */
    const char *defstr;
    const char *desc;
};

struct DeviceClass {
    const char *name;
    const char *desc;
    const DeviceClass *parent;
    size_t instance_size;
    const Property *props;      /* terminated by an entry without name */
    bool user_creatable;
    bool (*realize)(DeviceState *dev, GError **errp);
    void (*unrealize)(DeviceState *dev);
    void (*reset)(DeviceState *dev);
};

struct DeviceState {
    const DeviceClass *klass;
    char *id;
    bool realized;
};

typedef enum OnOffAuto {
    ON_OFF_AUTO_AUTO,
    ON_OFF_AUTO_ON,
    ON_OFF_AUTO_OFF,
} OnOffAuto;

extern const PropertyInfo prop_info_bool;
extern const PropertyInfo prop_info_uint8;
extern const PropertyInfo prop_info_uint16;
extern const PropertyInfo prop_info_uint32;
extern const PropertyInfo prop_info_uint64;
extern const PropertyInfo prop_info_int32;
extern const PropertyInfo prop_info_size;     /* uint64_t field */
extern const PropertyInfo prop_info_size32;   /* uint32_t field */
extern const PropertyInfo prop_info_string;
extern const PropertyInfo prop_info_on_off_auto;

#define DEFINE_PROP(_name, _state, _field, _info, ...) \
    { .name = (_name), .info = &(_info), \
      .offset = offsetof(_state, _field), __VA_ARGS__ }
#define DEFINE_PROP_BOOL(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_bool, \
                                                 .defval = (d))
#define DEFINE_PROP_UINT8(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_uint8, \
                                                  .defval = (d))
#define DEFINE_PROP_UINT16(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_uint16, \
                                                   .defval = (d))
#define DEFINE_PROP_UINT32(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_uint32, \
                                                   .defval = (d))
#define DEFINE_PROP_UINT64(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_uint64, \
                                                   .defval = (d))
#define DEFINE_PROP_SIZE(n, s, f, d) DEFINE_PROP(n, s, f, prop_info_size, \
                                                 .defval = (d))
#define DEFINE_PROP_STRING(n, s, f) DEFINE_PROP(n, s, f, prop_info_string)
#define DEFINE_PROP_ON_OFF_AUTO(n, s, f, d) \
    DEFINE_PROP(n, s, f, prop_info_on_off_auto, .defval = (d))
#define DEFINE_PROP_END_OF_LIST() { .name = NULL }

void device_class_register(const DeviceClass *dc);
#define DEVICE_CLASS_REGISTER(dc) \
    static void __attribute__((constructor)) register_##dc(void) \
    { device_class_register((const DeviceClass *)&(dc)); }

const DeviceClass *device_class_find(const char *name);
bool device_class_is_a(const DeviceClass *dc, const DeviceClass *ancestor);

/* A new unrealized device with its properties at their defaults. */
DeviceState *qdev_new(const char *name);
bool qdev_prop_set(DeviceState *dev, const char *name, const char *value,
                   GError **errp);
/* Realize; on success the device is in the list of devices. */
bool qdev_realize(DeviceState *dev, GError **errp);
/* Unrealize (if realized) and free. */
void qdev_destroy(DeviceState *dev);
/* Reset every realized device (machine reset), in creation order. */
void qdev_reset_all(void);
/* Unrealize and free every device, newest first. */
void qdev_destroy_all(void);
DeviceState *qdev_find_by_type(const DeviceClass *dc);
DeviceState *qdev_find_by_id(const char *id);
/* Every realized device, in creation order.  BQL held. */
void qdev_foreach(void (*fn)(DeviceState *dev, void *opaque), void *opaque);
/* Every device type, in registration order. */
void device_class_foreach(void (*fn)(const DeviceClass *dc, void *opaque),
                          void *opaque);
/* The properties of a type, its own then its parents'; NULL at the end. */
const Property *device_class_prop_next(const DeviceClass **dc,
                                       const Property *prop);

/*
 * If the options of -device ask for help ("help" or "?" as the driver, or
 * DRIVER,help), print it on stdout and return true.  Needs no machine:
 * called at start-up, before there is a BQL.
 */
bool qdev_device_help(QemuOpts *opts);
/* -device driver,prop=value,... */
DeviceState *qdev_device_add(QemuOpts *opts, GError **errp);

#define DEVICE(obj) ((DeviceState *)(obj))

#endif
