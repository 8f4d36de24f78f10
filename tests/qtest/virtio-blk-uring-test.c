/*
 * The io_uring passthrough of virtio-blk (docs/specs/virtio-blk-uring.rst),
 * driven through libqos/virtio-blk-uring: negotiation and configuration,
 * I/O through the rings on a raw image (compared with the image file read
 * from here), the doorbell, the completion vector, IOPOLL and the other
 * properties, a hostile guest, and the ring's lifecycle.
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

#define GUEST_RAM_HOST_BASE     0x200000000000ULL
#define BUF_SHIFT       30
#define GIB             (1ULL << 30)


#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16)
#endif

#define OP_BIT(op)      (1ULL << (op))
#define ALLOWED_RW      (OP_BIT(IORING_OP_NOP) |                        \
                         OP_BIT(IORING_OP_READ_FIXED) |                 \
                         OP_BIT(IORING_OP_WRITE_FIXED) |                \
                         OP_BIT(IORING_OP_FSYNC))

/*
 * 1. Negotiation
 */

/* Bit 23 is offered with uring-passthrough=on, and only then. */
static void test_feature_offered(void)
{
    static const char *const without[] = { "", ",uring-passthrough=off" };
    Fixture f;

    fixture_init(&f, RAM_MB, "", URING);
    g_assert_true(qvirtio_pci_device_features(&f.u->vdev) &
                  VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH));
    g_assert_true(f.u->has_shm);
    fixture_cleanup(&f);

    for (unsigned i = 0; i < G_N_ELEMENTS(without); i++) {
        fixture_init(&f, RAM_MB, "", without[i]);
        g_assert_false(qvirtio_pci_device_features(&f.u->vdev) &
                       VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH));
        fixture_cleanup(&f);
    }
}

/*
 * Without a ring the read-only fields read as zero but num_rings (one, a
 * ring per virtqueue); msix_vector, of the read-write fields, reads as its
 * initial "none" (0xffff), ring_select as 0.
 */
static void check_config_zero(Fixture *f)
{
    for (uint32_t off = VBU_CFG_SQ_ENTRIES; off < VBU_CFG_END; off += 4) {
        uint32_t expected = off == VBU_CFG_MSIX_VECTOR ? VIRTIO_MSI_NO_VECTOR
                          : off == VBU_CFG_NUM_RINGS - 2 ? 1 << 16 : 0;

        g_assert_cmphex(qvirtio_pci_config_readl(&f->u->vdev, off), ==,
                        expected);
    }
}

/* Read sectors through virtqueue 0 and compare with the image. */
static void virtqueue_read_check(Fixture *f, QVirtQueue *vq, uint64_t sector,
                                 size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);

    g_assert_cmpuint(qvirtio_blk_read(vq, sector, buf, len), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(buf, len, f->expected + sector * VIRTIO_BLK_SECTOR_SIZE,
                    len);
}

/* Without the feature, the device is the plain virtqueue device. */
static void test_not_negotiated(void)
{
    Fixture f;
    uint64_t features;
    QVirtQueue *vq;

    fixture_init(&f, RAM_MB, "", URING);
    features = qvirtio_blk_uring_negotiate(f.u,
                                           VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
    g_assert_false(features & VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH));
    vq = qvirtio_pci_queue_setup(&f.u->vdev, f.alloc, 0, 0,
                                 VIRTIO_MSI_NO_VECTOR);
    qvirtio_blk_uring_driver_ok(f.u);
    virtqueue_read_check(&f, vq, 9, 4 * VIRTIO_BLK_SECTOR_SIZE);
    check_config_zero(&f);
    check_shm_empty(&f);
    qvirtio_blk_uring_reset(f.u);
    qvirtqueue_free(vq);
    fixture_cleanup(&f);
}

/* With the feature: FEATURES_OK sticks and the fields are what they say. */
static void test_config(void)
{
    Fixture f;
    QVirtioBlkUringConfig *c;
    uint32_t v;
    uint16_t nq;

    fixture_init(&f, RAM_MB, ",cache=writeback", URING ",uring-entries=64");
    check_config_zero(&f);
    check_shm_empty(&f);
    qvirtio_blk_uring_start(f.u);
    c = &f.u->cfg;
    g_assert_cmphex(qvirtio_pci_get_status(&f.u->vdev), ==,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    g_assert_cmpuint(c->sq_entries, ==, 64);
    g_assert_cmpuint(c->cq_entries, >=, c->sq_entries);
    g_assert_cmpuint(c->cq_entries & (c->cq_entries - 1), ==, 0);
    g_assert_cmphex(c->setup_flags & IORING_SETUP_SQPOLL, !=, 0);
    g_assert_cmphex(c->setup_flags & (IORING_SETUP_IOPOLL |
                                      IORING_SETUP_SQ_AFF |
                                      IORING_SETUP_SQE128 |
                                      IORING_SETUP_CQE32 |
                                      IORING_SETUP_NO_SQARRAY), ==, 0);
    g_assert_cmphex(c->features & IORING_FEAT_SINGLE_MMAP, !=, 0);
    g_assert_cmphex(c->features & IORING_FEAT_NODROP, !=, 0);
    g_assert_cmphex(c->ram_host_base, ==, GUEST_RAM_HOST_BASE);
    g_assert_cmpuint(c->buf_shift, ==, BUF_SHIFT);
    /* Windows up to the top of RAM, each at most 1 GiB. */
    g_assert_cmpuint(c->nr_bufs, ==, 1);
    g_assert_cmpuint(c->file_index, ==, 0);
    g_assert_cmpuint(c->dma_alignment, <=, 1);
    g_assert_cmpuint(c->disk_size, ==, IMAGE_SIZE);
    g_assert_cmphex(c->allowed_ops, ==, ALLOWED_RW);
    g_assert_cmphex(c->sqe_flags_required, ==, IOSQE_FIXED_FILE);
    /* As io_uring's restrictions: "allowed" need not repeat "required". */
    g_assert_cmphex(c->sqe_flags_allowed | c->sqe_flags_required, ==,
                    IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_IO_DRAIN);
    g_assert_cmphex(c->msix_vector, ==, VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(c->num_rings, ==, 1);
    g_assert_cmpuint(c->ring_select, ==, 0);

    /* The doorbell is the slot after the last virtqueue's. */
    nq = qvirtio_pci_num_queues(&f.u->vdev);
    for (uint16_t q = 0; q < nq; q++) {
        g_assert_cmpuint(qvirtio_pci_queue_notify_off(&f.u->vdev, q), <,
                         c->doorbell_notify_off);
    }
    qvirtio_pci_notify_slot_addr(&f.u->vdev, c->doorbell_notify_off);

    /* The rings and the SQE array do not overlap. */
    g_assert_true(c->rings_offset + c->rings_size <= c->sqes_offset ||
                  c->sqes_offset + c->sqes_size <= c->rings_offset);
    /* The kernel's view of the rings, through region 0. */
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, c->sq_off.ring_entries),
                     ==, c->sq_entries);
    g_assert_cmphex(qvirtio_blk_uring_ring_readl(f.u, c->sq_off.ring_mask),
                    ==, c->sq_entries - 1);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, c->cq_off.ring_entries),
                     ==, c->cq_entries);
    g_assert_cmphex(qvirtio_blk_uring_ring_readl(f.u, c->cq_off.ring_mask),
                    ==, c->cq_entries - 1);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, c->sq_off.head), ==, 0);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, c->sq_off.tail), ==, 0);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, c->sq_off.dropped), ==,
                     0);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, c->cq_off.head), ==, 0);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, c->cq_off.tail), ==, 0);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, c->cq_off.overflow),
                     ==, 0);

    /* Read-only fields ignore writes; msix_vector takes them. */
    v = qvirtio_pci_config_readl(&f.u->vdev, VBU_CFG_SQ_ENTRIES);
    qvirtio_pci_config_writel(&f.u->vdev, VBU_CFG_SQ_ENTRIES, 0);
    g_assert_cmpuint(qvirtio_pci_config_readl(&f.u->vdev, VBU_CFG_SQ_ENTRIES),
                     ==, v);
    qvirtio_pci_config_writeb(&f.u->vdev, VBU_CFG_SQE_FLAGS_REQUIRED, 0);
    g_assert_cmphex(qvirtio_pci_config_readb(&f.u->vdev,
                                             VBU_CFG_SQE_FLAGS_REQUIRED), ==,
                    IOSQE_FIXED_FILE);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR, 1);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG_MSIX_VECTOR),
                    ==, 1);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR,
                              VIRTIO_MSI_NO_VECTOR);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG_MSIX_VECTOR),
                    ==, VIRTIO_MSI_NO_VECTOR);

    /* And the ring works. */
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    fixture_cleanup(&f);
}

/* Between FEATURES_OK and DRIVER_OK the kernel does not read the SQ ring. */
static void test_disabled_until_driver_ok(void)
{
    Fixture f;
    QUringSqe sqe;
    QUringCqe cqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_negotiate(f.u,
                                VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH));
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_NOP, 0, 0, 0, 42);
    qvirtio_blk_uring_queue(f.u, &sqe);
    qvirtio_blk_uring_publish(f.u);
    qvirtio_blk_uring_doorbell(f.u);
    expect_no_cqe(&f, "before DRIVER_OK");
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f.u, f.u->cfg.sq_off.head),
                     ==, 0);
    qvirtio_blk_uring_driver_ok(f.u);
    qvirtio_blk_uring_kick(f.u);
    qvirtio_blk_uring_wait_cqe(f.u, &cqe);
    g_assert_cmphex(cqe.user_data, ==, 42);
    g_assert_cmpint(cqe.res, ==, 0);
    fixture_cleanup(&f);
}

/*
 * 2. I/O through the rings
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
 * 3. Drive modes
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
 * 4. The doorbell
 */

static void wait_need_wakeup(Fixture *f)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    while (!(qvirtio_blk_uring_sq_flags(f->u) & IORING_SQ_NEED_WAKEUP)) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("the SQPOLL thread did not go to sleep (no "
                    "IORING_SQ_NEED_WAKEUP) within %d s of idling",
                    WAIT_US / 1000000);
        }
        g_usleep(1000);
    }
}

/*
 * Publish sqe while the SQPOLL thread sleeps, without ringing the
 * doorbell.  True if nothing completes within QUIET_US (the thread is
 * asleep and needs the doorbell).  Once the thread has set NEED_WAKEUP it
 * looks at the ring once more before it sleeps, so the SQE is published
 * well after the flag appears; should a thread that was preempted in
 * between still take it, its CQE is consumed and false returned.
 */
static bool publish_while_asleep(Fixture *f, const QUringSqe *sqe,
                                 int32_t res)
{
    QUringCqe cqe;

    wait_need_wakeup(f);
    g_usleep(50 * 1000);
    qvirtio_blk_uring_queue(f->u, sqe);
    qvirtio_blk_uring_publish(f->u);
    if (qvirtio_blk_uring_poll_cqe(f->u, &cqe, QUIET_US)) {
        g_test_message("the SQPOLL thread took an SQE without the doorbell "
                       "(it was not asleep yet); trying again");
        g_assert_cmphex(cqe.user_data, ==, sqe->user_data);
        g_assert_cmpint(cqe.res, ==, res);
        return false;
    }
    /* Still asleep, and the SQE still queued. */
    g_assert_cmphex(qvirtio_blk_uring_sq_flags(f->u) & IORING_SQ_NEED_WAKEUP,
                    !=, 0);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f->u, f->u->cfg.sq_off.head),
                     ==, f->u->sq_tail - 1);
    return true;
}

#define ASLEEP_ATTEMPTS 5

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
 * 5. The completion interrupt
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

    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR, vector);
    g_assert_cmpuint(qvirtio_pci_config_readw(&f.u->vdev,
                                              VBU_CFG_MSIX_VECTOR), ==,
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
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR,
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
        qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR, vector);
        qpci_msix_wait(f.qts, msg, URING_MSI_DATA, QUIET_US);
        qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG_MSIX_VECTOR, bad[i]);
        g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev,
                                                 VBU_CFG_MSIX_VECTOR), ==,
                        VIRTIO_MSI_NO_VECTOR);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
        g_assert_false(qpci_msix_wait(f.qts, msg, URING_MSI_DATA, QUIET_US));
    }
    guest_free(f.alloc, msg);
    fixture_cleanup(&f);
}

/*
 * 6. IOPOLL
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

/*
 * 7. A hostile guest
 */

static void test_bad_opcodes(void)
{
    static const uint8_t ops[] = {
        IORING_OP_READ, IORING_OP_WRITE, IORING_OP_READV, IORING_OP_WRITEV,
        IORING_OP_OPENAT, IORING_OP_OPENAT2, IORING_OP_FALLOCATE,
        IORING_OP_CLOSE, IORING_OP_FILES_UPDATE, IORING_OP_STATX,
        IORING_OP_SYNC_FILE_RANGE, IORING_OP_PROVIDE_BUFFERS,
        IORING_OP_MSG_RING, IORING_OP_URING_CMD, IORING_OP_SPLICE,
        IORING_OP_FADVISE, IORING_OP_MADVISE, IORING_OP_UNLINKAT,
        IORING_OP_POLL_ADD, IORING_OP_TIMEOUT, IORING_OP_ASYNC_CANCEL,
    };
    Fixture f;
    Target t;
    QUringSqe sqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    t = target_new(&f, 20);
    for (unsigned i = 0; i < G_N_ELEMENTS(ops); i++) {
        g_autofree char *what = g_strdup_printf("opcode %u", ops[i]);

        g_assert_cmphex(f.u->cfg.allowed_ops & OP_BIT(ops[i]), ==, 0);
        qvirtio_blk_uring_prep(f.u, &sqe, ops[i], t.gpa, TARGET_LEN, 0, i);
        expect_refused(&f, &sqe, -EACCES, what);
    }
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    target_check(&f, &t);
    round_trip(&f, 0, 4096, 21);
    fixture_cleanup(&f);
}

static void test_bad_flags(void)
{
    static const uint8_t bad[] = {
        IOSQE_ASYNC, IOSQE_BUFFER_SELECT, IOSQE_IO_HARDLINK,
        IOSQE_CQE_SKIP_SUCCESS,
    };
    Fixture f;
    Target t;
    QUringSqe sqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    t = target_new(&f, 22);

    /* Without IOSQE_FIXED_FILE; fd 0 is some file of the owner process. */
    for (int fd = 0; fd < 3; fd++) {
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                               TARGET_LEN, 0, 1);
        sqe.flags = 0;
        sqe.fd = fd;
        expect_refused(&f, &sqe, -EACCES, "WRITE_FIXED without fixed file");
        sqe.opcode = IORING_OP_READ_FIXED;
        expect_refused(&f, &sqe, -EACCES, "READ_FIXED without fixed file");
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *what = g_strdup_printf("SQE flag 0x%x", bad[i]);
        /*
         * io_uring checks IOSQE_BUFFER_SELECT against the opcode before
         * the restrictions: READ/WRITE_FIXED cannot select buffers.
         */
        int32_t res = bad[i] == IOSQE_BUFFER_SELECT ? -EOPNOTSUPP : -EACCES;

        g_assert_cmphex(f.u->cfg.sqe_flags_allowed & bad[i], ==, 0);
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ_FIXED, t.gpa,
                               TARGET_LEN, 0, 2);
        sqe.flags |= bad[i];
        expect_refused(&f, &sqe, res, what);
        sqe.opcode = IORING_OP_WRITE_FIXED;
        expect_refused(&f, &sqe, res, what);
    }
    /* An opcode that can select buffers: the restrictions refuse it. */
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ, t.gpa, TARGET_LEN, 0, 3);
    sqe.flags |= IOSQE_BUFFER_SELECT;
    expect_refused(&f, &sqe, -EACCES, "READ with IOSQE_BUFFER_SELECT");
    /* A flag io_uring does not know */
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ_FIXED, t.gpa, TARGET_LEN,
                           0, 4);
    sqe.flags |= 0x80;
    expect_refused(&f, &sqe, -EINVAL, "SQE flag 0x80");
    target_check(&f, &t);
    round_trip(&f, 0, 4096, 23);
    fixture_cleanup(&f);
}

static void test_bad_file_index(void)
{
    static const int32_t fds[] = { 1, 2, 1000, INT32_MAX, -1 };
    Fixture f;
    Target t;
    QUringSqe sqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    t = target_new(&f, 24);
    for (unsigned i = 0; i < G_N_ELEMENTS(fds); i++) {
        g_autofree char *what = g_strdup_printf("fixed file %d", fds[i]);

        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                               TARGET_LEN, 0, i);
        sqe.fd = fds[i];
        expect_refused(&f, &sqe, -EBADF, what);
        sqe.opcode = IORING_OP_READ_FIXED;
        expect_refused(&f, &sqe, -EBADF, what);
        sqe.opcode = IORING_OP_FSYNC;
        sqe.addr = sqe.len = sqe.buf_index = 0;
        expect_refused(&f, &sqe, -EBADF, what);
    }
    target_check(&f, &t);
    fixture_cleanup(&f);
}

/* Both directions, with addr and buf_index as given: -EFAULT. */
static void expect_efault(Fixture *f, uint64_t addr, uint32_t len,
                          uint16_t buf_index, const char *what)
{
    QUringSqe sqe;

    qvirtio_blk_uring_prep(f->u, &sqe, IORING_OP_READ_FIXED, 0, len, 4096, 1);
    sqe.addr = addr;
    sqe.buf_index = buf_index;
    expect_refused(f, &sqe, -EFAULT, what);
    sqe.opcode = IORING_OP_WRITE_FIXED;
    expect_refused(f, &sqe, -EFAULT, what);
}

static void test_bad_buffers(void)
{
    Fixture f;
    Target t;
    Canary top;
    uint64_t base, ram = (uint64_t)RAM_MB << 20;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    base = f.u->cfg.ram_host_base;
    t = target_new(&f, 25);
    /* The last 64 KiB of RAM (the allocator works from the bottom). */
    top = canary_set(&f, ram - CANARY_LEN, CANARY_LEN, 26);

    /* Outside guest RAM */
    expect_efault(&f, base - 4096, 4096, 0, "below ram_host_base");
    expect_efault(&f, base - 4096, 8192, 0, "straddling ram_host_base");
    expect_efault(&f, 0, 4096, 0, "host address 0");
    expect_efault(&f, 0x400000, 4096, 0, "a low host address");
    expect_efault(&f, base + 0xc0000000, 4096, 0, "the PCI MMIO window");
    expect_efault(&f, base + 0xc0000000, 4096, 0xc0000000 >> BUF_SHIFT,
                  "the PCI MMIO window, its own window");
    expect_efault(&f, base + 0xfee00000, 4096, 3, "the local APIC");
    expect_efault(&f, base + ram, 4096, 0, "just past the end of RAM");
    expect_efault(&f, base + 4 * GIB, 4096, 4, "above 4 GiB without RAM");
    /* Straddling the end of RAM (also the end of window 0 here) */
    expect_efault(&f, base + ram - 4096, 8192, 0, "straddling the end of RAM");
    expect_efault(&f, base + ram - 1, 2, 0, "the last byte of RAM and one");
    /* buf_index out of range, with a buffer in RAM */
    expect_efault(&f, base + t.gpa, 4096, f.u->cfg.nr_bufs,
                  "buf_index nr_bufs");
    expect_efault(&f, base + t.gpa, 4096, 1000, "buf_index 1000");
    expect_efault(&f, base + t.gpa, 4096, 0xffff, "buf_index 0xffff");
    /* Lengths that overflow or run off the buffer */
    expect_efault(&f, UINT64_MAX - 4095, 8192, 0, "addr + len wrapping");
    expect_efault(&f, base + t.gpa, UINT32_MAX, 0, "len 4 GiB - 1");
    expect_efault(&f, base + t.gpa, (uint32_t)ram, 0, "len = RAM size");
    expect_efault(&f, base + 0x100000, 0x80000000u, 0, "len 2 GiB");

    canary_check(&f, &top);
    target_check(&f, &t);
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    round_trip(&f, 0, 4096, 27);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * With RAM above 4 GiB: five 1 GiB windows (two of them empty, one holding
 * the PCI hole); addresses must stay in their own window.
 */
#define BIG_RAM_MB      (2048 + 256)

/* MemAvailable of the host, in bytes. */
static uint64_t mem_available(void)
{
    g_autofree char *text = NULL;
    const char *p;

    g_assert_true(g_file_get_contents("/proc/meminfo", &text, NULL, NULL));
    p = strstr(text, "MemAvailable:");
    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen("MemAvailable:"), NULL, 10) << 10;
}

static void test_windows(void)
{
    const uint64_t high_end = 4 * GIB + (256ULL << 20);
    Fixture f;
    uint64_t base;
    Canary c[4];

    /* FEATURES_OK pins all of guest RAM. */
    if (mem_available() < 2 * ((uint64_t)BIG_RAM_MB << 20)) {
        g_test_skip("needs twice the guest RAM available on the host");
        return;
    }
    fixture_init(&f, BIG_RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    base = f.u->cfg.ram_host_base;
    g_assert_cmpuint(f.u->cfg.nr_bufs, ==, 5);

    /* Requests in windows 1 and 4 work (buf_index 1 and 4). */
    {
        uint8_t pattern[4096];
        uint64_t gpas[] = { GIB + 0x100000, 4 * GIB + 0x100000 };

        for (unsigned i = 0; i < G_N_ELEMENTS(gpas); i++) {
            fill_pattern(pattern, sizeof(pattern), 30 + i);
            qtest_memwrite(f.qts, gpas[i], pattern, sizeof(pattern));
            g_assert_cmpint(uring_rw(&f, IORING_OP_WRITE_FIXED, gpas[i],
                                     4096, 8192 * (i + 1)), ==, 4096);
            memcpy(f.expected + 8192 * (i + 1), pattern, 4096);
            qtest_memset(f.qts, gpas[i], 0, 4096);
            g_assert_cmpint(uring_rw(&f, IORING_OP_READ_FIXED, gpas[i],
                                     4096, 8192 * (i + 1)), ==, 4096);
            guest_expect(&f, gpas[i], pattern, sizeof(pattern));
        }
    }

    c[0] = canary_set(&f, GIB - CANARY_LEN / 2, CANARY_LEN, 31);
    c[1] = canary_set(&f, 2 * GIB - CANARY_LEN, CANARY_LEN, 32);
    c[2] = canary_set(&f, 4 * GIB, CANARY_LEN, 33);
    c[3] = canary_set(&f, high_end - CANARY_LEN, CANARY_LEN, 34);

    expect_efault(&f, base + GIB - 4096, 8192, 0,
                  "straddling windows 0 and 1, as 0");
    expect_efault(&f, base + GIB - 4096, 8192, 1,
                  "straddling windows 0 and 1, as 1");
    expect_efault(&f, base + GIB - 4096, 4096, 1,
                  "window 0 named as window 1");
    expect_efault(&f, base + GIB, 4096, 0, "window 1 named as window 0");
    expect_efault(&f, base + 2 * GIB - 4096, 8192, 1,
                  "straddling the end of low RAM");
    expect_efault(&f, base + 2 * GIB, 4096, 2, "the empty window 2");
    expect_efault(&f, base + 2 * GIB, 4096, 1, "past low RAM, as window 1");
    expect_efault(&f, base + 0xc0000000, 4096, 3, "the PCI MMIO window");
    expect_efault(&f, base + 0xfee00000, 4096, 3, "the local APIC");
    expect_efault(&f, base + 4 * GIB - 4096, 8192, 4,
                  "straddling the start of high RAM");
    expect_efault(&f, base + 4 * GIB, 4096, 3, "high RAM named as window 3");
    expect_efault(&f, base + high_end - 4096, 8192, 4,
                  "straddling the end of high RAM");
    expect_efault(&f, base + high_end, 4096, 4, "past the end of high RAM");
    expect_efault(&f, base + high_end, 4096, 5, "window 5");

    for (unsigned i = 0; i < G_N_ELEMENTS(c); i++) {
        canary_check(&f, &c[i]);
    }
    check_image(&f);
    fixture_cleanup(&f);
}

/* Entries of the SQ array that name no SQE are dropped and counted. */
static void test_bad_sq_array(void)
{
    static const uint32_t garbage[] = { 0, 1, 0x10000, UINT32_MAX };
    Fixture f;
    QUringSqe sqe;
    QVirtioBlkUring *u;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=16");
    qvirtio_blk_uring_start(f.u);
    u = f.u;
    for (unsigned i = 0; i < G_N_ELEMENTS(garbage); i++) {
        const uint32_t dropped_off = u->cfg.sq_off.dropped;
        uint32_t slot = u->sq_tail & (u->cfg.sq_entries - 1);
        uint32_t dropped = qvirtio_blk_uring_ring_readl(u, dropped_off);
        uint32_t bad = garbage[i] < 2 ? u->cfg.sq_entries + garbage[i]
                                      : garbage[i];
        gint64 deadline = g_get_monotonic_time() + WAIT_US;

        qvirtio_blk_uring_prep(u, &sqe, IORING_OP_NOP, 0, 0, 0, 50 + i);
        qvirtio_blk_uring_queue(u, &sqe);
        qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.array + 4 * slot, bad);
        qvirtio_blk_uring_kick(u);
        while (qvirtio_blk_uring_ring_readl(u, dropped_off) == dropped) {
            if (g_get_monotonic_time() >= deadline) {
                g_error("SQ array entry %u was not dropped", bad);
            }
            g_usleep(1000);
        }
        g_assert_cmpuint(qvirtio_blk_uring_ring_readl(u, dropped_off), ==,
                         dropped + 1);
        g_assert_cmpuint(qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.head),
                         ==, u->sq_tail);
        expect_no_cqe(&f, "for a dropped SQ entry");
        qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.array + 4 * slot, slot);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    }
    round_trip(&f, 0, 4096, 40);
    check_image(&f);
    fixture_cleanup(&f);
}

/* Wait for a 32-bit ring field to leave value; false on timeout. */
static bool wait_ring_change(Fixture *f, uint32_t off, uint32_t value)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    while (qvirtio_blk_uring_ring_readl(f->u, off) == value) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

/* Garbage ring indices: the VMM carries on, and a reset recovers. */
static void test_bad_ring_indices(void)
{
    Fixture f;
    QVirtioBlkUring *u;
    QUringSqe sqe;
    QUringCqe cqe;
    uint32_t head;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=16");
    qvirtio_blk_uring_start(f.u);
    u = f.u;

    /* SQ tail far ahead of the head, over a ring full of NOPs */
    for (uint32_t i = 0; i < u->cfg.sq_entries; i++) {
        qvirtio_blk_uring_prep(u, &sqe, IORING_OP_NOP, 0, 0, 0, i);
        qvirtio_blk_uring_queue(u, &sqe);
    }
    head = qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.head);
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.tail, head + 0x40000000);
    qvirtio_blk_uring_doorbell(u);
    g_assert_true(wait_ring_change(&f, u->cfg.sq_off.head, head));
    /* The kernel works through them; the VMM keeps answering. */
    g_usleep(20 * 1000);
    check_vmm_alive(&f);
    g_assert_cmphex(qvirtio_pci_get_status(&u->vdev) &
                    VIRTIO_CONFIG_S_DRIVER_OK, !=, 0);
    qvirtio_blk_uring_reset(u);
    check_config_zero(&f);
    qvirtio_blk_uring_start(u);
    round_trip(&f, 0, 4096, 41);

    /* SQ head, ring_mask and ring_entries are the kernel's: writes to them
     * change nothing it does. */
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.head, 0x12345678);
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.ring_mask, 0xffffffff);
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.ring_entries, 0xffffffff);
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.ring_mask, 0xffffffff);
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.tail, 0x7777);
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.tail, u->cq_head);
    round_trip(&f, 4096, 4096, 42);

    /* CQ head far ahead of the tail: the CQ looks full, CQEs overflow */
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.head,
                                  u->cq_head + 0x80000000);
    qvirtio_blk_uring_prep(u, &sqe, IORING_OP_NOP, 0, 0, 0, 77);
    qvirtio_blk_uring_queue(u, &sqe);
    qvirtio_blk_uring_kick(u);
    g_assert_true(wait_ring_change(&f, u->cfg.sq_off.head, u->sq_tail - 1));
    g_usleep(20 * 1000);
    check_vmm_alive(&f);
    qvirtio_blk_uring_reset(u);
    qvirtio_blk_uring_start(u);
    round_trip(&f, 8192, 4096, 43);
    g_assert_false(qvirtio_blk_uring_pop_cqe(u, &cqe));
    check_image(&f);
    fixture_cleanup(&f);
}

/* Writes at or past the end of the disk never grow the image. */
static void test_past_end(void)
{
    static const uint64_t offs[] = {
        IMAGE_SIZE, IMAGE_SIZE + 1, IMAGE_SIZE + (1 << 20), 1ULL << 40,
        (1ULL << 62),
    };
    Fixture f;
    Target t;
    QUringSqe sqe;
    uint8_t pattern[TARGET_LEN];
    int32_t res;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpuint(f.u->cfg.disk_size, ==, IMAGE_SIZE);
    t = target_new(&f, 50);

    for (unsigned i = 0; i < G_N_ELEMENTS(offs); i++) {
        g_autofree char *what = g_strdup_printf("write at 0x%" PRIx64,
                                                offs[i]);

        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                               TARGET_LEN, offs[i], i);
        expect_refused(&f, &sqe, -EFBIG, what);
        g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
        /* Reads there find nothing and leave the buffer alone. */
        sqe.opcode = IORING_OP_READ_FIXED;
        g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, 0);
    }
    /* RWF_APPEND writes at the end, whatever off says. */
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                           TARGET_LEN, 0, 8);
    sqe.rw_flags = RWF_APPEND;
    expect_refused(&f, &sqe, -EFBIG, "write with RWF_APPEND");
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    target_check(&f, &t);

    /* Straddling the end: a short write of what fits, or an error. */
    t = target_new(&f, 51);
    qtest_memread(f.qts, t.gpa, pattern, sizeof(pattern));
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                           TARGET_LEN, IMAGE_SIZE - 1024, 9);
    res = qvirtio_blk_uring_submit_wait(f.u, &sqe);
    g_test_message("a write straddling the end completed with %d", res);
    if (res != -EFBIG) {
        g_assert_cmpint(res, ==, 1024);
        memcpy(f.expected + IMAGE_SIZE - 1024, pattern, 1024);
    }
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    /* A read straddling the end is short. */
    sqe.opcode = IORING_OP_READ_FIXED;
    sqe.addr = f.u->cfg.ram_host_base + t.canary.gpa;
    g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, 1024);
    memcpy(t.canary.data, f.expected + IMAGE_SIZE - 1024, 1024);
    target_check(&f, &t);
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    round_trip(&f, IMAGE_SIZE - 4096, 4096, 52);
    check_image(&f);
    fixture_cleanup(&f);
}

/* An empty image file must stay empty too. */
static void test_empty_image(void)
{
    Fixture f;
    Target t;
    QUringSqe sqe;

    fixture_init_image(&f, 0, false, RAM_MB, "", URING, false);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpuint(f.u->cfg.disk_size, ==, 0);
    t = target_new(&f, 53);
    for (uint64_t off = 0; off <= 8192; off += 4096) {
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                               TARGET_LEN, off, off);
        expect_refused(&f, &sqe, -EFBIG, "write to an empty image");
        g_assert_cmpuint(file_size(f.image), ==, 0);
        sqe.opcode = IORING_OP_READ_FIXED;
        g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, 0);
    }
    target_check(&f, &t);
    fixture_cleanup(&f);
}

/*
 * 8. Lifecycle
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
    ProcCounts first = { 0 }, now;
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
    now = proc_counts(pid);
    g_assert_cmpuint(now.children, ==, 0);
    /* Ring up again: the same resources as after the first time. */
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    now = proc_counts(pid);
    g_test_message("threads %u -> %u, fds %u -> %u, maps %u -> %u",
                   first.threads, now.threads, first.fds, now.fds,
                   first.maps, now.maps);
    g_assert_cmpuint(now.threads, ==, first.threads);
    g_assert_cmpuint(now.fds, ==, first.fds);
    g_assert_cmpuint(now.maps, ==, first.maps);
    g_assert_cmpuint(now.children, ==, 1);
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

/*
 * 9. Properties
 */

/* The SQPOLL thread of the ring's owner process. */
static char *sqpoll_thread_status(int owner)
{
    g_autofree char *taskdir = g_strdup_printf("/proc/%d/task", owner);
    GDir *dir = g_dir_open(taskdir, 0, NULL);
    const char *tid;
    char *status = NULL;

    g_assert_nonnull(dir);
    while (!status && (tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("%s/%s/status", taskdir, tid);
        g_autofree char *text = NULL;

        if (g_file_get_contents(path, &text, NULL, NULL) &&
            g_str_has_prefix(text, "Name:\tiou-sqp-")) {
            status = g_steal_pointer(&text);
        }
    }
    g_dir_close(dir);
    return status;
}

static void test_sq_cpu(void)
{
    Fixture f;
    g_autofree char *status = NULL;
    const char *cpus;

    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        g_test_skip("needs two online CPUs");
        return;
    }
    fixture_init(&f, RAM_MB, "", URING ",uring-sq-cpu=1");
    qvirtio_blk_uring_start(f.u);
    g_assert_cmphex(f.u->cfg.setup_flags & IORING_SETUP_SQ_AFF, !=, 0);
    g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    status = sqpoll_thread_status(ring_owner(&f));
    g_assert_nonnull(status);
    cpus = strstr(status, "\nCpus_allowed_list:\t");
    g_assert_nonnull(cpus);
    g_assert_true(g_str_has_prefix(cpus, "\nCpus_allowed_list:\t1\n"));
    fixture_cleanup(&f);
}

/* The VMM refuses to start, with one line naming the property. */
static void check_refused(const char *dev_opts, const char *property)
{
    uint8_t *contents;
    g_autofree char *image = make_image(IMAGE_SIZE, &contents);
    g_autofree char *args = g_strdup_printf(
        "-accel qtest -display none -nodefaults -m %uM "
        "-drive if=none,id=d0,format=raw,file=%s "
        "-device virtio-blk-pci,drive=d0%s", RAM_MB, image, dev_opts);
    g_autofree char *prefix = g_strdup_printf(
        PROG "-device virtio-blk-pci,drive=d0%s: ", dev_opts);
    g_autofree char *err = NULL;

    g_assert_cmpint(qtest_run_vmm(NULL, args, &err), ==, 1);
    assert_one_line(err);
    g_test_message("%.*s", (int)strlen(err) - 1, err);
    g_assert_true(g_str_has_prefix(err, prefix));
    /* The message names the property. */
    g_assert_nonnull(strstr(err + strlen(prefix), property));
    g_unlink(image);
    g_free(contents);
}

static void test_sq_cpu_invalid(void)
{
    check_refused(URING ",uring-sq-cpu=99", "uring-sq-cpu");
}

static void test_entries_zero(void)
{
    check_refused(URING ",uring-entries=0", "uring-entries");
}

/* A uring-* property without the passthrough would be ignored: refused. */
static void test_without_passthrough(void)
{
    static const char *const props[] = {
        "uring-iopoll", "uring-sq-cpu", "uring-sq-idle", "uring-entries",
        "uring-owner-memory", "x-uring-overflow-check", "x-uring-stall-warn",
    };
    static const char *const values[] = {
        "on", "0", "5", "64", "1G", "off", "100",
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(props); i++) {
        g_autofree char *opts = g_strdup_printf(",%s=%s", props[i], values[i]);
        g_autofree char *expected = g_strdup_printf(
            "%s needs uring-passthrough=on", props[i]);

        check_refused(opts, expected);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/virtio-blk-uring/negotiation/offered",
                    test_feature_offered);
    g_test_add_func("/virtio-blk-uring/negotiation/not-negotiated",
                    test_not_negotiated);
    g_test_add_func("/virtio-blk-uring/negotiation/config", test_config);
    g_test_add_func("/virtio-blk-uring/negotiation/disabled-until-driver-ok",
                    test_disabled_until_driver_ok);
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
    g_test_add_func("/virtio-blk-uring/hostile/opcodes", test_bad_opcodes);
    g_test_add_func("/virtio-blk-uring/hostile/flags", test_bad_flags);
    g_test_add_func("/virtio-blk-uring/hostile/file-index",
                    test_bad_file_index);
    g_test_add_func("/virtio-blk-uring/hostile/buffers", test_bad_buffers);
    g_test_add_func("/virtio-blk-uring/hostile/windows", test_windows);
    g_test_add_func("/virtio-blk-uring/hostile/sq-array", test_bad_sq_array);
    g_test_add_func("/virtio-blk-uring/hostile/ring-indices",
                    test_bad_ring_indices);
    g_test_add_func("/virtio-blk-uring/hostile/past-end", test_past_end);
    g_test_add_func("/virtio-blk-uring/hostile/empty-image", test_empty_image);
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
    g_test_add_func("/virtio-blk-uring/properties/sq-cpu", test_sq_cpu);
    g_test_add_func("/virtio-blk-uring/properties/sq-cpu-invalid",
                    test_sq_cpu_invalid);
    g_test_add_func("/virtio-blk-uring/properties/entries-zero",
                    test_entries_zero);
    g_test_add_func("/virtio-blk-uring/properties/without-passthrough",
                    test_without_passthrough);
    return g_test_run();
}
