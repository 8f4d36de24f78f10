/*
 * QMP's migration capabilities.  This VMM cannot migrate a VM; the only
 * capability is "events" (send MIGRATION events), which libvirt switches on
 * for every VM it starts and which has nothing to report here.  Main
 * thread, BQL held.
 */
#include <string.h>

#include "monitor/qmp.h"

static bool migration_events;

static JsonNode *query_migrate_capabilities(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();
    JsonObject *c = json_object_new();

    json_object_set_string_member(c, "capability", "events");
    json_object_set_boolean_member(c, "state", migration_events);
    json_array_add_object_element(list, c);
    return qmp_return_array(list);
}

/* The schema has checked that every capability named is one we have. */
static JsonNode *migrate_set_capabilities(JsonObject *args, GError **errp)
{
    JsonArray *caps = json_object_get_array_member(args, "capabilities");

    for (guint i = 0; i < json_array_get_length(caps); i++) {
        JsonObject *c = json_array_get_object_element(caps, i);

        if (!strcmp(json_object_get_string_member(c, "capability"),
                    "events")) {
            migration_events = json_object_get_boolean_member(c, "state");
        }
    }
    return qmp_return_empty();
}

static const QmpCommand migration_commands[] = {
    { "query-migrate-capabilities", query_migrate_capabilities },
    { "migrate-set-capabilities", migrate_set_capabilities },
};
QMP_COMMANDS_REGISTER(migration_commands)
