/*
 * QMP with a real guest under KVM: system_powerdown presses the power
 * button, gfio notices it, reports what it did and powers off through
 * ACPI; the VMM sends POWERDOWN, then SHUTDOWN (guest, guest-shutdown), and
 * exits with status 0.  stop and cont pause and resume the running guest.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../qtest/libqmp.h"
#include "gfio-result.h"
#include "image.h"
#include "vmrun.h"

#define IMAGE_SIZE  (64 << 20)

typedef struct RunningVM {
    GPid pid;
    char *dir, *qmp_path, *console;
    QmpTestClient *qmp;
} RunningVM;

/* Start our VMM with gfio and a QMP socket; connect once it listens. */
static RunningVM *vm_start_gfio(const Image *img, const char *append)
{
    RunningVM *vm = g_new0(RunningVM, 1);
    g_autofree char *kernel = vmrun_guest("gfio");
    g_autofree char *drive = NULL, *qmp = NULL, *serial = NULL;
    g_autoptr(GError) err = NULL;

    vm->dir = g_dir_make_tmp("qmp-boot-XXXXXX", NULL);
    vm->qmp_path = g_build_filename(vm->dir, "qmp", NULL);
    vm->console = g_build_filename(vm->dir, "console", NULL);
    drive = g_strdup_printf("file=%s,if=none,id=d0,format=raw,cache=none",
                            img->path);
    qmp = g_strdup_printf("unix:%s,server=on,wait=off", vm->qmp_path);
    serial = g_strdup_printf("file:%s", vm->console);
    {
        const char *argv[] = {
            vmrun_our_vmm(), "-accel", "kvm", "-m", "128M", "-display",
            "none", "-nodefaults", "-serial", serial, "-qmp", qmp,
            "-kernel", kernel, "-append", append, "-drive", drive,
            "-device", "virtio-blk-pci,drive=d0,id=disk0", NULL,
        };
        if (!g_spawn_async(NULL, (char **)argv, NULL,
                           G_SPAWN_DO_NOT_REAP_CHILD |
                           G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
                           &vm->pid, &err)) {
            g_error("cannot start the VMM: %s", err->message);
        }
    }
    /* The console file is opened once the monitor listens. */
    for (int i = 0; i < 1000 && !g_file_test(vm->console,
                                             G_FILE_TEST_EXISTS); i++) {
        g_usleep(10000);
    }
    vm->qmp = qmp_client_connect(vm->qmp_path, false);
    return vm;
}

/* Wait until the console shows @text (the guest got that far). */
static char *vm_wait_console(RunningVM *vm, const char *text)
{
    for (int i = 0; i < 6000; i++) {
        char *out = NULL;

        if (g_file_get_contents(vm->console, &out, NULL, NULL) &&
            strstr(out, text)) {
            return out;
        }
        g_free(out);
        g_usleep(10000);
    }
    g_error("the guest did not print '%s' within 60 s", text);
}

/* The serial port sends "\r\n"; gfio_result_parse() wants lines. */
static void strip_cr(char *s)
{
    char *d = s;

    for (; *s; s++) {
        if (*s != '\r') {
            *d++ = *s;
        }
    }
    *d = 0;
}

/* Wait until the disk has served reads (query-blockstats says so). */
static void vm_wait_reads(RunningVM *vm)
{
    for (int i = 0; i < 3000; i++) {
        g_autoptr(JsonObject) r = qmp_client_cmd(vm->qmp, "{'execute':"
                                                 "'query-blockstats'}");
        JsonObject *d0 = json_array_get_object_element(
            json_node_get_array(qmp_reply_return(r)), 0);

        if (json_object_get_int_member(json_object_get_object_member(
                d0, "stats"), "rd_operations") > 0) {
            return;
        }
        g_usleep(10000);
    }
    g_error("the guest read nothing within 30 s");
}

static int vm_wait_exit(RunningVM *vm)
{
    int status;

    for (int i = 0; i < 3000; i++) {
        if (waitpid(vm->pid, &status, WNOHANG) == vm->pid) {
            g_spawn_close_pid(vm->pid);
            vm->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        g_usleep(10000);
    }
    g_error("the VMM did not exit within 30 s");
}

static void vm_free(RunningVM *vm)
{
    if (vm->pid) {
        kill(vm->pid, SIGKILL);
        waitpid(vm->pid, NULL, 0);
    }
    qmp_client_close(vm->qmp);
    unlink(vm->console);
    unlink(vm->qmp_path);
    rmdir(vm->dir);
    g_free(vm->dir);
    g_free(vm->qmp_path);
    g_free(vm->console);
    g_free(vm);
}

static void test_powerdown_honoured(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    RunningVM *vm = vm_start_gfio(img, "rw=randread bs=4k iodepth=4 "
                                  "runtime=120");
    g_autoptr(JsonObject) r = NULL, ev = NULL, sd = NULL;
    g_autofree char *out = NULL;
    g_autoptr(GfioResult) res = NULL;
    JsonObject *data;

    g_free(vm_wait_console(vm, "gfio: measure begin"));
    vm_wait_reads(vm);
    r = qmp_client_cmd(vm->qmp, "{'execute':'system_powerdown'}");
    qmp_reply_return(r);
    ev = qmp_client_event_wait(vm->qmp, "POWERDOWN");
    sd = qmp_client_event_wait(vm->qmp, "SHUTDOWN");
    data = json_object_get_object_member(sd, "data");
    g_assert(json_object_get_boolean_member(data, "guest"));
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    "guest-shutdown");
    g_assert_cmpint(vm_wait_exit(vm), ==, 0);
    /* gfio stopped early, and reported the I/O it did. */
    g_file_get_contents(vm->console, &out, NULL, NULL);
    strip_cr(out);
    g_assert(strstr(out, "gfio: power button pressed: stopping"));
    res = gfio_result_parse(out);
    g_assert_cmpint(json_object_get_int_member(res->job, "error"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(res->job, "read"), "total_ios"), >, 0);
    g_assert_cmpint(json_object_get_int_member(res->job, "job_runtime"), <,
                    120000);
    vm_free(vm);
}

static void test_stop_cont_running_guest(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    RunningVM *vm = vm_start_gfio(img, "rw=randread bs=4k iodepth=4 "
                                  "runtime=120");
    g_autoptr(JsonObject) st = NULL, st2 = NULL, r = NULL, r2 = NULL;
    g_autoptr(JsonObject) r3 = NULL;

    g_free(vm_wait_console(vm, "gfio: measure begin"));
    r = qmp_client_cmd(vm->qmp, "{'execute':'stop'}");
    qmp_reply_return(r);
    json_object_unref(qmp_client_event_wait(vm->qmp, "STOP"));
    st = qmp_client_cmd(vm->qmp, "{'execute':'query-status'}");
    g_assert_cmpstr(json_object_get_string_member(
        json_node_get_object(qmp_reply_return(st)), "status"), ==, "paused");
    r2 = qmp_client_cmd(vm->qmp, "{'execute':'cont'}");
    qmp_reply_return(r2);
    json_object_unref(qmp_client_event_wait(vm->qmp, "RESUME"));
    st2 = qmp_client_cmd(vm->qmp, "{'execute':'query-status'}");
    g_assert(json_object_get_boolean_member(
        json_node_get_object(qmp_reply_return(st2)), "running"));
    r3 = qmp_client_cmd(vm->qmp, "{'execute':'quit'}");
    qmp_reply_return(r3);
    g_assert_cmpint(vm_wait_exit(vm), ==, 0);
    vm_free(vm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/qmp-boot/powerdown-honoured", test_powerdown_honoured);
    g_test_add_func("/qmp-boot/stop-cont-running-guest",
                    test_stop_cont_running_guest);
    return g_test_run();
}
