/*
 * virtio-blk over packed virtqueues (VIRTIO_F_RING_PACKED, virtio 1.2
 * section 2.8): negotiation and queue sizes that are not powers of two;
 * reads, writes and flushes compared with the image file, through chains
 * that wrap around the ring and through indirect tables, one at a time and
 * several in flight; the device's event suppression; and a hostile
 * driver's rings, each ending in NEEDS_RESET with a VMM that a reset
 * brings back.
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"
#include "libqos/virtqueue-packed.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (1ULL << 20)
#define QUEUE_SIZE      7       /* odd: every third 3-descriptor chain wraps */
#define SECTOR          512
#define BLK_HDR_SIZE    16

typedef struct PackedFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
    QPackedQueue *q;
    uint64_t scratch;           /* for the hostile rings' buffers */
} PackedFixture;

static const uint64_t features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
                                 VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
                                 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
                                 VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
                                 VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);

static void start_device(PackedFixture *f)
{
    uint64_t got = qvirtio_pci_negotiate(&f->blk->vdev, features);

    g_assert_cmphex(got, ==, features);
    f->q = qpacked_setup(&f->blk->vdev, f->alloc, 0, QUEUE_SIZE);
    qvirtio_pci_driver_ok(&f->blk->vdev);
}

static void restart_device(PackedFixture *f)
{
    qvirtio_pci_reset(&f->blk->vdev);
    qpacked_free(f->q);
    start_device(f);
}

static void fixture_setup(PackedFixture *f, gconstpointer data)
{
    bool iothread = GPOINTER_TO_INT(data);

    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw %s "
                         "-device virtio-blk-pci,drive=d0,packed=on%s",
                         f->image->path,
                         iothread ? "-object iothread,id=io0" : "",
                         iothread ? ",iothread=io0" : "");
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    start_device(f);
}

static void fixture_teardown(PackedFixture *f, gconstpointer data)
{
    qvirtio_pci_reset(&f->blk->vdev);
    qpacked_free(f->q);
    qvirtio_blk_pci_forget(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

/* A request's guest buffers: header, data, status. */
typedef struct Request {
    uint64_t hdr, data, status;
    uint32_t len;
    uint16_t id;
} Request;

static void request_add(PackedFixture *f, Request *r, uint32_t type,
                        uint64_t sector, uint32_t len, bool indirect)
{
    QVirtQueueBuffer bufs[3];
    unsigned n = 0;

    r->hdr = guest_alloc(f->alloc, BLK_HDR_SIZE);
    r->status = guest_alloc(f->alloc, 1);
    r->data = len ? guest_alloc(f->alloc, len) : 0;
    r->len = len;
    qtest_writel(f->qts, r->hdr, type);
    qtest_writel(f->qts, r->hdr + 4, 0);
    qtest_writeq(f->qts, r->hdr + 8, sector);
    qtest_writeb(f->qts, r->status, 0xff);
    bufs[n++] = (QVirtQueueBuffer){ .addr = r->hdr, .len = BLK_HDR_SIZE };
    if (len) {
        bufs[n++] = (QVirtQueueBuffer){
            .addr = r->data, .len = len,
            .device_writes = type == VIRTIO_BLK_T_IN };
    }
    bufs[n++] = (QVirtQueueBuffer){ .addr = r->status, .len = 1,
                                    .device_writes = true };
    r->id = indirect ? qpacked_add_indirect(f->q, bufs, n)
                     : qpacked_add(f->q, bufs, n);
}

static uint8_t request_status(PackedFixture *f, Request *r)
{
    uint8_t status = qtest_readb(f->qts, r->status);

    guest_free(f->alloc, r->hdr);
    guest_free(f->alloc, r->status);
    if (r->data) {
        guest_free(f->alloc, r->data);
    }
    return status;
}

/* One request, waited for: its status. */
static uint8_t request(PackedFixture *f, uint32_t type, uint64_t sector,
                       void *buf, uint32_t len, bool indirect)
{
    Request r;
    uint16_t id;
    uint32_t used_len;

    request_add(f, &r, type, sector, len, indirect);
    if (type == VIRTIO_BLK_T_OUT) {
        qtest_memwrite(f->qts, r.data, buf, len);
    }
    qpacked_kick(f->q);
    qpacked_wait_used(f->q, &id, &used_len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(id, ==, r.id);
    /* The device wrote the data it read plus the status byte. */
    g_assert_cmpuint(used_len, ==, (type == VIRTIO_BLK_T_IN ? len : 0) + 1);
    if (type == VIRTIO_BLK_T_IN) {
        qtest_memread(f->qts, r.data, buf, len);
    }
    return request_status(f, &r);
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
    }
}

/*
 * With packed=on the device offers packed rings; with them, any queue size
 * is valid.
 */
static void test_negotiation(PackedFixture *f, gconstpointer data)
{
    QVirtioPCIDevice *d = &f->blk->vdev;

    g_assert_true(qvirtio_pci_device_features(d) &
                  VIRTIO_BIT(VIRTIO_F_RING_PACKED));
    g_assert_cmpuint(f->q->size, ==, QUEUE_SIZE);
    /* A split-ring driver still gets only powers of two. */
    qvirtio_pci_negotiate(d, VIRTIO_BIT(VIRTIO_F_VERSION_1));
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SELECT, 0);
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SIZE, QUEUE_SIZE);
    g_assert_cmpuint(qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_SIZE),
                     !=, QUEUE_SIZE);
    restart_device(f);
    g_assert_cmpuint(request(f, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false), ==,
                     VIRTIO_BLK_S_OK);
}

/*
 * Writes then reads of 1 to 8 sectors, 3-descriptor chains in a ring of 7
 * (so chains wrap around its end) or indirect tables; the image holds what
 * was written and reads return it.
 */
static void test_round_trips(PackedFixture *f, gconstpointer data)
{
    for (unsigned indirect = 0; indirect < 2; indirect++) {
        for (unsigned i = 0; i < 3 * QUEUE_SIZE; i++) {
            uint32_t len = SECTOR * (1 + i % 8);
            uint64_t sector = 16 * i + 512 * indirect;
            g_autofree uint8_t *out = g_malloc(len);
            g_autofree uint8_t *in = g_malloc0(len);
            g_autofree uint8_t *disk = g_malloc(len);

            fill(out, len, i + 100 * indirect);
            g_assert_cmpuint(request(f, VIRTIO_BLK_T_OUT, sector, out, len,
                                     indirect), ==, VIRTIO_BLK_S_OK);
            blk_image_pread(f->image, sector * SECTOR, disk, len);
            g_assert_cmpmem(disk, len, out, len);
            g_assert_cmpuint(request(f, VIRTIO_BLK_T_IN, sector, in, len,
                                     !indirect), ==, VIRTIO_BLK_S_OK);
            g_assert_cmpmem(in, len, out, len);
        }
    }
    g_assert_cmpuint(request(f, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false), ==,
                     VIRTIO_BLK_S_OK);
}

/*
 * Requests in flight together (direct chains and indirect ones mixed):
 * every used descriptor names one of them, once; each has its data.
 */
static void test_in_flight(PackedFixture *f, gconstpointer data)
{
    enum { N = 3 };     /* 2 direct chains of 3 and one indirect: 7 slots */

    for (unsigned round = 0; round < 5; round++) {
        Request r[N];
        uint8_t out[N][SECTOR];
        bool seen[N] = { false };

        for (unsigned k = 0; k < N; k++) {
            request_add(f, &r[k], VIRTIO_BLK_T_OUT, 8 * k, SECTOR, k == 2);
            fill(out[k], SECTOR, round * N + k);
            qtest_memwrite(f->qts, r[k].data, out[k], SECTOR);
        }
        g_assert_cmpuint(f->q->num_free, ==, 0);
        qpacked_kick(f->q);
        for (unsigned done = 0; done < N; done++) {
            uint16_t id;
            uint32_t len;
            unsigned k;

            qpacked_wait_used(f->q, &id, &len, QVIRTIO_TIMEOUT_US);
            for (k = 0; k < N && r[k].id != id; k++) {
            }
            g_assert_cmpuint(k, <, N);
            g_assert_false(seen[k]);
            seen[k] = true;
            g_assert_cmpuint(len, ==, 1);
            g_assert_cmpuint(request_status(f, &r[k]), ==, VIRTIO_BLK_S_OK);
        }
        for (unsigned k = 0; k < N; k++) {
            uint8_t disk[SECTOR];

            blk_image_pread(f->image, 8 * k * SECTOR, disk, SECTOR);
            g_assert_cmpmem(disk, SECTOR, out[k], SECTOR);
        }
    }
}

/* Whether the device interrupted (INTx: the ISR's queue bit, read-clear):
 * waited for if @expected, else looked for during 50 ms. */
static bool interrupted(PackedFixture *f, bool expected)
{
    return qvirtio_pci_wait_isr_queue(&f->blk->vdev, expected ?
                                      QVIRTIO_TIMEOUT_US : 50 * 1000);
}

/*
 * Event suppression both ways: the device asks to be notified when it
 * waits; it interrupts the driver always (ENABLE), never (DISABLE), or
 * when the descriptor the driver named is used (DESC, with EVENT_IDX).
 */
static void test_event_suppression(PackedFixture *f, gconstpointer data)
{
    uint8_t buf[SECTOR];
    uint16_t slot;
    bool wrap;

    g_assert_cmpuint(request(f, VIRTIO_BLK_T_IN, 0, buf, SECTOR, false), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qpacked_device_event_flags(f->q) & 3, ==,
                     PACKED_EVENT_ENABLE);
    g_assert_true(interrupted(f, true));

    qpacked_set_driver_event(f->q, PACKED_EVENT_DISABLE, 0);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_cmpuint(request(f, VIRTIO_BLK_T_IN, i, buf, SECTOR, false),
                         ==, VIRTIO_BLK_S_OK);
        g_assert_false(interrupted(f, false));
    }

    /* Name the slot of the request after next (each takes 3 slots). */
    for (unsigned i = 0; i < 2 * QUEUE_SIZE; i++) {
        slot = f->q->used_idx + 3;
        wrap = f->q->used_wrap;
        if (slot >= QUEUE_SIZE) {
            slot -= QUEUE_SIZE;
            wrap = !wrap;
        }
        qpacked_set_driver_event(f->q, PACKED_EVENT_DESC,
                                 slot | (wrap ? PACKED_EVENT_WRAP : 0));
        g_assert_cmpuint(request(f, VIRTIO_BLK_T_IN, i, buf, SECTOR, false),
                         ==, VIRTIO_BLK_S_OK);
        g_assert_false(interrupted(f, false));
        g_assert_cmpuint(request(f, VIRTIO_BLK_T_IN, i, buf, SECTOR, false),
                         ==, VIRTIO_BLK_S_OK);
        g_assert_true(interrupted(f, true));
    }
    qpacked_set_driver_event(f->q, PACKED_EVENT_ENABLE, 0);
    g_assert_cmpuint(request(f, VIRTIO_BLK_T_IN, 0, buf, SECTOR, true), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_true(interrupted(f, true));
}

/*
 * Hostile rings, each written from slot 0 of a new ring: the device sets
 * NEEDS_RESET and uses nothing; a reset brings it back.
 */
typedef void (*BreakRing)(PackedFixture *f);

static void check_broken(PackedFixture *f, BreakRing make)
{
    QVirtioPCIDevice *d = &f->blk->vdev;
    uint16_t id;
    uint32_t len;
    uint8_t buf[SECTOR];

    restart_device(f);
    f->scratch = guest_alloc_aligned(f->alloc, 4096, 16);
    make(f);
    qpci_bar_writew(d->pdev, d->notify.bar, f->q->notify_addr, 0);
    if (!qvirtio_pci_wait_status(d, VIRTIO_CONFIG_S_NEEDS_RESET,
                                 QVIRTIO_TIMEOUT_US)) {
        g_error("no NEEDS_RESET (status 0x%02x)", qvirtio_pci_get_status(d));
    }
    g_assert_false(qpacked_get_used(f->q, &id, &len));
    guest_free(f->alloc, f->scratch);
    restart_device(f);
    g_assert_cmpuint(request(f, VIRTIO_BLK_T_IN, 0, buf, SECTOR, false), ==,
                     VIRTIO_BLK_S_OK);
}

/* Every slot available and chained to the next: longer than the ring. */
static void make_endless_chain(PackedFixture *f)
{
    uint64_t buf = f->scratch;

    for (uint16_t i = 1; i < QUEUE_SIZE; i++) {
        qpacked_write_desc(f->q, i, buf, SECTOR, i,
                           PACKED_DESC_F_AVAIL | VRING_DESC_F_NEXT);
    }
    qpacked_write_desc(f->q, 0, buf, SECTOR, 0,
                       PACKED_DESC_F_AVAIL | VRING_DESC_F_NEXT);
}

static void make_buffer_outside_ram(PackedFixture *f)
{
    qpacked_write_desc(f->q, 0, RAM_SIZE - 8, BLK_HDR_SIZE, 0,
                       PACKED_DESC_F_AVAIL);
}

static void make_indirect_with_next(PackedFixture *f)
{
    uint64_t table = f->scratch;

    qpacked_write_desc(f->q, 1, table, 32, 1, PACKED_DESC_F_AVAIL);
    qpacked_write_desc(f->q, 0, table, 32, 0, PACKED_DESC_F_AVAIL |
                       VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT);
}

static void make_indirect_bad_length(PackedFixture *f)
{
    uint64_t table = f->scratch;

    qpacked_write_desc(f->q, 0, table, 24, 0,
                       PACKED_DESC_F_AVAIL | VRING_DESC_F_INDIRECT);
}

static void make_indirect_in_chain(PackedFixture *f)
{
    uint64_t hdr = f->scratch + 1024;
    uint64_t table = f->scratch;

    qpacked_write_desc(f->q, 1, table, 32, 1,
                       PACKED_DESC_F_AVAIL | VRING_DESC_F_INDIRECT);
    qpacked_write_desc(f->q, 0, hdr, BLK_HDR_SIZE, 0,
                       PACKED_DESC_F_AVAIL | VRING_DESC_F_NEXT);
}

/*
 * A queue enabled before FEATURES_OK, then RING_PACKED accepted: the queue
 * stays what it was set up as (a split ring, here empty), the device runs
 * on, and a reset brings packed rings back.
 */
static void test_packed_after_enable(PackedFixture *f, gconstpointer data)
{
    QVirtioPCIDevice *d = &f->blk->vdev;
    uint64_t rings = guest_alloc_aligned(f->alloc, 4096, 16);
    uint8_t status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
    uint8_t buf[SECTOR];

    qtest_memset(f->qts, rings, 0, 4096);
    qvirtio_pci_reset(d);
    qvirtio_pci_set_status(d, status);
    qvirtio_pci_write_driver_features(d, VIRTIO_BIT(VIRTIO_F_VERSION_1));
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SELECT, 0);
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SIZE, 8);
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_DESCLO, rings);
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_AVAILLO, rings + 1024);
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_USEDLO, rings + 2048);
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    qvirtio_pci_write_driver_features(d, features);
    status |= VIRTIO_CONFIG_S_FEATURES_OK;
    qvirtio_pci_set_status(d, status);
    qvirtio_pci_set_status(d, status | VIRTIO_CONFIG_S_DRIVER_OK);
    qpci_bar_writew(d->pdev, d->notify.bar, f->q->notify_addr, 0);
    g_usleep(20 * 1000);
    g_assert_cmphex(qvirtio_pci_get_status(d), ==,
                    status | VIRTIO_CONFIG_S_DRIVER_OK);
    restart_device(f);
    guest_free(f->alloc, rings);
    g_assert_cmpuint(request(f, VIRTIO_BLK_T_IN, 0, buf, SECTOR, false), ==,
                     VIRTIO_BLK_S_OK);
}

/*
 * The same after a descriptor of no bytes, which maps nothing, with a
 * table that holds a valid FLUSH request: refused all the same.
 */
static void make_indirect_after_empty(PackedFixture *f)
{
    uint64_t table = f->scratch, hdr = f->scratch + 2048;

    qtest_writel(f->qts, hdr, VIRTIO_BLK_T_FLUSH);
    qtest_writel(f->qts, hdr + 4, 0);
    qtest_writeq(f->qts, hdr + 8, 0);
    qtest_writeq(f->qts, table, hdr);
    qtest_writel(f->qts, table + 8, BLK_HDR_SIZE);
    qtest_writel(f->qts, table + 12, 0);            /* id, flags */
    qtest_writeq(f->qts, table + 16, hdr + BLK_HDR_SIZE);
    qtest_writel(f->qts, table + 24, 1);
    qtest_writew(f->qts, table + 28, 0);
    qtest_writew(f->qts, table + 30, VRING_DESC_F_WRITE);

    qpacked_write_desc(f->q, 1, table, 32, 1,
                       PACKED_DESC_F_AVAIL | VRING_DESC_F_INDIRECT);
    qpacked_write_desc(f->q, 0, f->scratch + 1024, 0, 0,
                       PACKED_DESC_F_AVAIL | VRING_DESC_F_NEXT);
}

static void test_hostile(PackedFixture *f, gconstpointer data)
{
    static const BreakRing cases[] = {
        make_endless_chain, make_buffer_outside_ram, make_indirect_with_next,
        make_indirect_bad_length, make_indirect_in_chain,
        make_indirect_after_empty,
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        check_broken(f, cases[i]);
    }
}

static void add_test(const char *name,
                     void (*fn)(PackedFixture *, gconstpointer))
{
    g_autofree char *main_loop = g_strdup_printf("/virtio-blk/packed/"
                                                 "main-loop/%s", name);
    g_autofree char *iothread = g_strdup_printf("/virtio-blk/packed/"
                                                "iothread/%s", name);

    g_test_add(main_loop, PackedFixture, GINT_TO_POINTER(false),
               fixture_setup, fn, fixture_teardown);
    g_test_add(iothread, PackedFixture, GINT_TO_POINTER(true),
               fixture_setup, fn, fixture_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_test("negotiation", test_negotiation);
    add_test("round-trips", test_round_trips);
    add_test("in-flight", test_in_flight);
    add_test("event-suppression", test_event_suppression);
    add_test("hostile", test_hostile);
    add_test("packed-after-enable", test_packed_after_enable);
    return g_test_run();
}
