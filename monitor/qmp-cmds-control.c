/*
 * QMP commands about QMP itself and the VMM's version.
 */
#include <stdio.h>

#include "config-host.h"
#include "monitor/monitor-internal.h"
#include "monitor/qmp-schema.h"
#include "monitor/qmp.h"

JsonNode *qmp_version_info(void)
{
    JsonObject *v = json_object_new();
    JsonObject *qemu = json_object_new();
    unsigned major = 0, minor = 0, micro = 0;

    sscanf(QEMU_COMPAT_VERSION, "%u.%u.%u", &major, &minor, &micro);
    json_object_set_int_member(qemu, "major", major);
    json_object_set_int_member(qemu, "minor", minor);
    json_object_set_int_member(qemu, "micro", micro);
    json_object_set_object_member(v, "qemu", qemu);
    json_object_set_string_member(v, "package", "qemu-uring " QEMU_VERSION);
    return qmp_return_object(v);
}

static JsonNode *query_version(JsonObject *args, GError **errp)
{
    return qmp_version_info();
}

static JsonNode *query_commands(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    for (const char *const *n = qmp_schema_command_names(); *n; n++) {
        JsonObject *c = json_object_new();
        json_object_set_string_member(c, "name", *n);
        json_array_add_object_element(list, c);
    }
    return qmp_return_array(list);
}

static JsonNode *query_qmp_schema(JsonObject *args, GError **errp)
{
    return qmp_schema_introspect();
}

static const QmpCommand control_commands[] = {
    { "query-version", query_version },
    { "query-commands", query_commands },
    { "query-qmp-schema", query_qmp_schema },
};
QMP_COMMANDS_REGISTER(control_commands)
