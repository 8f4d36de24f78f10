/*
 * The io_uring passthrough (docs/specs/virtio-blk-uring.rst): negotiation
 * of the feature, the configuration fields, and the uring-* properties,
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

#define GUEST_RAM_HOST_BASE     0x200000000000ULL
#define BUF_SHIFT       30

#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16)
#endif

#define OP_BIT(op)      (1ULL << (op))
#define ALLOWED_RW      (OP_BIT(IORING_OP_NOP) |                        \
                         OP_BIT(IORING_OP_READ_FIXED) |                 \
                         OP_BIT(IORING_OP_WRITE_FIXED) |                \
                         OP_BIT(IORING_OP_FSYNC))

/*
 * Negotiation
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
    v = qvirtio_pci_config_readl(&f.u->vdev, VBU_CFG(sq_entries));
    qvirtio_pci_config_writel(&f.u->vdev, VBU_CFG(sq_entries), 0);
    g_assert_cmpuint(qvirtio_pci_config_readl(&f.u->vdev, VBU_CFG(sq_entries)),
                     ==, v);
    qvirtio_pci_config_writeb(&f.u->vdev, VBU_CFG(sqe_flags_required), 0);
    g_assert_cmphex(qvirtio_pci_config_readb(&f.u->vdev,
                                             VBU_CFG(sqe_flags_required)), ==,
                    IOSQE_FIXED_FILE);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector), 1);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG(msix_vector)),
                    ==, 1);
    qvirtio_pci_config_writew(&f.u->vdev, VBU_CFG(msix_vector),
                              VIRTIO_MSI_NO_VECTOR);
    g_assert_cmphex(qvirtio_pci_config_readw(&f.u->vdev, VBU_CFG(msix_vector)),
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
 * Properties
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
    g_test_add_func("/virtio-blk-uring/properties/sq-cpu", test_sq_cpu);
    g_test_add_func("/virtio-blk-uring/properties/sq-cpu-invalid",
                    test_sq_cpu_invalid);
    g_test_add_func("/virtio-blk-uring/properties/entries-zero",
                    test_entries_zero);
    g_test_add_func("/virtio-blk-uring/properties/without-passthrough",
                    test_without_passthrough);
    return g_test_run();
}
