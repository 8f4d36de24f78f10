/*
 * libqmp: a test's QMP client.  It connects to a monitor's Unix socket,
 * reads the greeting, negotiates capabilities, sends commands and returns
 * their replies; events that arrive meanwhile are kept for
 * qmp_client_event_wait().  Every wait has a timeout that fails the test.
 *
 * Commands are written as JSON, with single quotes allowed for double ones
 * so that they read well in C strings: "{'execute': 'query-status'}".
 */
#ifndef LIBQMP_H
#define LIBQMP_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct QmpTestClient QmpTestClient;

/* Connect and read the greeting; negotiate unless raw. */
QmpTestClient *qmp_client_connect(const char *path, bool raw);
void qmp_client_close(QmpTestClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpTestClient, qmp_client_close)

/* The greeting ({"QMP": ...}). */
JsonObject *qmp_client_greeting(QmpTestClient *c);
/* The socket, for tests that write what no well-behaved client would. */
int qmp_client_fd(QmpTestClient *c);

/* Send a command and return its reply (a new reference). */
JsonObject *qmp_client_cmd(QmpTestClient *c, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* Send raw bytes. */
void qmp_client_send_raw(QmpTestClient *c, const void *buf, size_t len);
/* The next message that is not an event, or NULL at end of file. */
JsonObject *qmp_client_receive(QmpTestClient *c);
/* Wait for an event (consuming it and those before); its message. */
JsonObject *qmp_client_event_wait(QmpTestClient *c, const char *event);
/* A copy of the events received so far, not yet waited for. */
GPtrArray *qmp_client_events(QmpTestClient *c);

/* The reply's "return" member; fails the test on an error reply. */
JsonNode *qmp_reply_return(JsonObject *reply);
/* The reply's error class and description; fails the test on success. */
const char *qmp_reply_error_class(JsonObject *reply);
const char *qmp_reply_error_desc(JsonObject *reply);

/* The first object of array whose string member is value, or NULL. */
JsonObject *qmp_find_by(JsonArray *array, const char *member,
                        const char *value);

/*
 * A query-blockstats reply for a VM with one drive: its entry (owned by
 * reply), which must name device and, unless qdev is NULL, that device
 * model's back-end path.
 */
JsonObject *qmp_blockstats_only(JsonObject *reply, const char *device,
                                const char *qdev);

#endif
