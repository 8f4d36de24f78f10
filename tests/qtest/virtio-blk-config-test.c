/*
 * virtio-blk configuration space (virtio 1.2, 5.2.4) and the -device and
 * -drive properties behind it: what each field says, and that the device
 * behaves as it says (request limits, the write cache, read-only drives,
 * features switched off, the serial number).
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE            (128ULL << 20)
#define IMAGE_SIZE          (1ULL << 20)
#define IMAGE_SECTORS       (IMAGE_SIZE / VIRTIO_BLK_SECTOR_SIZE)
#define ALL_FEATURES        (~0ULL)

/* struct virtio_blk_config, fields not in libqos */
#define CFG_PHYSICAL_BLOCK_EXP  24
#define CFG_ALIGNMENT_OFFSET    25
#define CFG_MIN_IO_SIZE         26
#define CFG_OPT_IO_SIZE         28
#define CFG_UNUSED0             33
#define CFG_UNUSED1             57

typedef struct ConfigFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
} ConfigFixture;

/*
 * Start a VMM with an image of image_size bytes, the drive and device
 * options given (each starting with a comma, or empty), and initialize the
 * device with the wanted features.
 */
static void start(ConfigFixture *f, uint64_t image_size,
                  const char *drive_opts, const char *device_opts,
                  uint64_t features)
{
    QVirtioBlkSetup setup = { .features = features, .msix = true };

    f->image = blk_image_new(image_size);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw%s "
                         "-device virtio-blk-pci,drive=d0%s",
                         f->image->path, drive_opts, device_opts);
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    qvirtio_blk_pci_start(f->blk, &setup);
}

static void finish(ConfigFixture *f)
{
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

static uint64_t offered(ConfigFixture *f)
{
    return qvirtio_pci_device_features(&f->blk->vdev);
}

static bool negotiated(ConfigFixture *f, unsigned bit)
{
    return f->blk->vdev.features & VIRTIO_BIT(bit);
}

static uint8_t cfg_readb(ConfigFixture *f, uint32_t off)
{
    return qvirtio_pci_config_readb(&f->blk->vdev, off);
}

static uint16_t cfg_readw(ConfigFixture *f, uint32_t off)
{
    return qvirtio_pci_config_readw(&f->blk->vdev, off);
}

static uint32_t cfg_readl(ConfigFixture *f, uint32_t off)
{
    return qvirtio_pci_config_readl(&f->blk->vdev, off);
}

static void assert_pristine(const uint8_t *buf, size_t len, uint64_t sector)
{
    for (size_t i = 0; i < len; i++) {
        g_assert_cmphex(buf[i], ==,
                        blk_image_sector_byte(sector +
                                              i / VIRTIO_BLK_SECTOR_SIZE));
    }
}

/* The defaults, on an image whose size is not a whole number of sectors. */
static void test_defaults(void)
{
    ConfigFixture f;

    start(&f, IMAGE_SIZE + 100, "", "", ALL_FEATURES);
    /* The partial last sector is not visible. */
    g_assert_cmpuint(f.blk->capacity, ==, IMAGE_SECTORS);
    g_assert_false(offered(&f) & VIRTIO_BIT(VIRTIO_BLK_F_RO));
    g_assert_false(offered(&f) & VIRTIO_BIT(VIRTIO_BLK_F_MQ));
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_FLUSH));
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_CONFIG_WCE));

    g_assert_true(negotiated(&f, VIRTIO_BLK_F_SEG_MAX));
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_SEG_MAX), >=, 1);
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_SEG_MAX), <=,
                     f.blk->vq->size - 2);
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_BLK_SIZE));
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_BLK_SIZE), ==, 512);
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_TOPOLOGY));
    g_assert_cmpuint(cfg_readb(&f, CFG_PHYSICAL_BLOCK_EXP), ==, 0);
    g_assert_cmpuint(cfg_readb(&f, CFG_ALIGNMENT_OFFSET), ==, 0);
    g_assert_cmpuint(cfg_readw(&f, CFG_MIN_IO_SIZE), ==, 0);
    g_assert_cmpuint(cfg_readl(&f, CFG_OPT_IO_SIZE), ==, 0);
    /* cache=writeback: the guest sees a volatile write cache. */
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 1);
    g_assert_cmpuint(cfg_readw(&f, VIRTIO_BLK_CFG_NUM_QUEUES), ==, 1);

    g_assert_true(negotiated(&f, VIRTIO_BLK_F_DISCARD));
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS), >=,
                     1);
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_MAX_DISCARD_SEG), ==, 1);
    g_assert_cmpuint(cfg_readl(&f,
                               VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT), ==,
                     1);
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_WRITE_ZEROES));
    g_assert_cmpuint(cfg_readl(&f,
                               VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS), >=,
                     1);
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG), ==,
                     1);
    /* discard=ignore (the -drive default): zeroes are never unmapped. */
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP), ==,
                     0);
    /* Padding reads as zero (5.2.5.2). */
    g_assert_cmpuint(cfg_readb(&f, CFG_UNUSED0), ==, 0);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_cmpuint(cfg_readb(&f, CFG_UNUSED1 + i), ==, 0);
    }
    /* Fields other than writeback are read-only. */
    qvirtio_pci_config_writeb(&f.blk->vdev, VIRTIO_BLK_CFG_CAPACITY, 0);
    qvirtio_pci_config_writeb(&f.blk->vdev, VIRTIO_BLK_CFG_BLK_SIZE + 1, 0x10);
    qvirtio_pci_config_writeb(&f.blk->vdev, VIRTIO_BLK_CFG_NUM_QUEUES, 9);
    g_assert_cmpuint(qvirtio_pci_config_readq(&f.blk->vdev,
                                              VIRTIO_BLK_CFG_CAPACITY), ==,
                     IMAGE_SECTORS);
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_BLK_SIZE), ==, 512);
    g_assert_cmpuint(cfg_readw(&f, VIRTIO_BLK_CFG_NUM_QUEUES), ==, 1);
    finish(&f);
}

/* Topology from the block size properties; capacity in whole blocks. */
static void test_block_sizes(void)
{
    ConfigFixture f;
    uint8_t buf[4096];

    start(&f, IMAGE_SIZE + 1024, "",
          ",logical_block_size=4096,physical_block_size=16384,"
          "min_io_size=8192,opt_io_size=65536", ALL_FEATURES);
    g_assert_cmpuint(f.blk->capacity, ==, IMAGE_SECTORS);
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_BLK_SIZE), ==, 4096);
    g_assert_cmpuint(cfg_readb(&f, CFG_PHYSICAL_BLOCK_EXP), ==, 2);
    g_assert_cmpuint(cfg_readw(&f, CFG_MIN_IO_SIZE), ==, 2);
    g_assert_cmpuint(cfg_readl(&f, CFG_OPT_IO_SIZE), ==, 16);
    g_assert_cmpuint(cfg_readl(&f,
                               VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT), ==,
                     8);
    g_assert_cmpuint(qvirtio_blk_read(f.blk->vq, 8, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    assert_pristine(buf, sizeof(buf), 8);
    g_assert_cmpuint(qvirtio_blk_read(f.blk->vq, IMAGE_SECTORS - 8, buf,
                                      sizeof(buf)), ==, VIRTIO_BLK_S_OK);
    assert_pristine(buf, sizeof(buf), IMAGE_SECTORS - 8);
    g_assert_cmpuint(qvirtio_blk_read(f.blk->vq, IMAGE_SECTORS, buf,
                                      sizeof(buf)), ==, VIRTIO_BLK_S_IOERR);
    finish(&f);
}

/*
 * queue-size= sets the queues' maximum size, and seg_max follows it: a read
 * of seg_max data descriptors, with header and status, fills the queue.
 */
static void test_queue_size_seg_max(void)
{
    ConfigFixture f;
    QVirtQueue *vq;
    uint32_t seg_max, len;
    g_autofree QVirtQueueBuffer *bufs = NULL;
    g_autofree uint8_t *buf = NULL;
    uint64_t hdr, payload, status;
    uint16_t head, used_head;

    start(&f, IMAGE_SIZE, "", ",queue-size=64", ALL_FEATURES);
    vq = f.blk->vq;
    g_assert_cmpuint(vq->size, ==, 64);
    seg_max = cfg_readl(&f, VIRTIO_BLK_CFG_SEG_MAX);
    g_assert_cmpuint(seg_max, ==, 62);

    hdr = guest_alloc(f.alloc, VIRTIO_BLK_OUTHDR_SIZE);
    qtest_writel(f.qts, hdr, VIRTIO_BLK_T_IN);
    qtest_writel(f.qts, hdr + 4, 0);
    qtest_writeq(f.qts, hdr + 8, 64);
    payload = guest_alloc(f.alloc, seg_max * VIRTIO_BLK_SECTOR_SIZE);
    status = guest_alloc(f.alloc, 1);
    qtest_writeb(f.qts, status, 0xff);
    bufs = g_new(QVirtQueueBuffer, seg_max + 2);
    bufs[0] = (QVirtQueueBuffer){ hdr, VIRTIO_BLK_OUTHDR_SIZE, false };
    for (uint32_t i = 0; i < seg_max; i++) {
        bufs[1 + i] = (QVirtQueueBuffer){
            payload + i * VIRTIO_BLK_SECTOR_SIZE, VIRTIO_BLK_SECTOR_SIZE, true,
        };
    }
    bufs[seg_max + 1] = (QVirtQueueBuffer){ status, 1, true };
    head = qvirtqueue_add(vq, bufs, seg_max + 2);
    g_assert_cmpuint(vq->num_free, ==, 0);
    qvirtqueue_kick(vq);
    qvirtqueue_wait_used(vq, &used_head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(used_head, ==, head);
    g_assert_cmpuint(len, ==, seg_max * VIRTIO_BLK_SECTOR_SIZE + 1);
    g_assert_cmphex(qtest_readb(f.qts, status), ==, VIRTIO_BLK_S_OK);
    buf = g_malloc(seg_max * VIRTIO_BLK_SECTOR_SIZE);
    qtest_memread(f.qts, payload, buf, seg_max * VIRTIO_BLK_SECTOR_SIZE);
    assert_pristine(buf, seg_max * VIRTIO_BLK_SECTOR_SIZE, 64);
    guest_free(f.alloc, hdr);
    guest_free(f.alloc, payload);
    guest_free(f.alloc, status);
    finish(&f);
}

/* Write a sector through the device and check it reached the image. */
static void assert_write_lands(ConfigFixture *f, uint64_t sector,
                               uint8_t byte)
{
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE], file[VIRTIO_BLK_SECTOR_SIZE];

    memset(buf, byte, sizeof(buf));
    g_assert_cmpuint(qvirtio_blk_write(f->blk->vq, sector, buf, sizeof(buf)),
                     ==, VIRTIO_BLK_S_OK);
    blk_image_pread(f->image, sector * VIRTIO_BLK_SECTOR_SIZE, file,
                    sizeof(file));
    g_assert_cmpmem(file, sizeof(file), buf, sizeof(buf));
}

/* CONFIG_WCE: the driver toggles the cache mode through writeback. */
static void test_writeback_toggle(void)
{
    ConfigFixture f;
    QVirtioBlkSetup setup = {
        .features = ALL_FEATURES, .msix = true,
    };

    start(&f, IMAGE_SIZE, "", "", ALL_FEATURES);
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 1);
    qvirtio_pci_config_writeb(&f.blk->vdev, VIRTIO_BLK_CFG_WRITEBACK, 0);
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 0);
    assert_write_lands(&f, 3, 0x11);
    g_assert_cmpuint(qvirtio_blk_flush(f.blk->vq), ==, VIRTIO_BLK_S_OK);
    qvirtio_pci_config_writeb(&f.blk->vdev, VIRTIO_BLK_CFG_WRITEBACK, 1);
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 1);
    assert_write_lands(&f, 4, 0x22);
    g_assert_cmpuint(qvirtio_blk_flush(f.blk->vq), ==, VIRTIO_BLK_S_OK);

    /* A reset brings the default mode back. */
    qvirtio_pci_config_writeb(&f.blk->vdev, VIRTIO_BLK_CFG_WRITEBACK, 0);
    qvirtio_blk_pci_stop(f.blk);
    qvirtio_blk_pci_start(f.blk, &setup);
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 1);
    finish(&f);

    /* cache=writethrough: no volatile cache until the driver wants one. */
    start(&f, IMAGE_SIZE, ",cache=writethrough", "", ALL_FEATURES);
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 0);
    assert_write_lands(&f, 5, 0x33);
    qvirtio_pci_config_writeb(&f.blk->vdev, VIRTIO_BLK_CFG_WRITEBACK, 1);
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 1);
    assert_write_lands(&f, 6, 0x44);
    g_assert_cmpuint(qvirtio_blk_flush(f.blk->vq), ==, VIRTIO_BLK_S_OK);
    finish(&f);
}

/*
 * A driver that negotiates CONFIG_WCE but not FLUSH cannot flush: the device
 * must start in writethrough mode (5.2.5.2).
 */
static void test_writeback_without_flush(void)
{
    ConfigFixture f;

    start(&f, IMAGE_SIZE, "", "",
          ALL_FEATURES & ~VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_CONFIG_WCE));
    g_assert_false(negotiated(&f, VIRTIO_BLK_F_FLUSH));
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 0);
    assert_write_lands(&f, 7, 0x55);
    finish(&f);
}

/* config-wce=off: no CONFIG_WCE, and writeback cannot be changed. */
static void test_config_wce_off(void)
{
    ConfigFixture f;

    start(&f, IMAGE_SIZE, "", ",config-wce=off", ALL_FEATURES);
    g_assert_false(offered(&f) & VIRTIO_BIT(VIRTIO_BLK_F_CONFIG_WCE));
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_FLUSH));
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 1);
    qvirtio_pci_config_writeb(&f.blk->vdev, VIRTIO_BLK_CFG_WRITEBACK, 0);
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITEBACK), ==, 1);
    g_assert_cmpuint(qvirtio_blk_flush(f.blk->vq), ==, VIRTIO_BLK_S_OK);
    finish(&f);
}

/* GET_ID: the serial NUL-padded to 20 bytes, unterminated at 20. */
static void test_serial(void)
{
    static const struct {
        const char *option;
        const char *id;         /* what GET_ID returns, up to 20 bytes */
    } cases[] = {
        { "", "" },
        { ",serial=abc", "abc" },
        { ",serial=ABCDEFGHIJ0123456789", "ABCDEFGHIJ0123456789" },
        { ",serial=ABCDEFGHIJ0123456789-truncated", "ABCDEFGHIJ0123456789" },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        char expected[VIRTIO_BLK_ID_BYTES] = { 0 }, id[VIRTIO_BLK_ID_BYTES];
        ConfigFixture f;

        memcpy(expected, cases[i].id, strlen(cases[i].id));
        start(&f, IMAGE_SIZE, "", cases[i].option, ALL_FEATURES);
        g_assert_cmpuint(qvirtio_blk_get_id(f.blk->vq, id), ==,
                         VIRTIO_BLK_S_OK);
        g_assert_cmpmem(id, sizeof(id), expected, sizeof(expected));
        finish(&f);
    }
}

/* max-discard-sectors= is the limit the driver sees and the device keeps. */
static void test_max_discard_sectors(void)
{
    ConfigFixture f;
    QVirtioBlkSegment seg = { .sector = 16, .num_sectors = 9 };

    start(&f, IMAGE_SIZE, "",
          ",max-discard-sectors=8,max-write-zeroes-sectors=4", ALL_FEATURES);
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS), ==,
                     8);
    g_assert_cmpuint(cfg_readl(&f, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS),
                     ==, 4);
    g_assert_cmpuint(qvirtio_blk_discard(f.blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_IOERR);
    seg.num_sectors = 8;
    g_assert_cmpuint(qvirtio_blk_discard(f.blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_OK);
    seg.num_sectors = 5;
    g_assert_cmpuint(qvirtio_blk_write_zeroes(f.blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_IOERR);
    seg.num_sectors = 4;
    g_assert_cmpuint(qvirtio_blk_write_zeroes(f.blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_OK);
    finish(&f);
}

/* discard=unmap on the drive: write zeroes may unmap. */
static void test_discard_unmap(void)
{
    ConfigFixture f;

    start(&f, IMAGE_SIZE, ",discard=unmap", "", ALL_FEATURES);
    g_assert_cmpuint(cfg_readb(&f, VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP), ==,
                     1);
    finish(&f);
}

/* discard=off and write-zeroes=off: features absent, requests UNSUPP. */
static void test_features_off(void)
{
    ConfigFixture f;
    QVirtioBlkSegment seg = { .sector = 20, .num_sectors = 2 };
    uint8_t buf[2 * VIRTIO_BLK_SECTOR_SIZE];

    start(&f, IMAGE_SIZE, "", ",discard=off,write-zeroes=off",
          ALL_FEATURES);
    g_assert_false(offered(&f) & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));
    g_assert_false(offered(&f) & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
    g_assert_cmpuint(qvirtio_blk_discard(f.blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(qvirtio_blk_write_zeroes(f.blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(qvirtio_blk_read(f.blk->vq, 20, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    assert_pristine(buf, sizeof(buf), 20);
    finish(&f);
}

/* A read-only drive offers RO and refuses every write: IOERR. */
static void test_read_only(void)
{
    ConfigFixture f;
    QVirtioBlkSegment seg = { .sector = 2, .num_sectors = 2 };
    uint8_t buf[2 * VIRTIO_BLK_SECTOR_SIZE], file[sizeof(buf)];
    char id[VIRTIO_BLK_ID_BYTES];

    start(&f, IMAGE_SIZE, ",readonly=on", "", ALL_FEATURES);
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_RO));
    memset(buf, 0xee, sizeof(buf));
    g_assert_cmpuint(qvirtio_blk_write(f.blk->vq, 2, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_write_zeroes(f.blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_discard(f.blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_flush(f.blk->vq), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_get_id(f.blk->vq, id), ==, VIRTIO_BLK_S_OK);

    g_assert_cmpuint(qvirtio_blk_read(f.blk->vq, 2, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    assert_pristine(buf, sizeof(buf), 2);
    blk_image_pread(f.image, 2 * VIRTIO_BLK_SECTOR_SIZE, file, sizeof(file));
    assert_pristine(file, sizeof(file), 2);
    finish(&f);
}

/* num-queues=4: MQ is offered and num_queues says 4, in both places. */
static void test_num_queues(void)
{
    ConfigFixture f;

    start(&f, IMAGE_SIZE, "", ",num-queues=4", ALL_FEATURES);
    g_assert_true(negotiated(&f, VIRTIO_BLK_F_MQ));
    g_assert_cmpuint(cfg_readw(&f, VIRTIO_BLK_CFG_NUM_QUEUES), ==, 4);
    g_assert_cmpuint(qvirtio_pci_num_queues(&f.blk->vdev), ==, 4);
    finish(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk/config/defaults", test_defaults);
    g_test_add_func("/virtio-blk/config/block-sizes", test_block_sizes);
    g_test_add_func("/virtio-blk/config/queue-size-seg-max",
                    test_queue_size_seg_max);
    g_test_add_func("/virtio-blk/config/writeback-toggle",
                    test_writeback_toggle);
    g_test_add_func("/virtio-blk/config/writeback-without-flush",
                    test_writeback_without_flush);
    g_test_add_func("/virtio-blk/config/config-wce-off", test_config_wce_off);
    g_test_add_func("/virtio-blk/config/serial", test_serial);
    g_test_add_func("/virtio-blk/config/max-discard-sectors",
                    test_max_discard_sectors);
    g_test_add_func("/virtio-blk/config/discard-unmap", test_discard_unmap);
    g_test_add_func("/virtio-blk/config/features-off", test_features_off);
    g_test_add_func("/virtio-blk/config/read-only", test_read_only);
    g_test_add_func("/virtio-blk/config/num-queues", test_num_queues);
    return g_test_run();
}
