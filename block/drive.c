/*
 * -drive: from its options to an open BlockBackend.
 *
 * Every option is read before any is checked, so that an unknown key is
 * reported first, and everything is checked before the image is opened.
 */
#include <string.h>

#include "block-internal.h"
#include "block/blockdev.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"

typedef struct OptChoice {
    const char *name;
    int value;
} OptChoice;

static const OptChoice cache_choices[] = {
    { "writeback", BLOCK_CACHE_WRITEBACK },
    { "none", BLOCK_CACHE_NONE },
    { "directsync", BLOCK_CACHE_DIRECTSYNC },
    { "writethrough", BLOCK_CACHE_WRITETHROUGH },
    { NULL }
};

static const OptChoice aio_choices[] = {
    { "threads", BLOCK_AIO_THREADS },
    { "io_uring", BLOCK_AIO_IO_URING },
    { NULL }
};

/*
 * on and auto are the same: every Linux host has OFD locks, and without
 * them QEMU's auto would not lock and its on would use POSIX locks, which
 * closing any descriptor of the image drops (the passthrough closes one).
 */
static const OptChoice locking_choices[] = {
    { "on", true }, { "auto", true }, { "off", false },
    { NULL }
};

static const OptChoice discard_choices[] = {
    { "ignore", false }, { "off", false },
    { "unmap", true }, { "on", true },
    { NULL }
};

/* value (NULL: def) among choices, or an error naming the expected ones. */
static bool parse_choice(const char *name, const char *value,
                         const OptChoice *choices, const char *expected,
                         int def, int *out, GError **errp)
{
    *out = def;
    if (!value) {
        return true;
    }
    for (const OptChoice *c = choices; c->name; c++) {
        if (!strcmp(value, c->name)) {
            *out = c->value;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' expects %s", name, expected);
    return false;
}

/* prefix0, prefix1, ...: the first one not taken. */
static char *drive_auto_id(const char *prefix)
{
    for (unsigned i = 0;; i++) {
        char *id = g_strdup_printf("%s%u", prefix, i);

        if (!blk_by_name(id) && !blockdev_node_exists(id)) {
            return id;
        }
        g_free(id);
    }
}

/*
 * The null-co driver's options, read whatever the file; *is_null tells
 * whether file names it.
 */
static bool drive_null_opts(QemuOpts *opts, const char *file, bool *is_null,
                            uint64_t *size, bool *read_zeroes,
                            GError **errp)
{
    uint64_t file_size, raw_size;

    *is_null = file && g_str_has_prefix(file, "null-co:");
    if (!qemu_opt_get_bool(opts, "file.read-zeroes", false, read_zeroes,
                           errp) ||
        !qemu_opt_get_size(opts, "file.size", NULL_CO_DEFAULT_SIZE,
                           &file_size, errp) ||
        !qemu_opt_get_size(opts, "size", 0, &raw_size, errp)) {
        return false;
    }
    if (!*is_null) {
        const char *key = qemu_opt_get(opts, "size") ? "size"
                          : qemu_opt_get(opts, "file.size") ? "file.size"
                          : qemu_opt_get(opts, "file.read-zeroes")
                            ? "file.read-zeroes" : NULL;
        if (key) {
            error_setg(errp, "Parameter '%s' is only supported with "
                       "file=null-co://", key);
            return false;
        }
        return true;
    }
    if (strcmp(file, "null-co://")) {
        error_setg(errp, "The only allowed filename for this driver is "
                   "'null-co://'");
        return false;
    }
    /* size= is the raw format's: a view of the first size bytes. */
    *size = qemu_opt_get(opts, "size") ? MIN(raw_size, file_size)
                                       : file_size;
    return true;
}

BlockBackend *drive_new(QemuOpts *opts, bool *if_virtio, GError **errp)
{
    const char *file = qemu_opt_get(opts, "file");
    const char *iface = qemu_opt_get(opts, "if");
    const char *id = qemu_opt_get(opts, "id");
    const char *format = qemu_opt_get(opts, "format");
    const char *cache_str = qemu_opt_get(opts, "cache");
    const char *aio_str = qemu_opt_get(opts, "aio");
    const char *discard_str = qemu_opt_get(opts, "discard");
    const char *readonly_str = qemu_opt_get(opts, "readonly");
    /* The file protocol's option, as QEMU names it under a format. */
    const char *locking_str = qemu_opt_get(opts, "file.locking");
    int cache, aio, discard, locking;
    bool read_only = false, auto_read_only, virtio, is_null, read_zeroes;
    uint64_t null_size = 0;
    g_autofree char *auto_id = NULL;
    BlockFile image;
    BlockBackend *blk;

    if (!drive_null_opts(opts, file, &is_null, &null_size, &read_zeroes,
                         errp) ||
        !qemu_opt_get_bool(opts, "auto-read-only", false, &auto_read_only,
                           errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return NULL;
    }
    if (iface && strcmp(iface, "none") && strcmp(iface, "virtio")) {
        error_setg(errp, "if=%s is not supported (only none and virtio)",
                   iface);
        return NULL;
    }
    virtio = iface && !strcmp(iface, "virtio");
    if (id && !id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return NULL;
    }
    if (format && strcmp(format, "raw")) {
        error_setg(errp, "Image format '%s' is not supported (only raw)",
                   format);
        return NULL;
    }
    if (aio_str && !strcmp(aio_str, "native")) {
        error_setg(errp, "aio=native is not supported "
                   "(only io_uring and threads)");
        return NULL;
    }
    if (!parse_choice("cache", cache_str, cache_choices,
                      "'none', 'writeback', 'directsync' or 'writethrough'",
                      BLOCK_CACHE_WRITEBACK, &cache, errp) ||
        !parse_choice("aio", aio_str, aio_choices,
                      "'io_uring' or 'threads'",
                      BLOCK_AIO_THREADS, &aio, errp) ||
        !parse_choice("discard", discard_str, discard_choices,
                      "'ignore' or 'unmap'", false, &discard, errp) ||
        !parse_choice("file.locking", locking_str, locking_choices,
                      "'on', 'off' or 'auto'", true, &locking, errp)) {
        return NULL;
    }
    if (readonly_str && !parse_bool(readonly_str, &read_only)) {
        error_setg(errp, "Parameter 'readonly' expects 'on' or 'off'");
        return NULL;
    }
    if (!file) {
        error_setg(errp, "Parameter 'file' is missing");
        return NULL;
    }
    if (!id) {
        id = auto_id = drive_auto_id(virtio ? "virtio" : "none");
    } else if (blockdev_node_exists(id)) {
        error_setg(errp, "Device name '%s' conflicts with an existing node "
                   "name", id);
        return NULL;
    } else if (blk_by_name(id)) {
        error_setg(errp, "Duplicate ID '%s' for drive", id);
        return NULL;
    }

    if (is_null) {
        blk = blk_new_null(id, null_size, read_only, read_zeroes);
        blk_set_discard(blk, discard);
    } else {
        if (!file_open(&image, file, cache, read_only, auto_read_only,
                       locking, errp)) {
            return NULL;
        }
        blk = blk_new(id, &image, cache, aio, discard, errp);
        if (!blk) {
            file_close(&image);
            return NULL;
        }
    }
    if (!format && !is_null) {
        warn_report("Image format was not specified for '%s', so raw is "
                    "assumed; add format=raw to say so", file);
    }
    if (if_virtio) {
        *if_virtio = virtio;
    }
    return blk;
}
