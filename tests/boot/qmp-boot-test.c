/*
 * QMP with a real guest under KVM: system_powerdown presses the power
 * button, gfio notices it, reports what it did and powers off through
 * ACPI; the VMM sends POWERDOWN, then SHUTDOWN (guest, guest-shutdown), and
 * exits with status 0.  stop and cont pause and resume the running guest.
 * query-blockstats after a gfio run (stopped by -no-shutdown when gfio
 * powers off) counts exactly the requests and bytes gfio reports, and with
 * the passthrough x-query-virtio-blk-uring shows the live ring during the
 * run and its completions at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../qtest/libqmp.h"
#include "gfio-result.h"
#include "image.h"
#include "vmrun.h"

#define IMAGE_SIZE  (64 << 20)
/* One pass of gfio over JOB_SIZE bytes in 4 KiB blocks, no runtime: exact */
#define JOB_SIZE    (8 << 20)
#define JOB_BLOCKS  (JOB_SIZE / 4096)
#define JOB         "rw=randrw bs=4k size=8M iodepth=8"

typedef struct RunningVM {
    GPid pid;
    char *dir, *qmp_path, *console;
    QmpTestClient *qmp;
} RunningVM;

/* In the VMM: it dies with the test, which -no-shutdown would outlive. */
static void die_with_test(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/*
 * Start our VMM with gfio and a QMP socket; connect once it listens.
 * device: options appended to -device virtio-blk-pci,drive=d0,id=disk0.
 * With no_shutdown, the guest's power-off stops the VM instead of ending
 * the VMM (-nodefaults leaves out isa-debug-exit, so that gfio's end is an
 * ACPI power-off too).
 */
static RunningVM *vm_start(const Image *img, const char *append,
                           const char *device, bool no_shutdown)
{
    RunningVM *vm = g_new0(RunningVM, 1);
    g_autofree char *kernel = vmrun_guest("gfio");
    g_autofree char *drive = NULL, *qmp = NULL, *serial = NULL;
    g_autofree char *dev = NULL;
    g_autoptr(GError) err = NULL;

    vm->dir = g_dir_make_tmp("qmp-boot-XXXXXX", NULL);
    vm->qmp_path = g_build_filename(vm->dir, "qmp", NULL);
    vm->console = g_build_filename(vm->dir, "console", NULL);
    drive = g_strdup_printf("file=%s,if=none,id=d0,format=raw,cache=none",
                            img->path);
    qmp = g_strdup_printf("unix:%s,server=on,wait=off", vm->qmp_path);
    serial = g_strdup_printf("file:%s", vm->console);
    dev = g_strdup_printf("virtio-blk-pci,drive=d0,id=disk0%s", device);
    {
        const char *argv[] = {
            vmrun_our_vmm(), "-accel", "kvm", "-m", "128M", "-display",
            "none", "-nodefaults", "-serial", serial, "-qmp", qmp,
            "-kernel", kernel, "-append", append, "-drive", drive,
            "-device", dev, no_shutdown ? "-no-shutdown" : NULL, NULL,
        };
        if (!g_spawn_async(NULL, (char **)argv, NULL,
                           G_SPAWN_DO_NOT_REAP_CHILD |
                           G_SPAWN_STDIN_FROM_DEV_NULL, die_with_test,
                           NULL, &vm->pid, &err)) {
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

static RunningVM *vm_start_gfio(const Image *img, const char *append)
{
    return vm_start(img, append, "", false);
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
        JsonObject *d0 = qmp_blockstats_only(r, "d0", NULL);

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

/* The member under key, which must be there. */
static gint64 member(JsonObject *o, const char *key)
{
    if (!json_object_has_member(o, key)) {
        g_error("no %s in the reply", key);
    }
    return json_object_get_int_member(o, key);
}

/*
 * gfio has ended and powered off under -no-shutdown: SHUTDOWN (guest,
 * guest-shutdown), STOP, and the VM in state "shutdown", with the VMM
 * still there to be queried.  Returns the console, without "\r".
 */
static char *vm_wait_gfio_shutdown(RunningVM *vm)
{
    g_autoptr(JsonObject) sd = NULL, stop = NULL, st = NULL;
    JsonObject *data;
    char *out = NULL;

    /* The run may outlast the QMP client's wait for one message. */
    g_free(vm_wait_console(vm, "--- gfio json end ---"));
    sd = qmp_client_event_wait(vm->qmp, "SHUTDOWN");
    data = json_object_get_object_member(sd, "data");
    g_assert_true(json_object_get_boolean_member(data, "guest"));
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    "guest-shutdown");
    stop = qmp_client_event_wait(vm->qmp, "STOP");
    st = qmp_client_cmd(vm->qmp, "{'execute':'query-status'}");
    g_assert_cmpstr(json_object_get_string_member(
        json_node_get_object(qmp_reply_return(st)), "status"), ==,
        "shutdown");
    g_assert_true(g_file_get_contents(vm->console, &out, NULL, NULL));
    strip_cr(out);
    return out;
}

static void vm_quit(RunningVM *vm)
{
    g_autoptr(JsonObject) r = qmp_client_cmd(vm->qmp,
                                             "{'execute':'quit'}");

    qmp_reply_return(r);
    g_assert_cmpint(vm_wait_exit(vm), ==, 0);
}

/* query-blockstats' entry for d0, the only drive (a new reference). */
static JsonObject *vm_blockstats(RunningVM *vm)
{
    g_autoptr(JsonObject) r = qmp_client_cmd(vm->qmp,
                                             "{'execute':'query-blockstats'}");

    return json_object_ref(qmp_blockstats_only(
        r, "d0", "/machine/peripheral/disk0/virtio-backend"));
}

/* No request of the drive failed or was refused. */
static void assert_none_failed(JsonObject *stats)
{
    static const char *const kinds[] = { "failed", "invalid" };
    static const char *const types[] = { "rd", "wr", "flush", "unmap" };

    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (size_t t = 0; t < G_N_ELEMENTS(types); t++) {
            g_autofree char *key = g_strdup_printf("%s_%s_operations",
                                                   kinds[k], types[t]);

            g_assert_cmpint(member(stats, key), ==, 0);
        }
    }
}

/* gfio's JSON for one direction ("read", "write") of its job. */
static JsonObject *gfio_direction(const GfioResult *res, const char *dir)
{
    g_assert_true(json_object_has_member(res->job, dir));
    return json_object_get_object_member(res->job, dir);
}

/* gfio ran its one pass over the region without an error. */
static void assert_gfio_pass(const GfioResult *res)
{
    gint64 reads = member(gfio_direction(res, "read"), "total_ios");
    gint64 writes = member(gfio_direction(res, "write"), "total_ios");

    g_assert_cmpint(member(res->job, "error"), ==, 0);
    g_assert_true(g_str_has_suffix(res->summary, " OK"));
    g_assert_cmpint(reads + writes, ==, JOB_BLOCKS);
    g_assert_cmpint(reads, >, 0);
    g_assert_cmpint(writes, >, 0);
}

/*
 * query-blockstats after a gfio run through the virtqueue: exactly gfio's
 * requests and bytes.  The guest's driver makes no request of its own (no
 * GET_ID, no read at set-up: tests/guest/virtio_blk.c), so there is
 * nothing else to count.  With verify, gfio then reads back each block it
 * wrote once; its JSON counts the workload only, its summary's verified=
 * those reads.
 */
static void check_blockstats_match_gfio(bool verify)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    RunningVM *vm = vm_start(img, verify ? JOB " verify=crc32c" : JOB, "",
                             true);
    g_autofree char *out = vm_wait_gfio_shutdown(vm);
    g_autoptr(GfioResult) res = gfio_result_parse(out);
    g_autoptr(JsonObject) entry = vm_blockstats(vm);
    JsonObject *st = json_object_get_object_member(entry, "stats");
    JsonObject *rd = gfio_direction(res, "read");
    JsonObject *wr = gfio_direction(res, "write");
    gint64 verified = 0;

    assert_gfio_pass(res);
    if (verify) {
        g_autofree char *v = NULL;

        verified = member(wr, "total_ios");
        v = g_strdup_printf(" verified=%" G_GINT64_FORMAT " ", verified);
        g_assert_nonnull(strstr(res->summary, v));
    }
    gfio_assert_requests(res, "virtio-blk", JOB_BLOCKS + verified);

    g_assert_cmpint(member(st, "rd_operations"), ==,
                    member(rd, "total_ios") + verified);
    g_assert_cmpint(member(st, "rd_bytes"), ==,
                    member(rd, "io_bytes") + verified * 4096);
    g_assert_cmpint(member(st, "wr_operations"), ==, member(wr, "total_ios"));
    g_assert_cmpint(member(st, "wr_bytes"), ==, member(wr, "io_bytes"));
    g_assert_cmpint(member(st, "flush_operations"), ==, 0);
    g_assert_cmpint(member(st, "unmap_operations"), ==, 0);
    g_assert_cmpint(member(st, "unmap_bytes"), ==, 0);
    assert_none_failed(st);
    g_assert_false(json_object_has_member(entry, "x-uring-passthrough"));
    vm_quit(vm);
    vm_free(vm);
}

static void test_blockstats_randrw(void)
{
    check_blockstats_match_gfio(false);
}

static void test_blockstats_randrw_verify(void)
{
    check_blockstats_match_gfio(true);
}

/* Process pid is a child of the VMM, and tid its ring's SQPOLL thread. */
static void assert_ring_owner(RunningVM *vm, gint64 pid, gint64 tid)
{
    g_autofree char *stat_path = g_strdup_printf("/proc/%" G_GINT64_FORMAT
                                                 "/stat", pid);
    g_autofree char *comm_path = g_strdup_printf(
        "/proc/%" G_GINT64_FORMAT "/task/%" G_GINT64_FORMAT "/comm", pid,
        tid);
    g_autofree char *stat = NULL, *comm = NULL;
    const char *after_comm;
    char state;
    int ppid;

    g_assert_true(g_file_get_contents(stat_path, &stat, NULL, NULL));
    after_comm = strrchr(stat, ')');
    g_assert_nonnull(after_comm);
    g_assert_cmpint(sscanf(after_comm + 1, " %c %d", &state, &ppid), ==, 2);
    g_assert_cmpint(state, !=, 'Z');
    g_assert_cmpint(ppid, ==, vm->pid);
    g_assert_true(g_file_get_contents(comm_path, &comm, NULL, NULL));
    g_assert_true(g_str_has_prefix(comm, "iou-sqp-"));
}

/*
 * gfio through the passthrough: while it runs, x-query-virtio-blk-uring
 * shows the active ring and its owner (a live child of the VMM whose
 * SQPOLL thread is sqpoll-thread-id); at the end, query-blockstats'
 * x-uring-passthrough has completed as many requests as gfio made, and
 * the virtqueue none.
 */
static void test_uring_query_and_stats(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    RunningVM *vm = vm_start(img, JOB " uring=on", ",uring-passthrough=on",
                             true);
    g_autoptr(JsonObject) q = NULL, entry = NULL;
    g_autoptr(GfioResult) res = NULL;
    g_autofree char *out = NULL;
    JsonObject *dev, *ring, *u, *st;
    JsonArray *list, *rings;

    g_free(vm_wait_console(vm, "gfio: measure begin"));
    q = qmp_client_cmd(vm->qmp, "{'execute':'x-query-virtio-blk-uring'}");
    list = json_node_get_array(qmp_reply_return(q));
    g_assert_cmpuint(json_array_get_length(list), ==, 1);
    dev = json_array_get_object_element(list, 0);
    g_assert_cmpstr(json_object_get_string_member(dev, "device"), ==,
                    "disk0");
    g_assert_cmpstr(json_object_get_string_member(dev, "qom-path"), ==,
                    "/machine/peripheral/disk0");
    g_assert_true(json_object_get_boolean_member(dev, "active"));
    g_assert_false(json_object_has_member(dev, "withdrawn"));
    rings = json_object_get_array_member(dev, "rings");
    g_assert_cmpuint(json_array_get_length(rings), ==, 1);
    ring = json_array_get_object_element(rings, 0);
    assert_ring_owner(vm, member(ring, "owner-pid"),
                      member(ring, "sqpoll-thread-id"));

    out = vm_wait_gfio_shutdown(vm);
    res = gfio_result_parse(out);
    assert_gfio_pass(res);
    gfio_assert_requests(res, "uring", JOB_BLOCKS);
    entry = vm_blockstats(vm);
    g_assert_true(json_object_has_member(entry, "x-uring-passthrough"));
    u = json_object_get_object_member(entry, "x-uring-passthrough");
    g_assert_cmpint(member(u, "completed"), ==, JOB_BLOCKS);
    g_assert_cmpint(member(u, "submitted"), ==, JOB_BLOCKS);
    g_assert_cmpint(member(u, "in-flight"), ==, 0);
    g_assert_cmpint(member(u, "sq-dropped"), ==, 0);
    g_assert_cmpint(member(u, "cq-overflow"), ==, 0);
    st = json_object_get_object_member(entry, "stats");
    g_assert_cmpint(member(st, "rd_operations"), ==, 0);
    g_assert_cmpint(member(st, "wr_operations"), ==, 0);
    assert_none_failed(st);
    vm_quit(vm);
    vm_free(vm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/qmp-boot/powerdown-honoured", test_powerdown_honoured);
    g_test_add_func("/qmp-boot/stop-cont-running-guest",
                    test_stop_cont_running_guest);
    g_test_add_func("/qmp-boot/blockstats/randrw", test_blockstats_randrw);
    g_test_add_func("/qmp-boot/blockstats/randrw-verify",
                    test_blockstats_randrw_verify);
    g_test_add_func("/qmp-boot/uring/query-and-stats",
                    test_uring_query_and_stats);
    return g_test_run();
}
