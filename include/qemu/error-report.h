/*
 * Error reporting in QEMU's style: "qemu-system-x86_64: <location>: message".
 *
 * Errors travel as GError (domain QEMU_ERROR) from where they are detected to
 * where they are reported; the location is the command-line option being
 * processed when the error is reported, if any.
 */
#ifndef QEMU_ERROR_REPORT_H
#define QEMU_ERROR_REPORT_H

#include <glib.h>
#include <stdbool.h>

#define QEMU_ERROR qemu_error_quark()
GQuark qemu_error_quark(void);

/* Set *errp (if errp is not NULL) to a new error with a formatted message. */
void error_setg(GError **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* As error_setg(), with ": strerror(err)" appended. */
void error_setg_errno(GError **errp, int err, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Print a message with the program name and location prefix, to stderr. */
void error_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void warn_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void info_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Report err with error_report() and free it. */
void error_report_err(GError *err);
/* Report err and exit(1). */
G_NORETURN void error_report_err_exit(GError *err);

/* -msg timestamp=on: prefix each message with the UTC time, as QEMU does. */
void error_report_set_timestamp(bool on);

/*
 * The location prefix: while a command-line option is being processed,
 * messages are prefixed with "-option argument: ".
 */
void loc_set_cmdline(const char *opt, const char *arg);
void loc_set_none(void);

#endif
