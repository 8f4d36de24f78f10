/*
 * Shutdown, reset and power-down requests.
 */
#include <glib.h>

#include "qemu/main-loop.h"
#include "sysemu/runstate.h"

bool no_reboot;

static gint shutdown_cause;     /* ShutdownCause; the first request wins */
static gint shutdown_status;
static gint reset_cause;        /* ShutdownCause, or NONE */
static gint powerdown_requested;

void qemu_system_shutdown_request(ShutdownCause cause, int exit_status)
{
    if (g_atomic_int_compare_and_exchange(&shutdown_cause, SHUTDOWN_CAUSE_NONE,
                                          (gint)cause)) {
        g_atomic_int_set(&shutdown_status, exit_status);
    }
    main_loop_wakeup();
}

void qemu_system_reset_request(ShutdownCause cause)
{
    if (no_reboot && cause == SHUTDOWN_CAUSE_GUEST_RESET) {
        qemu_system_shutdown_request(cause, 0);
        return;
    }
    g_atomic_int_set(&reset_cause, (gint)cause);
    main_loop_wakeup();
}

void qemu_system_powerdown_request(void)
{
    g_atomic_int_set(&powerdown_requested, 1);
    main_loop_wakeup();
}

bool qemu_shutdown_take(ShutdownCause *cause, int *exit_status)
{
    gint c = g_atomic_int_get(&shutdown_cause);

    if (c == SHUTDOWN_CAUSE_NONE) {
        return false;
    }
    *exit_status = g_atomic_int_get(&shutdown_status);
    *cause = (ShutdownCause)c;
    g_atomic_int_set(&shutdown_cause, SHUTDOWN_CAUSE_NONE);
    return true;
}

bool qemu_reset_take(ShutdownCause *cause)
{
    gint c = g_atomic_int_and((guint *)&reset_cause, 0);

    *cause = (ShutdownCause)c;
    return c != SHUTDOWN_CAUSE_NONE;
}

bool qemu_powerdown_take(void)
{
    return g_atomic_int_compare_and_exchange(&powerdown_requested, 1, 0);
}

const char *shutdown_cause_name(ShutdownCause cause)
{
    switch (cause) {
    case SHUTDOWN_CAUSE_NONE:
        return "none";
    case SHUTDOWN_CAUSE_HOST_ERROR:
        return "host-error";
    case SHUTDOWN_CAUSE_HOST_QMP_QUIT:
        return "host-qmp-quit";
    case SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET:
        return "host-qmp-system-reset";
    case SHUTDOWN_CAUSE_HOST_SIGNAL:
        return "host-signal";
    case SHUTDOWN_CAUSE_HOST_QTEST:
        /* QEMU has no name of its own for it: the qtest client is a UI. */
        return "host-ui";
    case SHUTDOWN_CAUSE_GUEST_SHUTDOWN:
    case SHUTDOWN_CAUSE_DEBUG_EXIT:
        return "guest-shutdown";
    case SHUTDOWN_CAUSE_GUEST_RESET:
        return "guest-reset";
    }
    g_assert_not_reached();
}

bool shutdown_cause_is_guest(ShutdownCause cause)
{
    return cause == SHUTDOWN_CAUSE_GUEST_SHUTDOWN ||
           cause == SHUTDOWN_CAUSE_GUEST_RESET ||
           cause == SHUTDOWN_CAUSE_DEBUG_EXIT;
}
