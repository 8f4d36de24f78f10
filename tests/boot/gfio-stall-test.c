/*
 * gfio's report when requests stop completing, on the io_uring passthrough.
 *
 * While gfio runs, the test stops the process that owns the ring (SIGSTOP
 * stops its SQPOLL thread and io-wq workers with it), so requests stop
 * completing for certain.  After stall_timeout gfio must say how many
 * requests are out and which one has waited longest, then where the ring
 * has it: the SQ and CQ indexes, flags, dropped and overflow counts as the
 * kernel's /proc fdinfo of the ring shows them, the request's SQE (opcode,
 * offset, length, user_data) and whether the kernel consumed it, the
 * device status, and that one more doorbell changed nothing.  Then it
 * exits with status 5 (requests stopped completing).
 */
#include <gio/gio.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "gfio-result.h"
#include "image.h"
#include "vmrun.h"

#define IMAGE_SIZE      (16 * 1024 * 1024)
#define BS              4096
#define STALL_S         2               /* gfio's stall_timeout= */
#define PROBE_MS        1000            /* gfio watches its doorbell this long */
#define RUN_TIMEOUT_S   120
/* virtio: ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK */
#define STATUS_RUNNING  0x0f
#define CQ_EVENTFD_DISABLED 1           /* IORING_CQ_EVENTFD_DISABLED */
#define SQ_CQ_OVERFLOW  2               /* IORING_SQ_CQ_OVERFLOW */
#define OP_READ_FIXED   4
#define OP_WRITE_FIXED  5

/* A VMM running gfio, read line by line. */
typedef struct Run {
    GSubprocess *proc;          /* timeout(1), the VMM its child */
    GDataInputStream *out;      /* stdout and stderr */
    GString *all;               /* every line so far */
} Run;

static Run *run_start(const Image *img, const char *rw, unsigned iodepth)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *vmm_timeout = g_strdup_printf("%u", RUN_TIMEOUT_S);
    g_autofree char *kernel = vmrun_guest("gfio");
    g_autofree char *drive = g_strdup_printf(
        "file=%s,if=none,id=d0,format=raw,cache=none", img->path);
    g_autofree char *append = g_strdup_printf(
        "rw=%s bs=%u iodepth=%u runtime=60 uring=on stall_timeout=%u",
        rw, BS, iodepth, STALL_S);
    const char *argv[] = {
        "timeout", "-s", "KILL", vmm_timeout, vmrun_our_vmm(),
        "-accel", "kvm", "-m", "256M", "-nographic", "-kernel", kernel,
        "-drive", drive,
        "-device", "virtio-blk-pci,drive=d0,uring-passthrough=on,uring-iopoll=off",
        "-append", append, NULL,
    };
    Run *r = g_new0(Run, 1);

    r->proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                      G_SUBPROCESS_FLAGS_STDERR_MERGE, &err);
    g_assert_no_error(err);
    r->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(r->proc));
    r->all = g_string_new(NULL);
    return r;
}

/* The next line of output, without "\r"; NULL at the end. */
static char *run_line(Run *r)
{
    g_autoptr(GError) err = NULL;
    char *line = g_data_input_stream_read_line_utf8(r->out, NULL, NULL, &err);

    g_assert_no_error(err);
    if (line) {
        g_strdelimit(line, "\r", ' ');
        g_strchomp(line);
        g_string_append_printf(r->all, "%s\n", line);
        if (g_test_verbose()) {
            g_test_message("| %s", line);
        }
    }
    return line;
}

/* Read up to the line starting with @prefix and return it. */
static char *run_until(Run *r, const char *prefix)
{
    char *line;

    while ((line = run_line(r))) {
        if (g_str_has_prefix(line, prefix)) {
            return line;
        }
        g_free(line);
    }
    g_test_message("output:\n%s", r->all->str);
    g_error("no line starting '%s'", prefix);
}

/* Read to the end; the VMM's exit status. */
static int run_finish(Run *r)
{
    g_autoptr(GError) err = NULL;
    char *line;

    while ((line = run_line(r))) {
        g_free(line);
    }
    g_subprocess_wait(r->proc, NULL, &err);
    g_assert_no_error(err);
    return g_subprocess_get_if_exited(r->proc) ?
           g_subprocess_get_exit_status(r->proc) : -1;
}

static void run_free(Run *r)
{
    g_subprocess_force_exit(r->proc);
    g_object_unref(r->out);
    g_object_unref(r->proc);
    g_string_free(r->all, TRUE);
    g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Run, run_free)

/* Parent pid and state of process or thread @pid (a /proc/PID/stat path). */
static bool read_stat(const char *path, char *state, int *ppid)
{
    g_autofree char *text = NULL;
    const char *close_paren;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return false;
    }
    close_paren = strrchr(text, ')');
    return close_paren && sscanf(close_paren + 1, " %c %d", state, ppid) == 2;
}

static int parent_of(int pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    char state;
    int ppid;

    return read_stat(path, &state, &ppid) ? ppid : -1;
}

/* The passthrough's ring owner: the child "uring-owner" of the VMM. */
static int find_owner(Run *r)
{
    int timeout_pid = atoi(g_subprocess_get_identifier(r->proc));
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    const char *name;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *comm_path = g_strdup_printf("/proc/%s/comm", name);
        g_autofree char *comm = NULL;
        int pid = atoi(name);

        if (pid <= 0 || !g_file_get_contents(comm_path, &comm, NULL, NULL)) {
            continue;
        }
        if (!strcmp(g_strchomp(comm), "uring-owner") &&
            parent_of(parent_of(pid)) == timeout_pid) {
            return pid;
        }
    }
    g_error("the VMM has no uring-owner process");
}

/* The state letter of @pid's thread named iou-sqp-*, or 0 if none. */
static char sqpoll_state(int pid)
{
    g_autofree char *task_dir = g_strdup_printf("/proc/%d/task", pid);
    g_autoptr(GDir) dir = g_dir_open(task_dir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *comm_path = g_strdup_printf("%s/%s/comm", task_dir, name);
        g_autofree char *stat_path = g_strdup_printf("%s/%s/stat", task_dir, name);
        g_autofree char *comm = NULL;
        char state;
        int ppid;

        if (g_file_get_contents(comm_path, &comm, NULL, NULL) &&
            g_str_has_prefix(comm, "iou-sqp-") &&
            read_stat(stat_path, &state, &ppid)) {
            return state;
        }
    }
    return 0;
}

/* The ring's indexes in the kernel's /proc/PID/fdinfo of it. */
typedef struct RingInfo {
    uint64_t sq_head, sq_tail, cq_head, cq_tail;
} RingInfo;

static uint64_t fdinfo_field(const char *text, const char *name)
{
    g_autofree char *key = g_strdup_printf("\n%s:", name);
    const char *p = strstr(text, key);

    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen(key), NULL, 10);
}

static RingInfo ring_fdinfo(int pid)
{
    g_autofree char *fd_dir = g_strdup_printf("/proc/%d/fdinfo", pid);
    g_autoptr(GDir) dir = g_dir_open(fd_dir, 0, NULL);
    const char *name;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("%s/%s", fd_dir, name);
        g_autofree char *text = NULL;

        if (g_file_get_contents(path, &text, NULL, NULL) &&
            strstr(text, "\nSqThread:")) {
            return (RingInfo){
                .sq_head = fdinfo_field(text, "SqHead"),
                .sq_tail = fdinfo_field(text, "SqTail"),
                .cq_head = fdinfo_field(text, "CqHead"),
                .cq_tail = fdinfo_field(text, "CqTail"),
            };
        }
    }
    g_error("no io_uring with an SQPOLL thread in %s", fd_dir);
}

static void check_stall(const char *rw, unsigned iodepth)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autoptr(Run) r = run_start(img, rw, iodepth);
    g_autofree char *engine = run_until(r, "gfio: virtio-pci");
    g_autofree char *begin = run_until(r, "gfio: measure begin");
    g_autofree char *stalled = NULL, *oldest = NULL, *sq = NULL, *cq = NULL;
    g_autofree char *driver = NULL, *request = NULL, *status = NULL, *probe = NULL;
    g_autofree char *expect_stalled = NULL, *expect_probe = NULL, *doorbells = NULL;
    g_autoptr(GfioResult) res = NULL;
    bool writes = !strcmp(rw, "randwrite");
    unsigned sq_entries, tag, req_tag, index, slot, opcode, len, buf_index;
    unsigned sq_head, sq_tail, sq_flags, dropped, in_flight, cq_head, cq_tail;
    unsigned overflow, cq_flags, dev_status;
    uint64_t offset, bytes, submitted, kicks, rung, user_data, off, queued_ms, kicked_ms;
    char op[8], opname[16], where[80];
    VMRun result = { 0 };
    RingInfo kernel;
    int owner = find_owner(r);

    g_assert_cmpint(sscanf(strstr(engine, " sq "), " sq %u,", &sq_entries), ==, 1);
    g_assert_cmpint(kill(owner, SIGSTOP), ==, 0);
    for (int i = 0; i < 1000 && sqpoll_state(owner) != 'T'; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(sqpoll_state(owner), ==, 'T');

    stalled = run_until(r, "gfio: ");
    /*
     * Nothing moves while the owner is stopped: the kernel's view now, in
     * the fdinfo of the VMM's descriptor (the owner handed the ring over).
     */
    kernel = ring_fdinfo(parent_of(owner));
    oldest = run_line(r);
    sq = run_line(r);
    cq = run_line(r);
    driver = run_line(r);
    request = run_line(r);
    status = run_line(r);
    probe = run_line(r);
    g_assert_cmpint(kill(owner, SIGCONT), ==, 0);
    result.status = run_finish(r);
    result.out = r->all->str;
    result.err = "";

    expect_stalled = g_strdup_printf("gfio: %u requests made no progress for %u s",
                                     iodepth, STALL_S);
    g_assert_cmpstr(stalled, ==, expect_stalled);
    g_assert_nonnull(probe);
    g_assert_cmpint(sscanf(oldest, "gfio: stall: oldest request: tag %u, %7s of %" SCNu64
                           " bytes at offset %" SCNu64 " (0x%*x), queued %" SCNu64
                           " ms ago, kicked %" SCNu64 " ms ago",
                           &tag, op, &bytes, &offset, &queued_ms, &kicked_ms), ==, 6);
    g_assert_cmpint(sscanf(sq, "gfio: stall: uring sq: head %u tail %u dropped %u flags 0x%x",
                           &sq_head, &sq_tail, &dropped, &sq_flags), ==, 4);
    g_assert_cmpint(sscanf(cq, "gfio: stall: uring cq: head %u tail %u overflow %u flags 0x%x",
                           &cq_head, &cq_tail, &overflow, &cq_flags), ==, 4);
    g_assert_cmpint(sscanf(driver, "gfio: stall: uring driver: %u in flight, %" SCNu64
                           " submitted, %" SCNu64 " kicks, %" SCNu64 " doorbells",
                           &in_flight, &submitted, &kicks, &rung), ==, 4);
    g_assert_cmpint(sscanf(request, "gfio: stall: uring request of tag %u: sq index %u, "
                           "sqe %u: user_data 0x%" SCNx64 " opcode %u (%15[^)]) off %"
                           SCNu64 " (0x%*x) len %u buf_index %u: %79[^\n]",
                           &req_tag, &index, &slot, &user_data, &opcode, opname, &off,
                           &len, &buf_index, where), ==, 10);
    g_assert_cmpint(sscanf(status, "gfio: stall: uring device status 0x%x", &dev_status),
                    ==, 1);

    /* The oldest of iodepth requests out, each with its own tag. */
    g_assert_cmpuint(tag, <, iodepth);
    g_assert_cmpstr(op, ==, writes ? "write" : "read");
    g_assert_cmpuint(bytes, ==, BS);
    g_assert_cmpuint(offset % BS, ==, 0);
    g_assert_cmpuint(offset, <, IMAGE_SIZE);
    g_assert_cmpuint(kicked_ms, <=, queued_ms);

    /* The ring as the kernel has it: everything reaped, iodepth out. */
    g_assert_cmpuint(sq_head, ==, kernel.sq_head);
    g_assert_cmpuint(sq_tail, ==, kernel.sq_tail);
    g_assert_cmpuint(cq_head, ==, kernel.cq_head);
    g_assert_cmpuint(cq_tail, ==, kernel.cq_tail);
    g_assert_cmpuint(sq_tail, ==, submitted);
    g_assert_cmpuint(in_flight, ==, iodepth);
    g_assert_cmpuint(cq_head, ==, cq_tail);
    g_assert_cmpuint(cq_tail, ==, submitted - iodepth);
    g_assert_cmpuint(sq_tail - sq_head, <=, iodepth);
    g_assert_cmpuint(sq_flags & SQ_CQ_OVERFLOW, ==, 0);
    g_assert_cmpuint(kicks, <=, submitted);
    g_assert_cmpuint(dropped, ==, 0);
    g_assert_cmpuint(overflow, ==, 0);
    g_assert_cmpuint(cq_flags & CQ_EVENTFD_DISABLED, ==, CQ_EVENTFD_DISABLED);

    /* Its SQE, and whether the kernel took it. */
    g_assert_cmpuint(req_tag, ==, tag);
    g_assert_cmpuint(sq_tail - index, >=, 1);
    g_assert_cmpuint(sq_tail - index, <=, iodepth);
    g_assert_cmpuint(slot, ==, index % sq_entries);
    g_assert_cmpuint(user_data, ==, (uint64_t)BS << 32 | tag);
    g_assert_cmpuint(opcode, ==, writes ? OP_WRITE_FIXED : OP_READ_FIXED);
    g_assert_cmpstr(opname, ==, writes ? "WRITE_FIXED" : "READ_FIXED");
    g_assert_cmpuint(off, ==, offset);
    g_assert_cmpuint(len, ==, BS);
    g_assert_cmpuint(buf_index, ==, 0);
    g_assert_cmpstr(where, ==, (int32_t)(index - sq_head) < 0 ?
                    "consumed by the kernel, no CQE" :
                    "not consumed: the kernel's SQ head has not passed it");
    g_assert_cmpuint(dev_status, ==, STATUS_RUNNING);

    /* A stopped SQPOLL thread does not answer the doorbell. */
    expect_probe = g_strdup_printf("gfio: stall: uring after one doorbell: sq head %u, "
                                   "cq tail %u: unchanged for %u ms",
                                   sq_head, cq_tail, PROBE_MS);
    g_assert_cmpstr(probe, ==, expect_probe);

    /* gfio then fails with "requests stopped completing". */
    res = gfio_assert_failed(&result, GFIO_EXIT_TIMEOUT);
    gfio_assert_requests(res, "uring", submitted);
    doorbells = g_strdup_printf(" doorbells=%" PRIu64 " ", rung + 1);  /* + the probe */
    g_assert_nonnull(strstr(res->summary, doorbells));
    g_assert_cmpint(json_object_get_int_member(
                        json_object_get_object_member(res->job, writes ? "write" : "read"),
                        "total_ios"), ==, cq_tail);
}

static void test_randwrite_qd1(void)
{
    check_stall("randwrite", 1);
}

static void test_randread_qd4(void)
{
    check_stall("randread", 4);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gfio-stall/uring/randwrite-qd1", test_randwrite_qd1);
    g_test_add_func("/gfio-stall/uring/randread-qd4", test_randread_qd4);
    return g_test_run();
}
