/*
 * The virtio PCI transport of virtio-blk-pci, register by register (virtio
 * 1.2, 3.1 and 4.1): feature negotiation and its failures, the
 * VIRTIO_PCI_CAP_PCI_CFG window, what a reset restores, and register
 * values a driver must not write (bad queue sizes, MSI-X vectors beyond
 * the table, rings outside RAM, notifications for queues that do not
 * work), which the device ignores or answers with NEEDS_RESET.
 */
#include <glib.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE            (128ULL << 20)
#define IMAGE_SIZE          (1ULL << 20)
#define DEVICE_QUEUE_SIZE   256     /* the queue-size property's default */
#define FEATURES            (VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | \
                             VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | \
                             VIRTIO_BIT(VIRTIO_F_EVENT_IDX))
#define STATUS_TO_DRIVER    (VIRTIO_CONFIG_S_ACKNOWLEDGE | \
                             VIRTIO_CONFIG_S_DRIVER)

typedef struct TransportFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
    QVirtioPCIDevice *vdev;
} TransportFixture;

/* A VMM whose device has num_queues queues, found but not initialized. */
static void start_iothread(TransportFixture *f, unsigned num_queues,
                           bool iothread)
{
    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw %s "
                         "-device virtio-blk-pci,drive=d0,num-queues=%u%s",
                         f->image->path,
                         iothread ? "-object iothread,id=io0" : "",
                         num_queues, iothread ? ",iothread=io0" : "");
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    f->vdev = &f->blk->vdev;
}

static void start(TransportFixture *f, unsigned num_queues)
{
    start_iothread(f, num_queues, false);
}

static void finish(TransportFixture *f)
{
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

static void init_device(TransportFixture *f, uint16_t num_queues)
{
    QVirtioBlkSetup setup = {
        .features = FEATURES, .msix = true, .num_queues = num_queues,
    };

    qvirtio_blk_pci_start(f->blk, &setup);
}

/* The device works: sector 9 reads back as the image has it. */
static void assert_read_works(TransportFixture *f, QVirtQueue *vq)
{
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];

    g_assert_cmpuint(qvirtio_blk_read(vq, 9, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, blk_image_sector_byte(9));
    }
}

static uint16_t common_readw(TransportFixture *f, uint32_t off)
{
    return qvirtio_pci_common_readw(f->vdev, off);
}

static void common_writew(TransportFixture *f, uint32_t off, uint16_t v)
{
    qvirtio_pci_common_writew(f->vdev, off, v);
}

/* Reset, ACKNOWLEDGE, DRIVER, offer features, ask for FEATURES_OK. */
static uint8_t try_features(TransportFixture *f, uint64_t features)
{
    qvirtio_pci_reset(f->vdev);
    qvirtio_pci_set_status(f->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    qvirtio_pci_set_status(f->vdev, STATUS_TO_DRIVER);
    qvirtio_pci_write_driver_features(f->vdev, features);
    qvirtio_pci_set_status(f->vdev,
                           STATUS_TO_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    return qvirtio_pci_get_status(f->vdev);
}

/* A driver that omits VERSION_1 (a legacy one) gets no FEATURES_OK (6.1). */
static void test_no_version_1(void)
{
    TransportFixture f;
    uint64_t offered;

    start(&f, 1);
    offered = qvirtio_pci_device_features(f.vdev);
    g_assert_true(offered & VIRTIO_BIT(VIRTIO_F_VERSION_1));
    g_assert_cmphex(try_features(&f, offered &
                                 ~VIRTIO_BIT(VIRTIO_F_VERSION_1)), ==,
                    STATUS_TO_DRIVER);
    g_assert_cmphex(try_features(&f, 0), ==, STATUS_TO_DRIVER);
    /* After a reset, a modern driver gets the device. */
    init_device(&f, 1);
    assert_read_works(&f, f.blk->vq);
    finish(&f);
}

/* Accepting a feature the device did not offer fails FEATURES_OK. */
static void test_unoffered_feature(void)
{
    static const unsigned bits[] = {
        0 /* legacy BARRIER */, 7 /* legacy SCSI */, VIRTIO_BLK_F_RO,
        VIRTIO_F_IN_ORDER, 63,
    };
    TransportFixture f;
    uint64_t offered;

    start(&f, 1);
    offered = qvirtio_pci_device_features(f.vdev);
    for (unsigned i = 0; i < G_N_ELEMENTS(bits); i++) {
        g_assert_false(offered & VIRTIO_BIT(bits[i]));
        g_assert_cmphex(try_features(&f, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
                                         VIRTIO_BIT(bits[i])), ==,
                        STATUS_TO_DRIVER);
    }
    init_device(&f, 1);
    assert_read_works(&f, f.blk->vq);
    finish(&f);
}

/* Once FEATURES_OK is set, driver feature writes are ignored. */
static void test_features_frozen(void)
{
    TransportFixture f;
    uint64_t negotiated;

    start(&f, 1);
    init_device(&f, 1);
    negotiated = qvirtio_pci_driver_features(f.vdev);
    g_assert_cmphex(negotiated, ==, f.vdev->features);
    qvirtio_pci_write_driver_features(f.vdev, 0);
    g_assert_cmphex(qvirtio_pci_driver_features(f.vdev), ==, negotiated);
    qvirtio_pci_write_driver_features(f.vdev,
                                      qvirtio_pci_device_features(f.vdev));
    g_assert_cmphex(qvirtio_pci_driver_features(f.vdev), ==, negotiated);
    assert_read_works(&f, f.blk->vq);
    finish(&f);
}

/*
 * The driver must not clear status bits (2.1.2): a hostile one that tries
 * to, so as to unfreeze the features or start the device twice, gets
 * nowhere.
 */
static void test_status_bits_sticky(gconstpointer data)
{
    bool iothread = GPOINTER_TO_INT(data);
    const uint8_t running = STATUS_TO_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
                            VIRTIO_CONFIG_S_DRIVER_OK;
    TransportFixture f;
    uint64_t negotiated;

    start_iothread(&f, 1, iothread);
    init_device(&f, 1);
    negotiated = qvirtio_pci_driver_features(f.vdev);
    qvirtio_pci_set_status(f.vdev, STATUS_TO_DRIVER |
                                   VIRTIO_CONFIG_S_DRIVER_OK);
    g_assert_cmphex(qvirtio_pci_get_status(f.vdev), ==, running);
    qvirtio_pci_write_driver_features(f.vdev, 0);
    g_assert_cmphex(qvirtio_pci_driver_features(f.vdev), ==, negotiated);
    qvirtio_pci_set_status(f.vdev, STATUS_TO_DRIVER |
                                   VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_cmphex(qvirtio_pci_get_status(f.vdev), ==, running);
    qvirtio_pci_set_status(f.vdev, running);
    g_assert_cmphex(qvirtio_pci_get_status(f.vdev), ==, running);
    assert_read_works(&f, f.blk->vq);
    finish(&f);
}

static unsigned bar_index(TransportFixture *f, const QVirtioPCIRegion *r)
{
    return r->bar - f->blk->pdev->bars;
}

/* The VIRTIO_PCI_CAP_PCI_CFG window reaches the same registers (4.1.4.9). */
static void test_pci_cfg_window(void)
{
    TransportFixture f;
    unsigned common_bar, device_bar;
    uint64_t common, device;

    start(&f, 2);
    init_device(&f, 2);
    common_bar = bar_index(&f, &f.vdev->common);
    common = f.vdev->common.offset;
    device_bar = bar_index(&f, &f.vdev->device);
    device = f.vdev->device.offset;

    qvirtio_pci_common_writel(f.vdev, VIRTIO_PCI_COMMON_DFSELECT, 1);
    g_assert_cmphex(qvirtio_pci_cfg_window_read(f.vdev, common_bar,
                                                common + VIRTIO_PCI_COMMON_DF,
                                                4), ==,
                    qvirtio_pci_device_features(f.vdev) >> 32);
    g_assert_cmpuint(qvirtio_pci_cfg_window_read(f.vdev, common_bar,
                                                 common +
                                                 VIRTIO_PCI_COMMON_NUMQ, 2),
                     ==, 2);
    g_assert_cmphex(qvirtio_pci_cfg_window_read(f.vdev, common_bar,
                                                common +
                                                VIRTIO_PCI_COMMON_STATUS, 1),
                    ==, qvirtio_pci_get_status(f.vdev));
    g_assert_cmpuint(qvirtio_pci_cfg_window_read(f.vdev, device_bar,
                                                 device +
                                                 VIRTIO_BLK_CFG_CAPACITY, 4),
                     ==, f.blk->capacity);

    /* A write through the window: select queue 1, read its vector. */
    qvirtio_pci_cfg_window_write(f.vdev, common_bar,
                                 common + VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_SELECT), ==, 1);
    g_assert_cmpuint(qvirtio_pci_cfg_window_read(f.vdev, common_bar,
                                                 common +
                                                 VIRTIO_PCI_COMMON_Q_MSIX, 2),
                     ==, 1);

    /*
     * Windows the device does not take (misaligned, past the BAR, BARs
     * that are not implemented) do no harm, whatever they read.
     */
    qvirtio_pci_cfg_window_read(f.vdev, common_bar, common + 1, 2);
    qvirtio_pci_cfg_window_write(f.vdev, common_bar,
                                 common + VIRTIO_PCI_COMMON_STATUS - 1, 2, 0);
    qvirtio_pci_cfg_window_read(f.vdev, common_bar, UINT32_MAX - 1, 2);
    qvirtio_pci_cfg_window_write(f.vdev, common_bar, UINT32_MAX - 1, 2, 0);
    qvirtio_pci_cfg_window_write(f.vdev, 0, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    qvirtio_pci_cfg_window_write(f.vdev, 0xff, VIRTIO_PCI_COMMON_STATUS, 1,
                                 0);
    g_assert_cmphex(qvirtio_pci_get_status(f.vdev), ==,
                    STATUS_TO_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
                    VIRTIO_CONFIG_S_DRIVER_OK);
    assert_read_works(&f, f.blk->vqs[1]);
    finish(&f);
}

/* Queue registers as a reset leaves them (4.1.4.3). */
static void assert_queue_defaults(TransportFixture *f, uint16_t queue)
{
    common_writew(f, VIRTIO_PCI_COMMON_Q_SELECT, queue);
    g_assert_cmpuint(common_readw(f, VIRTIO_PCI_COMMON_Q_SIZE), ==,
                     DEVICE_QUEUE_SIZE);
    g_assert_cmphex(common_readw(f, VIRTIO_PCI_COMMON_Q_MSIX), ==,
                    VIRTIO_MSI_NO_VECTOR);
    g_assert_cmpuint(common_readw(f, VIRTIO_PCI_COMMON_Q_ENABLE), ==, 0);
    for (uint32_t off = VIRTIO_PCI_COMMON_Q_DESCLO;
         off <= VIRTIO_PCI_COMMON_Q_USEDHI; off += 4) {
        g_assert_cmphex(qvirtio_pci_common_readl(f->vdev, off), ==, 0);
    }
}

/* A reset restores every default; the device then works from scratch. */
static void test_reset_defaults(gconstpointer data)
{
    bool iothread = GPOINTER_TO_INT(data);
    QVirtioBlkSetup setup = {
        .features = FEATURES, .msix = true, .num_queues = 2,
        .queue_size = 64,
    };
    TransportFixture f;

    start_iothread(&f, 2, iothread);
    qvirtio_blk_pci_start(f.blk, &setup);
    common_writew(&f, VIRTIO_PCI_COMMON_MSIX, 2);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_MSIX), ==, 2);
    assert_read_works(&f, f.blk->vqs[1]);

    qvirtio_blk_pci_stop(f.blk);
    g_assert_cmphex(qvirtio_pci_get_status(f.vdev), ==, 0);
    g_assert_cmphex(qvirtio_pci_driver_features(f.vdev), ==, 0);
    g_assert_cmphex(common_readw(&f, VIRTIO_PCI_COMMON_MSIX), ==,
                    VIRTIO_MSI_NO_VECTOR);
    g_assert_cmphex(qvirtio_pci_read_isr(f.vdev), ==, 0);
    assert_queue_defaults(&f, 0);
    assert_queue_defaults(&f, 1);

    init_device(&f, 2);
    assert_read_works(&f, f.blk->vqs[0]);
    assert_read_works(&f, f.blk->vqs[1]);
    finish(&f);
}

/* queue_size must be a power of two up to the maximum: others are ignored. */
static void test_bad_queue_size(void)
{
    static const uint16_t bad[] = { 0, 3, 100, 2 * DEVICE_QUEUE_SIZE, 2048,
                                    UINT16_MAX };
    TransportFixture f;
    QVirtQueue *vq;

    start(&f, 1);
    qvirtio_pci_negotiate(f.vdev, FEATURES | VIRTIO_BIT(VIRTIO_F_VERSION_1));
    qvirtio_pci_enable_msix(f.vdev);
    common_writew(&f, VIRTIO_PCI_COMMON_Q_SELECT, 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        common_writew(&f, VIRTIO_PCI_COMMON_Q_SIZE, bad[i]);
        g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_SIZE), ==,
                         DEVICE_QUEUE_SIZE);
    }
    common_writew(&f, VIRTIO_PCI_COMMON_Q_SIZE, 32);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_SIZE), ==, 32);
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        common_writew(&f, VIRTIO_PCI_COMMON_Q_SIZE, bad[i]);
        g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_SIZE), ==, 32);
    }

    /* qvirtio_pci_queue_setup() takes the size the register holds. */
    vq = qvirtio_pci_queue_setup(f.vdev, f.alloc, 0, 0, 0);
    g_assert_cmpuint(vq->size, ==, 32);
    /* An enabled queue's size is fixed. */
    common_writew(&f, VIRTIO_PCI_COMMON_Q_SIZE, 16);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_SIZE), ==, 32);
    qvirtio_pci_driver_ok(f.vdev);
    assert_read_works(&f, vq);
    qvirtio_pci_reset(f.vdev);
    qvirtqueue_free(vq);
    finish(&f);
}

/* Vectors beyond the MSI-X table read back as NO_VECTOR (4.1.4.3). */
static void test_msix_vector_range(void)
{
    TransportFixture f;
    uint16_t nr_vectors;

    start(&f, 1);
    init_device(&f, 1);
    nr_vectors = f.vdev->msix.nr_vectors;
    g_assert_cmpuint(nr_vectors, ==, 2);    /* one queue and config */
    const uint16_t bad[] = { nr_vectors, nr_vectors + 1, 0x7ff, 0x8000,
                             0xfffe };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        common_writew(&f, VIRTIO_PCI_COMMON_Q_SELECT, 0);
        common_writew(&f, VIRTIO_PCI_COMMON_Q_MSIX, bad[i]);
        g_assert_cmphex(common_readw(&f, VIRTIO_PCI_COMMON_Q_MSIX), ==,
                        VIRTIO_MSI_NO_VECTOR);
        common_writew(&f, VIRTIO_PCI_COMMON_MSIX, bad[i]);
        g_assert_cmphex(common_readw(&f, VIRTIO_PCI_COMMON_MSIX), ==,
                        VIRTIO_MSI_NO_VECTOR);
    }
    common_writew(&f, VIRTIO_PCI_COMMON_MSIX, nr_vectors - 1);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_MSIX), ==,
                     nr_vectors - 1);

    /* A queue that does not exist: size 0, and it cannot be enabled. */
    common_writew(&f, VIRTIO_PCI_COMMON_Q_SELECT, 5);
    common_writew(&f, VIRTIO_PCI_COMMON_Q_MSIX, 0);
    common_writew(&f, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_SIZE), ==, 0);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_ENABLE), ==, 0);
    g_assert_false(qvirtio_pci_get_status(f.vdev) &
                   VIRTIO_CONFIG_S_NEEDS_RESET);

    /* Queue 0 back on its vector works again. */
    common_writew(&f, VIRTIO_PCI_COMMON_Q_SELECT, 0);
    common_writew(&f, VIRTIO_PCI_COMMON_Q_MSIX, 0);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_MSIX), ==, 0);
    assert_read_works(&f, f.blk->vq);
    finish(&f);
}

/* Where a bad ring is placed, for queue-outside-ram. */
typedef struct BadRing {
    const char *name;
    uint32_t reg;               /* VIRTIO_PCI_COMMON_Q_DESCLO, ... */
    uint64_t addr;
} BadRing;

static const BadRing bad_rings[] = {
    { "desc-across-ram-end", VIRTIO_PCI_COMMON_Q_DESCLO,
      RAM_SIZE - VRING_DESC_SIZE },
    { "avail-across-ram-end", VIRTIO_PCI_COMMON_Q_AVAILLO, RAM_SIZE - 2 },
    { "used-past-ram-end", VIRTIO_PCI_COMMON_Q_USEDLO, RAM_SIZE },
    { "desc-in-pci-hole", VIRTIO_PCI_COMMON_Q_DESCLO,
      QPCI_MMIO_WINDOW_START },
    { "used-wrapping", VIRTIO_PCI_COMMON_Q_USEDLO, 0xfffffffffffff000ULL },
    { "desc-misaligned", VIRTIO_PCI_COMMON_Q_DESCLO, 0x200008 },
};

/*
 * Enabling a queue whose rings are not in RAM (or misaligned) gives
 * NEEDS_RESET and a configuration interrupt; the queue stays disabled; a
 * reset brings the device back.
 */
static void test_queue_outside_ram(gconstpointer data)
{
    const BadRing *bad = data;
    TransportFixture f;
    QVirtQueue *vq;

    start(&f, 1);
    qvirtio_pci_negotiate(f.vdev, FEATURES | VIRTIO_BIT(VIRTIO_F_VERSION_1));
    vq = qvirtqueue_new(f.qts, f.alloc, 0, DEVICE_QUEUE_SIZE, true);
    common_writew(&f, VIRTIO_PCI_COMMON_Q_SELECT, 0);
    qvirtio_pci_common_writeq(f.vdev, VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc);
    qvirtio_pci_common_writeq(f.vdev, VIRTIO_PCI_COMMON_Q_AVAILLO,
                              vq->avail);
    qvirtio_pci_common_writeq(f.vdev, VIRTIO_PCI_COMMON_Q_USEDLO, vq->used);
    qvirtio_pci_common_writeq(f.vdev, bad->reg, bad->addr);
    common_writew(&f, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    g_assert_cmpuint(common_readw(&f, VIRTIO_PCI_COMMON_Q_ENABLE), ==, 0);
    g_assert_true(qvirtio_pci_wait_status(f.vdev,
                                          VIRTIO_CONFIG_S_NEEDS_RESET,
                                          QVIRTIO_TIMEOUT_US));
    /* Without MSI-X, the configuration change shows in the ISR (2.1.2). */
    g_assert_cmphex(qvirtio_pci_read_isr(f.vdev), ==, VIRTIO_PCI_ISR_CONFIG);
    /* Only a reset clears NEEDS_RESET. */
    qvirtio_pci_set_status(f.vdev,
                           STATUS_TO_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_true(qvirtio_pci_get_status(f.vdev) &
                  VIRTIO_CONFIG_S_NEEDS_RESET);
    qvirtqueue_free(vq);

    init_device(&f, 1);
    g_assert_false(qvirtio_pci_get_status(f.vdev) &
                   VIRTIO_CONFIG_S_NEEDS_RESET);
    assert_read_works(&f, f.blk->vq);
    finish(&f);
}

/*
 * Notifications that name no working queue: one never enabled, indices
 * beyond num_queues, a bogus index written to a live queue's address, and
 * one before the queue is set up.  The device ignores them all.
 */
static void test_bogus_notify(void)
{
    TransportFixture f;

    start(&f, 2);
    qvirtio_pci_negotiate(f.vdev, FEATURES | VIRTIO_BIT(VIRTIO_F_VERSION_1));
    qvirtio_pci_notify_raw(f.vdev, 0, 0);
    qvirtio_pci_notify_raw(f.vdev, 1, 1);
    init_device(&f, 1);     /* queue 1 stays disabled */
    qvirtio_pci_notify_raw(f.vdev, 1, 1);
    qvirtio_pci_notify_raw(f.vdev, 2, 2);
    qvirtio_pci_notify_raw(f.vdev, 100, 100);
    qvirtio_pci_notify_raw(f.vdev, 0, 9);
    qvirtio_pci_notify_raw(f.vdev, 0, UINT16_MAX);
    assert_read_works(&f, f.blk->vq);
    g_assert_cmphex(qvirtio_pci_get_status(f.vdev), ==,
                    STATUS_TO_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
                    VIRTIO_CONFIG_S_DRIVER_OK);
    finish(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk/transport/no-version-1", test_no_version_1);
    g_test_add_func("/virtio-blk/transport/unoffered-feature",
                    test_unoffered_feature);
    g_test_add_func("/virtio-blk/transport/features-frozen",
                    test_features_frozen);
    g_test_add_data_func("/virtio-blk/transport/status-bits-sticky/main-loop",
                         GINT_TO_POINTER(false), test_status_bits_sticky);
    g_test_add_data_func("/virtio-blk/transport/status-bits-sticky/iothread",
                         GINT_TO_POINTER(true), test_status_bits_sticky);
    g_test_add_func("/virtio-blk/transport/pci-cfg-window",
                    test_pci_cfg_window);
    g_test_add_data_func("/virtio-blk/transport/reset-defaults/main-loop",
                         GINT_TO_POINTER(false), test_reset_defaults);
    g_test_add_data_func("/virtio-blk/transport/reset-defaults/iothread",
                         GINT_TO_POINTER(true), test_reset_defaults);
    g_test_add_func("/virtio-blk/transport/bad-queue-size",
                    test_bad_queue_size);
    g_test_add_func("/virtio-blk/transport/msix-vector-range",
                    test_msix_vector_range);
    for (unsigned i = 0; i < G_N_ELEMENTS(bad_rings); i++) {
        g_autofree char *path =
            g_strdup_printf("/virtio-blk/transport/queue-outside-ram/%s",
                            bad_rings[i].name);
        g_test_add_data_func(path, &bad_rings[i], test_queue_outside_ram);
    }
    g_test_add_func("/virtio-blk/transport/bogus-notify", test_bogus_notify);
    return g_test_run();
}
