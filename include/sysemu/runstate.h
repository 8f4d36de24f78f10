/*
 * Requests to shut down, reset or power down the machine, and QEMU's exit
 * statuses.  Requests are made from any thread; the main loop acts on them
 * (system/vm-state.c in the VMM).
 */
#ifndef SYSEMU_RUNSTATE_H
#define SYSEMU_RUNSTATE_H

#include <stdbool.h>

typedef enum ShutdownCause {
    SHUTDOWN_CAUSE_NONE,
    SHUTDOWN_CAUSE_HOST_ERROR,      /* exit status 1 */
    SHUTDOWN_CAUSE_HOST_QMP_QUIT,   /* QMP quit: status 0 */
    SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET,
    SHUTDOWN_CAUSE_HOST_SIGNAL,     /* SIGINT, SIGTERM, SIGHUP: status 0 */
    SHUTDOWN_CAUSE_HOST_QTEST,      /* the qtest client went away: status 0 */
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,  /* ACPI poweroff: status 0 */
    SHUTDOWN_CAUSE_GUEST_RESET,     /* reset register, triple fault */
    SHUTDOWN_CAUSE_DEBUG_EXIT,      /* isa-debug-exit: its own status */
} ShutdownCause;

/* -no-reboot: a guest reset ends the VMM instead. */
extern bool no_reboot;

/* Safe from any thread; the main loop acts on them. */
void qemu_system_shutdown_request(ShutdownCause cause, int exit_status);
void qemu_system_reset_request(ShutdownCause cause);
void qemu_system_powerdown_request(void);

/*
 * For the main loop: consume a pending request.  A shutdown request is
 * consumed too, so that one that does not end the VMM (-no-shutdown) can
 * be followed by another.
 */
bool qemu_shutdown_take(ShutdownCause *cause, int *exit_status);
bool qemu_reset_take(ShutdownCause *cause);
bool qemu_powerdown_take(void);

/* QMP's ShutdownCause name, and whether the guest asked. */
const char *shutdown_cause_name(ShutdownCause cause);
bool shutdown_cause_is_guest(ShutdownCause cause);

#endif
