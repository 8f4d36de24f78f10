/*
 * The io_uring passthrough's lifecycle (docs/specs/virtio-blk-uring.rst,
 * "Lifecycle"): device resets, with requests queued and in flight, a loop
 * of 1,000 resets that must leave nothing behind, and the VMM quitting with
 * requests in flight, driven through libqos/virtio-blk-uring.
 *
 * Under -accel qtest the test plays the guest, and the host kernel's SQPOLL
 * thread really does the I/O into the VMM's guest RAM, so waits are bounded
 * in wall-clock time; nothing here asserts how fast anything is.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "virtio-blk-uring-fixture.h"

/*
 * Lifecycle
 */

static void test_reset(void)
{
    Fixture f;
    QVirtioBlkUringConfig before;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 0, 8192, 60);
    before = f.u->cfg;
    qvirtio_blk_uring_reset(f.u);
    /* Region 0 is gone and the fields read as zero. */
    check_config_zero(&f);
    check_shm_empty(&f);
    g_assert_cmpuint(qvirtio_pci_get_status(&f.u->vdev), ==, 0);

    /* A new ring, with the same layout, from zero. */
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpmem(&f.u->cfg, sizeof(f.u->cfg), &before, sizeof(before));
    g_assert_cmpuint(f.u->sq_tail, ==, 0);
    g_assert_cmpuint(f.u->cq_head, ==, 0);
    round_trip(&f, 8192, 8192, 61);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * A reset stops submission: what the guest queued but the kernel has not
 * taken (the SQPOLL thread sleeps, the doorbell was not rung) is never
 * submitted.
 */
static void test_reset_stops_submission(void)
{
    Fixture f;
    uint64_t buf;
    QUringSqe sqe;
    uint8_t pattern[4096];
    bool asleep = false;

    fixture_init(&f, RAM_MB, "", URING ",uring-sq-idle=10");
    qvirtio_blk_uring_start(f.u);
    buf = guest_alloc(f.alloc, sizeof(pattern));
    for (unsigned i = 0; i < ASLEEP_ATTEMPTS && !asleep; i++) {
        uint64_t off = (64 << 10) + i * sizeof(pattern);

        fill_pattern(pattern, sizeof(pattern), 65 + i);
        qtest_memwrite(f.qts, buf, pattern, sizeof(pattern));
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, buf,
                               sizeof(pattern), off, i);
        asleep = publish_while_asleep(&f, &sqe, sizeof(pattern));
        if (!asleep) {
            memcpy(f.expected + off, pattern, sizeof(pattern));
        }
    }
    if (!asleep) {
        g_error("in %u attempts, the SQPOLL thread never waited for the "
                "doorbell while it showed IORING_SQ_NEED_WAKEUP",
                ASLEEP_ATTEMPTS);
    }
    qvirtio_blk_uring_reset(f.u);
    check_vmm_alive(&f);
    /* The queued write was not done, then or later. */
    check_image(&f);
    g_usleep(QUIET_US);
    check_image(&f);
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 0, 4096, 70);
    check_image(&f);
    guest_free(f.alloc, buf);
    fixture_cleanup(&f);
}

#define NR_RESET_INFLIGHT   64
#define RESET_INFLIGHT_LEN  (64 << 10)

/* Queue NR_RESET_INFLIGHT writes of 64 KiB covering the image, and kick. */
static void submit_many_writes(Fixture *f, uint64_t buf)
{
    QUringSqe sqe;

    for (unsigned i = 0; i < NR_RESET_INFLIGHT; i++) {
        qvirtio_blk_uring_prep(f->u, &sqe, IORING_OP_WRITE_FIXED, buf,
                               RESET_INFLIGHT_LEN,
                               (uint64_t)i * RESET_INFLIGHT_LEN, i);
        qvirtio_blk_uring_queue(f->u, &sqe);
    }
    qvirtio_blk_uring_kick(f->u);
}

static uint8_t *read_image(Fixture *f)
{
    uint8_t *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(f->image, (char **)&data, &len, NULL));
    g_assert_cmpuint(len, ==, f->image_size);
    return data;
}

/*
 * Reset with requests in flight: reads of the disk's second half into
 * guest RAM and writes over its first half.  Once the reset is complete,
 * the owner process is gone and nothing changes guest RAM or the image
 * any more.
 */
static void test_reset_in_flight(gconstpointer drive_opts)
{
    const unsigned n = NR_RESET_INFLIGHT / 2;
    const uint64_t half = (uint64_t)n * RESET_INFLIGHT_LEN;
    Fixture f;
    uint64_t wbuf, rbuf;
    g_autofree uint8_t *ram1 = g_malloc(half);
    g_autofree uint8_t *ram2 = g_malloc(half);

    G_STATIC_ASSERT(NR_RESET_INFLIGHT * RESET_INFLIGHT_LEN <= IMAGE_SIZE);
    fixture_init(&f, RAM_MB, drive_opts, URING ",uring-entries=64");
    wbuf = guest_alloc(f.alloc, RESET_INFLIGHT_LEN);
    rbuf = guest_alloc(f.alloc, half);
    guest_fill(&f, wbuf, RESET_INFLIGHT_LEN, 62);
    for (unsigned round = 0; round < 5; round++) {
        g_autofree uint8_t *image1 = NULL, *image2 = NULL;
        g_autoptr(GArray) kids = NULL;
        QUringSqe sqe;

        qvirtio_blk_uring_start(f.u);
        qtest_memset(f.qts, rbuf, 0xa5, half);
        for (unsigned i = 0; i < n; i++) {
            qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, wbuf,
                                   RESET_INFLIGHT_LEN,
                                   (uint64_t)i * RESET_INFLIGHT_LEN, i);
            qvirtio_blk_uring_queue(f.u, &sqe);
            qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ_FIXED,
                                   rbuf + (uint64_t)i * RESET_INFLIGHT_LEN,
                                   RESET_INFLIGHT_LEN,
                                   half + (uint64_t)i * RESET_INFLIGHT_LEN,
                                   n + i);
            qvirtio_blk_uring_queue(f.u, &sqe);
        }
        qvirtio_blk_uring_kick(f.u);
        qvirtio_blk_uring_reset(f.u);

        kids = children_of(qtest_pid(f.qts));
        g_assert_cmpuint(kids->len, ==, 0);
        check_vmm_alive(&f);
        check_config_zero(&f);
        g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
        image1 = read_image(&f);
        qtest_memread(f.qts, rbuf, ram1, half);
        g_usleep(QUIET_US);
        image2 = read_image(&f);
        qtest_memread(f.qts, rbuf, ram2, half);
        g_assert_cmpmem(image1, IMAGE_SIZE, image2, IMAGE_SIZE);
        g_assert_cmpmem(ram1, half, ram2, half);
        /* The reads that landed read the disk. */
        for (uint64_t i = 0; i < half; i++) {
            if (ram1[i] != 0xa5 && ram1[i] != f.expected[half + i]) {
                g_error("guest RAM at +0x%" PRIx64 " is 0x%02x, neither "
                        "untouched nor from the disk", i, ram1[i]);
            }
        }
    }
    /* Whatever landed, the disk works. */
    {
        g_autofree uint8_t *image = read_image(&f);

        memcpy(f.expected, image, IMAGE_SIZE);
    }
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 4096, 4096, 63);
    check_image(&f);
    guest_free(f.alloc, wbuf);
    guest_free(f.alloc, rbuf);
    fixture_cleanup(&f);
}

#define NR_RESETS       1000
#define RESET_LOOP_RAM_MB 16

static void test_reset_loop(void)
{
    Fixture f;
    GPid pid;
    ProcCounts first = { 0 };
    int first_owner = 0;
    gint64 start;
    double secs;

    fixture_init(&f, RESET_LOOP_RAM_MB, "", URING ",uring-entries=8");
    pid = qtest_pid(f.qts);
    start = g_get_monotonic_time();
    for (unsigned i = 0; i < NR_RESETS; i++) {
        qvirtio_blk_uring_start(f.u);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
        if (i == 0) {
            first = proc_counts(pid);
            first_owner = ring_owner(&f);
            g_assert_cmpuint(first.children, ==, 1);
        }
        qvirtio_blk_uring_reset(f.u);
    }
    secs = (g_get_monotonic_time() - start) / 1e6;
    g_test_message("%u resets and re-initializations in %.2f s (%.2f ms "
                   "each)", NR_RESETS, secs, secs * 1000 / NR_RESETS);

    /* Reset: no owner process left, not even a zombie. */
    g_assert_true(process_gone(first_owner, WAIT_US));
    g_assert_cmpuint(proc_counts(pid).children, ==, 0);
    /* Ring up again: the same resources as after the first time. */
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    check_same_as_first(pid, &first);
    fixture_cleanup(&f);
}

static void test_quit_in_flight(void)
{
    Fixture f;
    uint64_t buf;
    int owner;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=64");
    qvirtio_blk_uring_start(f.u);
    buf = guest_alloc(f.alloc, RESET_INFLIGHT_LEN);
    guest_fill(&f, buf, RESET_INFLIGHT_LEN, 64);
    owner = ring_owner(&f);
    submit_many_writes(&f, buf);
    guest_free(f.alloc, buf);
    /* Quit at once; the VMM must exit with status 0. */
    fixture_quit(&f);
    g_assert_true(process_gone(owner, WAIT_US));
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    fixture_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/virtio-blk-uring/lifecycle/reset", test_reset);
    g_test_add_func("/virtio-blk-uring/lifecycle/reset-stops-submission",
                    test_reset_stops_submission);
    g_test_add_data_func("/virtio-blk-uring/lifecycle/reset-in-flight",
                         "", test_reset_in_flight);
    g_test_add_data_func("/virtio-blk-uring/lifecycle/reset-in-flight-direct",
                         ",cache=none", test_reset_in_flight);
    g_test_add_func("/virtio-blk-uring/lifecycle/reset-loop", test_reset_loop);
    g_test_add_func("/virtio-blk-uring/lifecycle/quit-in-flight",
                    test_quit_in_flight);
    return g_test_run();
}
