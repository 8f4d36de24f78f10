/*
 * Property types of devices.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/qdev.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"

static void *prop_ptr(DeviceState *dev, const Property *prop)
{
    return (char *)dev + prop->offset;
}

static bool set_bool(DeviceState *dev, const Property *prop, const char *str,
                     GError **errp)
{
    if (!parse_bool(str, prop_ptr(dev, prop))) {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", prop->name);
        return false;
    }
    return true;
}

static void default_bool(DeviceState *dev, const Property *prop)
{
    *(bool *)prop_ptr(dev, prop) = prop->defval;
}

static char *print_default_bool(const Property *prop)
{
    return g_strdup(prop->defval ? "true" : "false");
}

const PropertyInfo prop_info_bool = {
    .type = "bool", .description = "on/off", .set = set_bool,
    .set_default = default_bool, .print_default = print_default_bool,
};

/* Integers of every width share one parser with a range check. */
static bool set_uint(DeviceState *dev, const Property *prop, const char *str,
                     GError **errp, unsigned bytes, bool size)
{
    uint64_t max = bytes == 8 ? UINT64_MAX : (1ULL << (bytes * 8)) - 1;
    uint64_t v;
    void *p = prop_ptr(dev, prop);

    if (prop->max) {
        max = prop->max;
    }
    if (!(size ? parse_size(str, 1, &v) : parse_uint64(str, &v))) {
        error_setg(errp, "Parameter '%s' expects %s", prop->name,
                   size ? "a size" : "a number");
        return false;
    }
    if (v > max) {
        error_setg(errp, "Property '%s.%s' doesn't take value '%s' "
                   "(maximum: %" G_GUINT64_FORMAT ")", dev->klass->name,
                   prop->name, str, max);
        return false;
    }
    switch (bytes) {
    case 1: *(uint8_t *)p = v; break;
    case 2: *(uint16_t *)p = v; break;
    case 4: *(uint32_t *)p = v; break;
    default: *(uint64_t *)p = v; break;
    }
    return true;
}

#define DEFINE_UINT_PROP_INFO(bits, is_size)                          \
    static bool set_uint##bits##is_size(DeviceState *dev,                   \
                                        const Property *prop,               \
                                        const char *str, GError **errp)     \
    {                                                                       \
        return set_uint(dev, prop, str, errp, bits / 8, is_size);           \
    }                                                                       \
    static void default_uint##bits##is_size(DeviceState *dev,               \
                                            const Property *prop)           \
    {                                                                       \
        *(uint##bits##_t *)prop_ptr(dev, prop) = prop->defval;              \
    }

static char *print_default_uint(const Property *prop)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT, prop->defval);
}

DEFINE_UINT_PROP_INFO(8, 0)
DEFINE_UINT_PROP_INFO(16, 0)
DEFINE_UINT_PROP_INFO(32, 0)
DEFINE_UINT_PROP_INFO(64, 0)
DEFINE_UINT_PROP_INFO(32, 1)
DEFINE_UINT_PROP_INFO(64, 1)

const PropertyInfo prop_info_uint8 = {
    .type = "uint8", .set = set_uint80, .set_default = default_uint80,
    .print_default = print_default_uint,
};
const PropertyInfo prop_info_uint16 = {
    .type = "uint16", .set = set_uint160, .set_default = default_uint160,
    .print_default = print_default_uint,
};
const PropertyInfo prop_info_uint32 = {
    .type = "uint32", .set = set_uint320, .set_default = default_uint320,
    .print_default = print_default_uint,
};
const PropertyInfo prop_info_uint64 = {
    .type = "uint64", .set = set_uint640, .set_default = default_uint640,
    .print_default = print_default_uint,
};
const PropertyInfo prop_info_size32 = {
    .type = "size", .set = set_uint321, .set_default = default_uint321,
    .print_default = print_default_uint,
};
const PropertyInfo prop_info_size = {
    .type = "size", .set = set_uint641, .set_default = default_uint641,
    .print_default = print_default_uint,
};

static bool set_int32(DeviceState *dev, const Property *prop, const char *str,
                      GError **errp)
{
    char *end;
    long long v = strtoll(str, &end, 0);

    if (!*str || *end || v < INT32_MIN || v > INT32_MAX) {
        error_setg(errp, "Parameter '%s' expects an integer", prop->name);
        return false;
    }
    *(int32_t *)prop_ptr(dev, prop) = v;
    return true;
}

static void default_int32(DeviceState *dev, const Property *prop)
{
    *(int32_t *)prop_ptr(dev, prop) = (int32_t)prop->defval;
}

static char *print_default_int32(const Property *prop)
{
    return g_strdup_printf("%" G_GINT32_FORMAT, (int32_t)prop->defval);
}

const PropertyInfo prop_info_int32 = {
    .type = "int32", .set = set_int32, .set_default = default_int32,
    .print_default = print_default_int32,
};

static bool set_string(DeviceState *dev, const Property *prop,
                       const char *str, GError **errp)
{
    char **p = prop_ptr(dev, prop);

    g_free(*p);
    *p = g_strdup(str);
    return true;
}

static void default_string(DeviceState *dev, const Property *prop)
{
    *(char **)prop_ptr(dev, prop) = g_strdup(prop->defstr);
}

static void release_string(DeviceState *dev, const Property *prop)
{
    g_free(*(char **)prop_ptr(dev, prop));
}

static char *print_default_string(const Property *prop)
{
    return prop->defstr ? g_strdup_printf("\"%s\"", prop->defstr) : NULL;
}

const PropertyInfo prop_info_string = {
    .type = "str", .set = set_string, .set_default = default_string,
    .release = release_string, .print_default = print_default_string,
};

static bool set_on_off_auto(DeviceState *dev, const Property *prop,
                            const char *str, GError **errp)
{
    OnOffAuto *p = prop_ptr(dev, prop);
    bool b;

    if (!strcmp(str, "auto")) {
        *p = ON_OFF_AUTO_AUTO;
    } else if (parse_bool(str, &b)) {
        *p = b ? ON_OFF_AUTO_ON : ON_OFF_AUTO_OFF;
    } else {
        error_setg(errp, "Parameter '%s' does not accept value '%s'",
                   prop->name, str);
        return false;
    }
    return true;
}

static void default_on_off_auto(DeviceState *dev, const Property *prop)
{
    *(OnOffAuto *)prop_ptr(dev, prop) = prop->defval;
}

static char *print_default_on_off_auto(const Property *prop)
{
    static const char *const names[] = {
        [ON_OFF_AUTO_AUTO] = "auto", [ON_OFF_AUTO_ON] = "on",
        [ON_OFF_AUTO_OFF] = "off",
    };

    g_assert(prop->defval < G_N_ELEMENTS(names));
    return g_strdup_printf("\"%s\"", names[prop->defval]);
}

const PropertyInfo prop_info_on_off_auto = {
    .type = "OnOffAuto", .description = "on/off/auto",
    .set = set_on_off_auto, .set_default = default_on_off_auto,
    .print_default = print_default_on_off_auto,
};
