/*
 * qemu-system-x86_64: command line, machine construction, main loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block-backend.h"
#include "block/blockdev.h"
#include "chardev/char.h"
#include "config-host.h"
#include "hw/boards.h"
#include "hw/misc/debugexit.h"
#include "hw/qdev.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/fdset.h"
#include "qemu/keyval-json.h"
#include "qemu/main-loop.h"
#include "monitor/monitor.h"
#include "qemu/option.h"
#include "sysemu/accel.h"
#include "hw/block/uring-sqpoll.h"
#include "sysemu/hostmem.h"
#include "sysemu/iothread.h"
#include "sysemu/os-posix.h"
#include "sysemu/machine-opts.h"
#include "sysemu/qtest.h"
#include "sysemu/runstate.h"
#include "sysemu/secret.h"
#include "sysemu/vm-state.h"
#include "system/vl-options.h"

#define DEFAULT_RAM_SIZE    (128ULL << 20)
#define MIN_RAM_SIZE        (2ULL << 20)

/* One -option with its argument, kept for its error location. */
typedef struct CmdlineOpt {
    const char *name;
    const char *arg;
} CmdlineOpt;

typedef struct Config {
    const char *accel;
    CmdlineOpt accel_opt;
    CmdlineOpt machine_opt;
    uint64_t ram_size;
    unsigned smp_cpus;
    const char *kernel;
    const char *append;
    bool nographic;
    bool display_none;
    bool nodefaults;
    GPtrArray *chardevs;        /* of CmdlineOpt */
    GPtrArray *serials;         /* of CmdlineOpt */
    CmdlineOpt debugcon;
    GPtrArray *devices;         /* of CmdlineOpt */
    GPtrArray *drives;          /* of CmdlineOpt */
    GPtrArray *blockdevs;       /* of CmdlineOpt */
    GPtrArray *objects;         /* of CmdlineOpt */
    GPtrArray *generated;       /* strings made for if=virtio devices */
    const char *qtest;
    const char *qtest_log;
    GPtrArray *monitors;        /* of CmdlineOpt: -qmp and -mon */
    bool autostart;             /* no -S */
    const char *pidfile;
    bool daemonize;
} Config;


static void version(void)
{
    printf("QEMU emulator version %s (qemu-uring)\n", QEMU_VERSION);
    printf("A KVM virtual machine monitor whose virtio-blk device can share "
           "the host's io_uring with the guest.\n");
}

static void help(void)
{
    version();
    printf("usage: %s [options]\n\n", QEMU_PROG_NAME);
    for (const QemuOptionDef *o = qemu_option_defs; o->name; o++) {
        /* A synopsis too long for its column has the text below it. */
        if (o->synopsis && strlen(o->synopsis) > 30) {
            printf("-%s\n%32s%s\n", o->synopsis, "", o->help);
        } else if (o->synopsis) {
            printf("-%-30s %s\n", o->synopsis, o->help);
        }
    }
    printf("\nDuring emulation with -nographic, Ctrl-A x exits.\n");
}

/* Report err as being about option o, and exit with status 1. */
static G_NORETURN void option_error(const CmdlineOpt *o, GError *err)
{
    loc_set_cmdline(o->name, o->arg);
    error_report_err(err);
    exit(1);
}

static bool set_accel(Config *c, const char *name, const CmdlineOpt *where,
                      GError **errp)
{
    if (is_help_option(name)) {
        printf("Accelerators supported in QEMU binary:\nkvm\nqtest\n");
        exit(0);
    }
    if (!accel_find(name)) {
        error_setg(errp, "invalid accelerator %s", name);
        return false;
    }
    c->accel = accel_find(name)->name;
    c->accel_opt = *where;
    return true;
}

static bool parse_accel(Config *c, const CmdlineOpt *o, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "accel", errp);
    const char *name;

    if (!opts) {
        return false;
    }
    name = qemu_opt_get(opts, "accel");
    if (!name) {
        error_setg(errp, "Parameter 'accel' is missing");
        return false;
    }
    return set_accel(c, name, o, errp) && qemu_opts_check_unused(opts, errp);
}

/* accel=kvm:tcg: the first one this VMM has (QEMU tries them in turn). */
static const char *first_known_accel(const char *list)
{
    g_auto(GStrv) names = g_strsplit(list, ":", -1);

    for (unsigned i = 0; names[i]; i++) {
        if (accel_find(names[i])) {
            return accel_find(names[i])->name;
        }
    }
    return g_intern_string(list);
}

static bool parse_machine(Config *c, const CmdlineOpt *o, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "type", errp);
    const char *type, *accel;

    if (!opts) {
        return false;
    }
    type = qemu_opt_get(opts, "type");
    if (is_help_option(type)) {
        printf("Supported machines are:\n");
        printf("pvh                  Firmware-less PC booting PVH kernels "
               "(default)\n");
        printf("none                 empty machine (a monitor only)\n");
        exit(0);
    }
    if (type && strcmp(type, "pvh") && strcmp(type, "none")) {
        error_setg(errp, "unsupported machine type \"%s\" (-machine help "
                   "lists the supported ones)", type);
        return false;
    }
    accel = qemu_opt_get(opts, "accel");
    if (accel && !set_accel(c, first_known_accel(accel), o, errp)) {
        return false;
    }
    c->machine_opt = *o;
    return machine_opts_parse_machine(opts, type, errp) &&
           qemu_opts_check_unused(opts, errp);
}

static bool parse_memory(Config *c, const CmdlineOpt *o, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "size", errp);
    const char *size;

    if (!opts) {
        return false;
    }
    size = qemu_opt_get(opts, "size");
    /* A bare number is in MiB, as in QEMU. */
    if (!size || !parse_size(size, 1 << 20, &c->ram_size)) {
        error_setg(errp, "Parameter 'size' expects a size");
        return false;
    }
    if (!qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (c->ram_size < MIN_RAM_SIZE) {
        error_setg(errp, "ram size too small (the minimum is 2M)");
        return false;
    }
    if (c->ram_size & 0xfff) {
        error_setg(errp, "ram size must be a multiple of 4 KiB");
        return false;
    }
    return true;
}

static bool parse_smp(Config *c, const CmdlineOpt *o, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "cpus", errp);
    uint64_t cpus, sockets, cores, threads, maxcpus, topo;

    if (!opts ||
        !qemu_opt_get_number(opts, "cpus", 0, &cpus, errp) ||
        !qemu_opt_get_number(opts, "sockets", 0, &sockets, errp) ||
        !qemu_opt_get_number(opts, "cores", 0, &cores, errp) ||
        !qemu_opt_get_number(opts, "threads", 0, &threads, errp) ||
        !qemu_opt_get_number(opts, "maxcpus", 0, &maxcpus, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    /* 0 would mean "compute it" below: reject it as QEMU 9.0 does. */
    if ((qemu_opt_get(opts, "cpus") && !cpus) ||
        (qemu_opt_get(opts, "sockets") && !sockets) ||
        (qemu_opt_get(opts, "cores") && !cores) ||
        (qemu_opt_get(opts, "threads") && !threads) ||
        (qemu_opt_get(opts, "maxcpus") && !maxcpus)) {
        error_setg(errp, "Invalid CPU topology: CPU topology parameters must "
                   "be greater than zero");
        return false;
    }
    topo = (sockets ? sockets : 1) * (cores ? cores : 1) *
           (threads ? threads : 1);
    if (!cpus) {
        cpus = maxcpus ? maxcpus : topo;
    }
    if ((sockets || cores || threads) && topo != cpus) {
        error_setg(errp, "Invalid CPU topology: product of the hierarchy "
                   "must match the number of CPUs");
        return false;
    }
    if (maxcpus && maxcpus != cpus) {
        error_setg(errp, "CPU hotplug is not supported: maxcpus must equal "
                   "cpus");
        return false;
    }
    if (cpus > PVH_MAX_CPUS) {
        error_setg(errp, "Invalid SMP CPUs %s. The max CPUs supported by "
                   "machine 'pvh' is %d", o->arg, PVH_MAX_CPUS);
        return false;
    }
    c->smp_cpus = cpus;
    return true;
}

/* Sets are filled as the command line is read, before anything opens. */
static bool parse_add_fd(const CmdlineOpt *o, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, NULL, errp);

    return opts && fdset_add(opts, errp);
}

static bool parse_display(Config *c, const CmdlineOpt *o, GError **errp)
{
    if (strcmp(o->arg, "none") && !g_str_has_prefix(o->arg, "none,")) {
        g_auto(GStrv) parts = g_strsplit(o->arg, ",", 2);
        error_setg(errp, "Display '%s' is not available (only 'none' is)",
                   parts[0]);
        return false;
    }
    c->display_none = true;
    return true;
}

static void parse_command_line(Config *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        const QemuOptionDef *def;
        GError *err = NULL;
        CmdlineOpt o;
        bool ok;

        if (name[0] != '-') {
            /* QEMU takes a lone argument as the disk image: not here. */
            loc_set_none();
            error_report("%s: only options are accepted; use -drive for "
                         "disk images", name);
            exit(1);
        }
        if (name[1] == '-') {
            name++;
        }
        def = qemu_option_find(name + 1);
        if (!def) {
            loc_set_cmdline(argv[i], NULL);
            error_report("invalid option");
            exit(1);
        }
        o.name = argv[i];
        o.arg = NULL;
        ok = true;
        if (def->has_arg) {
            if (i + 1 >= argc) {
                loc_set_cmdline(argv[i], NULL);
                error_report("requires an argument");
                exit(1);
            }
            o.arg = argv[++i];
        }
        switch (def->index) {
        case QEMU_OPTION_h:
            help();
            exit(0);
        case QEMU_OPTION_version:
            version();
            exit(0);
        case QEMU_OPTION_accel:
            ok = parse_accel(c, &o, &err);
            break;
        case QEMU_OPTION_machine:
            ok = parse_machine(c, &o, &err);
            break;
        case QEMU_OPTION_m:
            ok = parse_memory(c, &o, &err);
            break;
        case QEMU_OPTION_smp:
            ok = parse_smp(c, &o, &err);
            break;
        case QEMU_OPTION_kernel:
            c->kernel = o.arg;
            break;
        case QEMU_OPTION_append:
            c->append = o.arg;
            break;
        case QEMU_OPTION_nographic:
            c->nographic = true;
            break;
        case QEMU_OPTION_display:
            ok = parse_display(c, &o, &err);
            break;
        case QEMU_OPTION_chardev:
            g_ptr_array_add(c->chardevs, g_memdup2(&o, sizeof(o)));
            break;
        case QEMU_OPTION_add_fd:
            ok = parse_add_fd(&o, &err);
            break;
        case QEMU_OPTION_serial:
            g_ptr_array_add(c->serials, g_memdup2(&o, sizeof(o)));
            break;
        case QEMU_OPTION_debugcon:
            c->debugcon = o;
            break;
        case QEMU_OPTION_no_reboot:
            no_reboot = true;
            break;
        case QEMU_OPTION_nodefaults:
            c->nodefaults = true;
            break;
        case QEMU_OPTION_name:
            ok = machine_opts_parse_name(o.arg, &err);
            break;
        case QEMU_OPTION_device:
            g_ptr_array_add(c->devices, g_memdup2(&o, sizeof(o)));
            break;
        case QEMU_OPTION_drive:
            g_ptr_array_add(c->drives, g_memdup2(&o, sizeof(o)));
            break;
        case QEMU_OPTION_blockdev:
            g_ptr_array_add(c->blockdevs, g_memdup2(&o, sizeof(o)));
            break;
        case QEMU_OPTION_object:
            g_ptr_array_add(c->objects, g_memdup2(&o, sizeof(o)));
            break;
        case QEMU_OPTION_qtest:
            c->qtest = o.arg;
            break;
        case QEMU_OPTION_qtest_log:
            c->qtest_log = o.arg;
            break;
        case QEMU_OPTION_qmp:
        case QEMU_OPTION_mon:
            g_ptr_array_add(c->monitors, g_memdup2(&o, sizeof(o)));
            break;
        case QEMU_OPTION_S:
            c->autostart = false;
            break;
        case QEMU_OPTION_pidfile:
            c->pidfile = o.arg;
            break;
        case QEMU_OPTION_daemonize:
            c->daemonize = true;
            break;
        case QEMU_OPTION_no_shutdown:
            no_shutdown = true;
            break;
        default:
            g_assert(machine_opts_handles(def->index));
            ok = machine_opts_parse(def->index, o.arg, &err);
        }
        if (!ok) {
            option_error(&o, err);
        }
    }
}

/* -serial and -debugcon; stdio may be taken by -qtest already. */
static Chardev *open_chardev(const char *label, const char *spec,
                             bool qtest_stdio, GError **errp)
{
    if (qtest_stdio && !strcmp(spec, "stdio")) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return NULL;
    }
    return qemu_chr_new_legacy(label, spec, errp);
}

static bool user_wants_device(Config *c, const char *name);

static void configure_chardevs(Config *c, MachineState *ms)
{
    /* -qtest opens its own chardev later, but stdio is taken all the same. */
    bool qtest_stdio = c->qtest && !strcmp(c->qtest, "stdio");
    static const CmdlineOpt default_serial = { "-serial", "stdio" };
    GError *err = NULL;

    for (guint i = 0; i < c->chardevs->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->chardevs, i);

        if (!qemu_chr_new_from_opts(o->arg, &err)) {
            option_error(o, err);
        }
    }
    /* -qmp and -mon, in command-line order, before the serial ports. */
    for (guint i = 0; i < c->monitors->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->monitors, i);
        bool ok = !strcmp(o->name + (o->name[1] == '-'), "-mon")
                  ? monitor_new_from_mon_opts(o->arg, &err)
                  : monitor_new_qmp(o->arg, &err);

        if (!ok) {
            option_error(o, err);
        }
    }
    if (c->debugcon.arg && strcmp(c->debugcon.arg, "none")) {
        ms->debugcon = open_chardev("debugcon", c->debugcon.arg, qtest_stdio,
                                    &err);
        if (!ms->debugcon) {
            option_error(&c->debugcon, err);
        }
    }
    if (!c->serials->len && !c->nodefaults &&
        !user_wants_device(c, "isa-serial")) {
        /*
         * -nographic puts COM1 on stdio, unless -debugcon or -qtest has it;
         * with no display it goes nowhere.
         */
        g_ptr_array_add(c->serials, g_memdup2(&default_serial,
                                              sizeof(default_serial)));
        if (!c->nographic || qtest_stdio ||
            (c->debugcon.arg && !strcmp(c->debugcon.arg, "stdio"))) {
            ((CmdlineOpt *)g_ptr_array_index(c->serials, 0))->arg = "null";
        }
    }
    for (guint i = 0; i < c->serials->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->serials, i);
        /* On the stack: option_error() exits, and a heap label would leak. */
        char label[16];
        Chardev *chr;

        if (!strcmp(o->arg, "none")) {
            continue;
        }
        if (ms->nr_serials == G_N_ELEMENTS(ms->serials)) {
            error_setg(&err, "too many serial ports (at most 4)");
            option_error(o, err);
        }
        snprintf(label, sizeof(label), "serial%u", ms->nr_serials);
        chr = open_chardev(label, o->arg, qtest_stdio, &err);
        if (!chr) {
            option_error(o, err);
        }
        ms->serials[ms->nr_serials++] = chr;
    }
}

static bool create_object(const char *arg, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse_dict(arg, "qom-type", errp);
    const char *type;

    if (!opts) {
        return false;
    }
    type = qemu_opt_get(opts, "qom-type");
    if (!type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        return false;
    }
    if (!strcmp(type, "uring-sqpoll")) {
        return uring_sqpoll_create(opts, errp) != NULL;
    }
    if (!strcmp(type, "secret")) {
        return secret_create(opts, errp);
    }
    if (memory_backend_type(type)) {
        return true;    /* made before the machine: see main() */
    }
    if (strcmp(type, "iothread")) {
        error_setg(errp, "Parameter 'qom-type' does not accept value '%s'",
                   type);
        return false;
    }
    return iothread_create(opts, errp) != NULL;
}

static bool create_blockdev(const CmdlineOpt *o, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse_dict(o->arg, "driver", errp);

    return opts && blockdev_create(opts, errp);
}

/* Open a drive; if=virtio asks for a virtio-blk-pci device for it. */
static bool create_drive(Config *c, const CmdlineOpt *o, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, NULL, errp);
    BlockBackend *blk;
    bool if_virtio;

    if (!opts) {
        return false;
    }
    /* Warnings while the drive opens are about this option too. */
    loc_set_cmdline(o->name, o->arg);
    blk = drive_new(opts, &if_virtio, errp);
    loc_set_none();
    if (!blk) {
        return false;
    }
    if (if_virtio) {
        CmdlineOpt dev = {
            .name = "-device",
            .arg = g_strdup_printf("virtio-blk-pci,drive=%s", blk_name(blk)),
        };
        g_ptr_array_add(c->devices, g_memdup2(&dev, sizeof(dev)));
        g_ptr_array_add(c->generated, (gpointer)dev.arg);
    }
    return true;
}

static bool create_device(const CmdlineOpt *o, GError **errp)
{
    g_autoptr(QemuOpts) opts = qemu_opts_parse_dict(o->arg, "driver", errp);
    bool ok;

    if (!opts) {
        return false;
    }
    loc_set_cmdline(o->name, o->arg);
    ok = qdev_device_add(opts, errp) != NULL;
    loc_set_none();
    return ok;
}

/*
 * -device and -object that ask for help get it before anything is set up,
 * so that it needs no -kernel and no accelerator, as in QEMU.
 */
static void show_help_if_asked(Config *c)
{
    for (guint i = 0; i < c->devices->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->devices, i);
        g_autoptr(QemuOpts) opts = qemu_opts_parse_dict(o->arg, "driver",
                                                         NULL);

        if (opts && qdev_device_help(opts)) {
            exit(0);
        }
    }
    for (guint i = 0; i < c->objects->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->objects, i);
        g_autoptr(QemuOpts) opts = qemu_opts_parse_dict(o->arg, "qom-type",
                                                         NULL);
        const char *type = opts ? qemu_opt_get(opts, "qom-type") : NULL;

        if (is_help_option(type)) {
            printf("List of user creatable objects:\n  iothread\n"
                   "  memory-backend-file\n  memory-backend-ram\n  secret\n"
                   "  uring-sqpoll\n");
            exit(0);
        }
        if (type && !strcmp(type, "iothread") && qemu_opts_has_help(opts)) {
            iothread_print_help();
            exit(0);
        }
    }
}

/*
 * -object, -blockdev, -drive, -device, in that order, each in command-line
 * order.
 */
static void create_backends_and_devices(Config *c)
{
    GError *err = NULL;

    if (machine_opts.none && c->devices->len) {
        error_setg(&err, "No bus to plug devices into with -machine none");
        option_error(c->devices->pdata[0], err);
    }
    for (guint i = 0; i < c->objects->len; i++) {
        if (!create_object(((CmdlineOpt *)c->objects->pdata[i])->arg,
                           &err)) {
            option_error(c->objects->pdata[i], err);
        }
    }
    for (guint i = 0; i < c->blockdevs->len; i++) {
        if (!create_blockdev(c->blockdevs->pdata[i], &err)) {
            option_error(c->blockdevs->pdata[i], err);
        }
    }
    for (guint i = 0; i < c->drives->len; i++) {
        if (!create_drive(c, c->drives->pdata[i], &err)) {
            option_error(c->drives->pdata[i], err);
        }
    }
    for (guint i = 0; i < c->devices->len; i++) {
        if (!create_device(c->devices->pdata[i], &err)) {
            option_error(c->devices->pdata[i], err);
        }
    }
}

/* Does any -device ask for a device of type name? */
static bool user_wants_device(Config *c, const char *name)
{
    for (guint i = 0; i < c->devices->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->devices, i);
        g_autoptr(QemuOpts) opts = qemu_opts_parse_dict(o->arg, "driver",
                                                         NULL);
        const char *driver = opts ? qemu_opt_get(opts, "driver") : NULL;
        if (driver && !strcmp(driver, name)) {
            return true;
        }
    }
    return false;
}

/*
 * -object memory-backend-*, before the machine maps guest RAM from the one
 * -machine memory-backend= names; -m defaults to its size.
 */
static GuestRAMBacking configure_guest_ram(Config *c)
{
    GuestRAMBacking backing = {
        .fd = -1,
        .dump = machine_opts.dump_guest_core,
    };
    HostMemoryBackend *be;
    GError *err = NULL;

    for (guint i = 0; i < c->objects->len; i++) {
        const CmdlineOpt *o = c->objects->pdata[i];
        QemuOpts *opts = qemu_opts_parse(o->arg, "qom-type", NULL);
        const char *type = opts ? qemu_opt_get(opts, "qom-type") : NULL;
        bool ok = !type || !memory_backend_type(type) ||
                  memory_backend_create(opts, &err);

        qemu_opts_free(opts);
        if (!ok) {
            option_error(o, err);
        }
    }
    if (!machine_opts.memory_backend) {
        return backing;
    }
    be = memory_backend_find(machine_opts.memory_backend);
    if (!be) {
        error_report("Memory backend '%s' not found",
                     machine_opts.memory_backend);
        exit(1);
    }
    if (!c->ram_size) {
        c->ram_size = memory_backend_size(be);
    } else if (c->ram_size != memory_backend_size(be)) {
        error_report("Machine memory size does not match the size of the "
                     "memory backend");
        exit(1);
    }
    return memory_backend_backing(be, machine_opts.dump_guest_core);
}


/*
 * -daemonize cannot keep a terminal: refuse what would need one.  -nographic
 * needs it only for the default COM1 (libvirt probes with -nographic
 * -nodefaults -daemonize).
 */
static void check_daemonize(Config *c)
{
    if (!c->daemonize) {
        return;
    }
    if (c->nographic && !c->nodefaults && !c->serials->len) {
        error_report("-nographic cannot be used with -daemonize");
        exit(1);
    }
    for (guint i = 0; i < c->monitors->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->monitors, i);
        if (!strcmp(o->arg, "stdio")) {
            loc_set_cmdline(o->name, o->arg);
            error_report("cannot use stdio with -daemonize");
            exit(1);
        }
    }
    for (guint i = 0; i < c->serials->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->serials, i);
        if (!strcmp(o->arg, "stdio")) {
            loc_set_cmdline(o->name, o->arg);
            error_report("cannot use stdio with -daemonize");
            exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    static MachineState machine;
    MachineState *ms = &machine;
    g_autoptr(GError) err = NULL;
    /* Static: what it holds stays reachable if an error path exits. */
    static Config c = {
        .smp_cpus = 1,
        .autostart = true,
    };
    GuestRAMBacking ram_backing;
    int status;

    c.chardevs = g_ptr_array_new_with_free_func(g_free);
    c.serials = g_ptr_array_new_with_free_func(g_free);
    c.devices = g_ptr_array_new_with_free_func(g_free);
    c.drives = g_ptr_array_new_with_free_func(g_free);
    c.blockdevs = g_ptr_array_new_with_free_func(g_free);
    c.objects = g_ptr_array_new_with_free_func(g_free);
    c.generated = g_ptr_array_new_with_free_func(g_free);
    c.monitors = g_ptr_array_new_with_free_func(g_free);

    parse_command_line(&c, argc, argv);
    show_help_if_asked(&c);
    if (!machine_opts_apply(&err)) {
        error_report_err_exit(g_steal_pointer(&err));
    }
    if (!c.accel) {
        c.accel = c.qtest ? "qtest" : "kvm";
    }
    if (c.qtest && strcmp(c.accel, "qtest")) {
        error_report("-qtest needs the qtest accelerator (-accel qtest)");
        exit(1);
    }
    current_accel = accel_find(c.accel);

    ram_backing = configure_guest_ram(&c);
    if (!c.ram_size) {
        c.ram_size = DEFAULT_RAM_SIZE;
    }
    ms->ram_size = c.ram_size;
    ms->ram_backing = &ram_backing;
    ms->smp_cpus = c.smp_cpus;
    ms->kernel_filename = (char *)c.kernel;
    ms->kernel_cmdline = (char *)c.append;
    ms->default_devices = !c.nodefaults;
    ms->user_debug_exit = user_wants_device(&c, debug_exit_class.name);
    current_machine = ms;

    if (c.append && !c.kernel) {
        error_report("-append only allowed with -kernel option");
        exit(1);
    }
    if (!c.kernel && !strcmp(c.accel, "kvm") && !machine_opts.none) {
        error_report("no kernel given: this machine has no firmware, so "
                     "-kernel is required");
        exit(1);
    }
    if (c.append && strlen(c.append) >= 0x2000) {
        error_report("-append: command line too long (at most 8191 bytes)");
        exit(1);
    }

    check_daemonize(&c);
    if (c.daemonize) {
        os_daemonize();
    }
    if (c.pidfile && !os_write_pidfile(c.pidfile, &err)) {
        error_report("cannot create PID file: %s", err->message);
        exit(1);
    }

    main_loop_init();
    bql_lock();
    configure_chardevs(&c, ms);

    if (c.accel_opt.name) {
        loc_set_cmdline(c.accel_opt.name, c.accel_opt.arg);
    }
    if (!current_accel->init(ms, &err)) {
        if (!c.accel_opt.name) {
            g_prefix_error(&err, "failed to initialize %s: ", c.accel);
        }
        error_report_err_exit(g_steal_pointer(&err));
    }
    loc_set_none();
    /* -machine none: no RAM, no vCPU, no device; a monitor drives it. */
    if (!machine_opts.none && !pvh_machine_init(ms, &err)) {
        error_report_err_exit(g_steal_pointer(&err));
    }
    create_backends_and_devices(&c);

    if (!machine_opts.none) {
        pvh_machine_reset(ms);
    }
    if (c.qtest && !qtest_server_init(c.qtest, c.qtest_log, &err)) {
        error_report_err_exit(g_steal_pointer(&err));
    }
    monitor_start();
    if (!machine_opts.none && !vm_launch(c.autostart, &err)) {
        error_report_err_exit(g_steal_pointer(&err));
    }
    os_daemonize_ready();
    status = main_loop_run(vm_main_loop_should_exit);

    /*
     * No vCPU runs while the devices go, and the VM (interrupt routes,
     * memory slots) outlives them and their I/O threads.
     */
    current_accel->pause();
    monitor_cleanup();
    if (!machine_opts.none) {
        pvh_machine_cleanup(ms);
    }
    uring_sqpoll_destroy_all();
    blk_destroy_all();
    blockdev_close_all();
    iothread_destroy_all();
    current_accel->cleanup();
    qemu_chr_cleanup_all();
    memory_backend_cleanup_all();
    g_ptr_array_unref(c.chardevs);
    g_ptr_array_unref(c.serials);
    g_ptr_array_unref(c.devices);
    g_ptr_array_unref(c.drives);
    g_ptr_array_unref(c.blockdevs);
    g_ptr_array_unref(c.objects);
    g_ptr_array_unref(c.generated);
    g_ptr_array_unref(c.monitors);
    os_remove_pidfile();
    bql_unlock();
    return status;
}
