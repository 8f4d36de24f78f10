/*
 * Used buffer notification suppression (virtio 1.2, 2.7.7) and the
 * device's side of available buffer notification suppression (2.7.10):
 * with VIRTIO_F_EVENT_IDX the device interrupts exactly when the used index
 * passes used_event and keeps avail_event up to date; without it, it
 * honours VRING_AVAIL_F_NO_INTERRUPT.
 *
 * Interrupts that must not happen are looked for with the vector masked:
 * a message the device sends then shows in the PBA at once, whereas an
 * unmasked one reaches guest RAM only some time later.
 */
#include <glib.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (1ULL << 20)
#define POLL_US         100
#define SILENT          2       /* requests that must not interrupt */

typedef struct NotifyConfig {
    bool event_idx;
    bool msix;
    bool iothread;
} NotifyConfig;

typedef struct NotifyFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
    QVirtQueue *vq;
    uint8_t bufs[SILENT + 1][VIRTIO_BLK_SECTOR_SIZE];
    QVirtioBlkInflight *reqs[SILENT + 1];
} NotifyFixture;

static void notify_setup(NotifyFixture *f, gconstpointer data)
{
    const NotifyConfig *cfg = data;
    QVirtioBlkSetup setup = {
        .features = cfg->event_idx ? VIRTIO_BIT(VIRTIO_F_EVENT_IDX) : 0,
        .msix = cfg->msix,
    };

    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw %s "
                         "-device virtio-blk-pci,drive=d0%s", f->image->path,
                         cfg->iothread ? "-object iothread,id=io0" : "",
                         cfg->iothread ? ",iothread=io0" : "");
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    qvirtio_blk_pci_start(f->blk, &setup);
    f->vq = f->blk->vq;
    g_assert_cmpint(f->vq->event_idx, ==, cfg->event_idx);
}

static void notify_teardown(NotifyFixture *f, gconstpointer data)
{
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

/* Wait until the device has used the ring up to idx, consuming nothing. */
static void wait_used_idx(NotifyFixture *f, uint16_t idx)
{
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_US;

    while (qvirtqueue_used_idx(f->vq) != idx) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("the used index stayed at %u, %u expected",
                    qvirtqueue_used_idx(f->vq), idx);
        }
        qtest_clock_step(f->qts, POLL_US * 1000);
        g_usleep(POLL_US);
    }
}

/* Has the device interrupted for the queue since the last look? */
static bool interrupted(NotifyFixture *f)
{
    if (f->vq->msix_vector != VIRTIO_MSI_NO_VECTOR) {
        return qpci_msix_pending(&f->blk->vdev.msix, f->vq->msix_vector);
    }
    return qvirtio_pci_read_isr(&f->blk->vdev) & VIRTIO_PCI_ISR_QUEUE;
}

/* Read sector n into f->bufs[n] and wait until the device used it. */
static void read_sector(NotifyFixture *f, unsigned n)
{
    QVirtioBlkRequest req = {
        .type = VIRTIO_BLK_T_IN, .sector = n, .in = f->bufs[n],
        .in_len = VIRTIO_BLK_SECTOR_SIZE,
    };
    uint16_t used = qvirtqueue_used_idx(f->vq);

    f->reqs[n] = qvirtio_blk_submit(f->vq, &req, false);
    qvirtqueue_kick(f->vq);
    wait_used_idx(f, used + 1);
}

/*
 * With interrupts suppressed, read SILENT sectors: none interrupts (a
 * masked MSI-X vector or the ISR would show it).  Then allow() and read
 * one more, which must interrupt; the message arrives once unmasked.
 */
static void run_suppressed(NotifyFixture *f, void (*allow)(NotifyFixture *))
{
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_US;
    uint16_t head;
    uint32_t len;

    if (f->vq->msix_vector != VIRTIO_MSI_NO_VECTOR) {
        qpci_msix_mask(&f->blk->vdev.msix, f->vq->msix_vector, true);
    } else {
        qvirtio_pci_read_isr(&f->blk->vdev);
    }
    for (unsigned n = 0; n < SILENT; n++) {
        read_sector(f, n);
        g_assert_false(interrupted(f));
    }
    allow(f);
    read_sector(f, SILENT);
    while (!interrupted(f)) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("no interrupt for the request that asked for one");
        }
        qtest_clock_step(f->qts, POLL_US * 1000);
        g_usleep(POLL_US);
    }
    if (f->vq->msix_vector != VIRTIO_MSI_NO_VECTOR) {
        qpci_msix_mask(&f->blk->vdev.msix, f->vq->msix_vector, false);
        g_assert_true(qvirtio_pci_wait_queue_interrupt(&f->blk->vdev, f->vq,
                                                       QVIRTIO_TIMEOUT_US));
    }

    for (unsigned n = 0; n <= SILENT; n++) {
        qvirtqueue_wait_used(f->vq, &head, &len, QVIRTIO_TIMEOUT_US);
        g_assert_cmpuint(head, ==, f->reqs[n]->head);
        g_assert_cmpuint(qvirtio_blk_complete(f->vq, f->reqs[n]), ==,
                         VIRTIO_BLK_S_OK);
        for (unsigned i = 0; i < VIRTIO_BLK_SECTOR_SIZE; i++) {
            g_assert_cmphex(f->bufs[n][i], ==, blk_image_sector_byte(n));
        }
    }
}

/* A read with the usual interrupt (the first one primes the device). */
static void read_with_interrupt(NotifyFixture *f)
{
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];

    g_assert_cmpuint(qvirtio_blk_read(f->vq, 0, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
}

static void allow_nothing(NotifyFixture *f)
{
}

/*
 * used_event = used idx + SILENT: the device interrupts when the used
 * index goes from used_event to used_event + 1, and not before (2.7.7.2).
 */
static void test_used_event(NotifyFixture *f, gconstpointer data)
{
    read_with_interrupt(f);
    qvirtqueue_set_used_event(f->vq, qvirtqueue_used_idx(f->vq) + SILENT);
    run_suppressed(f, allow_nothing);
}

/* With EVENT_IDX, the device ignores VRING_AVAIL_F_NO_INTERRUPT. */
static void test_event_idx_ignores_flag(NotifyFixture *f, gconstpointer data)
{
    read_with_interrupt(f);
    qvirtqueue_set_avail_flags(f->vq, VRING_AVAIL_F_NO_INTERRUPT);
    g_assert_cmpuint(qvirtio_blk_flush(f->vq), ==, VIRTIO_BLK_S_OK);
}

/*
 * avail_event follows the requests the device took (2.7.10), and flags
 * stays 0 with EVENT_IDX.  The device may let it lag while it polls the
 * ring; once idle, it must have caught up.
 */
static void test_avail_event(NotifyFixture *f, gconstpointer data)
{
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_US;

    for (unsigned n = 0; n < 5; n++) {
        read_with_interrupt(f);
    }
    while (qvirtqueue_avail_event(f->vq) != f->vq->avail_idx) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("avail_event is %u, %u requests were taken",
                    qvirtqueue_avail_event(f->vq), f->vq->avail_idx);
        }
        qtest_clock_step(f->qts, POLL_US * 1000);
        g_usleep(POLL_US);
    }
    g_assert_cmphex(qvirtqueue_used_flags(f->vq), ==, 0);
}

static void allow_interrupts(NotifyFixture *f)
{
    qvirtqueue_set_avail_flags(f->vq, 0);
}

/* Without EVENT_IDX: no interrupt while VRING_AVAIL_F_NO_INTERRUPT is set. */
static void test_no_interrupt(NotifyFixture *f, gconstpointer data)
{
    read_with_interrupt(f);
    qvirtqueue_set_avail_flags(f->vq, VRING_AVAIL_F_NO_INTERRUPT);
    run_suppressed(f, allow_interrupts);
}

static const NotifyConfig event_idx_config = { .event_idx = true,
                                               .msix = true };
static const NotifyConfig event_idx_iothread_config = {
    .event_idx = true, .msix = true, .iothread = true,
};
static const NotifyConfig flags_config = { .msix = true };
static const NotifyConfig flags_iothread_config = { .msix = true,
                                                    .iothread = true };
static const NotifyConfig flags_intx_config = { .msix = false };

static void add_notify_test(const char *variant, const NotifyConfig *cfg,
                            const char *name,
                            void (*fn)(NotifyFixture *, gconstpointer))
{
    g_autofree char *path = g_strdup_printf("/virtio-blk/notification/%s/%s",
                                            variant, name);

    g_test_add(path, NotifyFixture, cfg, notify_setup, fn, notify_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_notify_test("event-idx", &event_idx_config, "used-event",
                    test_used_event);
    add_notify_test("event-idx", &event_idx_config, "ignores-flag",
                    test_event_idx_ignores_flag);
    add_notify_test("event-idx", &event_idx_config, "avail-event",
                    test_avail_event);
    add_notify_test("event-idx-iothread", &event_idx_iothread_config,
                    "used-event", test_used_event);
    add_notify_test("event-idx-iothread", &event_idx_iothread_config,
                    "avail-event", test_avail_event);
    add_notify_test("flags", &flags_config, "no-interrupt",
                    test_no_interrupt);
    add_notify_test("flags-iothread", &flags_iothread_config, "no-interrupt",
                    test_no_interrupt);
    add_notify_test("flags-intx", &flags_intx_config, "no-interrupt",
                    test_no_interrupt);
    return g_test_run();
}
