/*
 * Option strings in QEMU's syntax: "value,key=value,key=value".
 *
 * A leading element without '=' is the value of the option's implied key
 * (the driver of -device, the size of -m, ...); ",," is a literal comma.
 * Consumers read keys with qemu_opt_get*(), which marks them used, then call
 * qemu_opts_check_unused() so that an unknown key is an error.
 */
#ifndef QEMU_OPTION_H
#define QEMU_OPTION_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct QemuOpts QemuOpts;

QemuOpts *qemu_opts_parse(const char *params, const char *implied_key,
                          GError **errp);
void qemu_opts_free(QemuOpts *opts);
/* Empty options, for a caller that sets them (keyval-json.c). */
QemuOpts *qemu_opts_new(void);
/* Append name=value; a later value for a name wins, as in parsing. */
void qemu_opt_set(QemuOpts *opts, const char *name, const char *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuOpts, qemu_opts_free)

/* The last value given for name, or NULL; marks name used. */
const char *qemu_opt_get(QemuOpts *opts, const char *name);
bool qemu_opt_get_bool(QemuOpts *opts, const char *name, bool def,
                       bool *out, GError **errp);
bool qemu_opt_get_number(QemuOpts *opts, const char *name, uint64_t def,
                         uint64_t *out, GError **errp);
bool qemu_opt_get_size(QemuOpts *opts, const char *name, uint64_t def,
                       uint64_t *out, GError **errp);

/* Call fn for every key=value in order, marking each used. */
typedef bool (*QemuOptFn)(void *opaque, const char *name, const char *value,
                          GError **errp);
bool qemu_opt_foreach(QemuOpts *opts, QemuOptFn fn, void *opaque,
                      GError **errp);

/* The first key nobody asked for, or NULL. */
const char *qemu_opts_first_unused(QemuOpts *opts);
/* "Invalid parameter 'key'" for the first key nobody asked for. */
bool qemu_opts_check_unused(QemuOpts *opts, GError **errp);

/* Does the user ask for help: "help" or "?" (as a value or a bare key)? */
bool is_help_option(const char *s);
/* Is there a bare "help" or "?" key among opts? */
bool qemu_opts_has_help(QemuOpts *opts);
/*
 * Print one property of "-device DRIVER,help" or "-object TYPE,help" on
 * stdout, in QEMU's layout: "  name=<type>", then " - desc (default: ...)"
 * if it has a description (desc may be "") or a default (defval non-NULL).
 */
void qemu_print_property_help(const char *name, const char *type,
                              const char *desc, const char *defval);

#endif
