/*
 * virtio-blk reset and shutdown with requests in flight: a driver that
 * writes status 0 right after kicking many large writes gets a reset that
 * completes, and a device that works again after re-initialization; a VMM
 * told to quit with writes in flight exits cleanly.  Every sector the
 * writes covered holds either its old data or its new data, nothing else.
 * On O_DIRECT files, with both I/O engines, in the main loop and in an
 * iothread, with the requests spread over two queues.
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (8ULL << 20)
#define NUM_QUEUES      2
#define NUM_WRITES      64
#define WRITE_LEN       (64 * 1024)
#define WRITE_SECTORS   (WRITE_LEN / VIRTIO_BLK_SECTOR_SIZE)
#define ROUNDS          3

typedef struct ResetConfig {
    const char *aio;
    bool iothread;
} ResetConfig;

typedef struct ResetFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
    QVirtioBlkSetup setup;
    QVirtioBlkInflight *reqs[NUM_WRITES];
    uint8_t *data;              /* what write n writes: WRITE_LEN bytes each */
} ResetFixture;

static void reset_setup(ResetFixture *f, gconstpointer data)
{
    const ResetConfig *cfg = data;

    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw,"
                         "cache=none,aio=%s %s "
                         "-device virtio-blk-pci,drive=d0,num-queues=%u%s",
                         f->image->path, cfg->aio,
                         cfg->iothread ? "-object iothread,id=io0" : "",
                         NUM_QUEUES, cfg->iothread ? ",iothread=io0" : "");
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    f->setup = (QVirtioBlkSetup){
        .features = VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
                    VIRTIO_BIT(VIRTIO_BLK_F_MQ) |
                    VIRTIO_BIT(VIRTIO_F_EVENT_IDX),
        .msix = true,
        .num_queues = NUM_QUEUES,
    };
    qvirtio_blk_pci_start(f->blk, &f->setup);
    f->data = g_malloc(NUM_WRITES * WRITE_LEN);
    for (size_t i = 0; i < NUM_WRITES * WRITE_LEN; i++) {
        f->data[i] = 0x80 | (i * 7 + i / WRITE_LEN);
    }
}

static void reset_teardown(ResetFixture *f, gconstpointer data)
{
    g_free(f->data);
    guest_alloc_destroy(f->alloc);
    blk_image_free(f->image);
}

/* NUM_WRITES writes over the queues, all kicked at once. */
static void submit_writes(ResetFixture *f)
{
    for (unsigned n = 0; n < NUM_WRITES; n++) {
        QVirtioBlkRequest req = {
            .type = VIRTIO_BLK_T_OUT, .sector = n * WRITE_SECTORS,
            .out = f->data + n * WRITE_LEN, .out_len = WRITE_LEN,
        };

        f->reqs[n] = qvirtio_blk_submit(f->blk->vqs[n % NUM_QUEUES], &req,
                                        false);
    }
    for (unsigned q = 0; q < NUM_QUEUES; q++) {
        qvirtqueue_kick(f->blk->vqs[q]);
    }
}

/* Forget the writes: the device has let go of their buffers. */
static void abandon_writes(ResetFixture *f)
{
    for (unsigned n = 0; n < NUM_WRITES; n++) {
        qvirtio_blk_abandon(f->alloc, f->reqs[n]);
    }
}

/* Each sector the writes covered is either untouched or fully written. */
static void assert_sectors_whole(ResetFixture *f)
{
    g_autofree uint8_t *file = g_malloc(NUM_WRITES * WRITE_LEN);

    blk_image_pread(f->image, 0, file, NUM_WRITES * WRITE_LEN);
    for (uint64_t s = 0; s < NUM_WRITES * WRITE_SECTORS; s++) {
        const uint8_t *got = file + s * VIRTIO_BLK_SECTOR_SIZE;
        const uint8_t *new = f->data + s * VIRTIO_BLK_SECTOR_SIZE;
        bool old = true;

        for (unsigned i = 0; i < VIRTIO_BLK_SECTOR_SIZE && old; i++) {
            old = got[i] == blk_image_sector_byte(s);
        }
        if (!old && memcmp(got, new, VIRTIO_BLK_SECTOR_SIZE)) {
            g_error("sector %" G_GUINT64_FORMAT " is neither its old nor "
                    "its new data", s);
        }
    }
}

/* After re-initialization, a write and a read on every queue work. */
static void assert_device_works(ResetFixture *f)
{
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE], got[sizeof(buf)];
    const uint64_t sector = IMAGE_SIZE / VIRTIO_BLK_SECTOR_SIZE - 1;

    for (unsigned q = 0; q < NUM_QUEUES; q++) {
        memset(buf, 0x40 + q, sizeof(buf));
        g_assert_cmpuint(qvirtio_blk_write(f->blk->vqs[q], sector, buf,
                                           sizeof(buf)), ==,
                         VIRTIO_BLK_S_OK);
        g_assert_cmpuint(qvirtio_blk_read(f->blk->vqs[q], sector, got,
                                          sizeof(got)), ==,
                         VIRTIO_BLK_S_OK);
        g_assert_cmpmem(got, sizeof(got), buf, sizeof(buf));
    }
}

/*
 * Status 0 right after the kicks, ROUNDS times: the reset completes (the
 * status reads back 0) and the device comes back.
 */
static void test_reset_in_flight(ResetFixture *f, gconstpointer data)
{
    for (unsigned round = 0; round < ROUNDS; round++) {
        submit_writes(f);
        /* Waits (bounded) for the status to read back 0; frees the rings. */
        qvirtio_blk_pci_stop(f->blk);
        abandon_writes(f);
        assert_sectors_whole(f);
        qvirtio_blk_pci_start(f->blk, &f->setup);
        assert_device_works(f);
    }
    qvirtio_blk_pci_free(f->blk);
    qtest_quit(f->qts);
}

/* The connection closes with writes in flight: a clean exit. */
static void test_quit_in_flight(ResetFixture *f, gconstpointer data)
{
    submit_writes(f);
    qtest_quit(f->qts);
    abandon_writes(f);
    qvirtio_blk_pci_forget(f->blk);
    assert_sectors_whole(f);
}

static const ResetConfig configs[] = {
    { "threads", false },
    { "io_uring", false },
    { "threads", true },
    { "io_uring", true },
};

static void add_reset_test(const ResetConfig *cfg, const char *name,
                           void (*fn)(ResetFixture *, gconstpointer))
{
    g_autofree char *path = g_strdup_printf("/virtio-blk/reset/%s/aio-%s/%s",
                                            cfg->iothread ? "iothread"
                                                          : "main-loop",
                                            cfg->aio, name);

    g_test_add(path, ResetFixture, cfg, reset_setup, fn, reset_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(configs); i++) {
        add_reset_test(&configs[i], "reset-in-flight", test_reset_in_flight);
        add_reset_test(&configs[i], "quit-in-flight", test_quit_in_flight);
    }
    return g_test_run();
}
