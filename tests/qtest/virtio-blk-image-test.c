/*
 * The image file behind virtio-blk, seen from the host: what the guest
 * writes is in the file once the request completes, and what another
 * process writes to the file is what the guest reads, for every cache mode
 * (page cache or O_DIRECT) and I/O engine (thread pool or io_uring), in the
 * main loop and in an iothread.  Guest buffers at odd addresses, which
 * O_DIRECT cannot take as they are, included.
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (4ULL << 20)
#define BIG_LEN         (256 * 1024)

typedef struct ImageConfig {
    const char *cache;
    const char *aio;
    bool iothread;
} ImageConfig;

typedef struct ImageFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
} ImageFixture;

static void image_setup(ImageFixture *f, gconstpointer data)
{
    const ImageConfig *cfg = data;

    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw,"
                         "cache=%s,aio=%s %s "
                         "-device virtio-blk-pci,drive=d0%s",
                         f->image->path, cfg->cache, cfg->aio,
                         cfg->iothread ? "-object iothread,id=io0" : "",
                         cfg->iothread ? ",iothread=io0" : "");
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_init(f->qts, f->alloc,
                                  VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
                                  VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES),
                                  true);
}

static void image_teardown(ImageFixture *f, gconstpointer data)
{
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i * 13 + (i >> 9);
    }
}

static void assert_file_pristine(ImageFixture *f, uint64_t sector,
                                 unsigned n)
{
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];

    for (unsigned s = 0; s < n; s++) {
        blk_image_pread(f->image, (sector + s) * VIRTIO_BLK_SECTOR_SIZE, buf,
                        sizeof(buf));
        for (unsigned i = 0; i < sizeof(buf); i++) {
            g_assert_cmphex(buf[i], ==, blk_image_sector_byte(sector + s));
        }
    }
}

/* A guest write is in the file when it completes, flush or not. */
static void test_guest_to_host(ImageFixture *f, gconstpointer data)
{
    g_autofree uint8_t *buf = g_malloc(BIG_LEN);
    g_autofree uint8_t *file = g_malloc(BIG_LEN);

    fill(buf, BIG_LEN, 1);
    g_assert_cmpuint(qvirtio_blk_write(f->blk->vq, 64, buf, BIG_LEN), ==,
                     VIRTIO_BLK_S_OK);
    blk_image_pread(f->image, 64 * VIRTIO_BLK_SECTOR_SIZE, file, BIG_LEN);
    g_assert_cmpmem(file, BIG_LEN, buf, BIG_LEN);
    assert_file_pristine(f, 63, 1);
    assert_file_pristine(f, 64 + BIG_LEN / VIRTIO_BLK_SECTOR_SIZE, 1);
    g_assert_cmpuint(qvirtio_blk_flush(f->blk->vq), ==, VIRTIO_BLK_S_OK);
    blk_image_pread(f->image, 64 * VIRTIO_BLK_SECTOR_SIZE, file, BIG_LEN);
    g_assert_cmpmem(file, BIG_LEN, buf, BIG_LEN);
}

/* What another process writes to the file is what the guest reads. */
static void test_host_to_guest(ImageFixture *f, gconstpointer data)
{
    g_autofree uint8_t *buf = g_malloc(BIG_LEN);
    g_autofree uint8_t *got = g_malloc(BIG_LEN);

    /* Read first, so that any cache the VMM keeps would be stale. */
    g_assert_cmpuint(qvirtio_blk_read(f->blk->vq, 1024, got, BIG_LEN), ==,
                     VIRTIO_BLK_S_OK);
    fill(buf, BIG_LEN, 2);
    blk_image_pwrite(f->image, 1024 * VIRTIO_BLK_SECTOR_SIZE, buf, BIG_LEN);
    g_assert_cmpuint(qvirtio_blk_read(f->blk->vq, 1024, got, BIG_LEN), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(got, BIG_LEN, buf, BIG_LEN);

    /* Both ways on the same sectors. */
    fill(buf, VIRTIO_BLK_SECTOR_SIZE, 3);
    g_assert_cmpuint(qvirtio_blk_write(f->blk->vq, 1024, buf,
                                       VIRTIO_BLK_SECTOR_SIZE), ==,
                     VIRTIO_BLK_S_OK);
    fill(buf, VIRTIO_BLK_SECTOR_SIZE, 4);
    blk_image_pwrite(f->image, 1024 * VIRTIO_BLK_SECTOR_SIZE, buf,
                     VIRTIO_BLK_SECTOR_SIZE);
    g_assert_cmpuint(qvirtio_blk_read(f->blk->vq, 1024, got,
                                      VIRTIO_BLK_SECTOR_SIZE), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(got, VIRTIO_BLK_SECTOR_SIZE, buf,
                    VIRTIO_BLK_SECTOR_SIZE);
}

/* WRITE_ZEROES reaches the file, and only the sectors it names. */
static void test_write_zeroes(ImageFixture *f, gconstpointer data)
{
    QVirtioBlkSegment seg = { .sector = 300, .num_sectors = 4 };
    uint8_t file[4 * VIRTIO_BLK_SECTOR_SIZE];

    g_assert_cmpuint(qvirtio_blk_write_zeroes(f->blk->vq, &seg, 1), ==,
                     VIRTIO_BLK_S_OK);
    blk_image_pread(f->image, 300 * VIRTIO_BLK_SECTOR_SIZE, file,
                    sizeof(file));
    for (unsigned i = 0; i < sizeof(file); i++) {
        g_assert_cmphex(file[i], ==, 0);
    }
    assert_file_pristine(f, 299, 1);
    assert_file_pristine(f, 304, 1);
}

/* Run a request of hdr, the data pieces and status; returns the status. */
static uint8_t run_pieces(ImageFixture *f, uint32_t type, uint64_t sector,
                          const QVirtQueueBuffer *pieces, unsigned n)
{
    QVirtQueueBuffer bufs[8];
    uint64_t hdr = guest_alloc(f->alloc, VIRTIO_BLK_OUTHDR_SIZE);
    uint64_t status = guest_alloc(f->alloc, 1);
    uint16_t head, used_head;
    uint32_t len;
    uint8_t ret;

    g_assert_cmpuint(n + 2, <=, G_N_ELEMENTS(bufs));
    qtest_writel(f->qts, hdr, type);
    qtest_writel(f->qts, hdr + 4, 0);
    qtest_writeq(f->qts, hdr + 8, sector);
    qtest_writeb(f->qts, status, 0xff);
    bufs[0] = (QVirtQueueBuffer){ hdr, VIRTIO_BLK_OUTHDR_SIZE, false };
    memcpy(bufs + 1, pieces, n * sizeof(*pieces));
    bufs[n + 1] = (QVirtQueueBuffer){ status, 1, true };
    head = qvirtqueue_add(f->blk->vq, bufs, n + 2);
    qvirtqueue_kick(f->blk->vq);
    qvirtqueue_wait_used(f->blk->vq, &used_head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(used_head, ==, head);
    ret = qtest_readb(f->qts, status);
    guest_free(f->alloc, hdr);
    guest_free(f->alloc, status);
    return ret;
}

/*
 * Data in pieces at odd guest addresses and of odd lengths: with O_DIRECT
 * the device has to bounce them.  Both directions, checked in the file.
 */
static void test_unaligned_buffers(ImageFixture *f, gconstpointer data)
{
    const size_t len = 3 * VIRTIO_BLK_SECTOR_SIZE;
    uint8_t buf[3 * VIRTIO_BLK_SECTOR_SIZE], got[sizeof(buf)];
    uint64_t area = guest_alloc(f->alloc, 2 * 4096);
    uint64_t odd = area + 3;
    QVirtQueueBuffer out[] = {
        { odd, 100, false }, { odd + 100, 1000, false },
        { odd + 1100, len - 1100, false },
    };
    QVirtQueueBuffer in[] = {
        { odd + 1, 511, true }, { odd + 512, len - 511, true },
    };

    fill(buf, len, 5);
    qtest_memwrite(f->qts, odd, buf, len);
    g_assert_cmpuint(run_pieces(f, VIRTIO_BLK_T_OUT, 500, out,
                                G_N_ELEMENTS(out)), ==, VIRTIO_BLK_S_OK);
    blk_image_pread(f->image, 500 * VIRTIO_BLK_SECTOR_SIZE, got, len);
    g_assert_cmpmem(got, len, buf, len);

    fill(buf, len, 6);
    blk_image_pwrite(f->image, 600 * VIRTIO_BLK_SECTOR_SIZE, buf, len);
    qtest_memset(f->qts, area, 0xa5, 2 * 4096);
    g_assert_cmpuint(run_pieces(f, VIRTIO_BLK_T_IN, 600, in,
                                G_N_ELEMENTS(in)), ==, VIRTIO_BLK_S_OK);
    qtest_memread(f->qts, odd + 1, got, len);
    g_assert_cmpmem(got, len, buf, len);
    /* Nothing around the pieces was written. */
    g_assert_cmphex(qtest_readb(f->qts, odd), ==, 0xa5);
    g_assert_cmphex(qtest_readb(f->qts, odd + 1 + len), ==, 0xa5);
    guest_free(f->alloc, area);
}

static const ImageConfig configs[] = {
    { "writeback", "threads", false },
    { "writeback", "io_uring", false },
    { "none", "threads", false },
    { "none", "io_uring", false },
    { "writeback", "threads", true },
    { "writeback", "io_uring", true },
    { "none", "threads", true },
    { "none", "io_uring", true },
};

static void add_image_test(const ImageConfig *cfg, const char *name,
                           void (*fn)(ImageFixture *, gconstpointer))
{
    g_autofree char *path =
        g_strdup_printf("/virtio-blk/image/%s/cache-%s/aio-%s/%s",
                        cfg->iothread ? "iothread" : "main-loop", cfg->cache,
                        cfg->aio, name);

    g_test_add(path, ImageFixture, cfg, image_setup, fn, image_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(configs); i++) {
        add_image_test(&configs[i], "guest-to-host", test_guest_to_host);
        add_image_test(&configs[i], "host-to-guest", test_host_to_guest);
        add_image_test(&configs[i], "write-zeroes", test_write_zeroes);
        add_image_test(&configs[i], "unaligned-buffers",
                       test_unaligned_buffers);
    }
    return g_test_run();
}
