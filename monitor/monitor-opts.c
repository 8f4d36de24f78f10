/*
 * -qmp and -mon: QMP monitors on character devices.  The chardev layer
 * makes the socket or reserves stdio (so that query-chardev lists it and
 * two users of stdio are refused); the monitor thread then serves it.
 * Main thread, BQL held, at start-up.
 */
#include <string.h>

#include "chardev/char.h"
#include "monitor/monitor.h"
#include "qemu/error-report.h"
#include "qemu/option.h"

static unsigned nr_compat_monitors;

/* Serve chr: a server socket (its listener is taken) or stdio. */
static bool monitor_on_chardev(Chardev *chr, bool wait, GError **errp)
{
    int fd;

    if (qemu_chr_is_stdio(chr)) {
        if (!qemu_chr_claim(chr, errp)) {
            return false;
        }
        monitor_new_qmp_stdio();
        return true;
    }
    fd = qemu_chr_steal_listener(chr, errp);
    return fd >= 0 &&
           monitor_new_qmp_listener(fd, qemu_chr_filename(chr), wait, errp);
}

bool monitor_new_qmp(const char *spec, GError **errp)
{
    g_autofree char *label = g_strdup_printf("compat_monitor%u",
                                             nr_compat_monitors++);
    g_autoptr(QemuOpts) opts = NULL;
    g_autofree char *socket_spec = NULL;
    const char *path;
    bool server, wait;
    Chardev *chr;

    if (!strcmp(spec, "stdio")) {
        chr = qemu_chr_new_legacy(label, "stdio", errp);
        return chr && monitor_on_chardev(chr, false, errp);
    }
    if (!g_str_has_prefix(spec, "unix:")) {
        error_setg(errp, "'%s' is not a supported QMP back-end "
                   "(unix:PATH,server=on,wait=off or stdio)", spec);
        return false;
    }
    opts = qemu_opts_parse(spec + 5, "path", errp);
    if (!opts ||
        !qemu_opt_get_bool(opts, "server", false, &server, errp) ||
        !qemu_opt_get_bool(opts, "wait", true, &wait, errp)) {
        return false;
    }
    /* QEMU's old spelling of wait=off. */
    if (qemu_opt_get(opts, "nowait")) {
        wait = false;
    }
    path = qemu_opt_get(opts, "path");
    if (!qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (!server) {
        error_setg(errp, "a QMP socket must be a server (server=on)");
        return false;
    }
    /* The chardev listens; the monitor does the waiting (wait=on). */
    socket_spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
    chr = qemu_chr_new_legacy(label, socket_spec, errp);
    return chr && monitor_on_chardev(chr, wait, errp);
}

bool monitor_new_from_mon_opts(const char *optarg, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(optarg, "chardev", errp);
    const char *id, *mode;
    bool pretty;
    Chardev *chr;

    if (!opts) {
        return false;
    }
    id = qemu_opt_get(opts, "chardev");
    mode = qemu_opt_get(opts, "mode");
    qemu_opt_get(opts, "id");
    if (!qemu_opt_get_bool(opts, "pretty", false, &pretty, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (pretty) {
        error_setg(errp, "pretty=on is not supported: replies are one line "
                   "each");
        return false;
    }
    if (!id) {
        error_setg(errp, "Parameter 'chardev' is missing");
        return false;
    }
    if (!mode || strcmp(mode, "control")) {
        error_setg(errp, "only QMP monitors (mode=control) are supported, "
                   "not the human monitor (mode=readline)");
        return false;
    }
    chr = qemu_chr_find(id);
    if (!chr) {
        error_setg(errp, "chardev \"%s\" not found", id);
        return false;
    }
    return monitor_on_chardev(chr, false, errp);
}
