/*
 * I/O through the io_uring passthrough's ring
 * (docs/specs/virtio-blk-uring.rst): reads and writes on a raw image compared with the image file read from
 * here, the drive's modes, the doorbell, the completion vector and IOPOLL,
 * driven through libqos/virtio-blk-uring.
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

#define OP_BIT(op)      (1ULL << (op))
#define ALLOWED_RW      (OP_BIT(IORING_OP_NOP) |                        \
                         OP_BIT(IORING_OP_READ_FIXED) |                 \
                         OP_BIT(IORING_OP_WRITE_FIXED) |                \
                         OP_BIT(IORING_OP_FSYNC))

/*
 * I/O through the rings
 */

static void test_round_trip(void)
{
    Fixture f;
    uint8_t host[8192];
    uint64_t buf;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);

    /* Ring to disk and back, and the file holds what was written. */
    round_trip(&f, 64 << 10, 64 << 10, 1);
    check_image(&f);

    /* Host to ring: what is written to the file is what is read. */
    fill_pattern(host, sizeof(host), 2);
    host_pwrite(&f, 1 << 20, host, sizeof(host));
    buf = guest_alloc(f.alloc, sizeof(host));
    qtest_memset(f.qts, buf, 0xa5, sizeof(host));
    g_assert_cmpint(uring_rw(&f, IORING_OP_READ_FIXED, buf, sizeof(host),
                             1 << 20), ==, sizeof(host));
    guest_expect(&f, buf, host, sizeof(host));

    /* Untouched parts read as the image's. */
    g_assert_cmpint(uring_rw(&f, IORING_OP_READ_FIXED, buf, sizeof(host),
                             3 << 20), ==, sizeof(host));
    guest_expect(&f, buf, f.expected + (3 << 20), sizeof(host));

    /* dma_alignment 1: any offset, length and buffer address. */
    g_assert_cmpuint(f.u->cfg.dma_alignment, <=, 1);
    {
        uint8_t odd[777];
        Canary c = canary_set(&f, buf, 1024, 3);

        fill_pattern(odd, sizeof(odd), 4);
        qtest_memwrite(f.qts, buf + 3, odd, sizeof(odd));
        memcpy(c.data + 3, odd, sizeof(odd));
        g_assert_cmpint(uring_rw(&f, IORING_OP_WRITE_FIXED, buf + 3,
                                 sizeof(odd), 12345), ==, sizeof(odd));
        memcpy(f.expected + 12345, odd, sizeof(odd));
        g_assert_cmpint(uring_rw(&f, IORING_OP_READ_FIXED, buf + 5,
                                 sizeof(odd) - 2, 12345 + 2), ==,
                        sizeof(odd) - 2);
        memcpy(c.data + 5, odd + 2, sizeof(odd) - 2);
        canary_check(&f, &c);
    }
    check_image(&f);
    guest_free(f.alloc, buf);
    fixture_cleanup(&f);
}

#define NR_INFLIGHT     32
#define INFLIGHT_LEN    4096

static void test_in_flight(void)
{
    Fixture f;
    uint64_t wbuf, rbuf;
    uint8_t pattern[INFLIGHT_LEN];
    bool seen[NR_INFLIGHT];
    QUringSqe sqe;
    QUringCqe cqe;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=64");
    qvirtio_blk_uring_start(f.u);
    wbuf = guest_alloc(f.alloc, NR_INFLIGHT * INFLIGHT_LEN);
    rbuf = guest_alloc(f.alloc, NR_INFLIGHT * INFLIGHT_LEN);
    qtest_memset(f.qts, rbuf, 0xa5, NR_INFLIGHT * INFLIGHT_LEN);

    for (unsigned pass = 0; pass < 2; pass++) {
        uint8_t op = pass ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
        uint64_t base = pass ? rbuf : wbuf;

        for (unsigned i = 0; i < NR_INFLIGHT; i++) {
            /* Every other block, backwards: not one sequential stream. */
            uint64_t off = (uint64_t)(NR_INFLIGHT - 1 - i) * 2 * INFLIGHT_LEN;

            if (!pass) {
                fill_pattern(pattern, INFLIGHT_LEN, 100 + i);
                qtest_memwrite(f.qts, wbuf + i * INFLIGHT_LEN, pattern,
                               INFLIGHT_LEN);
                memcpy(f.expected + off, pattern, INFLIGHT_LEN);
            }
            qvirtio_blk_uring_prep(f.u, &sqe, op, base + i * INFLIGHT_LEN,
                                   INFLIGHT_LEN, off, 1000 + i);
            qvirtio_blk_uring_queue(f.u, &sqe);
        }
        qvirtio_blk_uring_kick(f.u);
        memset(seen, 0, sizeof(seen));
        for (unsigned n = 0; n < NR_INFLIGHT; n++) {
            qvirtio_blk_uring_wait_cqe(f.u, &cqe);
            g_assert_cmpuint(cqe.user_data, >=, 1000);
            g_assert_cmpuint(cqe.user_data, <, 1000 + NR_INFLIGHT);
            g_assert_false(seen[cqe.user_data - 1000]);
            seen[cqe.user_data - 1000] = true;
            g_assert_cmpint(cqe.res, ==, INFLIGHT_LEN);
        }
        expect_no_cqe(&f, "after all requests completed");
    }
    for (unsigned i = 0; i < NR_INFLIGHT; i++) {
        fill_pattern(pattern, INFLIGHT_LEN, 100 + i);
        guest_expect(&f, rbuf + i * INFLIGHT_LEN, pattern, INFLIGHT_LEN);
    }
    check_image(&f);
    guest_free(f.alloc, wbuf);
    guest_free(f.alloc, rbuf);
    fixture_cleanup(&f);
}

static void test_fsync_nop(void)
{
    Fixture f;
    QUringSqe sqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    round_trip(&f, 0, 4096, 5);
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_FSYNC, 0, 0, 0, 7);
    sqe.addr = 0;
    sqe.buf_index = 0;
    g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, 0);
    sqe.rw_flags = IORING_FSYNC_DATASYNC;
    g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, 0);
    check_image(&f);
    fixture_cleanup(&f);
}

/* IOSQE_IO_LINK and IOSQE_IO_DRAIN are allowed, and order requests. */
static void test_link_drain(void)
{
    Fixture f;
    uint64_t wbuf, rbuf;
    uint8_t pattern[8192];
    QUringSqe sqe;
    QUringCqe cqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    wbuf = guest_alloc(f.alloc, sizeof(pattern));
    rbuf = guest_alloc(f.alloc, sizeof(pattern));
    fill_pattern(pattern, sizeof(pattern), 6);
    qtest_memwrite(f.qts, wbuf, pattern, sizeof(pattern));
    qtest_memset(f.qts, rbuf, 0xa5, sizeof(pattern));

    /* write -> read of the same range, linked: the read sees the write */
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, wbuf,
                           sizeof(pattern), 256 << 10, 1);
    sqe.flags |= IOSQE_IO_LINK;
    qvirtio_blk_uring_queue(f.u, &sqe);
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ_FIXED, rbuf,
                           sizeof(pattern), 256 << 10, 2);
    qvirtio_blk_uring_queue(f.u, &sqe);
    /* then a drained NOP, after both */
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_NOP, 0, 0, 0, 3);
    sqe.flags |= IOSQE_IO_DRAIN;
    qvirtio_blk_uring_queue(f.u, &sqe);
    qvirtio_blk_uring_kick(f.u);
    for (uint64_t i = 1; i <= 3; i++) {
        qvirtio_blk_uring_wait_cqe(f.u, &cqe);
        g_assert_cmphex(cqe.user_data, ==, i);
        g_assert_cmpint(cqe.res, ==, i == 3 ? 0 : (int)sizeof(pattern));
    }
    memcpy(f.expected + (256 << 10), pattern, sizeof(pattern));
    guest_expect(&f, rbuf, pattern, sizeof(pattern));
    check_image(&f);
    guest_free(f.alloc, wbuf);
    guest_free(f.alloc, rbuf);
    fixture_cleanup(&f);
}

/* Virtqueue requests and ring requests see the same disk. */
static void test_virtqueue_alongside(void)
{
    Fixture f;
    uint8_t pattern[2048], buf[2048];
    QVirtQueue *vq;
    uint64_t gbuf;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_negotiate(f.u,
                                VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH) |
                                VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
    vq = qvirtio_pci_queue_setup(&f.u->vdev, f.alloc, 0, 0,
                                 VIRTIO_MSI_NO_VECTOR);
    qvirtio_blk_uring_driver_ok(f.u);

    round_trip(&f, 8 * VIRTIO_BLK_SECTOR_SIZE, sizeof(pattern), 7);
    virtqueue_read_check(&f, vq, 8, sizeof(pattern));

    fill_pattern(pattern, sizeof(pattern), 8);
    g_assert_cmpuint(qvirtio_blk_write(vq, 100, pattern, sizeof(pattern)), ==,
                     VIRTIO_BLK_S_OK);
    memcpy(f.expected + 100 * VIRTIO_BLK_SECTOR_SIZE, pattern,
           sizeof(pattern));
    gbuf = guest_alloc(f.alloc, sizeof(buf));
    g_assert_cmpint(uring_rw(&f, IORING_OP_READ_FIXED, gbuf, sizeof(buf),
                             100 * VIRTIO_BLK_SECTOR_SIZE), ==, sizeof(buf));
    guest_expect(&f, gbuf, pattern, sizeof(pattern));
    check_image(&f);
    guest_free(f.alloc, gbuf);
    qvirtio_blk_uring_reset(f.u);
    qvirtqueue_free(vq);
    fixture_cleanup(&f);
}

/*
 * Drive modes
 */

static void test_readonly(void)
{
    Fixture f;
    uint64_t buf;

    fixture_init(&f, RAM_MB, ",readonly=on", URING);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmphex(f.u->cfg.allowed_ops & OP_BIT(IORING_OP_WRITE_FIXED), ==,
                    0);
    g_assert_cmphex(f.u->cfg.allowed_ops & (OP_BIT(IORING_OP_READ_FIXED) |
                                            OP_BIT(IORING_OP_NOP)), ==,
                    OP_BIT(IORING_OP_READ_FIXED) | OP_BIT(IORING_OP_NOP));
    buf = guest_alloc(f.alloc, 4096);
    guest_fill(&f, buf, 4096, 9);
    g_assert_cmpint(uring_rw(&f, IORING_OP_WRITE_FIXED, buf, 4096, 8192), ==,
                    -EACCES);
    check_image(&f);
    g_assert_cmpint(uring_rw(&f, IORING_OP_READ_FIXED, buf, 4096, 8192), ==,
                    4096);
    guest_expect(&f, buf, f.expected + 8192, 4096);
    guest_free(f.alloc, buf);
    fixture_cleanup(&f);
}

/* Without a volatile write cache there is nothing for FSYNC to do. */
static void test_writethrough(void)
{
    Fixture f;
    QUringSqe sqe;

    fixture_init(&f, RAM_MB, ",cache=writethrough", URING);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmphex(f.u->cfg.allowed_ops, ==,
                    ALLOWED_RW & ~OP_BIT(IORING_OP_FSYNC));
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_FSYNC, 0, 0, 0, 1);
    sqe.addr = 0;
    g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, -EACCES);
    round_trip(&f, 4096, 4096, 10);
    check_image(&f);
    fixture_cleanup(&f);
}

/* cache=none: O_DIRECT, so dma_alignment > 1 and aligned I/O works. */
static void test_cache_none(void)
{
    Fixture f;
    uint32_t align;

    fixture_init(&f, RAM_MB, ",cache=none", URING);
    qvirtio_blk_uring_start(f.u);
    align = f.u->cfg.dma_alignment;
    g_assert_cmpuint(align, >, 1);
    g_assert_cmpuint(align & (align - 1), ==, 0);
    g_assert_cmpuint(align, <=, 4096);
    g_assert_cmphex(f.u->cfg.allowed_ops, ==, ALLOWED_RW);
    round_trip(&f, 16 * 4096, 8 * 4096, 11);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * The doorbell
 */

/* @data: more device options (IOTHREAD: the doorbell in an iothread). */
static void test_doorbell(gconstpointer data)
{
    Fixture f;
    QUringSqe sqe;
    QUringCqe cqe;
    unsigned proven = 0;
    g_autofree char *opts = g_strconcat(URING ",uring-sq-idle=10",
                                        (const char *)data, NULL);

    fixture_init(&f, RAM_MB, "", opts);
    qvirtio_blk_uring_start(f.u);

    for (unsigned i = 0; i < ASLEEP_ATTEMPTS && proven < 3; i++) {
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_NOP, 0, 0, 0, 100 + i);
        if (!publish_while_asleep(&f, &sqe, 0)) {
            continue;
        }
        /* The doorbell wakes it. */
        qvirtio_blk_uring_doorbell(f.u);
        qvirtio_blk_uring_wait_cqe(f.u, &cqe);
        g_assert_cmphex(cqe.user_data, ==, 100 + i);
        g_assert_cmpint(cqe.res, ==, 0);
        proven++;
    }
    if (!proven) {
        g_error("in %u attempts, the SQPOLL thread never waited for the "
                "doorbell while it showed IORING_SQ_NEED_WAKEUP",
                ASLEEP_ATTEMPTS);
    }
    /* The driver's protocol (kick rings when asked) works throughout. */
    for (unsigned i = 0; i < 20; i++) {
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
        g_usleep(i * 1000);
    }
    fixture_cleanup(&f);
}

/*
 * The completion interrupt
 */

#define URING_MSI_DATA  0x5e00

static void test_msix(void)
{
    uint16_t bad[] = { 0 /* nr_vectors */, 0x8000, 0xfffe };
    Fixture f;
    QPCIMSIX *msix;
    unsigned vector;
    uint64_t msg;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    qvirtio_pci_enable_msix(&f.u->vdev);
    msix = &f.u->vdev.msix;
    g_assert_cmpuint(msix->nr_vectors, >=, 2);
    vector = msix->nr_vectors - 1;
    msg = guest_alloc_aligned(f.alloc, 4, 4);
    qtest_writel(f.qts, msg, 0);
    qpci_msix_set_vector(msix, vector, msg, URING_MSI_DATA);

    /* No vector yet: no message. */
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    g_assert_false(qpci_msix_wait(f.qts, msg, URING_MSI_DATA, QUIET_US));

    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector), vector);
    g_assert_cmpuint(qvirtio_pci_config_readw(&f.u->vdev,
                                              VBU_CFG(msix_vector)), ==,
                     vector);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    if (!qpci_msix_wait(f.qts, msg, URING_MSI_DATA, WAIT_US)) {
        g_error("no MSI-X message for a completion");
    }
    round_trip(&f, 0, 4096, 12);
    g_assert_true(qpci_msix_wait(f.qts, msg, URING_MSI_DATA, WAIT_US));

    /* Muted through the CQ flags: the next completion sends nothing. */
    qvirtio_blk_uring_set_cq_flags(f.u, qvirtio_blk_uring_cq_flags(f.u) |
                                   IORING_CQ_EVENTFD_DISABLED);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    g_assert_false(qpci_msix_wait(f.qts, msg, URING_MSI_DATA, QUIET_US));

    /* Unmuted: messages again. */
    qvirtio_blk_uring_set_cq_flags(f.u, qvirtio_blk_uring_cq_flags(f.u) &
                                   ~IORING_CQ_EVENTFD_DISABLED);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    if (!qpci_msix_wait(f.qts, msg, URING_MSI_DATA, WAIT_US)) {
        g_error("no MSI-X message after clearing IORING_CQ_EVENTFD_DISABLED");
    }

    /* A masked vector holds its message pending until unmasked. */
    qpci_msix_mask(msix, vector, true);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    g_assert_false(qpci_msix_wait(f.qts, msg, URING_MSI_DATA, QUIET_US));
    g_assert_true(qpci_msix_pending(msix, vector));
    qpci_msix_mask(msix, vector, false);
    if (!qpci_msix_wait(f.qts, msg, URING_MSI_DATA, WAIT_US)) {
        g_error("no MSI-X message when the pending vector was unmasked");
    }
    g_assert_false(qpci_msix_pending(msix, vector));

    /* Back to no vector. */
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector),
                              VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    g_assert_false(qpci_msix_wait(f.qts, msg, URING_MSI_DATA, QUIET_US));

    /*
     * A vector the device does not have is no vector, as for the
     * transport's: it reads back as 0xffff and raises nothing.
     */
    bad[0] = msix->nr_vectors;
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        /* A good vector first (it sends what completions left pending). */
        qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector), vector);
        qpci_msix_wait(f.qts, msg, URING_MSI_DATA, QUIET_US);
        qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector), bad[i]);
        g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev,
                                                 VBU_CFG(msix_vector)), ==,
                        VIRTIO_MSI_NO_VECTOR);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
        g_assert_false(qpci_msix_wait(f.qts, msg, URING_MSI_DATA, QUIET_US));
    }
    guest_free(f.alloc, msg);
    fixture_cleanup(&f);
}

/*
 * IOPOLL
 *
 * Polling needs O_DIRECT and a block device queue with poll queues.  The
 * tests read from sysfs whether the images' disk has them, so that they
 * expect the right thing on either kind of host (the test machines' disks
 * have none).  A sparse image must be judged as a dense one: a read of a
 * hole, which never reaches the disk, tells nothing.
 */

#define CACHE_NONE      ",cache=none"

/* NULL if the disk holding path polls, else why not, as the VMM says. */
static char *disk_cannot_poll(const char *path)
{
    static const char *const sysfs[] = {
        "/sys/dev/block/%u:%u/queue/io_poll",
        "/sys/dev/block/%u:%u/../queue/io_poll",
    };
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(sysfs); i++) {
        g_autofree char *file = g_strdup_printf(sysfs[i], major(st.st_dev),
                                                minor(st.st_dev));
        g_autofree char *value = NULL;

        if (g_file_get_contents(file, &value, NULL, NULL)) {
            return atoi(value) > 0 ? NULL : g_strdup_printf(
                "its block device %u:%u has no poll queues "
                "(queue/io_poll is 0)", major(st.st_dev), minor(st.st_dev));
        }
    }
    return g_strdup_printf("no block device queue found for device %u:%u",
                           major(st.st_dev), minor(st.st_dev));
}

/* uring-iopoll=on refuses to start, saying why, unless the disk polls. */
static void test_iopoll_on(gconstpointer sparse)
{
    uint8_t *contents;
    g_autofree char *image = sparse ? make_sparse_image(IMAGE_SIZE, &contents)
                                    : make_image(IMAGE_SIZE, &contents);
    g_autofree char *why = disk_cannot_poll(image);
    g_autofree char *args = g_strdup_printf(
        "-accel qtest -display none -nodefaults -m %uM "
        "-drive if=none,id=d0,format=raw,file=%s" CACHE_NONE " "
        "-device virtio-blk-pci,drive=d0,uring-passthrough=on,"
        "uring-iopoll=on", RAM_MB, image);
    g_autofree char *expect = g_strdup_printf(
        PROG "-device virtio-blk-pci,drive=d0,uring-passthrough=on,"
        "uring-iopoll=on: uring-iopoll=on: drive 'd0' does not support "
        "polled I/O: %s\n", why);
    g_autofree char *err = NULL;

    if (!why) {
        Fixture f;

        g_test_message("this host's disk polls: IOPOLL must be on");
        g_unlink(image);
        fixture_init_image(&f, IMAGE_SIZE, sparse, RAM_MB, CACHE_NONE,
                           URING ",uring-iopoll=on", false);
        qvirtio_blk_uring_start(f.u);
        g_assert_cmphex(f.u->cfg.setup_flags & IORING_SETUP_IOPOLL, !=, 0);
        round_trip(&f, 4096, 4096, 12);
        fixture_cleanup(&f);
    } else {
        g_assert_cmpint(qtest_run_vmm(NULL, args, &err), ==, 1);
        g_assert_cmpstr(err, ==, expect);
        g_unlink(image);
    }
    g_free(contents);
}

/* Without O_DIRECT polling is impossible whatever the disk. */
static void test_iopoll_on_buffered(void)
{
    uint8_t *contents;
    g_autofree char *image = make_image(IMAGE_SIZE, &contents);
    g_autofree char *args = g_strdup_printf(
        "-accel qtest -display none -nodefaults -m %uM "
        "-drive if=none,id=d0,format=raw,file=%s,cache=writeback "
        "-device virtio-blk-pci,drive=d0,uring-passthrough=on,"
        "uring-iopoll=on", RAM_MB, image);
    g_autofree char *err = NULL;

    g_assert_cmpint(qtest_run_vmm(NULL, args, &err), ==, 1);
    g_assert_cmpstr(err, ==, PROG "-device virtio-blk-pci,drive=d0,"
                    "uring-passthrough=on,uring-iopoll=on: uring-iopoll=on: "
                    "drive 'd0' does not support polled I/O: it is not "
                    "opened with O_DIRECT (cache=none or cache=directsync)"
                    "\n");
    g_unlink(image);
    g_free(contents);
}

/*
 * Without IOPOLL the ring works; auto says once why it does not poll, off
 * says nothing.
 */
static void check_iopoll_off_runs(const char *mode, bool sparse, bool warns)
{
    g_autofree char *opts = g_strdup_printf(URING ",uring-iopoll=%s", mode);
    g_autofree char *err = NULL;
    Fixture f;

    fixture_init_image(&f, IMAGE_SIZE, sparse, RAM_MB, CACHE_NONE, opts,
                       true);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmphex(f.u->cfg.setup_flags & IORING_SETUP_IOPOLL, ==, 0);
    g_assert_cmphex(f.u->cfg.setup_flags & IORING_SETUP_SQPOLL, !=, 0);
    round_trip(&f, 4096, 4096, 13);
    qvirtio_blk_uring_reset(f.u);
    fixture_quit(&f);
    err = vmm_stderr(&f);
    if (warns) {
        g_autofree char *why = disk_cannot_poll(f.image);
        g_autofree char *expect = g_strdup_printf(
            PROG "-device virtio-blk-pci,drive=d0%s: warning: "
            "uring-iopoll=auto: drive 'd0' does not support polled I/O "
            "(%s); completions are not polled\n", opts, why);

        g_assert_cmpstr(err, ==, expect);
    } else {
        g_assert_cmpstr(err, ==, "");
    }
    fixture_cleanup(&f);
}

static void test_iopoll_auto(gconstpointer sparse)
{
    uint8_t *contents;
    g_autofree char *image = make_image(4096, &contents);
    g_autofree char *why = disk_cannot_poll(image);

    g_unlink(image);
    g_free(contents);
    if (!why) {
        Fixture f;

        g_test_message("this host's disk polls: auto must turn IOPOLL on");
        fixture_init_image(&f, IMAGE_SIZE, sparse, RAM_MB, CACHE_NONE,
                           URING, false);
        qvirtio_blk_uring_start(f.u);
        g_assert_cmphex(f.u->cfg.setup_flags & IORING_SETUP_IOPOLL, !=, 0);
        fixture_cleanup(&f);
        return;
    }
    check_iopoll_off_runs("auto", sparse, true);
}

static void test_iopoll_off(void)
{
    check_iopoll_off_runs("off", false, false);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/virtio-blk-uring/io/round-trip", test_round_trip);
    g_test_add_func("/virtio-blk-uring/io/in-flight", test_in_flight);
    g_test_add_func("/virtio-blk-uring/io/fsync-nop", test_fsync_nop);
    g_test_add_func("/virtio-blk-uring/io/link-drain", test_link_drain);
    g_test_add_func("/virtio-blk-uring/io/virtqueue-alongside",
                    test_virtqueue_alongside);
    g_test_add_func("/virtio-blk-uring/drive/readonly", test_readonly);
    g_test_add_func("/virtio-blk-uring/drive/writethrough", test_writethrough);
    g_test_add_func("/virtio-blk-uring/drive/cache-none", test_cache_none);
    g_test_add_data_func("/virtio-blk-uring/doorbell/main-loop", "",
                         test_doorbell);
    g_test_add_data_func("/virtio-blk-uring/doorbell/iothread", IOTHREAD,
                         test_doorbell);
    g_test_add_func("/virtio-blk-uring/msix", test_msix);
    g_test_add_data_func("/virtio-blk-uring/iopoll/on/dense", NULL,
                         test_iopoll_on);
    g_test_add_data_func("/virtio-blk-uring/iopoll/on/sparse", "",
                         test_iopoll_on);
    g_test_add_func("/virtio-blk-uring/iopoll/on/buffered",
                    test_iopoll_on_buffered);
    g_test_add_data_func("/virtio-blk-uring/iopoll/auto/dense", NULL,
                         test_iopoll_auto);
    g_test_add_data_func("/virtio-blk-uring/iopoll/auto/sparse", "",
                         test_iopoll_auto);
    g_test_add_func("/virtio-blk-uring/iopoll/off", test_iopoll_off);
    return g_test_run();
}
