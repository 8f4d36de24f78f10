/*
 * QMP's machine commands and events, with the qtest accelerator playing
 * the guest: run states (-S, stop, cont, -no-shutdown), reset, power-down
 * through the ACPI power button, quit; identity and inventory queries;
 * the object tree; -daemonize and -pidfile.
 */
#include <signal.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "libqos/blk-image.h"
#include "libqtest.h"

#define PM1A_STS        0x600
#define PM1A_EN         0x602
#define PM1A_CNT        0x604
#define PM1_PWRBTN      0x0100
#define SLP_EN_S5       ((5 << 10) | (1 << 13))

static JsonObject *ret_obj(JsonObject *reply)
{
    return json_node_get_object(qmp_reply_return(reply));
}

static void assert_status(QTestState *qts, const char *status, bool running)
{
    g_autoptr(JsonObject) r = qtest_qmp(qts, "{'execute':'query-status'}");

    g_assert_cmpstr(json_object_get_string_member(ret_obj(r), "status"), ==,
                    status);
    g_assert_cmpint(json_object_get_boolean_member(ret_obj(r), "running"),
                    ==, running);
}

static void assert_ok(QTestState *qts, const char *cmd)
{
    g_autoptr(JsonObject) r = qtest_qmp(qts, "%s", cmd);

    qmp_reply_return(r);
}

static void assert_event(QTestState *qts, const char *event, const char *guest,
                         const char *reason)
{
    g_autoptr(JsonObject) e = qmp_client_event_wait(qtest_qmp_client(qts),
                                                    event);
    if (reason) {
        JsonObject *data = json_object_get_object_member(e, "data");
        g_assert_cmpint(json_object_get_boolean_member(data, "guest"), ==,
                        !strcmp(guest, "true"));
        g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                        reason);
    }
}

static void test_prelaunch_stop_cont(void)
{
    g_autoptr(QTestState) qts = qtest_init("-S");

    assert_status(qts, "prelaunch", false);
    assert_ok(qts, "{'execute':'cont'}");
    assert_event(qts, "RESUME", NULL, NULL);
    assert_status(qts, "running", true);
    assert_ok(qts, "{'execute':'stop'}");
    assert_event(qts, "STOP", NULL, NULL);
    assert_status(qts, "paused", false);
    /* stop again: nothing changes, no second event */
    assert_ok(qts, "{'execute':'stop'}");
    assert_ok(qts, "{'execute':'cont'}");
    assert_event(qts, "RESUME", NULL, NULL);
    assert_status(qts, "running", true);
}

static void test_system_reset(void)
{
    g_autoptr(QTestState) qts = qtest_init("");

    qtest_outw(qts, PM1A_EN, PM1_PWRBTN);
    assert_ok(qts, "{'execute':'system_reset'}");
    assert_event(qts, "RESET", "false", "host-qmp-system-reset");
    /* The machine's registers are back at their power-on values. */
    g_assert_cmphex(qtest_inw(qts, PM1A_EN), ==, 0);
    assert_status(qts, "running", true);
    /* A guest's reset through the reset control register. */
    qtest_outb(qts, 0xcf9, 0x06);
    assert_event(qts, "RESET", "true", "guest-reset");
}

static void test_powerdown(void)
{
    g_autoptr(QTestState) qts = qtest_init("");

    g_assert_cmphex(qtest_inw(qts, PM1A_STS), ==, 0);
    qtest_outw(qts, PM1A_EN, PM1_PWRBTN);
    qtest_irq_intercept_in(qts, "ioapic");
    assert_ok(qts, "{'execute':'system_powerdown'}");
    assert_event(qts, "POWERDOWN", NULL, NULL);
    /* The guest sees the power button, and the SCI is raised. */
    g_assert_cmphex(qtest_inw(qts, PM1A_STS), ==, PM1_PWRBTN);
    g_assert(qtest_get_irq(qts, 9));
    /* Write 1 to clear; the SCI drops. */
    qtest_outw(qts, PM1A_STS, PM1_PWRBTN);
    g_assert_cmphex(qtest_inw(qts, PM1A_STS), ==, 0);
    g_assert(!qtest_get_irq(qts, 9));
    /* The guest honours it: S5, and the VMM ends with status 0. */
    qtest_outw(qts, PM1A_CNT, SLP_EN_S5);
    assert_event(qts, "SHUTDOWN", "true", "guest-shutdown");
}

/*
 * What a guest may write to PM1a's status and enable registers: only the
 * power button's bits exist; a write of 1 to an unset status bit, or of
 * other bits anywhere, changes nothing, byte by byte as well as whole.
 */
static void test_pm1_registers_hostile(void)
{
    g_autoptr(QTestState) qts = qtest_init("");

    qtest_irq_intercept_in(qts, "ioapic");
    qtest_outl(qts, PM1A_STS, 0xffffffff);
    g_assert_cmphex(qtest_inl(qts, PM1A_STS), ==, PM1_PWRBTN << 16);
    g_assert(!qtest_get_irq(qts, 9));
    qtest_outw(qts, PM1A_EN, 0xfeff);
    g_assert_cmphex(qtest_inw(qts, PM1A_EN), ==, 0);
    qtest_outb(qts, PM1A_EN + 1, 0xff);
    g_assert_cmphex(qtest_inw(qts, PM1A_EN), ==, PM1_PWRBTN);
    qtest_outb(qts, PM1A_STS + 1, 0xff);
    g_assert_cmphex(qtest_inw(qts, PM1A_STS), ==, 0);
    g_assert(!qtest_get_irq(qts, 9));
    /* The machine still works: the power button still reaches the guest. */
    assert_ok(qts, "{'execute':'system_powerdown'}");
    assert_event(qts, "POWERDOWN", NULL, NULL);
    g_assert_cmphex(qtest_inb(qts, PM1A_STS + 1), ==, PM1_PWRBTN >> 8);
    g_assert(qtest_get_irq(qts, 9));
}

static void test_no_shutdown(void)
{
    g_autoptr(QTestState) qts = qtest_init("-no-shutdown");
    g_autoptr(JsonObject) r = NULL;

    qtest_qmp_client(qts);      /* connected before the events */
    qtest_outw(qts, PM1A_CNT, SLP_EN_S5);
    assert_event(qts, "SHUTDOWN", "true", "guest-shutdown");
    assert_event(qts, "STOP", NULL, NULL);
    assert_status(qts, "shutdown", false);
    r = qtest_qmp(qts, "{'execute':'cont'}");
    g_assert_cmpstr(qmp_reply_error_desc(r), ==,
                    "Resetting the Virtual Machine is required");
    assert_ok(qts, "{'execute':'system_reset'}");
    assert_event(qts, "RESET", "false", "host-qmp-system-reset");
    assert_status(qts, "prelaunch", false);
    assert_ok(qts, "{'execute':'cont'}");
    assert_status(qts, "running", true);
}

static void test_quit(void)
{
    QTestState *qts = qtest_init("");

    assert_ok(qts, "{'execute':'quit'}");
    assert_event(qts, "SHUTDOWN", "false", "host-qmp-quit");
    qtest_quit(qts);            /* checks exit status 0 */
}

static void test_identity(void)
{
    g_autoptr(QTestState) qts = qtest_init(
        "-name guest=vm-one -smp 2 -object iothread,id=io0 "
        "-uuid 6f1b3c2e-4a5d-4e8f-9a0b-1c2d3e4f5a6b");
    g_autoptr(JsonObject) name = qtest_qmp(qts, "{'execute':'query-name'}");
    g_autoptr(JsonObject) uuid = qtest_qmp(qts, "{'execute':'query-uuid'}");
    g_autoptr(JsonObject) kvm = qtest_qmp(qts, "{'execute':'query-kvm'}");
    g_autoptr(JsonObject) target = qtest_qmp(qts, "{'execute':'query-target'}");
    g_autoptr(JsonObject) machines = qtest_qmp(qts,
                                               "{'execute':'query-machines'}");
    g_autoptr(JsonObject) cpus = qtest_qmp(qts,
                                           "{'execute':'query-cpus-fast'}");
    g_autoptr(JsonObject) iothreads = qtest_qmp(qts,
                                                "{'execute':'query-iothreads'}");
    JsonArray *c = json_node_get_array(qmp_reply_return(cpus));
    JsonArray *t = json_node_get_array(qmp_reply_return(iothreads));
    JsonObject *io0;
    g_autofree char *comm_path = NULL, *comm = NULL;

    g_assert_cmpstr(json_object_get_string_member(ret_obj(name), "name"), ==,
                    "vm-one");
    g_assert_cmpstr(json_object_get_string_member(ret_obj(uuid), "UUID"), ==,
                    "6f1b3c2e-4a5d-4e8f-9a0b-1c2d3e4f5a6b");
    g_assert(!json_object_get_boolean_member(ret_obj(kvm), "enabled"));
    g_assert_cmpstr(json_object_get_string_member(ret_obj(target), "arch"),
                    ==, "x86_64");
    g_assert_cmpstr(json_object_get_string_member(
        json_array_get_object_element(
            json_node_get_array(qmp_reply_return(machines)), 0), "name"),
        ==, "pvh");
    g_assert_cmpuint(json_array_get_length(c), ==, 2);
    g_assert_cmpint(json_object_get_int_member(
        json_array_get_object_element(c, 1), "cpu-index"), ==, 1);
    /* The iothread's thread id is a thread of the VMM, named as QEMU does. */
    g_assert_cmpuint(json_array_get_length(t), ==, 1);
    io0 = json_array_get_object_element(t, 0);
    g_assert_cmpstr(json_object_get_string_member(io0, "id"), ==, "io0");
    comm_path = g_strdup_printf("/proc/%d/task/%" G_GINT64_FORMAT "/comm",
                                qtest_pid(qts),
                                json_object_get_int_member(io0, "thread-id"));
    g_assert(g_file_get_contents(comm_path, &comm, NULL, NULL));
    g_assert(g_str_has_prefix(comm, "IO io0"));
}

static void test_object_tree(void)
{
    BlkImage *img = blk_image_new(1 << 20);
    BlkImage *img2 = blk_image_new(1 << 20);
    g_autoptr(QTestState) qts = qtest_initf(
        "-drive file=%s,if=none,id=d0,format=raw "
        "-device virtio-blk-pci,drive=d0,id=disk0,num-queues=2 "
        "-device virtio-blk-pci,drive=d1 "
        "-drive file=%s,if=none,id=d1,format=raw,readonly=on",
        img->path, img2->path);
    g_autoptr(JsonObject) list = qtest_qmp(qts, "{'execute':'qom-list',"
        "'arguments':{'path':'/machine/peripheral'}}");
    g_autoptr(JsonObject) nq = qtest_qmp(qts, "{'execute':'qom-get',"
        "'arguments':{'path':'/machine/peripheral/disk0',"
        "'property':'num-queues'}}");
    g_autoptr(JsonObject) drive = qtest_qmp(qts, "{'execute':'qom-get',"
        "'arguments':{'path':'/machine/peripheral/disk0',"
        "'property':'drive'}}");
    g_autoptr(JsonObject) type = qtest_qmp(qts, "{'execute':'qom-get',"
        "'arguments':{'path':'/machine/peripheral-anon/device[0]',"
        "'property':'type'}}");
    g_autoptr(JsonObject) noprop = qtest_qmp(qts, "{'execute':'qom-get',"
        "'arguments':{'path':'/machine/peripheral/disk0',"
        "'property':'nope'}}");
    g_autoptr(JsonObject) block = qtest_qmp(qts, "{'execute':'query-block'}");
    JsonArray *props = json_node_get_array(qmp_reply_return(list));
    JsonArray *b = json_node_get_array(qmp_reply_return(block));
    bool found = false;

    for (guint i = 0; i < json_array_get_length(props); i++) {
        JsonObject *p = json_array_get_object_element(props, i);
        if (!strcmp(json_object_get_string_member(p, "name"), "disk0")) {
            g_assert_cmpstr(json_object_get_string_member(p, "type"), ==,
                            "child<virtio-blk-pci>");
            found = true;
        }
    }
    g_assert(found);
    g_assert_cmpint(json_node_get_int(qmp_reply_return(nq)), ==, 2);
    g_assert_cmpstr(json_node_get_string(qmp_reply_return(drive)), ==, "d0");
    g_assert_cmpstr(json_node_get_string(qmp_reply_return(type)), ==,
                    "virtio-blk-pci");
    g_assert_cmpstr(qmp_reply_error_desc(noprop), ==,
                    "Property 'virtio-blk-pci.nope' not found");
    /* query-block: both drives, the right image, size and attachment. */
    g_assert_cmpuint(json_array_get_length(b), ==, 2);
    {
        JsonObject *d0 = json_array_get_object_element(b, 0);
        JsonObject *d1 = json_array_get_object_element(b, 1);
        JsonObject *ins0 = json_object_get_object_member(d0, "inserted");
        JsonObject *ins1 = json_object_get_object_member(d1, "inserted");

        g_assert_cmpstr(json_object_get_string_member(d0, "device"), ==,
                        "d0");
        g_assert_cmpstr(json_object_get_string_member(d0, "qdev"), ==,
                        "/machine/peripheral/disk0/virtio-backend");
        g_assert_cmpstr(json_object_get_string_member(ins0, "file"), ==,
                        img->path);
        g_assert_cmpint(json_object_get_int_member(
            json_object_get_object_member(ins0, "image"), "virtual-size"), ==,
            1 << 20);
        g_assert(!json_object_get_boolean_member(ins0, "ro"));
        g_assert(json_object_get_boolean_member(ins1, "ro"));
    }
    blk_image_free(img);
    blk_image_free(img2);
}

/* block_resize finds -blockdev nodes by node-name, as libvirt names them. */
static void test_resize_blockdev_node(void)
{
    BlkImage *img = blk_image_new(1 << 20);
    g_autoptr(QTestState) qts = qtest_initf(
        "-blockdev driver=file,node-name=proto,filename=%s "
        "-blockdev driver=raw,node-name=fmt,file=proto "
        "-device virtio-blk-pci,drive=fmt,id=disk0", img->path);
    g_autoptr(JsonObject) r = qtest_qmp(qts, "{'execute':'block_resize',"
        "'arguments':{'node-name':'fmt','size':2097152}}");
    g_autoptr(JsonObject) none = qtest_qmp(qts, "{'execute':'block_resize',"
        "'arguments':{'node-name':'nope','size':2097152}}");
    struct stat st;

    qmp_reply_return(r);
    g_assert_cmpint(fstat(img->fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 2 << 20);
    g_assert_cmpstr(qmp_reply_error_desc(none), ==,
                    "Cannot find device='' nor node-name='nope'");
    blk_image_free(img);
}

static void test_type_queries(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonObject) types = qtest_qmp(qts, "{'execute':'qom-list-types',"
        "'arguments':{'implements':'virtio-pci'}}");
    g_autoptr(JsonObject) dprops = qtest_qmp(qts,
        "{'execute':'device-list-properties',"
        "'arguments':{'typename':'virtio-blk-pci'}}");
    g_autoptr(JsonObject) missing = qtest_qmp(qts,
        "{'execute':'device-list-properties',"
        "'arguments':{'typename':'no-such-device'}}");
    g_autoptr(JsonObject) abstract = qtest_qmp(qts,
        "{'execute':'device-list-properties',"
        "'arguments':{'typename':'device'}}");
    JsonArray *t = json_node_get_array(qmp_reply_return(types));
    JsonArray *p = json_node_get_array(qmp_reply_return(dprops));
    bool blk = false, nq = false;

    for (guint i = 0; i < json_array_get_length(t); i++) {
        const char *n = json_object_get_string_member(
            json_array_get_object_element(t, i), "name");
        blk |= !strcmp(n, "virtio-blk-pci");
        /* Only what implements virtio-pci is listed. */
        g_assert(g_str_has_prefix(n, "virtio-"));
    }
    g_assert(blk);
    for (guint i = 0; i < json_array_get_length(p); i++) {
        JsonObject *o = json_array_get_object_element(p, i);
        if (!strcmp(json_object_get_string_member(o, "name"), "num-queues")) {
            g_assert_cmpint(json_object_get_int_member(o, "default-value"),
                            ==, 1);
            nq = true;
        }
    }
    g_assert(nq);
    g_assert_cmpstr(qmp_reply_error_class(missing), ==, "DeviceNotFound");
    g_assert_cmpstr(qmp_reply_error_desc(missing), ==,
                    "Device 'no-such-device' not found");
    g_assert_cmpstr(qmp_reply_error_desc(abstract), ==,
                    "Parameter 'typename' expects a non-abstract device type");
}

/*
 * -daemonize: the parent returns once the VM is ready; -pidfile names it.
 * With -nodefaults, -nographic puts nothing on stdio and goes with
 * -daemonize, as libvirt starts a VMM to probe it.
 */
static void test_daemonize_pidfile(void)
{
    g_autofree char *dir = g_dir_make_tmp("qmp-daemon-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "qmp", NULL);
    g_autofree char *pidfile = g_build_filename(dir, "pid", NULL);
    g_autofree char *args = g_strdup_printf(
        "-accel qtest -nographic -nodefaults -S "
        "-qmp unix:%s,server=on,wait=off -pidfile %s -daemonize",
        sock, pidfile);
    g_autofree char *err = NULL, *again_err = NULL, *pidtext = NULL;
    g_autoptr(QmpTestClient) c = NULL;
    g_autoptr(JsonObject) r = NULL;
    pid_t pid;

    g_assert_cmpint(qtest_run_vmm(NULL, args, &err), ==, 0);
    g_assert_cmpstr(err, ==, "");
    /* Ready means: the pidfile is written and the monitor listens. */
    g_assert(g_file_get_contents(pidfile, &pidtext, NULL, NULL));
    pid = atoi(pidtext);
    g_assert_cmpint(pid, >, 0);
    g_assert_cmpint(kill(pid, 0), ==, 0);
    /* A second VMM with the same pidfile is refused. */
    g_assert_cmpint(qtest_run_vmm(NULL, args, &again_err), ==, 1);
    g_assert(strstr(again_err, "cannot create PID file: Cannot lock pid "
                    "file"));
    c = qmp_client_connect(sock, false);
    r = qmp_client_cmd(c, "{'execute':'query-status'}");
    g_assert_cmpstr(json_object_get_string_member(ret_obj(r), "status"), ==,
                    "prelaunch");
    g_clear_pointer(&r, json_object_unref);
    r = qmp_client_cmd(c, "{'execute':'quit'}");
    qmp_reply_return(r);
    /* It exits, and takes its pidfile and socket with it. */
    for (int i = 0; i < 1000 && kill(pid, 0) == 0; i++) {
        g_usleep(10000);
    }
    g_assert_cmpint(kill(pid, 0), ==, -1);
    g_assert(!g_file_test(pidfile, G_FILE_TEST_EXISTS));
    g_assert(!g_file_test(sock, G_FILE_TEST_EXISTS));
    rmdir(dir);
}

static void test_daemonize_errors(void)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(qtest_run_vmm(NULL, "-accel qtest -nographic -daemonize",
                                  &err), ==, 1);
    g_assert_cmpstr(err, ==, "qemu-system-x86_64: -nographic cannot be used "
                    "with -daemonize\n");
    g_clear_pointer(&err, g_free);
    /* An error after the fork still reaches the terminal, with status 1. */
    g_assert_cmpint(qtest_run_vmm(NULL, "-accel qtest -display none "
                                  "-daemonize -drive file=/nonexistent,"
                                  "if=none,id=d0,format=raw", &err), ==, 1);
    g_assert(strstr(err, "Could not open '/nonexistent'"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/qmp-machine/prelaunch-stop-cont",
                    test_prelaunch_stop_cont);
    g_test_add_func("/qmp-machine/system-reset", test_system_reset);
    g_test_add_func("/qmp-machine/powerdown", test_powerdown);
    g_test_add_func("/qmp-machine/pm1-registers-hostile",
                    test_pm1_registers_hostile);
    g_test_add_func("/qmp-machine/no-shutdown", test_no_shutdown);
    g_test_add_func("/qmp-machine/quit", test_quit);
    g_test_add_func("/qmp-machine/identity", test_identity);
    g_test_add_func("/qmp-machine/object-tree", test_object_tree);
    g_test_add_func("/qmp-machine/type-queries", test_type_queries);
    g_test_add_func("/qmp-machine/resize-blockdev-node",
                    test_resize_blockdev_node);
    g_test_add_func("/qmp-machine/daemonize-pidfile", test_daemonize_pidfile);
    g_test_add_func("/qmp-machine/daemonize-errors", test_daemonize_errors);
    return g_test_run();
}
