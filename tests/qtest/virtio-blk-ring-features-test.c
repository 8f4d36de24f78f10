/*
 * The ring features of virtio-blk-pci and the properties that choose them,
 * with QEMU's names and defaults: packed= (VIRTIO_F_RING_PACKED, off unless
 * asked for: drivers written against QEMU take packed rings whenever they
 * are offered), event_idx= and indirect_desc= (on).  A feature the device
 * does not offer cannot be negotiated (FEATURES_OK does not stick), and the
 * device works with what is left.
 */
#include <glib.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE            (128ULL << 20)
#define IMAGE_SIZE          (1ULL << 20)
#define RING_FEATURES       (VIRTIO_BIT(VIRTIO_F_RING_PACKED) | \
                             VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
                             VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))
#define STATUS_TO_DRIVER    (VIRTIO_CONFIG_S_ACKNOWLEDGE | \
                             VIRTIO_CONFIG_S_DRIVER)

typedef struct RingFeaturesCase {
    const char *path;
    const char *props;          /* appended to -device virtio-blk-pci */
    uint64_t offered;           /* of RING_FEATURES */
} RingFeaturesCase;

static const RingFeaturesCase cases[] = {
    { "/virtio-blk/ring-features/default", "",
      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) },
    { "/virtio-blk/ring-features/packed-on", ",packed=on", RING_FEATURES },
    { "/virtio-blk/ring-features/packed-off", ",packed=off",
      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) },
    { "/virtio-blk/ring-features/event-idx-off", ",event_idx=off",
      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) },
    { "/virtio-blk/ring-features/indirect-desc-off", ",indirect_desc=off",
      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) },
    { "/virtio-blk/ring-features/all-off",
      ",packed=off,event_idx=off,indirect_desc=off", 0 },
};

/* Reset, ACKNOWLEDGE, DRIVER, accept features, ask for FEATURES_OK. */
static uint8_t try_features(QVirtioPCIDevice *d, uint64_t features)
{
    qvirtio_pci_reset(d);
    qvirtio_pci_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    qvirtio_pci_set_status(d, STATUS_TO_DRIVER);
    qvirtio_pci_write_driver_features(d, features);
    qvirtio_pci_set_status(d, STATUS_TO_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    return qvirtio_pci_get_status(d);
}

/*
 * The device offers exactly the ring features its properties ask for; a
 * driver that accepts one more is refused; a driver that takes what is
 * offered (split rings) reads the image back.
 */
static void test_case(gconstpointer data)
{
    const RingFeaturesCase *c = data;
    BlkImage *image = blk_image_new(IMAGE_SIZE);
    GuestAlloc *alloc = guest_alloc_new_for_ram(RAM_SIZE);
    QTestState *qts;
    QVirtioBlk *blk;
    QVirtioBlkSetup setup = { .features = RING_FEATURES };
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];
    uint64_t offered;

    qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw "
                      "-device virtio-blk-pci,drive=d0%s", image->path,
                      c->props);
    blk_image_detach(image);
    blk = qvirtio_blk_pci_new(qts, alloc);
    offered = qvirtio_pci_device_features(&blk->vdev);
    g_assert_cmphex(offered & RING_FEATURES, ==, c->offered);
    for (unsigned bit = 0; bit < 64; bit++) {
        uint64_t f = VIRTIO_BIT(bit);

        if ((RING_FEATURES & f) && !(offered & f)) {
            g_assert_cmphex(try_features(&blk->vdev,
                                         VIRTIO_BIT(VIRTIO_F_VERSION_1) | f),
                            ==, STATUS_TO_DRIVER);
        }
    }
    qvirtio_blk_pci_start(blk, &setup);
    g_assert_cmphex(blk->vdev.features & RING_FEATURES, ==,
                    c->offered & ~VIRTIO_BIT(VIRTIO_F_RING_PACKED));
    g_assert_cmpuint(qvirtio_blk_read(blk->vq, 3, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, blk_image_sector_byte(3));
    }
    qvirtio_blk_pci_free(blk);
    guest_alloc_destroy(alloc);
    qtest_quit(qts);
    blk_image_free(image);
}

/* A value that is not a boolean is refused with QEMU's words. */
static void test_bad_value(void)
{
    static const char *const props[] = { "packed", "event_idx",
                                         "indirect_desc" };

    for (unsigned i = 0; i < G_N_ELEMENTS(props); i++) {
        g_autofree char *args = g_strdup_printf(
            "-accel qtest -display none -nodefaults "
            "-device virtio-blk-pci,%s=maybe", props[i]);
        g_autofree char *expected = g_strdup_printf(
            "qemu-system-x86_64: -device virtio-blk-pci,%s=maybe: "
            "Parameter '%s' expects 'on' or 'off'\n", props[i], props[i]);
        g_autofree char *err = NULL;

        g_assert_cmpint(qtest_run_vmm(NULL, args, &err), ==, 1);
        g_assert_cmpstr(err, ==, expected);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_add_data_func(cases[i].path, &cases[i], test_case);
    }
    g_test_add_func("/virtio-blk/ring-features/bad-value", test_bad_value);
    return g_test_run();
}
