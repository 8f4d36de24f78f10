/*
 * QMP commands about block devices.  Main thread, BQL held.
 */
#include "block/block-backend.h"
#include "hw/qdev.h"
#include "monitor/qmp.h"
#include "qemu/error-report.h"

static const char *const throttle_limits[] = {
    "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr",
};

static JsonObject *cache_info(BlockBackend *blk)
{
    JsonObject *c = json_object_new();
    BlockCacheMode mode = blk_get_cache_mode(blk);

    json_object_set_boolean_member(c, "writeback",
                                   blk_enable_write_cache(blk));
    json_object_set_boolean_member(c, "direct",
                                   mode == BLOCK_CACHE_NONE ||
                                   mode == BLOCK_CACHE_DIRECTSYNC);
    json_object_set_boolean_member(c, "no-flush", false);
    return c;
}

static JsonObject *inserted_info(BlockBackend *blk)
{
    JsonObject *d = json_object_new();
    JsonObject *image = json_object_new();

    json_object_set_string_member(d, "file", blk_get_filename(blk));
    json_object_set_boolean_member(d, "ro", blk_is_read_only(blk));
    json_object_set_string_member(d, "drv", "raw");
    json_object_set_boolean_member(d, "encrypted", false);
    json_object_set_string_member(d, "detect_zeroes", "off");
    /* No I/O throttling here: every limit is 0, "none". */
    for (size_t i = 0; i < G_N_ELEMENTS(throttle_limits); i++) {
        json_object_set_int_member(d, throttle_limits[i], 0);
    }
    json_object_set_string_member(image, "filename", blk_get_filename(blk));
    json_object_set_string_member(image, "format", "raw");
    json_object_set_int_member(image, "virtual-size", blk_getlength(blk));
    json_object_set_object_member(d, "image", image);
    json_object_set_object_member(d, "cache", cache_info(blk));
    json_object_set_int_member(d, "write_threshold", 0);
    return d;
}

static JsonNode *query_block(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        JsonObject *b = json_object_new();
        DeviceState *dev = blk_get_attached_dev(blk);

        json_object_set_string_member(b, "device", blk_name(blk));
        if (dev && dev->id) {
            json_object_set_string_member(b, "qdev", dev->id);
        }
        json_object_set_string_member(b, "type", "unknown");
        json_object_set_boolean_member(b, "removable", false);
        json_object_set_boolean_member(b, "locked", false);
        json_object_set_object_member(b, "inserted", inserted_info(blk));
        json_array_add_object_element(list, b);
    }
    return qmp_return_array(list);
}

static const QmpCommand block_commands[] = {
    { "query-block", query_block },
};
QMP_COMMANDS_REGISTER(block_commands)
