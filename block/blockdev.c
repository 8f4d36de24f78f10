/*
 * -blockdev, and QMP's blockdev-add and blockdev-del: file, null-co and raw
 * nodes (include/block/blockdev.h).
 *
 * Every option is read and checked before anything is opened, and errors
 * are QEMU's words for the same mistake.
 */
#include <string.h>

#include "block-internal.h"
#include "block/blockdev.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"

/* QEMU's limit on node names, terminator included. */
#define NODE_NAME_SIZE          32

typedef struct BlockNode {
    char *name;
    const char *driver;
    BlockBackend *blk;          /* a protocol node's own; a raw node's file's */
    struct BlockNode *parent;   /* protocol nodes: the raw node over it */
    struct BlockNode *file;     /* raw nodes: the protocol node below */
    bool read_only;             /* this node's, whatever is over it */
    /* Protocol nodes: their own options, for when the raw node goes. */
    bool no_flush, discard;
} BlockNode;

static GPtrArray *nodes;

/* The options every driver takes. */
typedef struct NodeOpts {
    const char *name;
    bool read_only;
    bool auto_read_only;
    bool direct;                /* cache.direct */
    bool no_flush;              /* cache.no-flush */
    bool discard;               /* discard=unmap */
} NodeOpts;

static BlockNode *node_find(const char *name)
{
    for (guint i = 0; nodes && i < nodes->len; i++) {
        BlockNode *n = g_ptr_array_index(nodes, i);

        if (!strcmp(n->name, name)) {
            return n;
        }
    }
    return NULL;
}

/* value (NULL: choices[0]) as the index of one of choices. */
static bool get_enum(QemuOpts *opts, const char *key,
                     const char *const *choices, int *out, GError **errp)
{
    const char *value = qemu_opt_get(opts, key);

    *out = 0;
    if (!value) {
        return true;
    }
    for (int i = 0; choices[i]; i++) {
        if (!strcmp(value, choices[i])) {
            *out = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'", key, value);
    return false;
}

static bool get_common_opts(QemuOpts *opts, NodeOpts *o, GError **errp)
{
    static const char *const discard_choices[] = { "ignore", "unmap", NULL };
    int discard;

    o->name = qemu_opt_get(opts, "node-name");
    if (!qemu_opt_get_bool(opts, "read-only", false, &o->read_only, errp) ||
        !qemu_opt_get_bool(opts, "auto-read-only", false, &o->auto_read_only,
                           errp) ||
        !qemu_opt_get_bool(opts, "cache.direct", false, &o->direct, errp) ||
        !qemu_opt_get_bool(opts, "cache.no-flush", false, &o->no_flush,
                           errp) ||
        !get_enum(opts, "discard", discard_choices, &discard, errp)) {
        return false;
    }
    o->discard = discard;
    return true;
}

/* After the driver's own options: nobody asked for the rest. */
static bool check_unexpected(QemuOpts *opts, GError **errp)
{
    const char *key = qemu_opts_first_unused(opts);

    if (key) {
        error_setg(errp, "Parameter '%s' is unexpected", key);
        return false;
    }
    return true;
}

static bool check_node_name(const char *name, GError **errp)
{
    if (!name) {
        error_setg(errp, "'node-name' must be specified for the root node");
        return false;
    }
    if (!id_wellformed(name)) {
        error_setg(errp, "Invalid node-name: '%s'", name);
        return false;
    }
    if (strlen(name) >= NODE_NAME_SIZE) {
        error_setg(errp, "Node name too long");
        return false;
    }
    if (node_find(name)) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", name);
        return false;
    }
    if (blk_by_name(name)) {
        error_setg(errp, "node-name=%s is conflicting with a device id",
                   name);
        return false;
    }
    return true;
}

static BlockNode *node_add(const char *name, const char *driver,
                           BlockBackend *blk)
{
    BlockNode *n = g_new0(BlockNode, 1);

    n->name = g_strdup(name);
    n->driver = driver;
    n->blk = blk;
    n->read_only = blk_is_read_only(blk);
    n->no_flush = blk_get_no_flush(blk);
    n->discard = blk_discard_enabled(blk);
    if (!nodes) {
        nodes = g_ptr_array_new();
    }
    g_ptr_array_add(nodes, n);
    return n;
}

static void node_free(BlockNode *n)
{
    g_free(n->name);
    g_free(n);
}

static bool create_file(QemuOpts *opts, const NodeOpts *o, GError **errp)
{
    enum { AIO_THREADS, AIO_IO_URING, AIO_NATIVE };
    static const char *const aio_choices[] = {
        [AIO_THREADS] = "threads", [AIO_IO_URING] = "io_uring",
        [AIO_NATIVE] = "native", NULL
    };
    enum { LOCKING_AUTO, LOCKING_ON, LOCKING_OFF };
    static const char *const locking_choices[] = {
        [LOCKING_AUTO] = "auto", [LOCKING_ON] = "on", [LOCKING_OFF] = "off",
        NULL
    };
    const char *filename = qemu_opt_get(opts, "filename");
    BlockCacheMode cache = o->direct ? BLOCK_CACHE_NONE
                                     : BLOCK_CACHE_WRITEBACK;
    int aio, locking;
    BlockFile image;
    BlockBackend *blk;

    if (!get_enum(opts, "aio", aio_choices, &aio, errp) ||
        !get_enum(opts, "locking", locking_choices, &locking, errp) ||
        !check_unexpected(opts, errp)) {
        return false;
    }
    if (!filename) {
        error_setg(errp, "Parameter 'filename' is missing");
        return false;
    }
    /* Linux AIO is not built in: io_uring does what it would, and more. */
    if (aio == AIO_NATIVE && !o->direct) {
        error_setg(errp, "aio=native was specified, but it requires "
                   "cache.direct=on, which was not specified.");
        return false;
    }
    if (!check_node_name(o->name, errp)) {
        return false;
    }
    /* auto and on lock alike: see locking_choices in drive.c. */
    if (!file_open(&image, filename, cache, o->read_only, o->auto_read_only,
                   locking != LOCKING_OFF, errp)) {
        return false;
    }
    blk = blk_new(o->name, &image, cache,
                  aio == AIO_THREADS ? BLOCK_AIO_THREADS : BLOCK_AIO_IO_URING,
                  o->discard,
                  errp);
    if (!blk) {
        file_close(&image);
        return false;
    }
    blk_set_no_flush(blk, o->no_flush);
    node_add(o->name, "file", blk);
    return true;
}

static bool create_null_co(QemuOpts *opts, const NodeOpts *o, GError **errp)
{
    const char *size_str = qemu_opt_get(opts, "size");
    uint64_t size = NULL_CO_DEFAULT_SIZE;
    bool read_zeroes;

    if (size_str && !parse_uint64(size_str, &size)) {
        error_setg(errp, "Parameter 'size' expects integer");
        return false;
    }
    if (!qemu_opt_get_bool(opts, "read-zeroes", false, &read_zeroes, errp) ||
        !check_unexpected(opts, errp) || !check_node_name(o->name, errp)) {
        return false;
    }
    node_add(o->name, "null-co",
             blk_new_null(o->name, size, o->read_only, read_zeroes));
    return true;
}

static bool create_raw(QemuOpts *opts, const NodeOpts *o, GError **errp)
{
    const char *file_name = qemu_opt_get(opts, "file");
    BlockNode *file;

    if (!check_unexpected(opts, errp)) {
        return false;
    }
    if (!file_name) {
        error_setg(errp, "Parameter 'file' is missing");
        return false;
    }
    file = node_find(file_name);
    if (!file) {
        error_setg(errp, "Cannot find device='%s' nor node-name='%s'",
                   file_name, file_name);
        return false;
    }
    if (!check_node_name(o->name, errp)) {
        return false;
    }
    if (!strcmp(file->driver, "raw")) {
        error_setg(errp, "A raw node's file must be a file or null-co node, "
                   "and '%s' is a raw node", file_name);
        return false;
    }
    if (file->parent) {
        error_setg(errp, "Node '%s' is already the file of node '%s'",
                   file_name, file->parent->name);
        return false;
    }
    /* What the raw node changes below would change under the device. */
    if (blk_get_attached_dev(file->blk)) {
        error_setg(errp, "Node %s is in use", file_name);
        return false;
    }
    if (!o->read_only && !o->auto_read_only && blk_is_read_only(file->blk)) {
        error_setg(errp, "Block node is read-only");
        return false;
    }
    if (o->read_only) {
        blk_set_read_only(file->blk, true);
    }
    if (o->no_flush) {
        blk_set_no_flush(file->blk, true);
    }
    /* Discards reach the image only if every node lets them through. */
    blk_set_discard(file->blk, o->discard && blk_discard_enabled(file->blk));
    file->parent = node_add(o->name, "raw", file->blk);
    file->parent->file = file;
    return true;
}

bool blockdev_create(QemuOpts *opts, GError **errp)
{
    static const struct {
        const char *name;
        bool (*create)(QemuOpts *opts, const NodeOpts *o, GError **errp);
    } drivers[] = {
        { "file", create_file },
        { "null-co", create_null_co },
        { "raw", create_raw },
    };
    const char *driver = qemu_opt_get(opts, "driver");
    NodeOpts o;

    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(drivers); i++) {
        if (!strcmp(driver, drivers[i].name)) {
            return get_common_opts(opts, &o, errp) &&
                   drivers[i].create(opts, &o, errp);
        }
    }
    error_setg(errp, "Parameter 'driver' does not accept value '%s'", driver);
    return false;
}

bool blockdev_delete(const char *node_name, GError **errp)
{
    BlockNode *n = node_find(node_name);

    /* QEMU 7.2's words, for each case. */
    if (!n) {
        error_setg(errp, "Failed to find node with node-name='%s'",
                   node_name);
        return false;
    }
    if (n->parent) {
        error_setg(errp, "Block device %s is in use", node_name);
        return false;
    }
    /* The device uses this node (a raw node's is the one on top). */
    if (blk_get_attached_dev(n->blk)) {
        error_setg(errp, "Node %s is in use", node_name);
        return false;
    }
    if (n->file) {
        /* The file node is again what its own options made it. */
        blk_set_read_only(n->blk, false);
        blk_set_no_flush(n->blk, n->file->no_flush);
        blk_set_discard(n->blk, n->file->discard);
        n->file->parent = NULL;
    } else {
        blk_destroy(n->blk);
    }
    g_ptr_array_remove(nodes, n);
    node_free(n);
    return true;
}

const char *blockdev_top_node_name(BlockBackend *blk, const char **driver)
{
    for (guint i = 0; nodes && i < nodes->len; i++) {
        BlockNode *n = g_ptr_array_index(nodes, i);

        if (n->blk == blk && !n->file) {
            BlockNode *top = n->parent ? n->parent : n;

            if (driver) {
                *driver = top->driver;
            }
            return top->name;
        }
    }
    return NULL;
}

bool blockdev_node_exists(const char *node_name)
{
    return node_find(node_name) != NULL;
}

BlockBackend *blockdev_backend(const char *node_name)
{
    BlockNode *n = node_find(node_name);

    return n ? n->blk : NULL;
}

bool blockdev_node_is_read_only(const char *node_name)
{
    BlockNode *n = node_find(node_name);

    return n && n->read_only;
}

void blockdev_foreach(void (*fn)(const char *node_name, const char *driver,
                                 BlockBackend *blk, void *opaque),
                      void *opaque)
{
    for (guint i = 0; nodes && i < nodes->len; i++) {
        BlockNode *n = g_ptr_array_index(nodes, i);

        fn(n->name, n->driver, n->blk, opaque);
    }
}

void blockdev_close_all(void)
{
    for (guint i = 0; nodes && i < nodes->len; i++) {
        node_free(g_ptr_array_index(nodes, i));
    }
    g_clear_pointer(&nodes, g_ptr_array_unref);
}
