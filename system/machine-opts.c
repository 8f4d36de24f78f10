/*
 * The machine and system options management tools pass, each taken with
 * QEMU's meaning or refused with one line (see include/sysemu/machine-opts.h
 * and docs/system/machine-options.rst).  Main thread, at start-up.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/keyval-json.h"
#include "sysemu/machine-opts.h"
#include "system/vl-options.h"

MachineOpts machine_opts = {
    .dump_guest_core = true,
};

bool machine_opts_handles(int option)
{
    switch (option) {
    case QEMU_OPTION_cpu:
    case QEMU_OPTION_overcommit:
    case QEMU_OPTION_rtc:
    case QEMU_OPTION_boot:
    case QEMU_OPTION_no_acpi:
    case QEMU_OPTION_uuid:
    case QEMU_OPTION_msg:
    case QEMU_OPTION_no_user_config:
    case QEMU_OPTION_audiodev:
    case QEMU_OPTION_audio:
    case QEMU_OPTION_sandbox:
    case QEMU_OPTION_run_with:
        return true;
    }
    return false;
}

/*
 * KVM gives the guest what the host's CPU and KVM support: that is QEMU's
 * "host", and "max" under KVM.  A named model would need CPUID filtered to
 * it, which this VMM does not do.
 */
static bool parse_cpu(const char *arg, GError **errp)
{
    g_auto(GStrv) parts = NULL;

    if (!strcmp(arg, "help")) {
        printf("Available CPUs:\n");
        printf("x86 host                  processor with all supported host "
               "features\n");
        printf("x86 max                   Enables all features supported by "
               "the accelerator in the current host\n");
        exit(0);
    }
    parts = g_strsplit(arg, ",", 2);
    if (strcmp(parts[0], "host") && strcmp(parts[0], "max")) {
        error_setg(errp, "CPU model '%s' is not supported: the guest gets "
                   "the host's CPU (-cpu host or -cpu max)", parts[0]);
        return false;
    }
    if (parts[1]) {
        error_setg(errp, "CPU features cannot be changed: '%s'", parts[1]);
        return false;
    }
    return true;
}

static bool parse_overcommit(const char *arg, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(arg, NULL, errp);
    bool cpu_pm;

    if (!opts ||
        !qemu_opt_get_bool(opts, "mem-lock", false, &machine_opts.mem_lock,
                           errp) ||
        !qemu_opt_get_bool(opts, "cpu-pm", false, &cpu_pm, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (cpu_pm) {
        error_setg(errp, "cpu-pm=on is not supported (the guest's idle "
                   "vCPUs exit to the VMM)");
        return false;
    }
    return true;
}

/* Accept value if it is one of the NULL-terminated list. */
static bool check_choice(QemuOpts *opts, const char *key,
                         const char *const *choices, GError **errp)
{
    const char *v = qemu_opt_get(opts, key);

    if (!v) {
        return true;
    }
    for (; *choices; choices++) {
        if (!strcmp(v, *choices)) {
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'", key, v);
    return false;
}

/*
 * The machine has no RTC: the guest reads time from elsewhere (the TSC,
 * kvmclock), so QEMU's default base=utc is all there is to accept.
 */
static bool parse_rtc(const char *arg, GError **errp)
{
    static const char *const clocks[] = { "host", "rt", "vm", NULL };
    static const char *const driftfix[] = { "none", "slew", NULL };
    g_autoptr(QemuOpts) opts = qemu_opts_parse(arg, NULL, errp);
    const char *base;

    if (!opts) {
        return false;
    }
    base = qemu_opt_get(opts, "base");
    if (base && strcmp(base, "utc")) {
        error_setg(errp, "base=%s is not supported: the machine has no RTC, "
                   "only base=utc is accepted", base);
        return false;
    }
    return check_choice(opts, "clock", clocks, errp) &&
           check_choice(opts, "driftfix", driftfix, errp) &&
           qemu_opts_check_unused(opts, errp);
}

/* The only thing booted is -kernel: strict=on asks for nothing else. */
static bool parse_boot(const char *arg, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(arg, NULL, errp);
    bool strict, menu;

    if (!opts) {
        return false;
    }
    if (!qemu_opt_get_bool(opts, "strict", false, &strict, NULL)) {
        error_setg(errp, "Parameter 'boot.strict' expects 'on' or 'off'");
        return false;
    }
    if (!qemu_opt_get_bool(opts, "menu", false, &menu, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (menu) {
        error_setg(errp, "menu=on is not supported (there is no firmware)");
        return false;
    }
    return true;
}

static bool parse_uuid(const char *arg, GError **errp)
{
    static const int groups[] = { 8, 4, 4, 4, 12 };
    const char *p = arg;
    unsigned n = 0;

    for (unsigned g = 0; g < G_N_ELEMENTS(groups); g++) {
        if (g && *p++ != '-') {
            goto bad;
        }
        for (int i = 0; i < groups[g]; i += 2) {
            int hi = g_ascii_xdigit_value(p[0]);
            int lo = hi < 0 ? -1 : g_ascii_xdigit_value(p[1]);

            if (lo < 0) {
                goto bad;
            }
            machine_opts.uuid[n++] = hi << 4 | lo;
            p += 2;
        }
    }
    if (*p) {
        goto bad;
    }
    machine_opts.have_uuid = true;
    return true;
bad:
    error_setg(errp, "failed to parse UUID string: wrong format");
    return false;
}

static bool parse_msg(const char *arg, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(arg, NULL, errp);
    bool timestamp, guest_name;

    if (!opts ||
        !qemu_opt_get_bool(opts, "timestamp", false, &timestamp, errp) ||
        !qemu_opt_get_bool(opts, "guest-name", false, &guest_name, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (guest_name) {
        error_setg(errp, "guest-name=on is not supported");
        return false;
    }
    error_report_set_timestamp(timestamp);
    return true;
}

/*
 * The machine has no sound device: only the "none" driver exists.  In
 * key=value or in JSON (libvirt's form).
 */
static bool parse_audiodev(const char *arg, GError **errp)
{
    static const char *const drivers[] = { "none", NULL };
    g_autoptr(QemuOpts) opts = qemu_opts_parse_dict(arg, "driver", errp);
    uint64_t period;

    if (!opts) {
        return false;
    }
    if (!qemu_opt_get(opts, "id")) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if (!qemu_opt_get(opts, "driver")) {
        error_setg(errp, "Parameter 'driver' is missing");
        return false;
    }
    return check_choice(opts, "driver", drivers, errp) &&
           qemu_opt_get_number(opts, "timer-period", 0, &period, errp) &&
           qemu_opts_check_unused(opts, errp);
}

static bool parse_audio(const char *arg, GError **errp)
{
    static const char *const drivers[] = { "none", NULL };
    g_autoptr(QemuOpts) opts = qemu_opts_parse(arg, "driver", errp);

    if (!opts || !check_choice(opts, "driver", drivers, errp)) {
        return false;
    }
    if (qemu_opt_get(opts, "model")) {
        error_setg(errp, "Parameter 'model' does not accept value '%s' "
                   "(there are no sound devices)", qemu_opt_get(opts, "model"));
        return false;
    }
    return qemu_opts_check_unused(opts, errp);
}

/*
 * No seccomp filter yet: "on" is refused rather than accepted and not
 * enforced (libvirt does not ask for it unless the VMM says it has one).
 */
static bool parse_sandbox(const char *arg, GError **errp)
{
    g_auto(GStrv) parts = g_strsplit(arg, ",", 2);
    bool on;

    if (!parse_bool(parts[0], &on)) {
        error_setg(errp, "Parameter 'enable' expects 'on' or 'off'");
        return false;
    }
    if (on) {
        error_setg(errp, "seccomp sandboxing is not supported by this VMM "
                   "(-sandbox off runs without it)");
        return false;
    }
    if (parts[1]) {
        g_autoptr(QemuOpts) opts = qemu_opts_parse(parts[1], NULL, errp);
        return opts && qemu_opts_check_unused(opts, errp);
    }
    return true;
}

static bool parse_run_with(const char *arg, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(arg, NULL, errp);

    return opts &&
           qemu_opt_get_bool(opts, "exit-with-parent", false,
                             &machine_opts.exit_with_parent, errp) &&
           qemu_opts_check_unused(opts, errp);
}

bool machine_opts_parse(int option, const char *arg, GError **errp)
{
    switch (option) {
    case QEMU_OPTION_cpu:
        return parse_cpu(arg, errp);
    case QEMU_OPTION_overcommit:
        return parse_overcommit(arg, errp);
    case QEMU_OPTION_rtc:
        return parse_rtc(arg, errp);
    case QEMU_OPTION_boot:
        return parse_boot(arg, errp);
    case QEMU_OPTION_uuid:
        return parse_uuid(arg, errp);
    case QEMU_OPTION_msg:
        return parse_msg(arg, errp);
    case QEMU_OPTION_audiodev:
        return parse_audiodev(arg, errp);
    case QEMU_OPTION_audio:
        return parse_audio(arg, errp);
    case QEMU_OPTION_sandbox:
        return parse_sandbox(arg, errp);
    case QEMU_OPTION_run_with:
        return parse_run_with(arg, errp);
    case QEMU_OPTION_no_acpi:
        /* The machine has no ACPI tables to leave out. */
    case QEMU_OPTION_no_user_config:
        /* No configuration file is ever read. */
        return true;
    }
    g_assert_not_reached();
}

bool machine_opts_parse_machine(QemuOpts *opts, const char *type,
                                GError **errp)
{
    bool usb;

    machine_opts.none = type && !strcmp(type, "none");
    if (!qemu_opt_get_bool(opts, "usb", false, &usb, errp) ||
        !qemu_opt_get_bool(opts, "dump-guest-core", true,
                           &machine_opts.dump_guest_core, errp)) {
        return false;
    }
    if (usb) {
        error_setg(errp, "usb=on is not supported (the machine has no USB "
                   "controller)");
        return false;
    }
    if (qemu_opt_get(opts, "memory-backend")) {
        machine_opts.memory_backend = g_intern_string(
            qemu_opt_get(opts, "memory-backend"));
    }
    return true;
}

bool machine_opts_parse_name(const char *arg, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(arg, "guest", errp);
    const char *guest, *process;
    bool debug_threads;

    if (!opts) {
        return false;
    }
    guest = qemu_opt_get(opts, "guest");
    process = qemu_opt_get(opts, "process");
    /* Threads are always named as QEMU names them with debug-threads=on. */
    if (!qemu_opt_get_bool(opts, "debug-threads", false, &debug_threads,
                           errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    g_free(machine_opts.name);
    machine_opts.name = g_strdup(guest);
    if (process) {
        prctl(PR_SET_NAME, process);
    }
    return true;
}

bool machine_opts_apply(GError **errp)
{
    /*
     * SIGTERM, not SIGKILL: the VMM shuts down as on any SIGTERM, taking
     * the passthrough's owner process and image locks with it.
     */
    if (machine_opts.exit_with_parent) {
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
            error_setg_errno(errp, errno, "-run-with exit-with-parent=on");
            return false;
        }
    }
    /* As QEMU: all memory, guest RAM mapped later included, stays in RAM. */
    if (machine_opts.mem_lock && mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
        error_setg_errno(errp, errno, "mlockall");
        return false;
    }
    return true;
}
