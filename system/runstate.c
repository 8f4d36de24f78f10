/*
 * Shutdown and reset requests.
 */
#include <glib.h>

#include "qemu/main-loop.h"
#include "sysemu/runstate.h"

bool no_reboot;

static gint shutdown_cause;     /* ShutdownCause; the first request wins */
static gint shutdown_status;
static gint reset_requested;

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
    if (no_reboot) {
        qemu_system_shutdown_request(cause, 0);
        return;
    }
    g_atomic_int_set(&reset_requested, 1);
    main_loop_wakeup();
}

bool qemu_shutdown_pending(int *exit_status)
{
    if (g_atomic_int_get(&shutdown_cause) == SHUTDOWN_CAUSE_NONE) {
        return false;
    }
    *exit_status = g_atomic_int_get(&shutdown_status);
    return true;
}

bool qemu_reset_pending(void)
{
    return g_atomic_int_compare_and_exchange(&reset_requested, 1, 0);
}
