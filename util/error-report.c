/*
 * Error reporting in QEMU's style.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config-host.h"
#include "qemu/error-report.h"

G_DEFINE_QUARK(qemu-error-quark, qemu_error)

static char *current_loc;
static bool with_timestamp;

void error_report_set_timestamp(bool on)
{
    with_timestamp = on;
}

void loc_set_cmdline(const char *opt, const char *arg)
{
    g_free(current_loc);
    current_loc = arg ? g_strdup_printf("%s %s", opt, arg) : g_strdup(opt);
}

void loc_set_none(void)
{
    g_clear_pointer(&current_loc, g_free);
}

void error_setg(GError **errp, const char *fmt, ...)
{
    va_list ap;

    if (!errp) {
        return;
    }
    va_start(ap, fmt);
    g_assert(*errp == NULL);
    *errp = g_error_new_valist(QEMU_ERROR, 0, fmt, ap);
    va_end(ap);
}

void error_setg_errno(GError **errp, int err, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (!errp) {
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_assert(*errp == NULL);
    *errp = g_error_new(QEMU_ERROR, err, "%s: %s", msg, g_strerror(err));
    g_free(msg);
}

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    if (with_timestamp) {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *stamp = g_date_time_format(now,
                                                    "%Y-%m-%dT%H:%M:%S.%fZ");
        fprintf(stderr, "%s ", stamp);
    }
    fprintf(stderr, "%s: ", QEMU_PROG_NAME);
    if (current_loc) {
        fprintf(stderr, "%s: ", current_loc);
    }
    if (kind) {
        fprintf(stderr, "%s: ", kind);
    }
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void error_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(NULL, fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning", fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("info", fmt, ap);
    va_end(ap);
}

void error_report_err(GError *err)
{
    error_report("%s", err->message);
    g_error_free(err);
}

void error_report_err_exit(GError *err)
{
    error_report_err(err);
    exit(1);
}
