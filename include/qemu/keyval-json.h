/*
 * QEMU's JSON syntax for the options that take a dictionary (-device,
 * -object, -blockdev): an argument that starts with '{' is a JSON object,
 * read into the same QemuOpts as the key=value syntax would give.
 *
 *   {"driver":"file","cache":{"direct":true},"size":4096}
 *
 * is driver=file,cache.direct=on,size=4096: nested objects flatten to
 * dotted keys, true and false become on and off, numbers decimal strings.
 * Lists and null have no key=value spelling and are refused.
 */
#ifndef QEMU_KEYVAL_JSON_H
#define QEMU_KEYVAL_JSON_H

#include <json-glib/json-glib.h>

#include "qemu/option.h"

QemuOpts *qemu_opts_from_json(const char *json, GError **errp);
/* The same for an object already parsed (a QMP command's arguments). */
QemuOpts *qemu_opts_from_json_object(JsonObject *obj, GError **errp);

/*
 * The argument of -device, -object or -blockdev: JSON if it starts with
 * '{', else key=value (implied_key as for qemu_opts_parse()).
 */
QemuOpts *qemu_opts_parse_dict(const char *params, const char *implied_key,
                               GError **errp);

#endif
