/*
 * What the device watches while the io_uring passthrough's ring runs
 * (docs/specs/virtio-blk-uring.rst, "Lifecycle" and "Confinement and
 * security model"): a completion queue the driver lets overflow, and the
 * end of the ring's owner process, take the rings away from the driver
 * (NEEDS_RESET, one line on stderr; a reset brings them back); a ring that
 * makes no progress is reported once.
 *
 * And what bounds the kernel memory a driver that lets the completion
 * queue overflow can take even when the device does not notice: the
 * memory cgroup of the ring's owner.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "qemu/memory-cgroup.h"
#include "virtio-blk-uring-fixture.h"

/*
 * A driver that leaves more than cq_entries completions unconsumed loses
 * the rings (the kernel would keep the excess in memory without bound):
 * NEEDS_RESET, the ring and its owner gone, one line on stderr; a reset
 * recovers.  A full completion queue alone is allowed.
 */
static void test_cq_overflow(gconstpointer data)
{
    Fixture f;
    QVirtioBlkUring *u;
    QUringCqe cqe;
    int owner;
    g_autofree char *err = NULL;
    g_autofree char *opts = g_strconcat(
        URING ",uring-entries=16,uring-iopoll=off", (const char *)data, NULL);

    fixture_init_full(&f, RAM_MB, "", opts, true);
    qvirtio_blk_uring_start(f.u);
    u = f.u;
    owner = ring_owner(&f);

    /* cq_entries completions, none consumed: the queue is full, no more. */
    for (unsigned done = 0; done < u->cfg.cq_entries;
         done += u->cfg.sq_entries) {
        submit_nops(&f, u->cfg.sq_entries);
    }
    g_usleep(3 * URING_OVERFLOW_CHECK_US);
    g_assert_cmphex(qvirtio_pci_get_status(&u->vdev) &
                    VIRTIO_CONFIG_S_NEEDS_RESET, ==, 0);
    for (unsigned i = 0; i < u->cfg.cq_entries; i++) {
        g_assert_true(qvirtio_blk_uring_pop_cqe(u, &cqe));
        g_assert_cmpint(cqe.res, ==, 0);
    }
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.head, u->cq_head);

    /*
     * One more than the queue holds overflows.  The guest clears the
     * kernel's IORING_SQ_CQ_OVERFLOW flag, which does not hide it.
     */
    for (unsigned done = 0; done <= u->cfg.cq_entries;
         done += u->cfg.sq_entries) {
        submit_nops(&f, u->cfg.sq_entries);
    }
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.flags, 0);
    g_assert_true(qvirtio_pci_wait_status(&u->vdev,
                                          VIRTIO_CONFIG_S_NEEDS_RESET,
                                          WAIT_US));
    g_assert_true(process_gone(owner, WAIT_US));
    check_shm_empty(&f);
    check_vmm_alive(&f);
    err = vmm_stderr(&f);
    assert_one_line(err);
    g_assert_nonnull(strstr(err, "uring-passthrough: the driver let the "
                                 "completion queue overflow"));

    qvirtio_blk_uring_reset(u);
    qvirtio_blk_uring_start(u);
    round_trip(&f, 0, 4096, 44);
    check_image(&f);
    fixture_cleanup(&f);
}


/*
 * The owner process ends (the host's OOM killer, an administrator): its
 * SQPOLL thread is gone, so the rings are withdrawn at once rather than
 * left to stall, with the reason on stderr.
 */
static void test_owner_killed(gconstpointer data)
{
    g_autofree char *opts = g_strconcat(URING ",uring-iopoll=off",
                                        (const char *)data, NULL);
    g_autofree char *err = NULL;
    Fixture f;
    int owner;

    fixture_init_full(&f, RAM_MB, "", opts, true);
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 0, 4096, 60);
    owner = ring_owner(&f);
    g_assert_cmpint(kill(owner, SIGKILL), ==, 0);
    g_assert_true(qvirtio_pci_wait_status(&f.u->vdev,
                                          VIRTIO_CONFIG_S_NEEDS_RESET,
                                          WAIT_US));
    g_assert_true(process_gone(owner, WAIT_US));
    check_shm_empty(&f);
    check_vmm_alive(&f);

    qvirtio_blk_uring_reset(f.u);
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 8192, 4096, 61);
    check_image(&f);
    qvirtio_blk_uring_reset(f.u);
    fixture_quit(&f);
    err = vmm_stderr(&f);
    assert_one_line(err);
    g_assert_cmpstr(strstr(err, "uring-passthrough: "), ==,
                    "uring-passthrough: the io_uring owner process was "
                    "killed by signal 9 (Killed); rings withdrawn until "
                    "reset\n");
    fixture_cleanup(&f);
}

/*
 * The bound by construction: with the device's overflow check off (as if
 * the driver evaded it), a driver that keeps submitting NOPs and never
 * consumes a completion makes the kernel keep the excess completions,
 * charged to the owner's memory cgroup: its usage never passes the limit
 * (uring-owner-memory) though the kernel keeps trying to charge more, and
 * the VMM runs on.  (What the kernel does instead, dropping completions or
 * failing requests, it reports in the CQ ring's overflow field or in the
 * CQEs: the test logs the former.)
 */
#define OWNER_MEMORY        (2 << 20)
#define OWNER_MEMORY_ARG    "2M"
#define BOUND_TIMEOUT_US    (30 * 1000 * 1000)
#define MORE_BATCHES        500     /* after the limit is reached */

static uint64_t cgroup_read(const char *dir, const char *file,
                            const char *key)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *text = NULL;
    const char *p = text;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    p = text;
    if (key) {
        g_autofree char *line = g_strdup_printf("%s ", key);

        p = strstr(text, line);
        g_assert_nonnull(p);
        p += strlen(line);
    }
    return g_ascii_strtoull(p, NULL, 10);
}

/* Submit sq_entries NOPs at once, clear the SQ flags, wait for the kernel. */
static void nop_batch(Fixture *f, QUringSqe *nops)
{
    QVirtioBlkUring *u = f->u;
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    qvirtio_blk_uring_queue_many(u, nops, u->cfg.sq_entries);
    qvirtio_blk_uring_kick(u);
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.flags, 0);
    while (qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.head) !=
           u->sq_tail) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("the kernel did not take the NOPs within %d s",
                    WAIT_US / 1000000);
        }
        g_usleep(100);
    }
}

static void test_cq_overflow_bound(void)
{
    g_autofree char *dir = NULL;
    g_autofree QUringSqe *nops = NULL;
    g_autoptr(GError) err = NULL;
    gint64 deadline = g_get_monotonic_time() + BOUND_TIMEOUT_US;
    uint64_t usage, peak = 0, failed = 0;
    unsigned batches = 0, after = 0;
    Fixture f;
    bool v2;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=16,uring-iopoll=off,"
                 "uring-owner-memory=" OWNER_MEMORY_ARG
                 ",x-uring-overflow-check=off");
    qvirtio_blk_uring_start(f.u);
    dir = memory_cgroup_dir_of(ring_owner(&f), &v2, &err);
    g_assert_no_error(err);
    g_test_message("the owner's cgroup: %s", dir);
    g_assert_true(strstr(dir, "uring-owner"));
    g_assert_cmpuint(cgroup_read(dir, v2 ? "memory.max"
                                         : "memory.limit_in_bytes", NULL),
                     ==, OWNER_MEMORY);

    nops = g_new0(QUringSqe, f.u->cfg.sq_entries);
    for (unsigned i = 0; i < f.u->cfg.sq_entries; i++) {
        qvirtio_blk_uring_prep(f.u, &nops[i], IORING_OP_NOP, 0, 0, 0, i);
    }
    while (after < MORE_BATCHES) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("the owner's cgroup did not reach its limit within %d s "
                    "(%" PRIu64 " bytes charged after %u batches)",
                    BOUND_TIMEOUT_US / 1000000, peak, batches);
        }
        nop_batch(&f, nops);
        batches++;
        usage = cgroup_read(dir, v2 ? "memory.current"
                                    : "memory.usage_in_bytes", NULL);
        g_assert_cmpuint(usage, <=, OWNER_MEMORY);
        peak = MAX(peak, usage);
        failed = v2 ? cgroup_read(dir, "memory.events", "max")
                    : cgroup_read(dir, "memory.failcnt", NULL);
        after += failed > 0;
    }
    if (!v2) {
        g_assert_cmpuint(cgroup_read(dir, "memory.max_usage_in_bytes", NULL),
                         <=, OWNER_MEMORY);
    }
    g_test_message("%u batches of %u NOPs; peak %" PRIu64 " bytes; %" PRIu64
                   " charges refused; CQ overflow counter %u", batches,
                   f.u->cfg.sq_entries, peak, failed,
                   qvirtio_blk_uring_ring_readl(f.u,
                                                f.u->cfg.cq_off.overflow));
    check_vmm_alive(&f);

    qvirtio_blk_uring_reset(f.u);
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 0, 4096, 62);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * A ring that makes no progress is reported once, with its state: here its
 * owner is stopped (SIGSTOP), so the SQPOLL thread, awake (a long
 * uring-sq-idle), takes nothing the guest publishes.
 */
#define STALL_WARN_MS   "300"

static bool stderr_has(Fixture *f, const char *text)
{
    g_autofree char *err = NULL;

    g_assert_true(g_file_get_contents(f->stderr_path, &err, NULL, NULL));
    return strstr(err, text);
}

/* The state letter of the owner's SQPOLL thread (/proc/.../stat). */
static char sqpoll_state(int owner)
{
    g_autofree char *task = g_strdup_printf("/proc/%d/task", owner);
    GDir *dir = g_dir_open(task, 0, NULL);
    const char *tid;
    char state = 0;

    g_assert_nonnull(dir);
    while (!state && (tid = g_dir_read_name(dir))) {
        g_autofree char *comm_path = g_strdup_printf("%s/%s/comm", task, tid);
        g_autofree char *stat_path = g_strdup_printf("%s/%s/stat", task, tid);
        g_autofree char *comm = NULL;
        g_autofree char *stat = NULL;

        if (g_file_get_contents(comm_path, &comm, NULL, NULL) &&
            g_str_has_prefix(comm, "iou-sqp-") &&
            g_file_get_contents(stat_path, &stat, NULL, NULL)) {
            state = strrchr(stat, ')')[2];
        }
    }
    g_dir_close(dir);
    return state;
}

static void test_stall_warning(void)
{
    g_autofree char *err = NULL;
    g_autofree char *owner_text = NULL;
    gint64 deadline;
    QUringSqe sqe;
    QUringCqe cqe;
    Fixture f;
    int owner;

    fixture_init_full(&f, RAM_MB, "", URING ",uring-iopoll=off,"
                      "uring-sq-idle=60000,x-uring-stall-warn=" STALL_WARN_MS,
                      true);
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 0, 4096, 63);
    owner = ring_owner(&f);
    g_assert_cmpint(kill(owner, SIGSTOP), ==, 0);
    /* Stopped, or it might take the NOP first. */
    deadline = g_get_monotonic_time() + WAIT_US;
    while (sqpoll_state(owner) != 'T') {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_NOP, 0, 0, 0, 64);
    qvirtio_blk_uring_queue(f.u, &sqe);
    qvirtio_blk_uring_kick(f.u);
    while (!stderr_has(&f, "made no progress")) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(10 * 1000);
    }
    g_assert_cmpint(kill(owner, SIGCONT), ==, 0);
    qvirtio_blk_uring_wait_cqe(f.u, &cqe);
    g_assert_cmpuint(cqe.user_data, ==, 64);
    /* Progress again: nothing more to say. */
    g_usleep(3 * 300 * 1000);
    round_trip(&f, 4096, 4096, 65);
    qvirtio_blk_uring_reset(f.u);
    fixture_quit(&f);

    err = vmm_stderr(&f);
    assert_one_line(err);
    g_test_message("%.*s", (int)strlen(err) - 1, err);
    g_assert_true(g_str_has_prefix(err, PROG "warning: virtio-blk: drive "
                                   "'d0': uring-passthrough: the ring made "
                                   "no progress for 0."));
    /* The round trip's two requests went through; the NOP did not. */
    g_assert_nonnull(strstr(err, " s (SQ head 2 tail 3 flags 0x0 dropped 0, "
                                 "CQ head 2 tail 2 overflow 0 "));
    owner_text = g_strdup_printf("; owner %d, SQPOLL thread ", owner);
    g_assert_nonnull(strstr(err, owner_text));
    g_assert_nonnull(strstr(err, " state T on CPU "));
    fixture_cleanup(&f);
}

/*
 * A VMM that is killed takes its ring's owner with it, even a stopped one
 * (which cannot notice its channel closing); the memory cgroup it could
 * not remove goes when the next VMM makes its own.  That next VMM may be
 * another test's, on the same host: then the cgroup is gone already when
 * this test looks, and the VMM it starts finds nothing to remove.
 */
static void test_vmm_killed(void)
{
    g_autofree char *dir = NULL;
    g_autoptr(GError) err = NULL;
    Fixture f;
    int owner;
    bool v2;

    fixture_init(&f, RAM_MB, "", URING ",uring-iopoll=off");
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 0, 4096, 66);
    owner = ring_owner(&f);
    dir = memory_cgroup_dir_of(owner, &v2, &err);
    g_assert_no_error(err);
    g_assert_cmpint(kill(owner, SIGSTOP), ==, 0);
    fixture_kill(&f);
    g_assert_true(process_gone(owner, WAIT_US));
    fixture_cleanup(&f);

    /* A VMM's ring set-up removes the cgroups of VMMs that are gone. */
    fixture_init(&f, RAM_MB, "", URING ",uring-iopoll=off");
    qvirtio_blk_uring_start(f.u);
    g_assert_false(g_file_test(dir, G_FILE_TEST_IS_DIR));
    fixture_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/virtio-blk-uring/watch/cq-overflow/main-loop",
                         "", test_cq_overflow);
    g_test_add_data_func("/virtio-blk-uring/watch/cq-overflow/iothread",
                         IOTHREAD, test_cq_overflow);
    g_test_add_data_func("/virtio-blk-uring/watch/owner-killed/main-loop",
                         "", test_owner_killed);
    g_test_add_data_func("/virtio-blk-uring/watch/owner-killed/iothread",
                         IOTHREAD, test_owner_killed);
    g_test_add_func("/virtio-blk-uring/watch/cq-overflow-bound",
                    test_cq_overflow_bound);
    g_test_add_func("/virtio-blk-uring/watch/stall-warning",
                    test_stall_warning);
    g_test_add_func("/virtio-blk-uring/watch/vmm-killed", test_vmm_killed);
    return g_test_run();
}
