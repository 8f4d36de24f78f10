/*
 * QMP commands about block devices.  Main thread, BQL held.
 */
#include "block/accounting.h"
#include "block/block-backend.h"
#include "block/blockdev.h"
#include "hw/block/virtio-blk-uring-query.h"
#include "hw/qdev.h"
#include "monitor/qmp.h"
#include "qemu/error-report.h"
#include "qemu/keyval-json.h"

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
    json_object_set_boolean_member(c, "no-flush", blk_get_no_flush(blk));
    return c;
}

/*
 * A node (node_name NULL: a -drive's) with driver drv over blk.  A
 * -blockdev raw node and its file node share one back-end.
 */
static JsonObject *node_info(BlockBackend *blk, const char *node_name,
                             const char *drv)
{
    JsonObject *d = json_object_new();
    JsonObject *image = json_object_new();

    json_object_set_string_member(d, "file", blk_get_filename(blk));
    if (node_name) {
        json_object_set_string_member(d, "node-name", node_name);
    }
    json_object_set_boolean_member(d, "ro", blk_is_read_only(blk));
    json_object_set_string_member(d, "drv", drv);
    json_object_set_boolean_member(d, "encrypted", false);
    json_object_set_string_member(d, "detect_zeroes", "off");
    /* No I/O throttling here: every limit is 0, "none". */
    for (size_t i = 0; i < G_N_ELEMENTS(throttle_limits); i++) {
        json_object_set_int_member(d, throttle_limits[i], 0);
    }
    json_object_set_string_member(image, "filename", blk_get_filename(blk));
    json_object_set_string_member(image, "format", drv);
    json_object_set_int_member(image, "virtual-size", blk_getlength(blk));
    json_object_set_object_member(d, "image", image);
    json_object_set_object_member(d, "cache", cache_info(blk));
    json_object_set_int_member(d, "write_threshold", 0);
    return d;
}

/*
 * The device holding a drive as QEMU names it: a virtio-blk-pci's inner
 * virtio-blk-device ("virtio-backend" in monitor/qmp-cmds-qom.c), which
 * is what libvirt looks statistics up by.  NULL for a device without id.
 */
static char *qdev_path(DeviceState *dev)
{
    if (!dev || !dev->id) {
        return NULL;
    }
    return g_strdup_printf("/machine/peripheral/%s/virtio-backend", dev->id);
}

/*
 * As QEMU: a -drive by its id; a -blockdev disk, only while a device uses
 * it, by an empty "device" and its top node.
 */
static JsonNode *query_block(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        DeviceState *dev = blk_get_attached_dev(blk);
        const char *driver = "raw";
        const char *node_name = blockdev_top_node_name(blk, &driver);
        g_autofree char *qdev = NULL;
        JsonObject *b;

        if (node_name && !dev) {
            continue;
        }
        b = json_object_new();
        qdev = qdev_path(dev);
        json_object_set_string_member(b, "device",
                                      node_name ? "" : blk_name(blk));
        if (qdev) {
            json_object_set_string_member(b, "qdev", qdev);
        }
        json_object_set_string_member(b, "type", "unknown");
        json_object_set_boolean_member(b, "removable", false);
        json_object_set_boolean_member(b, "locked", false);
        json_object_set_object_member(b, "inserted",
                                      node_info(blk, node_name, driver));
        json_array_add_object_element(list, b);
    }
    return qmp_return_array(list);
}

static void add_named_node(const char *node_name, const char *driver,
                           BlockBackend *blk, void *opaque)
{
    json_array_add_object_element(opaque, node_info(blk, node_name, driver));
}

/*
 * The -blockdev nodes; a -drive makes no named node here.  flat=false
 * would nest each node's backing images, and there are none.
 */
static JsonNode *query_named_block_nodes(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    blockdev_foreach(add_named_node, list);
    return qmp_return_array(list);
}

static JsonObject *device_stats(BlockBackend *blk)
{
    JsonObject *s = json_object_new();
    BlockAcctStats st;

    blk_get_stats(blk, &st);
    json_object_set_int_member(s, "rd_bytes", st.rd_bytes);
    json_object_set_int_member(s, "wr_bytes", st.wr_bytes);
    json_object_set_int_member(s, "unmap_bytes", st.unmap_bytes);
    json_object_set_int_member(s, "rd_operations", st.rd_operations);
    json_object_set_int_member(s, "wr_operations", st.wr_operations);
    json_object_set_int_member(s, "flush_operations", st.flush_operations);
    json_object_set_int_member(s, "unmap_operations", st.unmap_operations);
    /* Requests are never merged here. */
    json_object_set_int_member(s, "rd_merged", 0);
    json_object_set_int_member(s, "wr_merged", 0);
    json_object_set_int_member(s, "unmap_merged", 0);
    json_object_set_int_member(s, "rd_total_time_ns", st.rd_total_time_ns);
    json_object_set_int_member(s, "wr_total_time_ns", st.wr_total_time_ns);
    json_object_set_int_member(s, "flush_total_time_ns",
                               st.flush_total_time_ns);
    json_object_set_int_member(s, "unmap_total_time_ns",
                               st.unmap_total_time_ns);
    if (st.idle_time_ns >= 0) {
        json_object_set_int_member(s, "idle_time_ns", st.idle_time_ns);
    }
    json_object_set_int_member(s, "failed_rd_operations",
                               st.failed_rd_operations);
    json_object_set_int_member(s, "failed_wr_operations",
                               st.failed_wr_operations);
    json_object_set_int_member(s, "failed_flush_operations",
                               st.failed_flush_operations);
    json_object_set_int_member(s, "failed_unmap_operations",
                               st.failed_unmap_operations);
    json_object_set_int_member(s, "invalid_rd_operations",
                               st.invalid_rd_operations);
    json_object_set_int_member(s, "invalid_wr_operations",
                               st.invalid_wr_operations);
    json_object_set_int_member(s, "invalid_flush_operations",
                               st.invalid_flush_operations);
    json_object_set_int_member(s, "invalid_unmap_operations",
                               st.invalid_unmap_operations);
    json_object_set_int_member(s, "wr_highest_offset", st.wr_highest_offset);
    json_object_set_boolean_member(s, "account_invalid", st.account_invalid);
    json_object_set_boolean_member(s, "account_failed", st.account_failed);
    json_object_set_array_member(s, "timed_stats", json_array_new());
    return s;
}

/*
 * The passthrough's requests never reach the block layer: what the VMM
 * sees of them is in the rings' indexes, summed over the device's rings.
 */
static JsonObject *uring_stats(DeviceState *dev)
{
    VirtioBlkUringQuery q;
    uint64_t submitted = 0, completed = 0, dropped = 0, overflow = 0;
    bool any = false;

    for (unsigned i = 0; dev && virtio_blk_uring_query(dev, i, &q); i++) {
        if (!q.negotiated) {
            continue;
        }
        any = true;
        submitted += q.submitted;
        completed += q.completed;
        dropped += q.state.sq_dropped;
        overflow += q.state.cq_overflow;
    }
    if (!any) {
        return NULL;
    }
    {
        JsonObject *u = json_object_new();

        json_object_set_int_member(u, "submitted", submitted);
        json_object_set_int_member(u, "completed", completed);
        json_object_set_int_member(u, "in-flight", submitted - completed);
        json_object_set_int_member(u, "sq-dropped", dropped);
        json_object_set_int_member(u, "cq-overflow", overflow);
        return u;
    }
}

static void add_node_stats(const char *node_name, const char *driver,
                           BlockBackend *blk, void *opaque)
{
    JsonObject *b = json_object_new();

    json_object_set_string_member(b, "node-name", node_name);
    json_object_set_object_member(b, "stats", device_stats(blk));
    json_array_add_object_element(opaque, b);
}

/*
 * As QEMU: a -drive by its id; a -blockdev disk, only while a device uses
 * it, by an empty "device" and its top node's name.  With query-nodes,
 * every -blockdev node by its name alone (a raw node and its file node
 * share one back-end, and its counts).
 */
static JsonNode *query_blockstats(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    if (qmp_arg_bool(args, "query-nodes", false)) {
        blockdev_foreach(add_node_stats, list);
        return qmp_return_array(list);
    }
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        DeviceState *dev = blk_get_attached_dev(blk);
        const char *node_name = blockdev_top_node_name(blk, NULL);
        g_autofree char *qdev = NULL;
        JsonObject *b, *u;

        if (node_name && !dev) {
            continue;
        }
        b = json_object_new();
        u = uring_stats(dev);
        qdev = qdev_path(dev);
        json_object_set_string_member(b, "device",
                                      node_name ? "" : blk_name(blk));
        if (node_name) {
            json_object_set_string_member(b, "node-name", node_name);
        }
        if (qdev) {
            json_object_set_string_member(b, "qdev", qdev);
        }
        json_object_set_object_member(b, "stats", device_stats(blk));
        if (u) {
            json_object_set_object_member(b, "x-uring-passthrough", u);
        }
        json_array_add_object_element(list, b);
    }
    return qmp_return_array(list);
}

static JsonNode *block_resize(JsonObject *args, GError **errp)
{
    const char *device = qmp_arg_str(args, "device");
    const char *node = qmp_arg_str(args, "node-name");
    gint64 size = qmp_arg_int(args, "size", 0);
    BlockBackend *blk = device ? blk_by_name(device) : NULL;

    /* A node name is a -blockdev node's (file, raw or null-co). */
    if (!blk && node) {
        blk = blockdev_backend(node);
        /* blk_resize() sees the file node's read-only, not a raw node's */
        if (blk && blockdev_node_is_read_only(node)) {
            error_setg(errp, "Image is read-only");
            return NULL;
        }
    }
    if (!blk) {
        /* QEMU 7.2's words and class (a GenericError) */
        error_setg(errp, "Cannot find device='%s' nor node-name='%s'",
                   device ? device : "", node ? node : "");
        return NULL;
    }
    if (size < 0) {
        error_setg(errp, "Parameter 'size' expects a >0 size");
        return NULL;
    }
    return blk_resize(blk, size, errp) ? qmp_return_empty() : NULL;
}

/*
 * A -blockdev node made while the VM runs.  The schema has checked the
 * arguments (BlockdevOptions); blockdev.c checks the rest as it does for
 * the command line, with the same words.
 */
static JsonNode *blockdev_add(JsonObject *args, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_from_json_object(args, errp);

    return opts && blockdev_create(opts, errp) ? qmp_return_empty() : NULL;
}

/* Forget a node no device and no other node uses. */
static JsonNode *blockdev_del(JsonObject *args, GError **errp)
{
    return blockdev_delete(qmp_arg_str(args, "node-name"), errp)
        ? qmp_return_empty() : NULL;
}

static const QmpCommand block_commands[] = {
    { "query-block", query_block },
    { "query-blockstats", query_blockstats },
    { "query-named-block-nodes", query_named_block_nodes },
    { "block_resize", block_resize },
    { "blockdev-add", blockdev_add },
    { "blockdev-del", blockdev_del },
};
QMP_COMMANDS_REGISTER(block_commands)
