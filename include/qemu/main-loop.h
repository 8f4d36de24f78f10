/*
 * The main loop and the big QEMU lock (BQL).
 *
 * The main thread runs a GMainContext (glib's default context) and holds the
 * BQL while it dispatches.  vCPU threads take the BQL to handle exits in
 * device models; one that waits for I/O there runs the main loop's
 * AioContext itself (aio_wait_while()).  I/O threads (-object iothread) run
 * their own contexts and do not take the BQL on their hot paths.  See
 * docs/devel/threading.rst.
 */
#ifndef QEMU_MAIN_LOOP_H
#define QEMU_MAIN_LOOP_H

#include <glib.h>
#include <stdbool.h>

void bql_lock(void);
void bql_unlock(void);
bool bql_locked(void);
/* Wait on cond, releasing the BQL meanwhile. */
void bql_cond_wait(GCond *cond);

void main_loop_init(void);
/*
 * Run until should_exit (called with the BQL held before each iteration,
 * where it acts on requests) says so; returns the exit status it gave.
 */
int main_loop_run(bool (*should_exit)(int *status));
void main_loop_wakeup(void);

#endif
