/*
 * -drive: from its options to an open BlockBackend.
 *
 * Every option is read before any is checked, so that an unknown key is
 * reported first, and everything is checked before the image is opened.
 */
#include <string.h>

#include "block-internal.h"
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

/* A letter, then letters, digits, '-', '.' and '_'. */
static bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

/* prefix0, prefix1, ...: the first one not taken. */
static char *drive_auto_id(const char *prefix)
{
    for (unsigned i = 0;; i++) {
        char *id = g_strdup_printf("%s%u", prefix, i);

        if (!blk_by_name(id)) {
            return id;
        }
        g_free(id);
    }
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
    bool read_only = false, virtio;
    g_autofree char *auto_id = NULL;
    BlockFile image;
    BlockBackend *blk;

    if (!qemu_opts_check_unused(opts, errp)) {
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
    } else if (blk_by_name(id)) {
        error_setg(errp, "Duplicate ID '%s' for drive", id);
        return NULL;
    }

    if (!file_open(&image, file, cache, read_only, locking, errp)) {
        return NULL;
    }
    blk = blk_new(id, &image, cache, aio, discard, errp);
    if (!blk) {
        file_close(&image);
        return NULL;
    }
    if (!format) {
        warn_report("Image format was not specified for '%s', so raw is "
                    "assumed; add format=raw to say so", file);
    }
    if (if_virtio) {
        *if_virtio = virtio;
    }
    return blk;
}
