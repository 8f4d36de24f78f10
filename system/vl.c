/*
 * qemu-system-x86_64: command line, machine construction, main loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block-backend.h"
#include "chardev/char.h"
#include "config-host.h"
#include "hw/boards.h"
#include "hw/misc/debugexit.h"
#include "hw/qdev.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/option.h"
#include "sysemu/accel.h"
#include "sysemu/iothread.h"
#include "sysemu/qtest.h"
#include "sysemu/runstate.h"
#include "system/vl-options.h"

#define DEFAULT_RAM_SIZE    (128ULL << 20)
#define MIN_RAM_SIZE        (2ULL << 20)
#define MAX_CPUS            64

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
    GPtrArray *serials;         /* of CmdlineOpt */
    CmdlineOpt debugcon;
    GPtrArray *devices;         /* of CmdlineOpt */
    GPtrArray *drives;          /* of CmdlineOpt */
    GPtrArray *objects;         /* of CmdlineOpt */
    GPtrArray *generated;       /* strings made for if=virtio devices */
    const char *qtest;
    const char *qtest_log;
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
        printf("-%-30s %s\n", o->synopsis, o->help);
    }
    printf("\nDuring emulation with -nographic, Ctrl-A x exits.\n");
}

static void bad_option(const CmdlineOpt *o, const char *fmt, const char *val)
{
    loc_set_cmdline(o->name, o->arg);
    error_report(fmt, val);
    exit(1);
}

static void set_accel(Config *c, const char *name, const CmdlineOpt *where)
{
    if (!strcmp(name, "help")) {
        printf("Accelerators supported in QEMU binary:\nkvm\nqtest\n");
        exit(0);
    }
    if (!accel_find(name)) {
        bad_option(where, "invalid accelerator %s", name);
    }
    c->accel = accel_find(name)->name;
    c->accel_opt = *where;
}

static void parse_accel(Config *c, const CmdlineOpt *o)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "accel", &err);
    const char *name;

    if (!opts) {
        bad_option(o, "%s", err->message);
    }
    name = qemu_opt_get(opts, "accel");
    if (!name) {
        bad_option(o, "%s", "Parameter 'accel' is missing");
    }
    set_accel(c, name, o);
    if (!qemu_opts_check_unused(opts, &err)) {
        bad_option(o, "%s", err->message);
    }
}

static void parse_machine(Config *c, const CmdlineOpt *o)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "type", &err);
    const char *type, *accel;

    if (!opts) {
        bad_option(o, "%s", err->message);
    }
    type = qemu_opt_get(opts, "type");
    if (type && !strcmp(type, "help")) {
        printf("Supported machines are:\n");
        printf("pvh                  Firmware-less PC booting PVH kernels "
               "(default)\n");
        exit(0);
    }
    if (type && strcmp(type, "pvh")) {
        bad_option(o, "unsupported machine type \"%s\" (-machine help lists "
                   "the supported ones)", type);
    }
    accel = qemu_opt_get(opts, "accel");
    if (accel) {
        set_accel(c, accel, o);
    }
    if (!qemu_opts_check_unused(opts, &err)) {
        bad_option(o, "%s", err->message);
    }
    c->machine_opt = *o;
}

static void parse_memory(Config *c, const CmdlineOpt *o)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "size", &err);
    const char *size;

    if (!opts) {
        bad_option(o, "%s", err->message);
    }
    size = qemu_opt_get(opts, "size");
    /* A bare number is in MiB, as in QEMU. */
    if (!size || !parse_size(size, 1 << 20, &c->ram_size)) {
        bad_option(o, "%s", "Parameter 'size' expects a size");
    }
    if (!qemu_opts_check_unused(opts, &err)) {
        bad_option(o, "%s", err->message);
    }
    if (c->ram_size < MIN_RAM_SIZE) {
        bad_option(o, "ram size too small (the minimum is %s)", "2M");
    }
    if (c->ram_size & 0xfff) {
        bad_option(o, "%s", "ram size must be a multiple of 4 KiB");
    }
}

static void parse_smp(Config *c, const CmdlineOpt *o)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "cpus", &err);
    uint64_t cpus, sockets, cores, threads, maxcpus, topo;

    if (!opts ||
        !qemu_opt_get_number(opts, "cpus", 0, &cpus, &err) ||
        !qemu_opt_get_number(opts, "sockets", 0, &sockets, &err) ||
        !qemu_opt_get_number(opts, "cores", 0, &cores, &err) ||
        !qemu_opt_get_number(opts, "threads", 0, &threads, &err) ||
        !qemu_opt_get_number(opts, "maxcpus", 0, &maxcpus, &err) ||
        !qemu_opts_check_unused(opts, &err)) {
        bad_option(o, "%s", err->message);
    }
    /* 0 would mean "compute it" below: reject it as QEMU 9.0 does. */
    if ((qemu_opt_get(opts, "cpus") && !cpus) ||
        (qemu_opt_get(opts, "sockets") && !sockets) ||
        (qemu_opt_get(opts, "cores") && !cores) ||
        (qemu_opt_get(opts, "threads") && !threads) ||
        (qemu_opt_get(opts, "maxcpus") && !maxcpus)) {
        bad_option(o, "%s", "Invalid CPU topology: CPU topology parameters "
                   "must be greater than zero");
    }
    topo = (sockets ? sockets : 1) * (cores ? cores : 1) *
           (threads ? threads : 1);
    if (!cpus) {
        cpus = maxcpus ? maxcpus : topo;
    }
    if ((sockets || cores || threads) && topo != cpus) {
        bad_option(o, "%s", "Invalid CPU topology: product of the hierarchy "
                   "must match the number of CPUs");
    }
    if (maxcpus && maxcpus != cpus) {
        bad_option(o, "%s", "CPU hotplug is not supported: maxcpus must "
                   "equal cpus");
    }
    if (cpus < 1 || cpus > MAX_CPUS) {
        bad_option(o, "Invalid SMP CPUs %s. The max CPUs supported by "
                   "machine 'pvh' is 64", o->arg);
    }
    c->smp_cpus = cpus;
}

static void parse_display(Config *c, const CmdlineOpt *o)
{
    if (strcmp(o->arg, "none") && !g_str_has_prefix(o->arg, "none,")) {
        g_auto(GStrv) parts = g_strsplit(o->arg, ",", 2);
        bad_option(o, "Display '%s' is not available (only 'none' is)",
                   parts[0]);
    }
    c->display_none = true;
}

static void parse_name(Config *c, const CmdlineOpt *o)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "guest", &err);
    bool b;

    /* Only a label here; the keys are accepted as QEMU accepts them. */
    if (opts) {
        qemu_opt_get(opts, "guest");
        qemu_opt_get(opts, "process");
    }
    if (!opts ||
        !qemu_opt_get_bool(opts, "debug-threads", false, &b, &err) ||
        !qemu_opts_check_unused(opts, &err)) {
        bad_option(o, "%s", err->message);
    }
}

static void parse_command_line(Config *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        const QemuOptionDef *def;
        CmdlineOpt o;

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
            parse_accel(c, &o);
            break;
        case QEMU_OPTION_machine:
            parse_machine(c, &o);
            break;
        case QEMU_OPTION_m:
            parse_memory(c, &o);
            break;
        case QEMU_OPTION_smp:
            parse_smp(c, &o);
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
            parse_display(c, &o);
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
            parse_name(c, &o);
            break;
        case QEMU_OPTION_device:
            g_ptr_array_add(c->devices, g_memdup2(&o, sizeof(o)));
            break;
        case QEMU_OPTION_drive:
            g_ptr_array_add(c->drives, g_memdup2(&o, sizeof(o)));
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
        default:
            g_assert_not_reached();
        }
    }
    loc_set_none();
}

/* stdio can serve one character device only, as in QEMU. */
static Chardev *open_chardev(const CmdlineOpt *o, const char *spec,
                             bool *stdio_used)
{
    g_autoptr(GError) err = NULL;
    Chardev *chr;

    if (!strcmp(spec, "stdio")) {
        if (*stdio_used) {
            bad_option(o, "%s", "cannot use stdio by multiple character "
                       "devices");
        }
        *stdio_used = true;
    }
    chr = qemu_chr_new(spec, &err);
    if (!chr) {
        bad_option(o, "%s", err->message);
    }
    return chr;
}

static void configure_chardevs(Config *c, MachineState *ms)
{
    /* -qtest opens its own chardev later, but stdio is taken all the same. */
    bool stdio_used = c->qtest && !strcmp(c->qtest, "stdio");
    static const CmdlineOpt default_serial = { "-serial", "stdio" };

    if (c->debugcon.arg && strcmp(c->debugcon.arg, "none")) {
        ms->debugcon = open_chardev(&c->debugcon, c->debugcon.arg,
                                    &stdio_used);
    }
    if (!c->serials->len && !c->nodefaults) {
        /*
         * -nographic puts COM1 on stdio, unless -debugcon or -qtest has it;
         * with no display it goes nowhere.
         */
        g_ptr_array_add(c->serials, g_memdup2(&default_serial,
                                              sizeof(default_serial)));
        if (!c->nographic || stdio_used) {
            ((CmdlineOpt *)g_ptr_array_index(c->serials, 0))->arg = "null";
        }
    }
    for (guint i = 0; i < c->serials->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->serials, i);
        if (!strcmp(o->arg, "none")) {
            continue;
        }
        if (ms->nr_serials == G_N_ELEMENTS(ms->serials)) {
            bad_option(o, "%s", "too many serial ports (at most 4)");
        }
        ms->serials[ms->nr_serials++] = open_chardev(o, o->arg, &stdio_used);
    }
}

static void create_objects(Config *c)
{
    for (guint i = 0; i < c->objects->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->objects, i);
        g_autoptr(GError) err = NULL;
        g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "qom-type", &err);
        const char *type = opts ? qemu_opt_get(opts, "qom-type") : NULL;

        if (!opts) {
            bad_option(o, "%s", err->message);
        }
        if (!type) {
            bad_option(o, "%s", "Parameter 'qom-type' is missing");
        }
        if (!strcmp(type, "help")) {
            printf("List of user creatable objects:\n  iothread\n");
            exit(0);
        }
        if (strcmp(type, "iothread")) {
            bad_option(o, "invalid object type: %s", type);
        }
        if (!iothread_create(opts, &err)) {
            bad_option(o, "%s", err->message);
        }
    }
}

/* Open the drives; if=virtio ones get a virtio-blk-pci device each. */
static void create_drives(Config *c)
{
    for (guint i = 0; i < c->drives->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->drives, i);
        g_autoptr(GError) err = NULL;
        g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, NULL, &err);
        BlockBackend *blk;
        bool if_virtio;

        if (!opts) {
            bad_option(o, "%s", err->message);
        }
        loc_set_cmdline(o->name, o->arg);
        blk = drive_new(opts, &if_virtio, &err);
        if (!blk) {
            bad_option(o, "%s", err->message);
        }
        if (if_virtio) {
            CmdlineOpt dev = {
                .name = "-device",
                .arg = g_strdup_printf("virtio-blk-pci,drive=%s",
                                       blk_name(blk)),
            };
            g_ptr_array_add(c->devices, g_memdup2(&dev, sizeof(dev)));
            g_ptr_array_add(c->generated, (gpointer)dev.arg);
        }
    }
    loc_set_none();
}

static void create_devices(Config *c, MachineState *ms)
{
    for (guint i = 0; i < c->devices->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->devices, i);
        g_autoptr(GError) err = NULL;
        g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "driver", &err);
        bool help_shown = false;

        loc_set_cmdline(o->name, o->arg);
        if (!opts || !qdev_device_add(opts, &help_shown, &err)) {
            if (help_shown) {
                exit(0);
            }
            bad_option(o, "%s", err->message);
        }
    }
    loc_set_none();
}

/* Does any -device ask for an isa-debug-exit of its own? */
static bool user_wants_debug_exit(Config *c)
{
    for (guint i = 0; i < c->devices->len; i++) {
        const CmdlineOpt *o = g_ptr_array_index(c->devices, i);
        g_autoptr(QemuOpts) opts = qemu_opts_parse(o->arg, "driver", NULL);
        const char *driver = opts ? qemu_opt_get(opts, "driver") : NULL;
        if (driver && !strcmp(driver, debug_exit_class.name)) {
            return true;
        }
    }
    return false;
}

static void system_reset(void)
{
    current_accel->pause();
    pvh_machine_reset(current_machine);
    current_accel->resume();
}

int main(int argc, char **argv)
{
    static MachineState machine;
    MachineState *ms = &machine;
    g_autoptr(GError) err = NULL;
    Config c = {
        .ram_size = DEFAULT_RAM_SIZE,
        .smp_cpus = 1,
        .serials = g_ptr_array_new_with_free_func(g_free),
        .devices = g_ptr_array_new_with_free_func(g_free),
        .drives = g_ptr_array_new_with_free_func(g_free),
        .objects = g_ptr_array_new_with_free_func(g_free),
        .generated = g_ptr_array_new_with_free_func(g_free),
    };
    int status;

    parse_command_line(&c, argc, argv);
    if (!c.accel) {
        c.accel = c.qtest ? "qtest" : "kvm";
    }
    if (c.qtest && strcmp(c.accel, "qtest")) {
        error_report("-qtest needs the qtest accelerator (-accel qtest)");
        exit(1);
    }
    current_accel = accel_find(c.accel);

    ms->ram_size = c.ram_size;
    ms->smp_cpus = c.smp_cpus;
    ms->kernel_filename = (char *)c.kernel;
    ms->kernel_cmdline = (char *)c.append;
    ms->default_devices = !c.nodefaults;
    ms->user_debug_exit = user_wants_debug_exit(&c);
    current_machine = ms;

    if (c.append && !c.kernel) {
        error_report("-append only allowed with -kernel option");
        exit(1);
    }
    if (!c.kernel && !strcmp(c.accel, "kvm")) {
        error_report("no kernel given: this machine has no firmware, so "
                     "-kernel is required");
        exit(1);
    }
    if (c.append && strlen(c.append) >= 0x2000) {
        error_report("-append: command line too long (at most 8191 bytes)");
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
    if (!pvh_machine_init(ms, &err)) {
        error_report_err_exit(g_steal_pointer(&err));
    }
    create_objects(&c);
    create_drives(&c);
    create_devices(&c, ms);

    pvh_machine_reset(ms);
    if (c.qtest && !qtest_server_init(c.qtest, c.qtest_log, &err)) {
        error_report_err_exit(g_steal_pointer(&err));
    }
    if (!current_accel->start(ms, &err)) {
        error_report_err_exit(g_steal_pointer(&err));
    }
    status = main_loop_run(system_reset);

    current_accel->cleanup();
    pvh_machine_cleanup(ms);
    blk_destroy_all();
    iothread_destroy_all();
    g_ptr_array_unref(c.serials);
    g_ptr_array_unref(c.devices);
    g_ptr_array_unref(c.drives);
    g_ptr_array_unref(c.objects);
    g_ptr_array_unref(c.generated);
    bql_unlock();
    return status;
}
