/*
 * Making chardevs from options: -chardev BACKEND,id=ID,... and the legacy
 * specs of -serial and -debugcon ("stdio", "file:PATH", "chardev:ID"...).
 * Called with the BQL held, at start-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chardev/char-internal.h"
#include "qemu/error-report.h"

typedef struct ChardevBackend {
    const char *name;
    const char *const *keys;    /* the options it takes besides id= */
    bool (*open)(Chardev *chr, QemuOpts *opts, GError **errp);
} ChardevBackend;

static bool open_null(Chardev *chr, QemuOpts *opts, GError **errp)
{
    chr->filename = g_strdup("null");
    return true;
}

static const char *const no_keys[] = { NULL };
static const char *const file_keys[] = { "path", "append", NULL };
static const char *const socket_keys[] = {
    "path", "fd", "server", "wait", "host", "port", NULL,
};

static const ChardevBackend backends[] = {
    { "file", file_keys, qemu_chr_open_file },
    { "null", no_keys, open_null },
    { "pty", no_keys, qemu_chr_open_pty },
    { "socket", socket_keys, qemu_chr_open_socket },
    { "stdio", no_keys, qemu_chr_open_stdio },
};

static const ChardevBackend *backend_find(const char *name)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(backends); i++) {
        if (!strcmp(backends[i].name, name)) {
            return &backends[i];
        }
    }
    return NULL;
}

static bool check_key(void *opaque, const char *name, const char *value,
                      GError **errp)
{
    const ChardevBackend *be = opaque;

    if (!strcmp(name, "backend") || !strcmp(name, "id")) {
        return true;
    }
    for (const char *const *k = be->keys; *k; k++) {
        if (!strcmp(*k, name)) {
            return true;
        }
    }
    error_setg(errp, "Invalid parameter '%s'", name);
    return false;
}

/* A chardev from parsed options, labelled label (NULL: not registered). */
static Chardev *chr_open(QemuOpts *opts, const char *label, GError **errp)
{
    const char *name = qemu_opt_get(opts, "backend");
    const ChardevBackend *be;
    Chardev *chr;

    if (!name) {
        error_setg(errp, "chardev: backend is missing");
        return NULL;
    }
    be = backend_find(name);
    if (!be) {
        error_setg(errp, "'%s' is not a valid char driver name", name);
        return NULL;
    }
    /* Every key is checked before anything is opened or printed. */
    if (!qemu_opt_foreach(opts, check_key, (void *)be, errp)) {
        return NULL;
    }
    if (label && qemu_chr_find(label)) {
        error_setg(errp, "Duplicate ID '%s' for chardev", label);
        return NULL;
    }
    chr = qemu_chr_alloc(label);
    if (!be->open(chr, opts, errp)) {
        qemu_chr_free(chr);
        return NULL;
    }
    if (label) {
        qemu_chr_register(chr);
    }
    return chr;
}

static void print_backends(void)
{
    printf("Available chardev backend types:\n");
    for (unsigned i = 0; i < G_N_ELEMENTS(backends); i++) {
        printf("  %s\n", backends[i].name);
    }
}

Chardev *qemu_chr_new_from_opts(const char *optarg, GError **errp)
{
    g_autoptr(QemuOpts) opts = NULL;
    const char *id;

    if (!strcmp(optarg, "help")) {
        print_backends();
        exit(0);
    }
    opts = qemu_opts_parse(optarg, "backend", errp);
    if (!opts) {
        return NULL;
    }
    id = qemu_opt_get(opts, "id");
    if (!id) {
        error_setg(errp, "chardev: no id specified");
        return NULL;
    }
    return chr_open(opts, id, errp);
}

/* "file:PATH" -> "file,path=PATH", "unix:PATH,..." -> "socket,path=PATH,..." */
static char *legacy_to_opts(const char *spec)
{
    g_autofree char *escaped = NULL;

    if (g_str_has_prefix(spec, "file:")) {
        g_auto(GStrv) parts = g_strsplit(spec + 5, ",", -1);

        escaped = g_strjoinv(",,", parts);
        return g_strdup_printf("file,path=%s", escaped);
    }
    if (g_str_has_prefix(spec, "unix:")) {
        return g_strdup_printf("socket,path=%s", spec + 5);
    }
    if (!strcmp(spec, "stdio") || !strcmp(spec, "null") ||
        !strcmp(spec, "pty")) {
        return g_strdup(spec);
    }
    return NULL;
}

static Chardev *chr_new_legacy(const char *label, const char *spec,
                               GError **errp)
{
    g_autofree char *optstr = legacy_to_opts(spec);
    g_autoptr(QemuOpts) opts = NULL;

    if (!optstr) {
        error_setg(errp, "'%s' is not a valid char driver", spec);
        return NULL;
    }
    opts = qemu_opts_parse(optstr, "backend", errp);
    return opts ? chr_open(opts, label, errp) : NULL;
}

Chardev *qemu_chr_new_legacy(const char *label, const char *spec,
                             GError **errp)
{
    if (g_str_has_prefix(spec, "chardev:")) {
        Chardev *chr = qemu_chr_find(spec + 8);

        if (!chr) {
            error_setg(errp, "could not connect %s to character backend "
                       "'%s'", label, spec);
        }
        return chr;
    }
    return chr_new_legacy(label, spec, errp);
}

Chardev *qemu_chr_new(const char *spec, GError **errp)
{
    return chr_new_legacy(NULL, spec, errp);
}
