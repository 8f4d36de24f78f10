/*
 * QMP commands: how a command is written and registered.
 *
 * A handler runs in the main thread with the BQL held, after its arguments
 * were checked against qapi/qmp-schema.json.  It returns its reply's
 * "return" value (an empty object for commands without one), or NULL with
 * *errp set.  Errors in the QMP_ERROR domain carry their QMP class; any
 * other error is a GenericError.
 */
#ifndef MONITOR_QMP_H
#define MONITOR_QMP_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#define QMP_ERROR qmp_error_quark()
GQuark qmp_error_quark(void);

typedef enum QmpErrorClass {
    QMP_ERROR_CLASS_GENERIC_ERROR,
    QMP_ERROR_CLASS_COMMAND_NOT_FOUND,
    QMP_ERROR_CLASS_DEVICE_NOT_ACTIVE,
    QMP_ERROR_CLASS_DEVICE_NOT_FOUND,
    QMP_ERROR_CLASS_KVM_MISSING_CAP,
} QmpErrorClass;

const char *qmp_error_class_name(const GError *err);

typedef JsonNode *QmpCommandFunc(JsonObject *args, GError **errp);

typedef struct QmpCommand {
    const char *name;
    QmpCommandFunc *fn;
} QmpCommand;

void qmp_command_register(const QmpCommand *cmd);
#define QMP_COMMANDS_REGISTER(table) \
    static void __attribute__((constructor)) register_##table(void) \
    { \
        for (size_t i = 0; i < G_N_ELEMENTS(table); i++) { \
            qmp_command_register(&(table)[i]); \
        } \
    }

/* Helpers for handlers. */
JsonNode *qmp_return_empty(void);
JsonNode *qmp_return_object(JsonObject *obj);      /* takes obj */
JsonNode *qmp_return_array(JsonArray *arr);        /* takes arr */
/* args may be NULL: the argument's value or the default. */
const char *qmp_arg_str(JsonObject *args, const char *name);
bool qmp_arg_bool(JsonObject *args, const char *name, bool def);
gint64 qmp_arg_int(JsonObject *args, const char *name, gint64 def);

#endif
