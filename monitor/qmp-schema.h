/*
 * The QMP schema (qapi/qmp-schema.json): what commands and events exist,
 * what their arguments, replies and data look like.  The dispatcher checks
 * every command's arguments and reply against it, events are checked before
 * they are sent, and query-qmp-schema returns it in QEMU's SchemaInfo form.
 *
 * Loaded once at start-up (qmp_schema_init(), main thread); read-only after
 * that, so every function here may be called from any thread.
 */
#ifndef MONITOR_QMP_SCHEMA_H
#define MONITOR_QMP_SCHEMA_H

#include <json-glib/json-glib.h>
#include <stdbool.h>

void qmp_schema_init(void);

bool qmp_schema_has_command(const char *name);
/* The commands' names, sorted; owned by the schema. */
const char *const *qmp_schema_command_names(void);

/* Errors are QMP's "GenericError" messages, as QEMU phrases them. */
bool qmp_schema_check_args(const char *command, JsonObject *args,
                           GError **errp);
bool qmp_schema_check_return(const char *command, JsonNode *ret,
                             GError **errp);
bool qmp_schema_check_event(const char *event, JsonObject *data,
                            GError **errp);

/* The schema as a SchemaInfo array: a new reference. */
JsonNode *qmp_schema_introspect(void);

#endif
