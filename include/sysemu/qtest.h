/*
 * The qtest protocol server: with -accel qtest and -qtest CHARDEV, a test
 * program plays the guest, reading and writing guest memory and ports over
 * QEMU's qtest line protocol (docs/devel/qtest.rst).
 */
#ifndef SYSEMU_QTEST_H
#define SYSEMU_QTEST_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Start serving on spec (unix:PATH or stdio).  logfile: a file to log the
 * protocol to, "none" for no log, NULL for stderr (as QEMU does).
 */
bool qtest_server_init(const char *spec, const char *logfile, GError **errp);
/* Is the qtest accelerator the one running the machine? */
bool qtest_enabled(void);
/*
 * The virtual clock, in nanoseconds: it starts at 0 and only the test moves
 * it (clock_step, clock_set).  Safe from any thread.
 */
int64_t qtest_clock_ns(void);

#endif
