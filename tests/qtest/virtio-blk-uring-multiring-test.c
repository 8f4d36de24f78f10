/*
 * The io_uring passthrough with several rings, one per virtqueue
 * (docs/specs/virtio-blk-uring.rst: num_rings, ring_select): what each
 * ring's configuration says, I/O and data on each, a doorbell and a
 * completion vector per ring, hostile input on one ring, one SQPOLL thread
 * for all the rings of a device, and resets that leave nothing behind; and
 * two devices on one uring-sqpoll object, one resetting (or overflowing)
 * while the other does I/O.
 *
 * Under -accel qtest the test plays the guest (libqos/virtio-blk-uring),
 * and the host kernel's SQPOLL thread really does the I/O; waits are
 * bounded in wall-clock time and nothing here asserts how fast anything is.
 */
#include <errno.h>
#include <glib.h>
#include <linux/io_uring.h>
#include <glib/gstdio.h>
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
    g_assert_cmpuint(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG(num_rings)),
                     ==, NR_RINGS);
    g_assert_cmpuint(qvirtio_pci_config_readq(&f.u->vdev,
                                              VBU_CFG(rings_size)), ==, 0);
    qvirtio_blk_uring_start(f.u);
    nq = qvirtio_pci_num_queues(&f.u->vdev);
    g_assert_cmpuint(nq, ==, NR_RINGS);
    qvirtio_blk_uring_read_config(f.u, &c0);
    g_assert_cmpuint(c0.num_rings, ==, NR_RINGS);
    g_assert_cmpuint(c0.ring_select, ==, 0);

    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(ring_select), i);
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
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(ring_select), NR_RINGS);
    qvirtio_blk_uring_read_config(f.u, &c);
    g_assert_cmpuint(c.ring_select, ==, NR_RINGS);
    g_assert_cmphex(c.rings_offset, ==, 0);
    g_assert_cmphex(c.sqes_offset, ==, 0);
    g_assert_cmpuint(c.doorbell_notify_off, ==, 0);
    g_assert_cmphex(c.msix_vector, ==, VIRTIO_MSI_NO_VECTOR);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector), 1);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG(msix_vector)),
                    ==, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(c.sq_entries, ==, c0.sq_entries);

    /* Vectors are per ring. */
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(ring_select), 1);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector), 2);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(ring_select), 0);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG(msix_vector)),
                    ==, VIRTIO_MSI_NO_VECTOR);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(ring_select), 1);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG(msix_vector)),
                    ==, 2);

    /* A reset selects ring 0 again and forgets the vectors. */
    qvirtio_blk_uring_reset(f.u);
    g_assert_cmpuint(qvirtio_pci_config_readw(&f.u->vdev,
                                              VBU_CFG(ring_select)), ==, 0);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(ring_select), 1);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG(msix_vector)),
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

            qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_NOP, 0, 0, 0,
                                   i * 100 + a);
            proven = publish_while_asleep(&f, &sqe, 0);
            if (proven) {
                qvirtio_blk_uring_doorbell(f.u);
                qvirtio_blk_uring_wait_cqe(f.u, &cqe);
                g_assert_cmphex(cqe.user_data, ==, i * 100 + a);
                g_assert_cmpint(cqe.res, ==, 0);
            }
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
        qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector), first + i);
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

/*
 * The most queues a device may have, each with its ring: MSI-X has a
 * vector fewer than config, queues and rings would take, and the device
 * starts all the same; every ring works, the last one too.
 */
static void test_max_rings(void)
{
    Fixture f;

    fixture_init(&f, RAM_MB, "", URING ",num-queues=64,uring-entries=8");
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpuint(f.u->cfg.num_rings, ==, 64);
    qvirtio_pci_enable_msix(&f.u->vdev);
    g_assert_cmpuint(f.u->vdev.msix.nr_vectors, ==, 128);
    for (unsigned i = 0; i < 64; i += 9) {
        qvirtio_blk_uring_use_ring(f.u, i);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    }
    qvirtio_blk_uring_use_ring(f.u, 63);
    g_assert_cmpuint(f.u->cfg.doorbell_notify_off, ==, 64 + 63);
    round_trip(&f, 0, 4096, 160);
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
    ProcCounts first = { 0 };
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
    check_same_as_first(pid, &first);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * Two devices with two rings each on one uring-sqpoll object: device A
 * (drive d0, the fixture's) at slot 0x10, device B (drive d1, an image of
 * the same size) at slot 0x11.  B shares A's QTestState and guest memory
 * allocator; only A's fixture quits the VMM.
 */
#define SHARED_RINGS    2
#define SHARED_DEV      URING ",num-queues=2,uring-sqpoll=sq0,uring-entries=8"

typedef struct Shared {
    Fixture a, b;
} Shared;

static void shared_init(Shared *s, const char *object_opts)
{
    g_autofree char *image_b = NULL;
    g_autofree char *dev_opts = NULL;
    uint8_t *contents;

    image_b = make_image(IMAGE_SIZE, &contents);
    dev_opts = g_strdup_printf(
        SHARED_DEV ",addr=0x10 -object uring-sqpoll,id=sq0%s "
        "-drive if=none,id=d1,format=raw,file=%s "
        "-device virtio-blk-pci,drive=d1" SHARED_DEV ",addr=0x11",
        object_opts, image_b);
    fixture_init(&s->a, RAM_MB, "", dev_opts);
    s->b = (Fixture){
        .image = g_steal_pointer(&image_b), .image_size = IMAGE_SIZE,
        .expected = contents, .ram_size = s->a.ram_size, .qts = s->a.qts,
        .alloc = s->a.alloc,
        .u = qvirtio_blk_uring_new_at(s->a.qts, 0x11 << 3),
    };
    g_assert_cmpuint(s->a.u->pdev->devfn, ==, 0x10 << 3);
}

static void shared_cleanup(Shared *s)
{
    check_image(&s->b);
    qvirtio_blk_uring_free(s->b.u);
    g_unlink(s->b.image);
    g_free(s->b.image);
    g_free(s->b.expected);
    check_image(&s->a);
    fixture_cleanup(&s->a);
}

/* The iou-sqp threads of all the VMM's children. */
static unsigned vmm_sqpoll_threads(Fixture *f)
{
    g_autoptr(GArray) kids = children_of(qtest_pid(f->qts));
    unsigned n = 0;

    for (guint i = 0; i < kids->len; i++) {
        n += count_threads(g_array_index(kids, int, i), "iou-sqp-");
    }
    return n;
}

/* A round trip on every ring of f, in its own part of the image. */
static void io_on_every_ring(Fixture *f, uint32_t seed)
{
    for (unsigned i = 0; i < SHARED_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f->u, i);
        round_trip(f, ring_area(i), 4096, seed + i);
    }
    qvirtio_blk_uring_use_ring(f->u, 0);
}

/* 2 devices x 2 rings: one owner process, one iou-sqp thread on the host. */
static void test_shared_one_thread(void)
{
    Shared s;
    int owner;

    shared_init(&s, "");
    qvirtio_blk_uring_start(s.a.u);
    qvirtio_blk_uring_start(s.b.u);
    g_assert_cmpuint(s.a.u->cfg.num_rings, ==, SHARED_RINGS);
    g_assert_cmpuint(s.b.u->cfg.num_rings, ==, SHARED_RINGS);
    io_on_every_ring(&s.a, 60);
    io_on_every_ring(&s.b, 70);
    owner = ring_owner(&s.a);
    g_assert_cmpuint(count_threads(owner, "iou-sqp-"), ==, 1);
    g_assert_cmpuint(vmm_sqpoll_threads(&s.a), ==, 1);
    shared_cleanup(&s);
}

/*
 * Device B resets, again and again, with requests in flight, while device
 * A does I/O on the same SQPOLL thread: A's requests all complete with
 * their data, B's rings come back each time, and the thread stays.
 */
static void test_shared_reset_while_io(void)
{
    Shared s;
    int owner;

    shared_init(&s, ",idle=10");
    qvirtio_blk_uring_start(s.a.u);
    owner = ring_owner(&s.a);
    for (unsigned i = 0; i < 20; i++) {
        uint64_t buf = guest_alloc(s.b.alloc, 4096);
        QUringSqe sqe;

        qvirtio_blk_uring_start(s.b.u);
        g_assert_cmpint(ring_owner(&s.a), ==, owner);
        qvirtio_blk_uring_use_ring(s.b.u, i % SHARED_RINGS);
        /* Reads of B's in flight (or queued) at its reset. */
        for (unsigned k = 0; k < 4; k++) {
            qvirtio_blk_uring_prep(s.b.u, &sqe, IORING_OP_READ_FIXED, buf,
                                   4096, k * 4096, k);
            qvirtio_blk_uring_queue(s.b.u, &sqe);
        }
        qvirtio_blk_uring_kick(s.b.u);
        qvirtio_blk_uring_use_ring(s.a.u, i % SHARED_RINGS);
        round_trip(&s.a, ring_area(i % SHARED_RINGS), 4096, 80 + i);
        qvirtio_blk_uring_reset(s.b.u);
        round_trip(&s.a, ring_area(i % SHARED_RINGS) + 8192, 4096, 90 + i);
        guest_free(s.b.alloc, buf);
    }
    g_assert_cmpint(ring_owner(&s.a), ==, owner);
    g_assert_cmpuint(vmm_sqpoll_threads(&s.a), ==, 1);
    qvirtio_blk_uring_start(s.b.u);
    io_on_every_ring(&s.b, 100);
    shared_cleanup(&s);
}

/*
 * Device B lets a completion queue overflow: its rings are withdrawn
 * (NEEDS_RESET), A's go on, on the same thread; B works again after a
 * reset.
 */
static void test_shared_overflow(void)
{
    Shared s;
    QVirtioBlkUring *u;
    int owner;

    shared_init(&s, "");
    qvirtio_blk_uring_start(s.a.u);
    qvirtio_blk_uring_start(s.b.u);
    owner = ring_owner(&s.a);
    u = s.b.u;
    qvirtio_blk_uring_use_ring(u, 1);
    for (unsigned done = 0; done <= u->cfg.cq_entries;
         done += u->cfg.sq_entries) {
        submit_nops(&s.b, u->cfg.sq_entries);
    }
    g_assert_true(qvirtio_pci_wait_status(&u->vdev,
                                          VIRTIO_CONFIG_S_NEEDS_RESET,
                                          WAIT_US));
    g_assert_cmphex(qvirtio_pci_get_status(&s.a.u->vdev) &
                    VIRTIO_CONFIG_S_NEEDS_RESET, ==, 0);
    io_on_every_ring(&s.a, 110);
    g_assert_cmpint(ring_owner(&s.a), ==, owner);
    qvirtio_blk_uring_reset(u);
    qvirtio_blk_uring_start(u);
    io_on_every_ring(&s.b, 120);
    g_assert_cmpuint(vmm_sqpoll_threads(&s.a), ==, 1);
    shared_cleanup(&s);
}

#define NR_SHARED_RESETS 1000

/*
 * 1000 resets of device B while device A keeps its rings on the shared
 * thread: the VMM's threads, descriptors and mappings, and the owner's
 * descriptors, are what they were after the first; one owner, one thread
 * throughout.  Then both reset: the owner ends, and comes back.
 */
static void test_shared_reset_loop(void)
{
    Shared s;
    GPid pid;
    ProcCounts first = { 0 };
    g_autofree char *owner_fds = NULL;
    unsigned first_owner_fds = 0;
    int owner;

    shared_init(&s, "");
    pid = qtest_pid(s.a.qts);
    qvirtio_blk_uring_start(s.a.u);
    owner = ring_owner(&s.a);
    owner_fds = g_strdup_printf("/proc/%d/fd", owner);
    for (unsigned i = 0; i < NR_SHARED_RESETS; i++) {
        qvirtio_blk_uring_start(s.b.u);
        qvirtio_blk_uring_use_ring(s.b.u, i % SHARED_RINGS);
        g_assert_cmpint(uring_rw(&s.b, IORING_OP_NOP, 0, 0, 0), ==, 0);
        if (i == 0) {
            first = proc_counts(pid);
            first_owner_fds = count_dir(owner_fds);
        }
        qvirtio_blk_uring_reset(s.b.u);
    }
    qvirtio_blk_uring_start(s.b.u);
    io_on_every_ring(&s.b, 130);
    io_on_every_ring(&s.a, 140);
    check_same_as_first(pid, &first);
    g_assert_cmpint(ring_owner(&s.a), ==, owner);
    /* The channel and the anchor ring: the owner keeps no device's ring. */
    g_assert_cmpuint(first_owner_fds, ==, 2);
    g_assert_cmpuint(count_dir(owner_fds), ==, 2);
    g_assert_cmpuint(vmm_sqpoll_threads(&s.a), ==, 1);

    qvirtio_blk_uring_reset(s.a.u);
    qvirtio_blk_uring_reset(s.b.u);
    g_assert_true(process_gone(owner, WAIT_US));
    g_assert_cmpuint(proc_counts(pid).children, ==, 0);
    qvirtio_blk_uring_start(s.b.u);
    io_on_every_ring(&s.b, 150);
    g_assert_cmpuint(vmm_sqpoll_threads(&s.a), ==, 1);
    shared_cleanup(&s);
}

/* Images of different sizes cannot share a thread: one line, exit 1. */
static void test_shared_size_mismatch(void)
{
    uint8_t *contents_a, *contents_b;
    g_autofree char *image_a = make_image(IMAGE_SIZE, &contents_a);
    g_autofree char *image_b = make_image(IMAGE_SIZE * 2, &contents_b);
    g_autofree char *args = g_strdup_printf(
        "-accel qtest -display none -nodefaults -m %uM "
        "-object uring-sqpoll,id=sq0 "
        "-drive if=none,id=d0,format=raw,file=%s "
        "-drive if=none,id=d1,format=raw,file=%s "
        "-device virtio-blk-pci,drive=d0" URING ",uring-sqpoll=sq0 "
        "-device virtio-blk-pci,drive=d1" URING ",uring-sqpoll=sq0",
        RAM_MB, image_a, image_b);
    g_autofree char *expected = g_strdup_printf(
        PROG "-device virtio-blk-pci,drive=d1" URING ",uring-sqpoll=sq0: "
        "uring-sqpoll=sq0: drive 'd1' needs a file size limit of %llu "
        "bytes, drive 'd0' a file size limit of %llu bytes: the rings of "
        "one SQPOLL thread share one limit (give them images of the same "
        "size)\n", IMAGE_SIZE * 2, IMAGE_SIZE);
    g_autofree char *err = NULL;

    g_assert_cmpint(qtest_run_vmm(NULL, args, &err), ==, 1);
    /* d0's warning that it cannot poll, then d1's error. */
    g_assert_true(g_str_has_suffix(err, expected));
    g_unlink(image_a);
    g_unlink(image_b);
    g_free(contents_a);
    g_free(contents_b);
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
    g_test_add_func("/virtio-blk-uring/multiring/max-rings", test_max_rings);
    g_test_add_func("/virtio-blk-uring/multiring/shared/one-thread",
                    test_shared_one_thread);
    g_test_add_func("/virtio-blk-uring/multiring/shared/reset-while-io",
                    test_shared_reset_while_io);
    g_test_add_func("/virtio-blk-uring/multiring/shared/overflow",
                    test_shared_overflow);
    g_test_add_func("/virtio-blk-uring/multiring/shared/reset-loop",
                    test_shared_reset_loop);
    g_test_add_func("/virtio-blk-uring/multiring/shared/size-mismatch",
                    test_shared_size_mismatch);
    return g_test_run();
}
