/*
 * The qtest protocol server: with -accel qtest and -qtest CHARDEV, a test
 * program plays the guest, reading and writing guest memory and ports over
 * QEMU's qtest line protocol (docs/devel/qtest.rst).
 */
#ifndef SYSEMU_QTEST_H
#define SYSEMU_QTEST_H

#include <glib.h>
#include <stdbool.h>

/* Start serving on spec (unix:PATH or stdio); log to logfile if given. */
bool qtest_server_init(const char *spec, const char *logfile, GError **errp);
bool qtest_enabled(void);

#endif
