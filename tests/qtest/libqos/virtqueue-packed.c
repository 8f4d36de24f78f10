/*
 * Packed virtqueues, driver side.
 */
#include <glib.h>

#include "virtio-pci.h"
#include "virtqueue-packed.h"

#define DESC_SIZE       16
#define EVENT_SIZE      4

QPackedQueue *qpacked_setup(QVirtioPCIDevice *d, GuestAlloc *alloc,
                            uint16_t index, uint16_t size)
{
    QPackedQueue *q = g_new0(QPackedQueue, 1);
    uint16_t max;

    g_assert_true(d->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED));
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SELECT, index);
    max = qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_SIZE);
    g_assert_cmpuint(size, <=, max);
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SIZE, size);
    g_assert_cmpuint(qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_SIZE),
                     ==, size);
    q->dev = d;
    q->qts = d->qts;
    q->alloc = alloc;
    q->index = index;
    q->size = size;
    q->ring = guest_alloc_aligned(alloc, (uint64_t)DESC_SIZE * size, 16);
    q->driver_event = guest_alloc_aligned(alloc, EVENT_SIZE, 4);
    q->device_event = guest_alloc_aligned(alloc, EVENT_SIZE, 4);
    qtest_memset(q->qts, q->ring, 0, (uint64_t)DESC_SIZE * size);
    qtest_memset(q->qts, q->driver_event, 0, EVENT_SIZE);
    qtest_memset(q->qts, q->device_event, 0, EVENT_SIZE);
    q->avail_wrap = q->used_wrap = true;
    q->num_free = size;
    q->chain_len = g_new0(uint16_t, size);
    q->indirect = g_new0(uint64_t, size);
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_DESCLO, q->ring);
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_AVAILLO,
                              q->driver_event);
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_USEDLO, q->device_event);
    q->notify_addr = qvirtio_pci_notify_addr(
        d, qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_NOFF));
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    return q;
}

void qpacked_free(QPackedQueue *q)
{
    for (unsigned i = 0; i < q->size; i++) {
        if (q->indirect[i]) {
            guest_free(q->alloc, q->indirect[i]);
        }
    }
    guest_free(q->alloc, q->ring);
    guest_free(q->alloc, q->driver_event);
    guest_free(q->alloc, q->device_event);
    g_free(q->chain_len);
    g_free(q->indirect);
    g_free(q);
}

void qpacked_write_desc(QPackedQueue *q, uint16_t i, uint64_t addr,
                        uint32_t len, uint16_t id, uint16_t flags)
{
    uint64_t d = q->ring + (uint64_t)i * DESC_SIZE;

    qtest_writeq(q->qts, d, addr);
    qtest_writel(q->qts, d + 8, len);
    qtest_writew(q->qts, d + 12, id);
    qtest_writew(q->qts, d + 14, flags);
}

/* Available in the lap of @wrap: AVAIL as the counter, USED the inverse. */
static uint16_t avail_flags(bool wrap)
{
    return wrap ? PACKED_DESC_F_AVAIL : PACKED_DESC_F_USED;
}

/*
 * Write @n descriptors from avail_idx; the first one's flags last, so that
 * the device never sees part of the chain.  Returns the buffer ID.
 */
static uint16_t add_descs(QPackedQueue *q, const QVirtQueueBuffer *bufs,
                          unsigned n, uint16_t extra_flags)
{
    uint16_t id = q->avail_idx, head_flags = 0, i = q->avail_idx;
    bool wrap = q->avail_wrap;

    g_assert_cmpuint(n, >=, 1);
    g_assert_cmpuint(n, <=, q->num_free);
    for (unsigned k = 0; k < n; k++) {
        uint16_t flags = avail_flags(wrap) | extra_flags |
                         (bufs[k].device_writes ? VRING_DESC_F_WRITE : 0) |
                         (k + 1 < n ? VRING_DESC_F_NEXT : 0);

        if (k == 0) {
            /* AVAIL == USED: not available in either lap, for now */
            head_flags = flags;
            qpacked_write_desc(q, i, bufs[k].addr, bufs[k].len, id, 0);
        } else {
            qpacked_write_desc(q, i, bufs[k].addr, bufs[k].len, id, flags);
        }
        if (++i == q->size) {
            i = 0;
            wrap = !wrap;
        }
    }
    qtest_writew(q->qts, q->ring + (uint64_t)id * DESC_SIZE + 14, head_flags);
    q->chain_len[id] = n;
    q->num_free -= n;
    q->avail_idx = i;
    q->avail_wrap = wrap;
    return id;
}

uint16_t qpacked_add(QPackedQueue *q, const QVirtQueueBuffer *bufs,
                     unsigned n)
{
    return add_descs(q, bufs, n, 0);
}

uint16_t qpacked_add_indirect(QPackedQueue *q, const QVirtQueueBuffer *bufs,
                              unsigned n)
{
    uint64_t table = guest_alloc_aligned(q->alloc, (uint64_t)DESC_SIZE * n,
                                         16);
    QVirtQueueBuffer one = { .addr = table, .len = DESC_SIZE * n };
    uint16_t id;

    for (unsigned k = 0; k < n; k++) {
        uint64_t d = table + (uint64_t)k * DESC_SIZE;

        qtest_writeq(q->qts, d, bufs[k].addr);
        qtest_writel(q->qts, d + 8, bufs[k].len);
        qtest_writew(q->qts, d + 12, 0);
        qtest_writew(q->qts, d + 14,
                     bufs[k].device_writes ? VRING_DESC_F_WRITE : 0);
    }
    id = add_descs(q, &one, 1, VRING_DESC_F_INDIRECT);
    q->indirect[id] = table;
    return id;
}

uint16_t qpacked_device_event_flags(QPackedQueue *q)
{
    return qtest_readw(q->qts, q->device_event + 2);
}

void qpacked_set_driver_event(QPackedQueue *q, uint16_t flags,
                              uint16_t off_wrap)
{
    qtest_writew(q->qts, q->driver_event, off_wrap);
    qtest_writew(q->qts, q->driver_event + 2, flags);
}

void qpacked_kick(QPackedQueue *q)
{
    if ((qpacked_device_event_flags(q) & 3) != PACKED_EVENT_DISABLE) {
        qpci_bar_writew(q->dev->pdev, q->dev->notify.bar, q->notify_addr,
                        q->index);
    }
}

bool qpacked_get_used(QPackedQueue *q, uint16_t *id, uint32_t *len)
{
    uint64_t d = q->ring + (uint64_t)q->used_idx * DESC_SIZE;
    uint16_t flags = qtest_readw(q->qts, d + 14);
    bool avail = flags & PACKED_DESC_F_AVAIL, used = flags & PACKED_DESC_F_USED;
    uint16_t n;

    if (avail != q->used_wrap || used != q->used_wrap) {
        return false;
    }
    *id = qtest_readw(q->qts, d + 12);
    *len = qtest_readl(q->qts, d + 8);
    g_assert_cmpuint(*id, <, q->size);
    n = q->chain_len[*id];
    g_assert_cmpuint(n, >, 0);
    q->chain_len[*id] = 0;
    if (q->indirect[*id]) {
        guest_free(q->alloc, q->indirect[*id]);
        q->indirect[*id] = 0;
    }
    q->num_free += n;
    q->used_idx += n;
    if (q->used_idx >= q->size) {
        q->used_idx -= q->size;
        q->used_wrap = !q->used_wrap;
    }
    return true;
}

void qpacked_wait_used(QPackedQueue *q, uint16_t *id, uint32_t *len,
                       uint64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;

    while (!qpacked_get_used(q, id, len)) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("packed queue %u: no used descriptor within %" G_GUINT64_FORMAT
                    " us", q->index, timeout_us);
        }
        g_usleep(100);
    }
}
