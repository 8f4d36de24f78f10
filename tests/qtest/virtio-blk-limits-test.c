/*
 * What one request may ask of the host (docs/system/virtio-blk-limits.rst):
 * at most seg_max data segments and VIRTIO_BLK_MAX_REQUEST bytes, or the
 * request completes with IOERR, touching nothing, and the VMM carries on;
 * and however big the requests in flight, the bounce buffers that
 * misaligned ones need stay within a budget per drive.
 *
 * A 256 MiB guest and a sparse 32 GiB image with cache=none.  The big
 * requests have all their data descriptors point at one 128 MiB guest
 * range: at its start plus MISALIGN bytes when the request is to be
 * bounced (O_DIRECT cannot take the buffer as it is).
 */
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (256ULL << 20)
#define IMAGE_SIZE      (32ULL << 30)
#define RANGE_SIZE      (128ULL << 20)
#define MISALIGN        8
#define SECTOR          VIRTIO_BLK_SECTOR_SIZE
/* The device's limits, as documented */
#define MAX_REQUEST     (1ULL << 30)
#define BOUNCE_BUDGET   (64ULL << 20)
/* What else the VMM may allocate meanwhile (qtest traffic, the heap) */
#define RSS_SLACK       (32ULL << 20)

typedef struct LimitsFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
    uint64_t range;             /* RANGE_SIZE + MISALIGN bytes */
    uint32_t seg_max, size_max;
} LimitsFixture;

/* A request on its way: header, data descriptors, status. */
typedef struct LimitsReq {
    uint64_t hdr, status;
    uint16_t head;
} LimitsReq;

/* Data at these places of the image; zeroes (holes) elsewhere. */
static const struct { uint64_t offset, len; } marks[] = {
    { 64ULL << 20, 1022 * SECTOR },         /* in the first 128 MiB */
    { (896ULL + 1) << 20, 1 << 20 },                /* end of 1 GiB */
    { (1ULL << 30) - 4096, 4096 },
};

static uint8_t mark_byte(uint64_t pos)
{
    return 0x5a ^ (pos >> 9) ^ (pos * 7);
}

static void mark_bytes(uint64_t pos, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = mark_byte(pos + i);
    }
}

static void limits_setup(LimitsFixture *f, gconstpointer data)
{
    const char *aio = data;

    f->image = blk_image_new_sparse(IMAGE_SIZE);
    for (size_t i = 0; i < G_N_ELEMENTS(marks); i++) {
        g_autofree uint8_t *buf = g_malloc(marks[i].len);

        mark_bytes(marks[i].offset, buf, marks[i].len);
        blk_image_pwrite(f->image, marks[i].offset, buf, marks[i].len);
    }
    f->qts = qtest_initf("-m 256M -drive file=%s,if=none,id=d0,format=raw,"
                         "cache=none,aio=%s -device virtio-blk-pci,drive=d0",
                         f->image->path, aio);
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    qvirtio_blk_pci_start(f->blk, &(QVirtioBlkSetup){
        .features = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
                    VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |
                    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
                    VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC),
        .msix = true,
    });
    f->seg_max = qvirtio_pci_config_readl(&f->blk->vdev,
                                          VIRTIO_BLK_CFG_SEG_MAX);
    f->size_max = qvirtio_pci_config_readl(&f->blk->vdev,
                                           VIRTIO_BLK_CFG_SIZE_MAX);
    f->range = guest_alloc(f->alloc, RANGE_SIZE + MISALIGN);
}

static void limits_teardown(LimitsFixture *f, gconstpointer data)
{
    guest_free(f->alloc, f->range);
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    /* Checks that the VMM is still there and exits cleanly. */
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

/* Put header, the data descriptors and status on the queue. */
static void submit(LimitsFixture *f, LimitsReq *r, uint32_t type,
                   uint64_t sector, const QVirtQueueBuffer *data, unsigned n)
{
    g_autofree QVirtQueueBuffer *bufs = g_new(QVirtQueueBuffer, n + 2);
    QTestState *qts = f->qts;

    r->hdr = guest_alloc(f->alloc, VIRTIO_BLK_OUTHDR_SIZE);
    qtest_writel(qts, r->hdr, type);
    qtest_writel(qts, r->hdr + 4, 0);
    qtest_writeq(qts, r->hdr + 8, sector);
    r->status = guest_alloc(f->alloc, 1);
    qtest_writeb(qts, r->status, 0xff);
    bufs[0] = (QVirtQueueBuffer){ r->hdr, VIRTIO_BLK_OUTHDR_SIZE, false };
    memcpy(bufs + 1, data, n * sizeof(*data));
    bufs[n + 1] = (QVirtQueueBuffer){ r->status, 1, true };
    r->head = qvirtqueue_add_indirect(f->blk->vq, bufs, n + 2);
}

/*
 * Kick; the next used element is r's: check its length, return its
 * status.
 */
static uint8_t complete(LimitsFixture *f, LimitsReq *r, uint32_t len)
{
    uint16_t head;
    uint32_t used_len;
    uint8_t status;

    qvirtqueue_kick(f->blk->vq);
    qvirtqueue_wait_used(f->blk->vq, &head, &used_len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(head, ==, r->head);
    g_assert_cmpuint(used_len, ==, len);
    status = qtest_readb(f->qts, r->status);
    guest_free(f->alloc, r->hdr);
    guest_free(f->alloc, r->status);
    return status;
}

/* A request the device must refuse: IOERR, nothing written but status. */
static void assert_refused(LimitsFixture *f, uint32_t type, uint64_t sector,
                           const QVirtQueueBuffer *data, unsigned n)
{
    LimitsReq r;

    submit(f, &r, type, sector, data, n);
    g_assert_cmpuint(complete(f, &r, 1), ==, VIRTIO_BLK_S_IOERR);
}

/* n descriptors of len bytes over the range, at its start + skew. */
static QVirtQueueBuffer *over_range(LimitsFixture *f, unsigned n,
                                    uint32_t len, unsigned skew,
                                    bool device_writes)
{
    QVirtQueueBuffer *data = g_new(QVirtQueueBuffer, n);

    for (unsigned i = 0; i < n; i++) {
        data[i] = (QVirtQueueBuffer){ f->range + skew, len, device_writes };
    }
    return data;
}

/* Guest memory at addr holds the image's bytes at pos. */
static void assert_guest_holds(LimitsFixture *f, uint64_t addr, uint64_t pos,
                               size_t len)
{
    g_autofree uint8_t *got = g_malloc(len);
    g_autofree uint8_t *expect = g_malloc(len);

    qtest_memread(f->qts, addr, got, len);
    mark_bytes(pos, expect, len);
    g_assert_cmpmem(got, len, expect, len);
}

/* After whatever the test did, an ordinary read works. */
static void assert_works(LimitsFixture *f)
{
    uint8_t buf[4096];

    g_assert_cmpuint(qvirtio_blk_read(f->blk->vq, marks[0].offset / SECTOR,
                                      buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    for (size_t i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, mark_byte(marks[0].offset + i));
    }
}

/*
 * What the device tells the driver: a driver that keeps to seg_max and
 * size_max never asks for more than the device takes.
 */
static void test_config(LimitsFixture *f, gconstpointer data)
{
    g_assert_cmpuint(f->blk->vq->size, ==, 256);
    g_assert_cmpuint(f->seg_max, ==, 254);
    g_assert_cmpuint(f->size_max % 4096, ==, 0);
    g_assert_cmpuint((uint64_t)f->seg_max * f->size_max, <=, MAX_REQUEST);
    g_assert_cmpuint((uint64_t)f->seg_max * (f->size_max + 4096), >,
                     MAX_REQUEST);
}

/*
 * seg_max segments work; one more, or 1022 (an indirect table as long
 * as any), are refused, reads and writes.
 */
static void test_segments(LimitsFixture *f, gconstpointer data)
{
    uint64_t sector = marks[0].offset / SECTOR;
    g_autofree QVirtQueueBuffer *segs = g_new(QVirtQueueBuffer, 1022);
    g_autofree uint8_t *buf = g_malloc(1022 * SECTOR);
    LimitsReq r;

    for (unsigned i = 0; i < 1022; i++) {
        segs[i] = (QVirtQueueBuffer){ f->range + i * SECTOR, SECTOR, true };
    }
    qtest_memset(f->qts, f->range, 0xa5, 1022 * SECTOR);
    submit(f, &r, VIRTIO_BLK_T_IN, sector, segs, f->seg_max);
    g_assert_cmpuint(complete(f, &r, f->seg_max * SECTOR + 1), ==,
                     VIRTIO_BLK_S_OK);
    assert_guest_holds(f, f->range, marks[0].offset, f->seg_max * SECTOR);

    qtest_memset(f->qts, f->range, 0xa5, 1022 * SECTOR);
    assert_refused(f, VIRTIO_BLK_T_IN, sector, segs, f->seg_max + 1);
    assert_refused(f, VIRTIO_BLK_T_IN, sector, segs, 1022);
    for (unsigned i = 0; i < 1022; i++) {
        segs[i].device_writes = false;
    }
    assert_refused(f, VIRTIO_BLK_T_OUT, sector, segs, f->seg_max + 1);
    assert_refused(f, VIRTIO_BLK_T_OUT, sector, segs, 1022);
    /* Neither the guest's memory nor the image changed. */
    qtest_memread(f->qts, f->range, buf, 1022 * SECTOR);
    for (size_t i = 0; i < 1022 * SECTOR; i++) {
        g_assert_cmphex(buf[i], ==, 0xa5);
    }
    assert_works(f);
}

/*
 * Exactly MAX_REQUEST bytes, bounced: OK, and the range holds the last
 * 128 MiB read.  A sector more is refused, reading or writing.
 */
static void test_at_limit(LimitsFixture *f, gconstpointer data)
{
    unsigned n = MAX_REQUEST / RANGE_SIZE;
    g_autofree QVirtQueueBuffer *segs = over_range(f, n + 1, RANGE_SIZE,
                                                   MISALIGN, true);
    uint64_t extra = guest_alloc(f->alloc, SECTOR);
    uint8_t zeroes[4096] = { 0 }, buf[4096];
    LimitsReq r;

    submit(f, &r, VIRTIO_BLK_T_IN, 0, segs, n);
    g_assert_cmpuint(complete(f, &r, MAX_REQUEST + 1), ==, VIRTIO_BLK_S_OK);
    assert_guest_holds(f, f->range + MISALIGN + (1 << 20),
                       MAX_REQUEST - RANGE_SIZE + (1 << 20), 1 << 20);
    assert_guest_holds(f, f->range + MISALIGN + RANGE_SIZE - 4096,
                       MAX_REQUEST - 4096, 4096);

    qtest_memset(f->qts, extra, 0xa5, SECTOR);
    segs[n] = (QVirtQueueBuffer){ extra, SECTOR, true };
    assert_refused(f, VIRTIO_BLK_T_IN, 0, segs, n + 1);
    for (unsigned i = 0; i < SECTOR; i++) {
        g_assert_cmphex(qtest_readb(f->qts, extra + i), ==, 0xa5);
    }
    for (unsigned i = 0; i <= n; i++) {
        segs[i].device_writes = false;
    }
    assert_refused(f, VIRTIO_BLK_T_OUT, 0, segs, n + 1);
    /* The range holds data that a write would have put at 1 MiB. */
    blk_image_pread(f->image, 1 << 20, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), zeroes, sizeof(buf));
    guest_free(f->alloc, extra);
    assert_works(f);
}

/*
 * 254 descriptors over the whole range, 31.75 GiB, bounced: refused at
 * once, with no attempt at a bounce buffer that size.
 */
static void test_over_limit(LimitsFixture *f, gconstpointer data)
{
    g_autofree QVirtQueueBuffer *segs = over_range(f, f->seg_max, RANGE_SIZE,
                                                   MISALIGN, true);

    assert_refused(f, VIRTIO_BLK_T_IN, 0, segs, f->seg_max);
    assert_works(f);
}

static uint64_t vmm_status_bytes(LimitsFixture *f, const char *field)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status",
                                            qtest_pid(f->qts));
    g_autofree char *status = NULL;
    g_autofree char *key = g_strdup_printf("\n%s:", field);
    const char *line;

    g_assert_true(g_file_get_contents(path, &status, NULL, NULL));
    line = strstr(status, key);
    g_assert_nonnull(line);
    return g_ascii_strtoull(line + strlen(key), NULL, 10) * 1024;
}

/* Make the VMM's peak resident set size (VmHWM) start from now. */
static uint64_t vmm_reset_peak_rss(LimitsFixture *f)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/clear_refs",
                                            qtest_pid(f->qts));
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "5", 1), ==, 1);
    close(fd);
    return vmm_status_bytes(f, "VmRSS");
}

/*
 * 24 bounced reads of 128 MiB (one descriptor over the range each) in
 * flight together, 3 GiB: the VMM's resident set grows by the bounce
 * budget at most (and slack), and each read completes with its data.
 */
static void test_bounce_rss(LimitsFixture *f, gconstpointer data)
{
    enum { N = 24 };
    QVirtQueueBuffer seg = { f->range + MISALIGN, RANGE_SIZE, true };
    uint64_t rss, peak;
    LimitsReq r[N];

    /* Guest RAM the reads fill counts from the start. */
    for (uint64_t off = 0; off < RANGE_SIZE + MISALIGN; off += 32 << 20) {
        qtest_memset(f->qts, f->range + off, 0,
                     MIN(32 << 20, RANGE_SIZE + MISALIGN - off));
    }
    rss = vmm_reset_peak_rss(f);
    for (int i = 0; i < N; i++) {
        submit(f, &r[i], VIRTIO_BLK_T_IN, 0, &seg, 1);
    }
    qvirtqueue_kick(f->blk->vq);
    for (int i = 0; i < N; i++) {
        uint16_t head;
        uint32_t used_len;
        int j;

        qvirtqueue_wait_used(f->blk->vq, &head, &used_len,
                             QVIRTIO_TIMEOUT_US);
        for (j = 0; j < N && r[j].head != head; j++) {
        }
        g_assert_cmpint(j, <, N);
        g_assert_cmpuint(used_len, ==, RANGE_SIZE + 1);
        g_assert_cmphex(qtest_readb(f->qts, r[j].status), ==,
                        VIRTIO_BLK_S_OK);
    }
    peak = vmm_status_bytes(f, "VmHWM");
    g_test_message("the VMM's resident set grew by %" G_GUINT64_FORMAT
                   " MiB at most", (MAX(peak, rss) - rss) >> 20);
    g_assert_cmpuint(peak, <=, rss + BOUNCE_BUDGET + RSS_SLACK);
    for (int i = 0; i < N; i++) {
        guest_free(f->alloc, r[i].hdr);
        guest_free(f->alloc, r[i].status);
    }
    assert_guest_holds(f, f->range + MISALIGN + marks[0].offset,
                       marks[0].offset, marks[0].len);
    assert_works(f);
}

int main(int argc, char **argv)
{
    static const char *const engines[] = { "threads", "io_uring" };

    g_test_init(&argc, &argv, NULL);
    g_test_add("/virtio-blk/limits/config", LimitsFixture, "threads",
               limits_setup, test_config, limits_teardown);
    g_test_add("/virtio-blk/limits/segments", LimitsFixture, "threads",
               limits_setup, test_segments, limits_teardown);
    for (size_t i = 0; i < G_N_ELEMENTS(engines); i++) {
        static const struct {
            const char *name;
            void (*fn)(LimitsFixture *, gconstpointer);
        } tests[] = {
            { "at-limit", test_at_limit },
            { "over-limit", test_over_limit },
            { "bounce-rss", test_bounce_rss },
        };

        for (size_t j = 0; j < G_N_ELEMENTS(tests); j++) {
            g_autofree char *path = g_strdup_printf(
                "/virtio-blk/limits/%s/%s", engines[i], tests[j].name);

            g_test_add(path, LimitsFixture, engines[i], limits_setup,
                       tests[j].fn, limits_teardown);
        }
    }
    return g_test_run();
}
