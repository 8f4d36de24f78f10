/*
 * virtio-blk-pci requests driven through libqos: every request type round
 * trip with the data compared, the status each request deserves (OK, IOERR
 * or UNSUPP), valid but unusual descriptor layouts, and interrupt delivery
 * by MSI-X and by INTx/ISR, in the main loop and in an iothread.
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (1ULL << 20)
#define TEST_SERIAL     "qtest-serial"

typedef struct BlkFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
} BlkFixture;

/* How the device is set up: interrupts, and which thread serves it. */
typedef struct BlkConfig {
    bool msix;
    bool iothread;
} BlkConfig;

static void blk_setup(BlkFixture *f, gconstpointer data)
{
    const BlkConfig *cfg = data;

    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw %s "
                         "-device virtio-blk-pci,drive=d0,serial=%s%s",
                         f->image->path,
                         cfg->iothread ? "-object iothread,id=io0" : "",
                         TEST_SERIAL,
                         cfg->iothread ? ",iothread=io0" : "");
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_init(f->qts, f->alloc,
                                  VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
                                  VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
                                  VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) |
                                  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
                                  VIRTIO_BIT(VIRTIO_F_EVENT_IDX), cfg->msix);
}

static void blk_teardown(BlkFixture *f, gconstpointer data)
{
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

/* What the spec asks of a modern virtio-blk PCI function. */
static void test_pci_identity(BlkFixture *f, gconstpointer data)
{
    QPCIDevice *pdev = f->blk->pdev;

    g_assert_cmphex(qpci_config_readb(pdev, PCI_REVISION_ID), >=, 1);
    g_assert_cmphex(qpci_config_readw(pdev, PCI_SUBSYSTEM_ID), >=, 0x40);
    g_assert_true(qvirtio_pci_device_features(&f->blk->vdev) &
                  VIRTIO_BIT(VIRTIO_F_VERSION_1));
    g_assert_cmphex(qvirtio_pci_driver_features(&f->blk->vdev), ==,
                    f->blk->vdev.features);
    g_assert_cmphex(qvirtio_pci_get_status(&f->blk->vdev), ==,
                    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    g_assert_cmpuint(f->blk->capacity, ==,
                     IMAGE_SIZE / VIRTIO_BLK_SECTOR_SIZE);
}

static void test_read_write(BlkFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    uint8_t buf[4 * VIRTIO_BLK_SECTOR_SIZE], expected[sizeof(buf)];

    g_assert_cmpuint(qvirtio_blk_read(vq, 5, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 5 + i / VIRTIO_BLK_SECTOR_SIZE);
    }
    for (unsigned i = 0; i < sizeof(expected); i++) {
        expected[i] = i ^ 0x5a;
    }
    g_assert_cmpuint(qvirtio_blk_write(vq, 100, expected, sizeof(expected)),
                     ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_flush(vq), ==, VIRTIO_BLK_S_OK);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpuint(qvirtio_blk_read(vq, 100, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(buf, sizeof(buf), expected, sizeof(expected));
}

static void test_indirect(BlkFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];
    QVirtioBlkRequest req = {
        .type = VIRTIO_BLK_T_IN, .sector = 7, .in = buf,
        .in_len = sizeof(buf),
    };

    g_assert_true(f->blk->vdev.features &
                  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
    g_assert_cmpuint(qvirtio_blk_request(vq, &req, true), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 7);
    }
}

static void test_get_id(BlkFixture *f, gconstpointer data)
{
    char id[VIRTIO_BLK_ID_BYTES];

    g_assert_cmpuint(qvirtio_blk_get_id(f->blk->vq, id), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(id, strlen(TEST_SERIAL), TEST_SERIAL,
                    strlen(TEST_SERIAL));
    g_assert_cmpint(id[strlen(TEST_SERIAL)], ==, 0);
}

static void test_write_zeroes_discard(BlkFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    QVirtioBlkSegment zero = { .sector = 21, .num_sectors = 2 };
    QVirtioBlkSegment discard = { .sector = 40, .num_sectors = 8 };
    uint8_t buf[4 * VIRTIO_BLK_SECTOR_SIZE];

    g_assert_true(f->blk->vdev.features &
                  VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
    g_assert_cmpuint(qvirtio_blk_write_zeroes(vq, &zero, 1), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_read(vq, 20, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        unsigned sector = 20 + i / VIRTIO_BLK_SECTOR_SIZE;
        g_assert_cmphex(buf[i], ==, sector == 21 || sector == 22 ? 0 : sector);
    }
    g_assert_true(f->blk->vdev.features & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));
    g_assert_cmpuint(qvirtio_blk_discard(vq, &discard, 1), ==,
                     VIRTIO_BLK_S_OK);
}

/* A masked vector's message waits in the PBA until it is unmasked. */
static void test_msix_masked(BlkFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];
    QVirtioBlkRequest req = {
        .type = VIRTIO_BLK_T_IN, .sector = 3, .in = buf,
        .in_len = sizeof(buf),
    };
    QVirtioBlkInflight *r;
    uint16_t head;
    uint32_t len;

    qpci_msix_mask(&f->blk->vdev.msix, vq->msix_vector, true);
    r = qvirtio_blk_submit(vq, &req, false);
    qvirtqueue_kick(vq);
    qvirtqueue_wait_used(vq, &head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(head, ==, r->head);
    g_assert_cmpuint(qvirtio_blk_complete(vq, r), ==, VIRTIO_BLK_S_OK);
    g_assert_false(qvirtio_pci_wait_queue_interrupt(&f->blk->vdev, vq,
                                                    100 * 1000));
    g_assert_true(qpci_msix_pending(&f->blk->vdev.msix, vq->msix_vector));

    qpci_msix_mask(&f->blk->vdev.msix, vq->msix_vector, false);
    g_assert_true(qvirtio_pci_wait_queue_interrupt(&f->blk->vdev, vq,
                                                   QVIRTIO_TIMEOUT_US));
    g_assert_false(qpci_msix_pending(&f->blk->vdev.msix, vq->msix_vector));
}

/* Without MSI-X: the PCI INTx line goes up, reading the ISR lowers it. */
static void test_intx_line(BlkFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    unsigned gsi = qpci_config_readb(f->blk->pdev, PCI_INTERRUPT_LINE);
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];
    QVirtioBlkRequest req = {
        .type = VIRTIO_BLK_T_IN, .sector = 9, .in = buf,
        .in_len = sizeof(buf),
    };
    QVirtioBlkInflight *r;
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_US;
    uint16_t head;
    uint32_t len;

    g_assert_cmphex(qpci_config_readb(f->blk->pdev, PCI_INTERRUPT_PIN), ==,
                    1);
    qtest_irq_intercept_in(f->qts, "ioapic");
    g_assert_false(qtest_get_irq(f->qts, gsi));
    r = qvirtio_blk_submit(vq, &req, false);
    qvirtqueue_kick(vq);
    qvirtqueue_wait_used(vq, &head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(head, ==, r->head);
    g_assert_cmpuint(qvirtio_blk_complete(vq, r), ==, VIRTIO_BLK_S_OK);
    /* From an I/O thread, the line may follow the used ring a bit later. */
    while (!qtest_get_irq(f->qts, gsi)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(100);
    }
    g_assert_cmphex(qvirtio_pci_read_isr(&f->blk->vdev), ==,
                    VIRTIO_PCI_ISR_QUEUE);
    g_assert_false(qtest_get_irq(f->qts, gsi));
    g_assert_cmphex(qvirtio_pci_read_isr(&f->blk->vdev), ==, 0);
}

/* Check that buf holds the image's pristine sectors from sector on. */
static void assert_pristine(const uint8_t *buf, size_t len, uint64_t sector)
{
    for (size_t i = 0; i < len; i++) {
        g_assert_cmphex(buf[i], ==,
                        blk_image_sector_byte(sector +
                                              i / VIRTIO_BLK_SECTOR_SIZE));
    }
}

static void assert_sectors_pristine(QVirtQueue *vq, uint64_t sector,
                                    unsigned n)
{
    g_autofree uint8_t *buf = g_malloc(n * VIRTIO_BLK_SECTOR_SIZE);

    g_assert_cmpuint(qvirtio_blk_read(vq, sector, buf,
                                      n * VIRTIO_BLK_SECTOR_SIZE), ==,
                     VIRTIO_BLK_S_OK);
    assert_pristine(buf, n * VIRTIO_BLK_SECTOR_SIZE, sector);
}

/* Requests that reach past the end of the disk fail with IOERR. */
static void test_beyond_capacity(BlkFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    uint64_t cap = f->blk->capacity;
    uint8_t buf[2 * VIRTIO_BLK_SECTOR_SIZE];
    QVirtioBlkSegment tail = { .sector = cap - 1, .num_sectors = 2 };
    QVirtioBlkSegment huge = { .sector = 0, .num_sectors = UINT32_MAX };

    g_assert_cmpuint(qvirtio_blk_read(vq, cap, buf, VIRTIO_BLK_SECTOR_SIZE),
                     ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_read(vq, cap - 1, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_IOERR);
    /* Sectors whose byte offset does not fit in 64 bits. */
    g_assert_cmpuint(qvirtio_blk_read(vq, 1ULL << 55, buf,
                                      VIRTIO_BLK_SECTOR_SIZE), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_read(vq, UINT64_MAX, buf,
                                      VIRTIO_BLK_SECTOR_SIZE), ==,
                     VIRTIO_BLK_S_IOERR);

    memset(buf, 0x3c, sizeof(buf));
    g_assert_cmpuint(qvirtio_blk_write(vq, cap - 1, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_write_zeroes(vq, &tail, 1), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_write_zeroes(vq, &huge, 1), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_discard(vq, &tail, 1), ==,
                     VIRTIO_BLK_S_IOERR);
    /* None of them touched the last sector. */
    assert_sectors_pristine(vq, cap - 1, 1);
}

/* Data that is not a whole number of sectors: IOERR, nothing written. */
static void test_partial_sector(BlkFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE + 100];

    g_assert_cmpuint(qvirtio_blk_read(vq, 10, buf, 100), ==,
                     VIRTIO_BLK_S_IOERR);
    memset(buf, 0x77, sizeof(buf));
    g_assert_cmpuint(qvirtio_blk_write(vq, 10, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_IOERR);
    assert_sectors_pristine(vq, 10, 2);
}

/* Request types the device does not offer: UNSUPP, nothing written. */
static void test_unsupported_type(BlkFixture *f, gconstpointer data)
{
    static const uint32_t types[] = {
        2, 3, 10 /* GET_LIFETIME */, 14 /* SECURE_ERASE */,
        16 /* ZONE_REPORT */, 0x80000000, UINT32_MAX,
    };
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];

    for (unsigned i = 0; i < G_N_ELEMENTS(types); i++) {
        QVirtioBlkRequest req = {
            .type = types[i], .sector = 1, .in = buf, .in_len = sizeof(buf),
        };

        g_assert_cmpuint(qvirtio_blk_request(f->blk->vq, &req, false), ==,
                         VIRTIO_BLK_S_UNSUPP);
        /* The buffer still holds the poison qvirtio_blk_submit put there. */
        for (unsigned j = 0; j < sizeof(buf); j++) {
            g_assert_cmphex(buf[j], ==, 0xa5);
        }
    }
    assert_sectors_pristine(f->blk->vq, 1, 1);
}

/*
 * Segment flags (5.2.6.2): unmap is for WRITE_ZEROES only; DISCARD with it,
 * or either with an unknown flag, is UNSUPP.  Also more segments than
 * max_*_seg (1) is refused.
 */
static void test_segment_flags(BlkFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    QVirtioBlkSegment seg = { .sector = 30, .num_sectors = 2 };
    QVirtioBlkSegment two[] = {
        { .sector = 30, .num_sectors = 1 }, { .sector = 31, .num_sectors = 1 },
    };
    uint8_t buf[2 * VIRTIO_BLK_SECTOR_SIZE];
    uint32_t max_seg = qvirtio_pci_config_readl(&f->blk->vdev,
                                          VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG);

    g_assert_cmpuint(max_seg, <, G_N_ELEMENTS(two));
    seg.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
    g_assert_cmpuint(qvirtio_blk_discard(vq, &seg, 1), ==,
                     VIRTIO_BLK_S_UNSUPP);
    seg.flags = 2;
    g_assert_cmpuint(qvirtio_blk_discard(vq, &seg, 1), ==,
                     VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(qvirtio_blk_write_zeroes(vq, &seg, 1), ==,
                     VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(qvirtio_blk_write_zeroes(vq, two, 2), !=,
                     VIRTIO_BLK_S_OK);
    assert_sectors_pristine(vq, 30, 2);

    seg.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
    g_assert_cmpuint(qvirtio_blk_write_zeroes(vq, &seg, 1), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_read(vq, 30, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 0);
    }
}

/* Put bufs on vq as one chain, kick and wait; returns the used length. */
static uint32_t run_chain(QVirtQueue *vq, const QVirtQueueBuffer *bufs,
                          unsigned n)
{
    uint16_t head = qvirtqueue_add(vq, bufs, n), used_head;
    uint32_t len;

    qvirtqueue_kick(vq);
    qvirtqueue_wait_used(vq, &used_head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(used_head, ==, head);
    return len;
}

/*
 * Guest buffers for the layout tests, which build their chains by hand: a
 * header (with room for data after it), a payload and a status byte.
 */
typedef struct Request {
    uint64_t hdr, payload, status;
} Request;

#define FRAMING_LEN     (2 * VIRTIO_BLK_SECTOR_SIZE)

static void request_init(BlkFixture *f, Request *r, uint32_t type,
                         uint64_t sector)
{
    r->hdr = guest_alloc(f->alloc, VIRTIO_BLK_OUTHDR_SIZE + FRAMING_LEN);
    qtest_writel(f->qts, r->hdr, type);
    qtest_writel(f->qts, r->hdr + 4, 0);
    qtest_writeq(f->qts, r->hdr + 8, sector);
    /* The status byte right after the payload, as one buffer can have it. */
    r->payload = guest_alloc(f->alloc, FRAMING_LEN + 1);
    r->status = r->payload + FRAMING_LEN;
    qtest_writeb(f->qts, r->status, 0xff);
}

/* The request succeeded and its payload holds the pristine sectors. */
static void request_check_read(BlkFixture *f, Request *r, uint64_t sector)
{
    uint8_t buf[FRAMING_LEN];

    g_assert_cmphex(qtest_readb(f->qts, r->status), ==, VIRTIO_BLK_S_OK);
    qtest_memread(f->qts, r->payload, buf, sizeof(buf));
    assert_pristine(buf, sizeof(buf), sector);
    guest_free(f->alloc, r->hdr);
    guest_free(f->alloc, r->payload);
}

/*
 * The device makes no assumption about how a request is split into
 * descriptors (2.6.4): every layout below is valid and must work.
 */

/* The header in two pieces, the data in three uneven ones. */
static void test_framing_split(BlkFixture *f, gconstpointer data)
{
    Request r;

    request_init(f, &r, VIRTIO_BLK_T_IN, 12);
    QVirtQueueBuffer bufs[] = {
        { r.hdr, 8, false }, { r.hdr + 8, 8, false },
        { r.payload, 100, true }, { r.payload + 100, 700, true },
        { r.payload + 800, FRAMING_LEN - 800, true }, { r.status, 1, true },
    };
    g_assert_cmpuint(run_chain(f->blk->vq, bufs, G_N_ELEMENTS(bufs)), ==,
                     FRAMING_LEN + 1);
    request_check_read(f, &r, 12);
}

/* Data and status in one writable descriptor. */
static void test_framing_data_with_status(BlkFixture *f, gconstpointer data)
{
    Request r;

    request_init(f, &r, VIRTIO_BLK_T_IN, 14);
    QVirtQueueBuffer bufs[] = {
        { r.hdr, VIRTIO_BLK_OUTHDR_SIZE, false },
        { r.payload, FRAMING_LEN + 1, true },
    };
    g_assert_cmpuint(run_chain(f->blk->vq, bufs, G_N_ELEMENTS(bufs)), ==,
                     FRAMING_LEN + 1);
    request_check_read(f, &r, 14);
}

/* A write with header and data in one readable descriptor. */
static void test_framing_header_with_data(BlkFixture *f, gconstpointer data)
{
    uint8_t wbuf[FRAMING_LEN], buf[FRAMING_LEN];
    Request r;

    for (unsigned i = 0; i < sizeof(wbuf); i++) {
        wbuf[i] = i * 7;
    }
    request_init(f, &r, VIRTIO_BLK_T_OUT, 40);
    qtest_memwrite(f->qts, r.hdr + VIRTIO_BLK_OUTHDR_SIZE, wbuf,
                   sizeof(wbuf));
    QVirtQueueBuffer bufs[] = {
        { r.hdr, VIRTIO_BLK_OUTHDR_SIZE + sizeof(wbuf), false },
        { r.status, 1, true },
    };
    g_assert_cmpuint(run_chain(f->blk->vq, bufs, G_N_ELEMENTS(bufs)), ==, 1);
    g_assert_cmphex(qtest_readb(f->qts, r.status), ==, VIRTIO_BLK_S_OK);
    guest_free(f->alloc, r.hdr);
    guest_free(f->alloc, r.payload);
    g_assert_cmpuint(qvirtio_blk_read(f->blk->vq, 40, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(buf, sizeof(buf), wbuf, sizeof(wbuf));
}

/*
 * A direct descriptor followed by an indirect one (2.7.5.3.2): the header
 * in the queue's table, data and status in an indirect table.
 */
static void test_framing_direct_then_indirect(BlkFixture *f,
                                              gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    uint64_t table = guest_alloc_aligned(f->alloc, 2 * VRING_DESC_SIZE,
                                         VRING_DESC_ALIGN);
    uint16_t head, second, used_head;
    uint32_t len;
    Request r;

    request_init(f, &r, VIRTIO_BLK_T_IN, 50);
    qvirtqueue_write_desc(f->qts, table, 0, r.payload, FRAMING_LEN,
                          VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    qvirtqueue_write_desc(f->qts, table, 1, r.status, 1, VRING_DESC_F_WRITE,
                          0);
    /* Two descriptors from the queue; the second becomes the indirect one. */
    QVirtQueueBuffer bufs[] = {
        { r.hdr, VIRTIO_BLK_OUTHDR_SIZE, false }, { table, 1, false },
    };
    head = qvirtqueue_add(vq, bufs, G_N_ELEMENTS(bufs));
    /* The head descriptor's next field, at byte 14. */
    second = qtest_readw(f->qts, vq->desc + VRING_DESC_SIZE * head + 14);
    qvirtqueue_write_desc(f->qts, vq->desc, second, table,
                          2 * VRING_DESC_SIZE, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_kick(vq);
    qvirtqueue_wait_used(vq, &used_head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(used_head, ==, head);
    g_assert_cmpuint(len, ==, FRAMING_LEN + 1);
    request_check_read(f, &r, 50);
    guest_free(f->alloc, table);
}

/* Wait until the INTx line is at level (an I/O thread may be late). */
static void wait_intx_line(BlkFixture *f, unsigned gsi, bool level)
{
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_US;

    while (qtest_get_irq(f->qts, gsi) != level) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(100);
    }
}

/* Wait until PCI status says whether the device has an interrupt pending. */
static void wait_intx_status(BlkFixture *f, bool pending)
{
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_US;

    while (!!(qpci_config_readw(f->blk->pdev, PCI_STATUS) &
              PCI_STATUS_INTERRUPT) != pending) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(100);
    }
}

static void set_intx_disable(BlkFixture *f, bool disable)
{
    uint16_t cmd = qpci_config_readw(f->blk->pdev, PCI_COMMAND);

    cmd = disable ? cmd | PCI_COMMAND_INTX_DISABLE
                  : cmd & ~PCI_COMMAND_INTX_DISABLE;
    qpci_config_writew(f->blk->pdev, PCI_COMMAND, cmd);
}

/* A read of sector 9, completed (the interrupt may still be on its way). */
static void read_one(BlkFixture *f)
{
    QVirtQueue *vq = f->blk->vq;
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];
    QVirtioBlkRequest req = {
        .type = VIRTIO_BLK_T_IN, .sector = 9, .in = buf,
        .in_len = sizeof(buf),
    };
    QVirtioBlkInflight *r = qvirtio_blk_submit(vq, &req, false);
    uint16_t head;
    uint32_t len;

    qvirtqueue_kick(vq);
    qvirtqueue_wait_used(vq, &head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(head, ==, r->head);
    g_assert_cmpuint(qvirtio_blk_complete(vq, r), ==, VIRTIO_BLK_S_OK);
}

/*
 * INTx Disable in the command register masks the line but not the
 * device's interrupt, which PCI status still shows; clearing it asserts the
 * line again.  Repeated with the request's completion (from an I/O thread,
 * in the iothread variant) racing the guest's write of the command
 * register: the line is never left up while disabled, nor down while an
 * interrupt is pending and enabled.
 */
#define INTX_DISABLE_ROUNDS 200

static void test_intx_disable(BlkFixture *f, gconstpointer data)
{
    unsigned gsi = qpci_config_readb(f->blk->pdev, PCI_INTERRUPT_LINE);

    qtest_irq_intercept_in(f->qts, "ioapic");
    read_one(f);
    wait_intx_line(f, gsi, true);
    set_intx_disable(f, true);
    g_assert_false(qtest_get_irq(f->qts, gsi));
    wait_intx_status(f, true);
    set_intx_disable(f, false);
    g_assert_true(qtest_get_irq(f->qts, gsi));
    g_assert_cmphex(qvirtio_pci_read_isr(&f->blk->vdev), ==,
                    VIRTIO_PCI_ISR_QUEUE);
    g_assert_false(qtest_get_irq(f->qts, gsi));
    wait_intx_status(f, false);

    for (unsigned i = 0; i < INTX_DISABLE_ROUNDS; i++) {
        QVirtQueue *vq = f->blk->vq;
        uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];
        QVirtioBlkRequest req = {
            .type = VIRTIO_BLK_T_IN, .sector = i % 64, .in = buf,
            .in_len = sizeof(buf),
        };
        QVirtioBlkInflight *r = qvirtio_blk_submit(vq, &req, false);
        uint16_t head;
        uint32_t len;

        qvirtqueue_kick(vq);
        set_intx_disable(f, true);
        qvirtqueue_wait_used(vq, &head, &len, QVIRTIO_TIMEOUT_US);
        g_assert_cmpuint(qvirtio_blk_complete(vq, r), ==, VIRTIO_BLK_S_OK);
        wait_intx_status(f, true);
        g_assert_false(qtest_get_irq(f->qts, gsi));
        set_intx_disable(f, false);
        g_assert_true(qtest_get_irq(f->qts, gsi));
        g_assert_cmphex(qvirtio_pci_read_isr(&f->blk->vdev), ==,
                        VIRTIO_PCI_ISR_QUEUE);
        g_assert_false(qtest_get_irq(f->qts, gsi));
    }
}

static const BlkConfig msix_config = { .msix = true };
static const BlkConfig intx_config = { .msix = false };
static const BlkConfig iothread_msix_config = { .msix = true,
                                                .iothread = true };
static const BlkConfig iothread_intx_config = { .msix = false,
                                                .iothread = true };

static void add_blk_test(const char *variant, const BlkConfig *cfg,
                         const char *name,
                         void (*fn)(BlkFixture *, gconstpointer))
{
    g_autofree char *path = g_strdup_printf("/virtio-blk/%s/%s", variant,
                                            name);

    g_test_add(path, BlkFixture, cfg, blk_setup, fn, blk_teardown);
}

/* Request tests run in every configuration. */
static void add_request_tests(const char *variant, const BlkConfig *cfg)
{
    add_blk_test(variant, cfg, "read-write", test_read_write);
    add_blk_test(variant, cfg, "indirect", test_indirect);
    add_blk_test(variant, cfg, "get-id", test_get_id);
    add_blk_test(variant, cfg, "write-zeroes-discard",
                 test_write_zeroes_discard);
    add_blk_test(variant, cfg, "beyond-capacity", test_beyond_capacity);
    add_blk_test(variant, cfg, "partial-sector", test_partial_sector);
    add_blk_test(variant, cfg, "unsupported-type", test_unsupported_type);
    add_blk_test(variant, cfg, "segment-flags", test_segment_flags);
    add_blk_test(variant, cfg, "framing/split", test_framing_split);
    add_blk_test(variant, cfg, "framing/data-with-status",
                 test_framing_data_with_status);
    add_blk_test(variant, cfg, "framing/header-with-data",
                 test_framing_header_with_data);
    add_blk_test(variant, cfg, "framing/direct-then-indirect",
                 test_framing_direct_then_indirect);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_blk_test("msix", &msix_config, "pci-identity", test_pci_identity);
    add_request_tests("msix", &msix_config);
    add_request_tests("intx", &intx_config);
    add_request_tests("iothread-msix", &iothread_msix_config);
    add_request_tests("iothread-intx", &iothread_intx_config);
    add_blk_test("msix", &msix_config, "masked", test_msix_masked);
    add_blk_test("intx", &intx_config, "line", test_intx_line);
    add_blk_test("iothread-intx", &iothread_intx_config, "line",
                 test_intx_line);
    add_blk_test("intx", &intx_config, "disable", test_intx_disable);
    add_blk_test("iothread-intx", &iothread_intx_config, "disable",
                 test_intx_disable);
    return g_test_run();
}
