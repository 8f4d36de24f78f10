/*
 * QMP monitors: -qmp and -mon.  Each monitor serves one client at a time
 * (a listening socket keeps further clients waiting, as QEMU's do) from the
 * monitor thread ("IO monitor"), which does all reading, parsing and
 * writing; commands run in the main thread with the BQL held, one at a
 * time per client.  A slow or stuck client therefore only delays itself:
 * its replies and events queue (up to MONITOR_OUTPUT_MAX bytes, beyond which
 * it is dropped).  See docs/system/management.rst.
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#define MONITOR_OUTPUT_MAX  (16u << 20)

/*
 * -qmp unix:PATH,server=on[,wait=off] | stdio, and -mon chardev=ID[,...]:
 * monitors on character devices (monitor/monitor-opts.c).  Main thread,
 * BQL held, after -chardev and before monitor_start().
 */
bool monitor_new_qmp(const char *spec, GError **errp);
bool monitor_new_from_mon_opts(const char *optarg, GError **errp);

/*
 * A monitor on a listening socket (it takes the fd; label as in
 * query-chardev).  wait: accept the first client before returning.
 */
bool monitor_new_qmp_listener(int listen_fd, const char *label, bool wait,
                              GError **errp);
/* A monitor on standard input and output (the caller reserved them). */
void monitor_new_qmp_stdio(void);
/* Start the monitor thread.  Main thread, BQL held. */
void monitor_start(void);
/*
 * Flush what is queued for clients (for at most a second), stop the thread
 * and close every monitor.  Main thread, BQL held, after the main loop.
 */
void monitor_cleanup(void);

/*
 * Send an event to every client in command mode.  data (may be NULL) is
 * taken.  Any thread, any lock.
 */
void qmp_event_send(const char *event, JsonObject *data);

#endif
