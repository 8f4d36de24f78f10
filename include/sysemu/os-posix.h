/*
 * -daemonize and -pidfile.  Main thread.
 */
#ifndef SYSEMU_OS_POSIX_H
#define SYSEMU_OS_POSIX_H

#include <glib.h>
#include <stdbool.h>

/*
 * Fork: the parent waits until the child calls os_daemonize_ready() and
 * exits 0, or exits with the child's status if it ends first.  Call before
 * any thread is started.
 */
void os_daemonize(void);
/* The VM is ready: detach from the terminal and let the parent go. */
void os_daemonize_ready(void);

/* Write our pid to path, locked against a second VMM using it. */
bool os_write_pidfile(const char *path, GError **errp);
/* Remove it again, at exit. */
void os_remove_pidfile(void);

#endif
