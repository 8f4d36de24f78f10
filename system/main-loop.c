/*
 * The main loop and the big QEMU lock.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <glib-unix.h>

#include "block/aio.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "sysemu/runstate.h"

static GMutex bql;
static __thread bool bql_held;

void bql_lock(void)
{
    g_mutex_lock(&bql);
    bql_held = true;
}

void bql_unlock(void)
{
    bql_held = false;
    g_mutex_unlock(&bql);
}

bool bql_locked(void)
{
    return bql_held;
}

void bql_cond_wait(GCond *cond)
{
    bql_held = false;
    g_cond_wait(cond, &bql);
    bql_held = true;
}

/* The main thread sleeps without the BQL and dispatches with it. */
static gint poll_without_bql(GPollFD *fds, guint nfds, gint timeout)
{
    gint ret;
    int err;

    bql_unlock();
    ret = poll((struct pollfd *)fds, nfds, timeout);
    /*
     * glib reads errno after a failed poll (EINTR is expected when a signal
     * arrives); taking the mutex may change errno (a futex's EAGAIN).
     */
    err = errno;
    bql_lock();
    errno = err;
    return ret;
}

static gboolean on_signal(gpointer data)
{
    int sig = GPOINTER_TO_INT(data);

    error_report("terminating on signal %d", sig);
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL, 0);
    return G_SOURCE_CONTINUE;
}

void main_loop_init(void)
{
    /* Whoever holds the BQL may run its AioContext: see aio_wait_while(). */
    aio_context_set_owner(qemu_get_aio_context(), bql_locked);
    g_main_context_set_poll_func(NULL, poll_without_bql);
    g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
    g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
    g_unix_signal_add(SIGHUP, on_signal, GINT_TO_POINTER(SIGHUP));
    signal(SIGPIPE, SIG_IGN);
}

void main_loop_wakeup(void)
{
    g_main_context_wakeup(NULL);
}

int main_loop_run(bool (*should_exit)(int *status))
{
    int status;

    g_assert(bql_locked());
    while (!should_exit(&status)) {
        g_main_context_iteration(NULL, TRUE);
    }
    return status;
}
