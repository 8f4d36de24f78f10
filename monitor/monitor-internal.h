/*
 * Between the monitor thread (monitor.c) and the dispatcher
 * (qmp-dispatch.c).
 */
#ifndef MONITOR_MONITOR_INTERNAL_H
#define MONITOR_MONITOR_INTERNAL_H

#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct QmpClient QmpClient;

/* Any thread. */
QmpClient *qmp_client_ref(QmpClient *c);
void qmp_client_unref(QmpClient *c);
/* Queue a message for the client (dropped if it has gone).  Any thread. */
void qmp_client_send(QmpClient *c, JsonNode *msg);
/* One request fewer is outstanding.  Any thread. */
void qmp_client_request_done(QmpClient *c);
/* Enter command mode; false if it was in it already.  Any thread. */
bool qmp_client_negotiate(QmpClient *c);
bool qmp_client_in_command_mode(QmpClient *c);

/* {"error": {"class": klass, "desc": desc}[, "id": id]} */
JsonNode *qmp_error_reply(JsonNode *id, const char *klass, const char *desc);

/*
 * A request (a JSON object) from c, in the monitor thread: it is answered
 * in order, from the main thread.
 */
void qmp_dispatch_request(QmpClient *c, JsonNode *request);
/* Main thread, around the monitor thread's life. */
void qmp_dispatch_init(void);
void qmp_dispatch_cleanup(void);

/* The "version" of query-version and of the greeting.  Any thread. */
JsonNode *qmp_version_info(void);

#endif
