/*
 * virtio-blk with several request queues (num-queues=4, VIRTIO_BLK_F_MQ):
 * every queue serves requests, each interrupts on its own MSI-X vector,
 * and requests in flight on all queues at once complete where they were
 * put, with the data intact; in the main loop and in an iothread.
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (1ULL << 20)
#define NUM_QUEUES      4
#define PER_QUEUE       8       /* requests in flight on each queue */
#define REQ_SECTORS     8

typedef struct MQFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
} MQFixture;

static void mq_setup(MQFixture *f, gconstpointer data)
{
    bool iothread = GPOINTER_TO_INT(data);
    QVirtioBlkSetup setup = {
        .features = VIRTIO_BIT(VIRTIO_BLK_F_MQ) |
                    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
                    VIRTIO_BIT(VIRTIO_F_EVENT_IDX),
        .msix = true,
        .num_queues = NUM_QUEUES,
    };

    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw %s "
                         "-device virtio-blk-pci,drive=d0,num-queues=%u%s",
                         f->image->path,
                         iothread ? "-object iothread,id=io0" : "",
                         NUM_QUEUES, iothread ? ",iothread=io0" : "");
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    qvirtio_blk_pci_start(f->blk, &setup);
    g_assert_true(f->blk->vdev.features & VIRTIO_BIT(VIRTIO_BLK_F_MQ));
    g_assert_cmpuint(f->blk->num_vqs, ==, NUM_QUEUES);
}

static void mq_teardown(MQFixture *f, gconstpointer data)
{
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

/* The data request n writes: distinct for every request. */
static void fill(uint8_t *buf, size_t len, unsigned n)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = n * 31 + i / 3;
    }
}

/* One queue after the other: each writes, the next one reads it back. */
static void test_every_queue(MQFixture *f, gconstpointer data)
{
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE], got[sizeof(buf)];

    for (unsigned q = 0; q < NUM_QUEUES; q++) {
        fill(buf, sizeof(buf), q);
        /* qvirtio_blk_request waits for the queue's own vector. */
        g_assert_cmpuint(qvirtio_blk_write(f->blk->vqs[q], 100 + q, buf,
                                           sizeof(buf)), ==,
                         VIRTIO_BLK_S_OK);
    }
    for (unsigned q = 0; q < NUM_QUEUES; q++) {
        unsigned writer = (q + 1) % NUM_QUEUES;

        fill(buf, sizeof(buf), writer);
        g_assert_cmpuint(qvirtio_blk_read(f->blk->vqs[q], 100 + writer, got,
                                          sizeof(got)), ==,
                         VIRTIO_BLK_S_OK);
        g_assert_cmpmem(got, sizeof(got), buf, sizeof(buf));
    }
}

/* Which of a queue's requests has its chain at head. */
static unsigned find_request(QVirtioBlkInflight *const *r, uint16_t head)
{
    for (unsigned i = 0; i < PER_QUEUE; i++) {
        if (r[i]->head == head) {
            return i;
        }
    }
    g_error("the device used head %u, which heads none of the queue's "
            "requests", head);
}

/*
 * PER_QUEUE writes on every queue, all kicked before any is waited for:
 * each queue gets back its own requests and its own interrupt.
 */
static void test_concurrent(MQFixture *f, gconstpointer data)
{
    const size_t len = REQ_SECTORS * VIRTIO_BLK_SECTOR_SIZE;
    QVirtioBlkInflight *r[NUM_QUEUES][PER_QUEUE];
    g_autofree uint8_t *buf = g_malloc(len);
    g_autofree uint8_t *got = g_malloc(len);

    for (unsigned q = 0; q < NUM_QUEUES; q++) {
        for (unsigned i = 0; i < PER_QUEUE; i++) {
            unsigned n = q * PER_QUEUE + i;
            QVirtioBlkRequest req = {
                .type = VIRTIO_BLK_T_OUT, .sector = n * REQ_SECTORS,
                .out = buf, .out_len = len,
            };

            fill(buf, len, n);
            r[q][i] = qvirtio_blk_submit(f->blk->vqs[q], &req, false);
        }
    }
    for (unsigned q = 0; q < NUM_QUEUES; q++) {
        qvirtqueue_kick(f->blk->vqs[q]);
    }
    for (unsigned q = 0; q < NUM_QUEUES; q++) {
        QVirtQueue *vq = f->blk->vqs[q];
        bool done[PER_QUEUE] = { false };

        for (unsigned k = 0; k < PER_QUEUE; k++) {
            uint16_t head;
            uint32_t used_len;
            unsigned i;

            qvirtqueue_wait_used(vq, &head, &used_len, QVIRTIO_TIMEOUT_US);
            i = find_request(r[q], head);
            g_assert_false(done[i]);
            done[i] = true;
            g_assert_cmpuint(used_len, ==, 1);
        }
        g_assert_true(qvirtio_pci_wait_queue_interrupt(&f->blk->vdev, vq,
                                                       QVIRTIO_TIMEOUT_US));
        for (unsigned i = 0; i < PER_QUEUE; i++) {
            g_assert_cmpuint(qvirtio_blk_complete(vq, r[q][i]), ==,
                             VIRTIO_BLK_S_OK);
        }
    }

    g_assert_cmpuint(qvirtio_blk_flush(f->blk->vqs[NUM_QUEUES - 1]), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned n = 0; n < NUM_QUEUES * PER_QUEUE; n++) {
        fill(buf, len, n);
        g_assert_cmpuint(qvirtio_blk_read(f->blk->vqs[n % NUM_QUEUES],
                                          n * REQ_SECTORS, got, len), ==,
                         VIRTIO_BLK_S_OK);
        g_assert_cmpmem(got, len, buf, len);
    }
}

static void add_mq_test(const char *variant, bool iothread, const char *name,
                        void (*fn)(MQFixture *, gconstpointer))
{
    g_autofree char *path = g_strdup_printf("/virtio-blk/multiqueue/%s/%s",
                                            variant, name);

    g_test_add(path, MQFixture, GINT_TO_POINTER(iothread), mq_setup, fn,
               mq_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_mq_test("main-loop", false, "every-queue", test_every_queue);
    add_mq_test("main-loop", false, "concurrent", test_concurrent);
    add_mq_test("iothread", true, "every-queue", test_every_queue);
    add_mq_test("iothread", true, "concurrent", test_concurrent);
    return g_test_run();
}
