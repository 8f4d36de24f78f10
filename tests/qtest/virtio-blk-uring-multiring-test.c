/*
 * The io_uring passthrough with several rings, one per virtqueue
 * (docs/specs/virtio-blk-uring.rst: num_rings, ring_select): what each
 * ring's configuration says, I/O and data on each, a doorbell and a
 * completion vector per ring, hostile input on one ring, one SQPOLL thread
 * for all the rings of a device, and resets that leave nothing behind.
 *
 * Under -accel qtest the test plays the guest (libqos/virtio-blk-uring),
 * and the host kernel's SQPOLL thread really does the I/O; waits are
 * bounded in wall-clock time and nothing here asserts how fast anything is.
 */
#include <errno.h>
#include <glib.h>
#include <linux/io_uring.h>
#include <string.h>

#include "virtio-blk-uring-fixture.h"

#define NR_RINGS        3
#define MQ              ",num-queues=3"
#define MSI_DATA        0x7a00

/* Ring i's round trips use this part of the image, apart from the others. */
static uint64_t ring_area(unsigned i)
{
    return (uint64_t)i * (IMAGE_SIZE / NR_RINGS) & ~4095ULL;
}

/*
 * Every ring has its own rings and SQEs in region 0, its own doorbell slot
 * after the virtqueues', and the fields shared by all rings agree.
 */
static void test_config(void)
{
    Fixture f;
    QVirtioBlkUringConfig c0, c;
    uint16_t nq;

    fixture_init(&f, RAM_MB, "", URING MQ);
    /* num_rings is valid before FEATURES_OK, the other fields are not. */
    g_assert_cmpuint(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG_NUM_RINGS),
                     ==, NR_RINGS);
    g_assert_cmpuint(qvirtio_pci_config_readq(&f.u->vdev,
                                              VBU_CFG_RINGS_SIZE), ==, 0);
    qvirtio_blk_uring_start(f.u);
    nq = qvirtio_pci_num_queues(&f.u->vdev);
    g_assert_cmpuint(nq, ==, NR_RINGS);
    qvirtio_blk_uring_read_config(f.u, &c0);
    g_assert_cmpuint(c0.num_rings, ==, NR_RINGS);
    g_assert_cmpuint(c0.ring_select, ==, 0);

    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_RING_SELECT, i);
        qvirtio_blk_uring_read_config(f.u, &c);
        g_assert_cmpuint(c.ring_select, ==, i);
        g_assert_cmpuint(c.doorbell_notify_off, ==, nq + i);
        qvirtio_pci_notify_slot_addr(&f.u->vdev, c.doorbell_notify_off);
        g_assert_cmphex(c.msix_vector, ==, VIRTIO_MSI_NO_VECTOR);
        g_assert_cmphex(c.rings_offset + c.rings_size, <=, f.u->shm.length);
        g_assert_cmphex(c.sqes_offset + c.sqes_size, <=, f.u->shm.length);
        /* Shared fields: the same whichever ring is selected. */
        g_assert_cmpuint(c.sq_entries, ==, c0.sq_entries);
        g_assert_cmpmem(&c.sq_off, sizeof(c.sq_off), &c0.sq_off,
                        sizeof(c0.sq_off));
        g_assert_cmpuint(c.rings_size, ==, c0.rings_size);
        g_assert_cmpuint(c.disk_size, ==, IMAGE_SIZE);
        g_assert_cmphex(c.allowed_ops, ==, c0.allowed_ops);
        /* No overlap with any other ring's areas. */
        for (unsigned j = 0; j < i; j++) {
            uint64_t a[2] = { f.u->ring[j].rings_offset, c0.rings_size };
            uint64_t b[2] = { f.u->ring[j].sqes_offset, c0.sqes_size };

            g_assert_true(c.rings_offset >= a[0] + a[1] ||
                          c.rings_offset + c.rings_size <= a[0]);
            g_assert_true(c.rings_offset >= b[0] + b[1] ||
                          c.rings_offset + c.rings_size <= b[0]);
            g_assert_true(c.sqes_offset >= a[0] + a[1] ||
                          c.sqes_offset + c.sqes_size <= a[0]);
            g_assert_true(c.sqes_offset >= b[0] + b[1] ||
                          c.sqes_offset + c.sqes_size <= b[0]);
        }
    }

    /* Selecting no ring: the per-ring fields read as zero, or no vector. */
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_RING_SELECT, NR_RINGS);
    qvirtio_blk_uring_read_config(f.u, &c);
    g_assert_cmpuint(c.ring_select, ==, NR_RINGS);
    g_assert_cmphex(c.rings_offset, ==, 0);
    g_assert_cmphex(c.sqes_offset, ==, 0);
    g_assert_cmpuint(c.doorbell_notify_off, ==, 0);
    g_assert_cmphex(c.msix_vector, ==, VIRTIO_MSI_NO_VECTOR);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR, 1);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG_MSIX_VECTOR),
                    ==, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(c.sq_entries, ==, c0.sq_entries);

    /* Vectors are per ring. */
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_RING_SELECT, 1);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR, 2);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_RING_SELECT, 0);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG_MSIX_VECTOR),
                    ==, VIRTIO_MSI_NO_VECTOR);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_RING_SELECT, 1);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG_MSIX_VECTOR),
                    ==, 2);

    /* A reset selects ring 0 again and forgets the vectors. */
    qvirtio_blk_uring_reset(f.u);
    g_assert_cmpuint(qvirtio_pci_config_readw(&f.u->vdev,
                                              VBU_CFG_RING_SELECT), ==, 0);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_RING_SELECT, 1);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG_MSIX_VECTOR),
                    ==, VIRTIO_MSI_NO_VECTOR);
    check_shm_empty(&f);
    fixture_cleanup(&f);
}

/*
 * Writes through each ring, read back through another and checked in the
 * image file: the rings are one disk.  Requests are queued on every ring
 * before any is published, so that all rings have work at once.
 */
static void test_io_each_ring(void)
{
    Fixture f;
    uint64_t buf[NR_RINGS];
    g_autofree uint8_t *pattern = g_malloc(NR_RINGS * TARGET_LEN);

    fixture_init(&f, RAM_MB, "", URING MQ);
    qvirtio_blk_uring_start(f.u);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        round_trip(&f, ring_area(i), 8192, 10 + i);
    }

    /* All rings busy together. */
    for (unsigned i = 0; i < NR_RINGS; i++) {
        QUringSqe sqe;
        uint8_t *p = pattern + i * TARGET_LEN;

        fill_pattern(p, TARGET_LEN, 20 + i);
        buf[i] = guest_alloc(f.alloc, TARGET_LEN);
        qtest_memwrite(f.qts, buf[i], p, TARGET_LEN);
        qvirtio_blk_uring_use_ring(f.u, i);
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, buf[i],
                               TARGET_LEN, ring_area(i) + 65536, i);
        qvirtio_blk_uring_queue(f.u, &sqe);
    }
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        qvirtio_blk_uring_kick(f.u);
    }
    for (unsigned i = 0; i < NR_RINGS; i++) {
        QUringCqe cqe;

        qvirtio_blk_uring_use_ring(f.u, i);
        qvirtio_blk_uring_wait_cqe(f.u, &cqe);
        g_assert_cmphex(cqe.user_data, ==, i);
        g_assert_cmpint(cqe.res, ==, TARGET_LEN);
        memcpy(f.expected + ring_area(i) + 65536, pattern + i * TARGET_LEN,
               TARGET_LEN);
    }
    /* Each ring's data, read through the next ring. */
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, (i + 1) % NR_RINGS);
        qtest_memset(f.qts, buf[i], 0, TARGET_LEN);
        g_assert_cmpint(uring_rw(&f, IORING_OP_READ_FIXED, buf[i], TARGET_LEN,
                                 ring_area(i) + 65536), ==, TARGET_LEN);
        guest_expect(&f, buf[i], pattern + i * TARGET_LEN, TARGET_LEN);
        guest_free(f.alloc, buf[i]);
    }
    check_image(&f);
    fixture_cleanup(&f);
}

/* Wait until the SQPOLL thread sleeps, as the current ring shows. */
static void wait_asleep(Fixture *f)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    while (!(qvirtio_blk_uring_sq_flags(f->u) & IORING_SQ_NEED_WAKEUP)) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("the SQPOLL thread did not go to sleep within %d s",
                    WAIT_US / 1000000);
        }
        g_usleep(1000);
    }
    /* It looks at the rings once more after setting the flag. */
    g_usleep(50 * 1000);
}

#define ASLEEP_ATTEMPTS 5

/*
 * Each ring's doorbell wakes the thread for that ring's SQEs.  An SQE
 * published while the thread sleeps waits for a doorbell (if the thread
 * was not quite asleep and takes it anyway, the attempt is repeated).
 */
static void test_doorbell_per_ring(void)
{
    Fixture f;

    fixture_init(&f, RAM_MB, "", URING MQ ",uring-sq-idle=10");
    qvirtio_blk_uring_start(f.u);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        bool proven = false;

        qvirtio_blk_uring_use_ring(f.u, i);
        for (unsigned a = 0; a < ASLEEP_ATTEMPTS && !proven; a++) {
            QUringSqe sqe;
            QUringCqe cqe;

            wait_asleep(&f);
            qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_NOP, 0, 0, 0,
                                   i * 100 + a);
            qvirtio_blk_uring_queue(f.u, &sqe);
            qvirtio_blk_uring_publish(f.u);
            proven = !qvirtio_blk_uring_poll_cqe(f.u, &cqe, QUIET_US);
            if (proven) {
                qvirtio_blk_uring_doorbell(f.u);
                qvirtio_blk_uring_wait_cqe(f.u, &cqe);
            }
            g_assert_cmphex(cqe.user_data, ==, i * 100 + a);
            g_assert_cmpint(cqe.res, ==, 0);
        }
        if (!proven) {
            g_error("ring %u: in %u attempts the SQPOLL thread never waited "
                    "for the doorbell", i, ASLEEP_ATTEMPTS);
        }
    }
    fixture_cleanup(&f);
}

/* Ring i's completions raise ring i's vector, and no other ring's. */
static void test_msix_per_ring(void)
{
    Fixture f;
    QPCIMSIX *msix;
    uint64_t msg[NR_RINGS];
    unsigned first;

    fixture_init(&f, RAM_MB, "", URING MQ);
    qvirtio_blk_uring_start(f.u);
    qvirtio_pci_enable_msix(&f.u->vdev);
    msix = &f.u->vdev.msix;
    /* Config, the queues' and the rings' vectors. */
    g_assert_cmpuint(msix->nr_vectors, ==, 1 + 2 * NR_RINGS);
    first = msix->nr_vectors - NR_RINGS;
    for (unsigned i = 0; i < NR_RINGS; i++) {
        msg[i] = guest_alloc_aligned(f.alloc, 4, 4);
        qtest_writel(f.qts, msg[i], 0);
        qpci_msix_set_vector(msix, first + i, msg[i], MSI_DATA + i);
        qvirtio_blk_uring_use_ring(f.u, i);
        qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR, first + i);
        f.u->cfg.msix_vector = first + i;
    }
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
        if (!qpci_msix_wait(f.qts, msg[i], MSI_DATA + i, WAIT_US)) {
            g_error("no MSI-X message on ring %u's vector", i);
        }
        for (unsigned j = 0; j < NR_RINGS; j++) {
            if (j != i) {
                g_assert_false(qpci_msix_wait(f.qts, msg[j], MSI_DATA + j,
                                              0));
            }
        }
    }
    for (unsigned i = 0; i < NR_RINGS; i++) {
        guest_free(f.alloc, msg[i]);
    }
    fixture_cleanup(&f);
}

/*
 * Every ring is confined: an SQE outside the rules on ring 1 is refused
 * there, with the canaries and image untouched, while the other rings go
 * on working.
 */
static void test_hostile_per_ring(void)
{
    Fixture f;
    QUringSqe sqe;
    Target t;

    fixture_init(&f, RAM_MB, "", URING MQ);
    qvirtio_blk_uring_start(f.u);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        t = target_new(&f, 30 + i);
        /* An operation the restrictions do not allow. */
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ, t.gpa, TARGET_LEN,
                               0, 1);
        sqe.addr = f.u->cfg.ram_host_base + t.gpa;
        expect_refused(&f, &sqe, -EACCES, "IORING_OP_READ");
        /* A buffer outside guest RAM. */
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ_FIXED, t.gpa,
                               TARGET_LEN, 0, 2);
        sqe.addr = f.u->cfg.ram_host_base + ((uint64_t)RAM_MB << 20);
        expect_refused(&f, &sqe, -EFAULT, "a buffer past guest RAM");
        /* Another file. */
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ_FIXED, t.gpa,
                               TARGET_LEN, 0, 3);
        sqe.fd = 1;
        expect_refused(&f, &sqe, -EBADF, "fixed file 1");
        target_check(&f, &t);
        /* The other rings still work. */
        qvirtio_blk_uring_use_ring(f.u, (i + 1) % NR_RINGS);
        round_trip(&f, ring_area(i), 4096, 40 + i);
    }
    check_image(&f);
    fixture_cleanup(&f);
}

/* The names of the threads of process pid that start with prefix. */
static unsigned count_threads(int pid, const char *prefix)
{
    g_autofree char *taskdir = g_strdup_printf("/proc/%d/task", pid);
    GDir *dir = g_dir_open(taskdir, 0, NULL);
    const char *tid;
    unsigned n = 0;

    g_assert_nonnull(dir);
    while ((tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("%s/%s/comm", taskdir, tid);
        g_autofree char *comm = NULL;

        if (g_file_get_contents(path, &comm, NULL, NULL) &&
            g_str_has_prefix(comm, prefix)) {
            n++;
        }
    }
    g_dir_close(dir);
    return n;
}

/* All the rings of a device are served by one SQPOLL thread. */
static void test_one_sqpoll_thread(void)
{
    Fixture f;
    int owner;

    fixture_init(&f, RAM_MB, "", URING MQ);
    qvirtio_blk_uring_start(f.u);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    }
    owner = ring_owner(&f);
    g_assert_cmpuint(count_threads(owner, "iou-sqp-"), ==, 1);
    g_assert_cmpuint(count_threads(qtest_pid(f.qts), "iou-sqp-"), ==, 0);
    fixture_cleanup(&f);
}

#define NR_RESETS       100

/*
 * Resets of a device with several rings, some with I/O in the rings, leave
 * nothing behind: no owner, and the same threads, descriptors and mappings
 * each time the rings are up.
 */
static void test_reset_loop(void)
{
    Fixture f;
    GPid pid;
    ProcCounts first = { 0 }, now;
    int owner = 0;

    fixture_init(&f, RAM_MB, "", URING MQ ",uring-entries=8");
    pid = qtest_pid(f.qts);
    for (unsigned i = 0; i < NR_RESETS; i++) {
        qvirtio_blk_uring_start(f.u);
        qvirtio_blk_uring_use_ring(f.u, i % NR_RINGS);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
        if (i == 0) {
            first = proc_counts(pid);
            owner = ring_owner(&f);
        }
        qvirtio_blk_uring_reset(f.u);
    }
    g_assert_true(process_gone(owner, WAIT_US));
    g_assert_cmpuint(proc_counts(pid).children, ==, 0);
    qvirtio_blk_uring_start(f.u);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        round_trip(&f, ring_area(i), 4096, 50 + i);
    }
    qvirtio_blk_uring_use_ring(f.u, 0);
    now = proc_counts(pid);
    g_assert_cmpuint(now.threads, ==, first.threads);
    g_assert_cmpuint(now.fds, ==, first.fds);
    g_assert_cmpuint(now.maps, ==, first.maps);
    g_assert_cmpuint(now.children, ==, 1);
    check_image(&f);
    fixture_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk-uring/multiring/config", test_config);
    g_test_add_func("/virtio-blk-uring/multiring/io-each-ring",
                   test_io_each_ring);
    g_test_add_func("/virtio-blk-uring/multiring/doorbell-per-ring",
                   test_doorbell_per_ring);
    g_test_add_func("/virtio-blk-uring/multiring/msix-per-ring",
                   test_msix_per_ring);
    g_test_add_func("/virtio-blk-uring/multiring/hostile-per-ring",
                   test_hostile_per_ring);
    g_test_add_func("/virtio-blk-uring/multiring/one-sqpoll-thread",
                   test_one_sqpoll_thread);
    g_test_add_func("/virtio-blk-uring/multiring/reset-loop",
                   test_reset_loop);
    return g_test_run();
}
