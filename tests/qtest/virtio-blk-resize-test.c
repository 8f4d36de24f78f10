/*
 * QMP's block_resize under a running virtio-blk device: the guest-visible
 * capacity changes with a configuration change interrupt (MSI-X config
 * vector, or ISR bit 1 with INTx) and a new configuration generation,
 * requests follow the new end, the image file has the new size; refusals
 * (an unknown drive, a negative size, a read-only drive) in QEMU's words.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (1ULL << 20)
#define SECTORS(bytes)  ((bytes) / VIRTIO_BLK_SECTOR_SIZE)
#define CONFIG_VECTOR   1
#define CONFIG_MSI_DATA 0xc0f1
#define WAIT_US         (5 * 1000 * 1000)

typedef struct ResizeFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
    bool msix;
    uint64_t config_msi;        /* where the config vector's message lands */
} ResizeFixture;

typedef struct ResizeMode {
    bool msix;
    const char *drive_opts, *dev_opts;
} ResizeMode;

static void resize_setup(ResizeFixture *f, gconstpointer data)
{
    const ResizeMode *m = data;
    QVirtioBlkSetup setup = {
        .features = VIRTIO_BIT(VIRTIO_BLK_F_FLUSH), .msix = m->msix,
    };
    QVirtioPCIDevice *d;

    f->msix = m->msix;
    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-object iothread,id=io0 "
                         "-drive file=%s,if=none,id=d0,format=raw%s "
                         "-device virtio-blk-pci,drive=d0%s",
                         f->image->path, m->drive_opts, m->dev_opts);
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    qvirtio_blk_pci_start(f->blk, &setup);
    d = &f->blk->vdev;
    if (f->msix) {
        f->config_msi = guest_alloc(f->alloc, 4);
        qtest_writel(f->qts, f->config_msi, 0);
        qpci_msix_set_vector(&d->msix, CONFIG_VECTOR, f->config_msi,
                             CONFIG_MSI_DATA);
        qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_MSIX, CONFIG_VECTOR);
    }
    /* Nothing pending yet */
    g_assert_cmpuint(qvirtio_pci_read_isr(d) & 2, ==, 0);
}

static void resize_teardown(ResizeFixture *f, gconstpointer data)
{
    qvirtio_blk_pci_free(f->blk);
    if (f->config_msi) {
        guest_free(f->alloc, f->config_msi);
    }
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

static uint64_t capacity(ResizeFixture *f)
{
    return qvirtio_pci_config_readq(&f->blk->vdev, VIRTIO_BLK_CFG_CAPACITY);
}

static uint64_t image_file_size(ResizeFixture *f)
{
    struct stat st;

    g_assert_cmpint(fstat(f->image->fd, &st), ==, 0);
    return st.st_size;
}

static uint8_t generation(ResizeFixture *f)
{
    return qvirtio_pci_common_readb(&f->blk->vdev,
                                    VIRTIO_PCI_COMMON_CFGGENERATION);
}

/* The configuration change interrupt came (once). */
static void expect_config_interrupt(ResizeFixture *f)
{
    QVirtioPCIDevice *d = &f->blk->vdev;

    if (f->msix) {
        g_assert_true(qpci_msix_wait(f->qts, f->config_msi, CONFIG_MSI_DATA,
                                     WAIT_US));
        qtest_writel(f->qts, f->config_msi, 0);
    }
    /* ISR bit 1, a configuration change (INTx's cause; reading clears it) */
    g_assert_cmpuint(qvirtio_pci_read_isr(d) & 2, ==, 2);
}

/* block_resize's reply (a new reference); args: its arguments. */
static JsonObject *block_resize(ResizeFixture *f, const char *args)
{
    return qtest_qmp(f->qts, "{'execute': 'block_resize', 'arguments': %s}",
                     args);
}

static void resize(ResizeFixture *f, uint64_t size)
{
    g_autofree char *args = g_strdup_printf("{'device': 'd0', 'size': %"
                                            PRIu64 "}", size);
    g_autoptr(JsonObject) reply = block_resize(f, args);

    qmp_reply_return(reply);
}

/* block_resize with args fails with class and desc (QEMU 7.2's). */
static void expect_refusal(ResizeFixture *f, const char *args,
                           const char *class, const char *desc)
{
    g_autoptr(JsonObject) reply = block_resize(f, args);

    g_assert_cmpstr(qmp_reply_error_class(reply), ==, class);
    g_assert_cmpstr(qmp_reply_error_desc(reply), ==, desc);
}

/* Nothing changed: the capacity, the file, no configuration interrupt. */
static void expect_unchanged(ResizeFixture *f)
{
    g_assert_cmpuint(capacity(f), ==, SECTORS(IMAGE_SIZE));
    g_assert_cmpuint(image_file_size(f), ==, IMAGE_SIZE);
    g_assert_cmpuint(qvirtio_pci_read_isr(&f->blk->vdev) & 2, ==, 0);
}

/* Grown: the guest sees more, writes up to the new end reach the file. */
static void test_grow(ResizeFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    g_autofree uint8_t *buf = g_malloc(4096);
    g_autofree uint8_t *back = g_malloc0(4096);
    uint8_t gen = generation(f);

    g_assert_cmpuint(capacity(f), ==, SECTORS(IMAGE_SIZE));
    g_assert_cmpuint(qvirtio_blk_write(vq, SECTORS(IMAGE_SIZE), buf, 4096),
                     ==, VIRTIO_BLK_S_IOERR);
    resize(f, 2 * IMAGE_SIZE);
    expect_config_interrupt(f);
    g_assert_cmpuint(generation(f), !=, gen);
    g_assert_cmpuint(capacity(f), ==, SECTORS(2 * IMAGE_SIZE));
    g_assert_cmpuint(image_file_size(f), ==, 2 * IMAGE_SIZE);

    memset(buf, 0x6b, 4096);
    g_assert_cmpuint(qvirtio_blk_write(vq, SECTORS(2 * IMAGE_SIZE) - 8, buf,
                                       4096), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_read(vq, SECTORS(2 * IMAGE_SIZE) - 8, back,
                                      4096), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpmem(back, 4096, buf, 4096);
    blk_image_pread(f->image, 2 * IMAGE_SIZE - 4096, back, 4096);
    g_assert_cmpmem(back, 4096, buf, 4096);
    g_assert_cmpuint(qvirtio_blk_write(vq, SECTORS(2 * IMAGE_SIZE), buf,
                                       512), ==, VIRTIO_BLK_S_IOERR);
}

/* Shrunk: the guest sees less, requests past the new end fail. */
static void test_shrink(ResizeFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    g_autofree uint8_t *buf = g_malloc0(4096);

    resize(f, IMAGE_SIZE / 2);
    expect_config_interrupt(f);
    g_assert_cmpuint(capacity(f), ==, SECTORS(IMAGE_SIZE / 2));
    g_assert_cmpuint(image_file_size(f), ==, IMAGE_SIZE / 2);
    g_assert_cmpuint(qvirtio_blk_read(vq, SECTORS(IMAGE_SIZE / 2), buf, 512),
                     ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_read(vq, SECTORS(IMAGE_SIZE / 2) - 1, buf,
                                      512), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(buf[0], ==,
                     blk_image_sector_byte(SECTORS(IMAGE_SIZE / 2) - 1));
}

/* A read-only drive is refused, whatever the size; nothing changes. */
static void test_read_only(ResizeFixture *f, gconstpointer data)
{
    expect_refusal(f, "{'device': 'd0', 'size': 2097152}", "GenericError",
                   "Image is read-only");
    expect_refusal(f, "{'device': 'd0', 'size': 0}", "GenericError",
                   "Image is read-only");
    expect_unchanged(f);
}

/*
 * Drives that are not there: by name, by node name, neither given.  As in
 * QEMU 7.2 (bdrv_lookup_bs()), a GenericError that quotes both names.
 */
static void test_unknown_drive(ResizeFixture *f, gconstpointer data)
{
    expect_refusal(f, "{'device': 'd9', 'size': 2097152}", "GenericError",
                   "Cannot find device='d9' nor node-name=''");
    expect_refusal(f, "{'node-name': 'n9', 'size': 2097152}", "GenericError",
                   "Cannot find device='' nor node-name='n9'");
    expect_refusal(f, "{'size': 2097152}", "GenericError",
                   "Cannot find device='' nor node-name=''");
    expect_unchanged(f);
}

/* A negative size is refused before the drive is touched. */
static void test_negative_size(ResizeFixture *f, gconstpointer data)
{
    expect_refusal(f, "{'device': 'd0', 'size': -1}", "GenericError",
                   "Parameter 'size' expects a >0 size");
    expect_refusal(f, "{'device': 'd0', 'size': -9223372036854775808}",
                   "GenericError", "Parameter 'size' expects a >0 size");
    expect_unchanged(f);
}

int main(int argc, char **argv)
{
    static const ResizeMode msix = { true, "", "" };
    static const ResizeMode intx = { false, "", "" };
    static const ResizeMode iothread = { true, "", ",iothread=io0" };
    static const ResizeMode readonly = { true, ",readonly=on", "" };
    static const struct {
        const char *path;
        const ResizeMode *mode;
        void (*fn)(ResizeFixture *f, gconstpointer data);
    } tests[] = {
        { "/virtio-blk/resize/grow/msix", &msix, test_grow },
        { "/virtio-blk/resize/grow/intx", &intx, test_grow },
        { "/virtio-blk/resize/grow/iothread", &iothread, test_grow },
        { "/virtio-blk/resize/shrink/msix", &msix, test_shrink },
        { "/virtio-blk/resize/shrink/iothread", &iothread, test_shrink },
        { "/virtio-blk/resize/refused/read-only", &readonly,
          test_read_only },
        { "/virtio-blk/resize/refused/unknown-drive", &msix,
          test_unknown_drive },
        { "/virtio-blk/resize/refused/negative-size", &msix,
          test_negative_size },
    };

    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(tests); i++) {
        g_test_add(tests[i].path, ResizeFixture, tests[i].mode, resize_setup,
                   tests[i].fn, resize_teardown);
    }
    return g_test_run();
}
