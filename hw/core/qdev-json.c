/*
 * Device properties as JSON values.
 */
#include "block/block-backend.h"
#include "hw/qdev-json.h"
#include "hw/qdev-properties-system.h"

static const char *const on_off_auto_names[] = {
    [ON_OFF_AUTO_AUTO] = "auto",
    [ON_OFF_AUTO_ON] = "on",
    [ON_OFF_AUTO_OFF] = "off",
};

static JsonNode *int_node(gint64 v)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);

    json_node_set_int(n, v);
    return n;
}

static JsonNode *str_node(const char *s)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);

    json_node_set_string(n, s);
    return n;
}

static JsonNode *bool_node(bool b)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);

    json_node_set_boolean(n, b);
    return n;
}

/* A value of the property's type read from p (field or default). */
static JsonNode *value_node(const Property *prop, const void *p)
{
    const PropertyInfo *info = prop->info;

    if (info == &prop_info_bool) {
        return bool_node(*(const bool *)p);
    }
    if (info == &prop_info_uint8) {
        return int_node(*(const uint8_t *)p);
    }
    if (info == &prop_info_uint16) {
        return int_node(*(const uint16_t *)p);
    }
    if (info == &prop_info_uint32 || info == &prop_info_size32) {
        return int_node(*(const uint32_t *)p);
    }
    if (info == &prop_info_uint64 || info == &prop_info_size) {
        /* JSON integers here are signed 64-bit, as in QEMU's QMP. */
        return int_node((gint64)*(const uint64_t *)p);
    }
    if (info == &prop_info_int32) {
        return int_node(*(const int32_t *)p);
    }
    if (info == &prop_info_on_off_auto) {
        return str_node(on_off_auto_names[*(const OnOffAuto *)p]);
    }
    if (info == &prop_info_string) {
        const char *s = *(const char *const *)p;
        return s ? str_node(s) : NULL;
    }
    if (info == &prop_info_drive) {
        BlockBackend *blk = *(BlockBackend *const *)p;
        return blk ? str_node(blk_name(blk)) : NULL;
    }
    return NULL;
}

JsonNode *qdev_prop_get_json(DeviceState *dev, const Property *prop)
{
    return value_node(prop, (const char *)dev + prop->offset);
}

JsonNode *qdev_prop_default_json(const Property *prop)
{
    const PropertyInfo *info = prop->info;
    union {
        bool b;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        int32_t i32;
        OnOffAuto ooa;
        const char *s;
    } v = { .u64 = 0 };

    if (info == &prop_info_string) {
        v.s = prop->defstr;
    } else if (info == &prop_info_drive || info == &prop_info_iothread) {
        return NULL;
    } else if (info == &prop_info_bool) {
        v.b = prop->defval;
    } else if (info == &prop_info_uint8) {
        v.u8 = prop->defval;
    } else if (info == &prop_info_uint16) {
        v.u16 = prop->defval;
    } else if (info == &prop_info_uint32 || info == &prop_info_size32) {
        v.u32 = prop->defval;
    } else if (info == &prop_info_int32) {
        v.i32 = (int32_t)prop->defval;
    } else if (info == &prop_info_on_off_auto) {
        v.ooa = prop->defval;
    } else {
        v.u64 = prop->defval;
    }
    return value_node(prop, &v);
}
