/*
 * Option strings in QEMU's syntax.
 */
#include <stdio.h>
#include <string.h>

#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/option.h"

typedef struct QemuOpt {
    char *name;
    char *value;
    bool used;
} QemuOpt;

struct QemuOpts {
    GPtrArray *opts;
};

static void qemu_opt_free(gpointer p)
{
    QemuOpt *opt = p;

    g_free(opt->name);
    g_free(opt->value);
    g_free(opt);
}

/* Copy up to the next single ',' (",," is an escaped comma) or stop char. */
static const char *get_token(const char *p, char stop, GString *out)
{
    while (*p) {
        if (*p == ',') {
            if (p[1] != ',') {
                break;
            }
            p++;
        } else if (*p == stop) {
            break;
        }
        g_string_append_c(out, *p++);
    }
    return p;
}

QemuOpts *qemu_opts_new(void)
{
    QemuOpts *opts = g_new0(QemuOpts, 1);

    opts->opts = g_ptr_array_new_with_free_func(qemu_opt_free);
    return opts;
}

void qemu_opt_set(QemuOpts *opts, const char *name, const char *value)
{
    QemuOpt *opt = g_new0(QemuOpt, 1);

    opt->name = g_strdup(name);
    opt->value = g_strdup(value);
    g_ptr_array_add(opts->opts, opt);
}

QemuOpts *qemu_opts_parse(const char *params, const char *implied_key,
                          GError **errp)
{
    QemuOpts *opts = qemu_opts_new();
    const char *p = params;
    bool first = true;

    while (*p) {
        g_autoptr(GString) key = g_string_new(NULL);
        g_autoptr(GString) value = g_string_new(NULL);

        p = get_token(p, '=', key);
        if (*p == '=') {
            p = get_token(p + 1, '\0', value);
        } else if (first && implied_key) {
            g_string_assign(value, key->str);
            g_string_assign(key, implied_key);
        } else {
            /* A bare "key" stands for key=on, as in QEMU. */
            g_string_assign(value, "on");
        }
        if (!key->len) {
            error_setg(errp, "Invalid parameter ''");
            qemu_opts_free(opts);
            return NULL;
        }
        qemu_opt_set(opts, key->str, value->str);
        first = false;
        if (*p == ',') {
            p++;
        }
    }
    return opts;
}

void qemu_opts_free(QemuOpts *opts)
{
    if (opts) {
        g_ptr_array_unref(opts->opts);
        g_free(opts);
    }
}

const char *qemu_opt_get(QemuOpts *opts, const char *name)
{
    const char *value = NULL;

    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *opt = g_ptr_array_index(opts->opts, i);
        if (!strcmp(opt->name, name)) {
            opt->used = true;
            value = opt->value;
        }
    }
    return value;
}

bool qemu_opt_get_bool(QemuOpts *opts, const char *name, bool def,
                       bool *out, GError **errp)
{
    const char *v = qemu_opt_get(opts, name);

    *out = def;
    if (v && !parse_bool(v, out)) {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", name);
        return false;
    }
    return true;
}

bool qemu_opt_get_number(QemuOpts *opts, const char *name, uint64_t def,
                         uint64_t *out, GError **errp)
{
    const char *v = qemu_opt_get(opts, name);

    *out = def;
    if (v && !parse_uint64(v, out)) {
        error_setg(errp, "Parameter '%s' expects a number", name);
        return false;
    }
    return true;
}

bool qemu_opt_get_size(QemuOpts *opts, const char *name, uint64_t def,
                       uint64_t *out, GError **errp)
{
    const char *v = qemu_opt_get(opts, name);

    *out = def;
    if (v && !parse_size(v, 1, out)) {
        error_setg(errp, "Parameter '%s' expects a size", name);
        return false;
    }
    return true;
}

bool qemu_opt_foreach(QemuOpts *opts, QemuOptFn fn, void *opaque,
                      GError **errp)
{
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *opt = g_ptr_array_index(opts->opts, i);
        opt->used = true;
        if (!fn(opaque, opt->name, opt->value, errp)) {
            return false;
        }
    }
    return true;
}

const char *qemu_opts_first_unused(QemuOpts *opts)
{
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *opt = g_ptr_array_index(opts->opts, i);
        if (!opt->used) {
            return opt->name;
        }
    }
    return NULL;
}

bool qemu_opts_check_unused(QemuOpts *opts, GError **errp)
{
    const char *name = qemu_opts_first_unused(opts);

    if (name) {
        error_setg(errp, "Invalid parameter '%s'", name);
        return false;
    }
    return true;
}

bool is_help_option(const char *s)
{
    return s && (!strcmp(s, "help") || !strcmp(s, "?"));
}

bool qemu_opts_has_help(QemuOpts *opts)
{
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *opt = g_ptr_array_index(opts->opts, i);
        if (is_help_option(opt->name)) {
            return true;
        }
    }
    return false;
}

void qemu_print_property_help(const char *name, const char *type,
                              const char *desc, const char *defval)
{
    g_autofree char *head = g_strdup_printf("%s=<%s>", name, type);

    if (!desc && !defval) {
        printf("  %s\n", head);
        return;
    }
    printf("  %-22s - %s", head, desc ? desc : "");
    if (defval) {
        printf(" (default: %s)", defval);
    }
    printf("\n");
}
