/*
 * Requests to shut down or reset the machine, and QEMU's exit statuses.
 */
#ifndef SYSEMU_RUNSTATE_H
#define SYSEMU_RUNSTATE_H

#include <stdbool.h>

typedef enum ShutdownCause {
    SHUTDOWN_CAUSE_NONE,
    SHUTDOWN_CAUSE_HOST_ERROR,      /* exit status 1 */
    SHUTDOWN_CAUSE_HOST_SIGNAL,     /* SIGINT, SIGTERM, SIGHUP: status 0 */
    SHUTDOWN_CAUSE_HOST_QTEST,      /* the qtest client went away: status 0 */
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,  /* ACPI poweroff: status 0 */
    SHUTDOWN_CAUSE_GUEST_RESET,     /* reset register, triple fault */
    SHUTDOWN_CAUSE_DEBUG_EXIT,      /* isa-debug-exit: its own status */
} ShutdownCause;

/* -no-reboot: a guest reset ends the VMM instead. */
extern bool no_reboot;

/* Safe from any thread; the main loop acts on it. */
void qemu_system_shutdown_request(ShutdownCause cause, int exit_status);
void qemu_system_reset_request(ShutdownCause cause);

/* For the main loop: true (and the status) once a shutdown is due. */
bool qemu_shutdown_pending(int *exit_status);
/* For the main loop: consume a pending reset request. */
bool qemu_reset_pending(void);

#endif
