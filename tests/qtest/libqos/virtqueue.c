/*
 * Split virtqueues, driver side.
 */
#include <glib.h>
#include <string.h>

#include "virtio-pci.h"
#include "virtqueue.h"

/* Polling interval of qvirtqueue_wait_used, in wall-clock and virtual time. */
#define VIRTQUEUE_POLL_US   100

/* Offsets in the available and used rings. */
#define VRING_FLAGS         0
#define VRING_IDX           2
#define VRING_RING          4

static uint64_t avail_ring_size(uint16_t size)
{
    return VRING_RING + 2 * size + 2;   /* with used_event */
}

static uint64_t used_ring_size(uint16_t size)
{
    return VRING_RING + VRING_USED_ELEM_SIZE * size + 2; /* with avail_event */
}

QVirtQueue *qvirtqueue_new(QTestState *qts, GuestAlloc *alloc,
                           uint16_t index, uint16_t size, bool event_idx)
{
    QVirtQueue *vq = g_new0(QVirtQueue, 1);

    g_assert_cmpuint(size, >, 0);
    vq->qts = qts;
    vq->alloc = alloc;
    vq->index = index;
    vq->size = size;
    vq->event_idx = event_idx;
    vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
    vq->desc = guest_alloc_aligned(alloc, VRING_DESC_SIZE * size,
                                   VRING_DESC_ALIGN);
    vq->avail = guest_alloc_aligned(alloc, avail_ring_size(size),
                                    VRING_AVAIL_ALIGN);
    vq->used = guest_alloc_aligned(alloc, used_ring_size(size),
                                   VRING_USED_ALIGN);
    qtest_memset(qts, vq->desc, 0, VRING_DESC_SIZE * size);
    qtest_memset(qts, vq->avail, 0, avail_ring_size(size));
    qtest_memset(qts, vq->used, 0, used_ring_size(size));

    vq->next = g_new(uint16_t, size);
    for (unsigned i = 0; i < size; i++) {
        vq->next[i] = i + 1;
    }
    vq->num_free = size;
    vq->chain_len = g_new0(uint16_t, size);
    vq->indirect_table = g_new0(uint64_t, size);
    return vq;
}

void qvirtqueue_free(QVirtQueue *vq)
{
    for (unsigned i = 0; i < vq->size; i++) {
        if (vq->indirect_table[i]) {
            guest_free(vq->alloc, vq->indirect_table[i]);
        }
    }
    if (vq->msix_addr) {
        guest_free(vq->alloc, vq->msix_addr);
    }
    guest_free(vq->alloc, vq->desc);
    guest_free(vq->alloc, vq->avail);
    guest_free(vq->alloc, vq->used);
    g_free(vq->next);
    g_free(vq->chain_len);
    g_free(vq->indirect_table);
    g_free(vq);
}

/* A descriptor as the device sees it: little-endian, 16 bytes. */
static void write_desc(QTestState *qts, uint64_t addr, uint64_t buf,
                       uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t d[VRING_DESC_SIZE];

    for (unsigned i = 0; i < 8; i++) {
        d[i] = buf >> (8 * i);
    }
    for (unsigned i = 0; i < 4; i++) {
        d[8 + i] = len >> (8 * i);
    }
    d[12] = flags;
    d[13] = flags >> 8;
    d[14] = next;
    d[15] = next >> 8;
    qtest_memwrite(qts, addr, d, sizeof(d));
}

/* Take n descriptors off the free list; returns the first. */
static uint16_t alloc_descs(QVirtQueue *vq, unsigned n)
{
    uint16_t head = vq->free_head, last = head;

    g_assert_cmpuint(n, >, 0);
    if (n > vq->num_free) {
        g_error("virtqueue %u: %u descriptors wanted, %u free", vq->index, n,
                vq->num_free);
    }
    for (unsigned i = 1; i < n; i++) {
        last = vq->next[last];
    }
    vq->free_head = vq->next[last];
    vq->num_free -= n;
    vq->chain_len[head] = n;
    return head;
}

static void make_available(QVirtQueue *vq, uint16_t head)
{
    qtest_writew(vq->qts, vq->avail + VRING_RING +
                 2 * (vq->avail_idx % vq->size), head);
    vq->avail_idx++;
}

uint16_t qvirtqueue_add(QVirtQueue *vq, const QVirtQueueBuffer *bufs,
                        unsigned n)
{
    uint16_t head = alloc_descs(vq, n), d = head;

    for (unsigned i = 0; i < n; i++) {
        uint16_t flags = (bufs[i].device_writes ? VRING_DESC_F_WRITE : 0) |
                         (i + 1 < n ? VRING_DESC_F_NEXT : 0);

        write_desc(vq->qts, vq->desc + VRING_DESC_SIZE * d, bufs[i].addr,
                   bufs[i].len, flags, i + 1 < n ? vq->next[d] : 0);
        d = vq->next[d];
    }
    make_available(vq, head);
    return head;
}

uint16_t qvirtqueue_add_indirect(QVirtQueue *vq, const QVirtQueueBuffer *bufs,
                                 unsigned n)
{
    uint64_t table = guest_alloc_aligned(vq->alloc, VRING_DESC_SIZE * n,
                                         VRING_DESC_ALIGN);
    uint16_t head = alloc_descs(vq, 1);

    for (unsigned i = 0; i < n; i++) {
        uint16_t flags = (bufs[i].device_writes ? VRING_DESC_F_WRITE : 0) |
                         (i + 1 < n ? VRING_DESC_F_NEXT : 0);

        write_desc(vq->qts, table + VRING_DESC_SIZE * i, bufs[i].addr,
                   bufs[i].len, flags, i + 1 < n ? i + 1 : 0);
    }
    write_desc(vq->qts, vq->desc + VRING_DESC_SIZE * head, table,
               VRING_DESC_SIZE * n, VRING_DESC_F_INDIRECT, 0);
    vq->indirect_table[head] = table;
    make_available(vq, head);
    return head;
}

void qvirtqueue_kick(QVirtQueue *vq)
{
    uint16_t old_idx = vq->kicked_idx, new_idx = vq->avail_idx;
    bool notify;

    qtest_writew(vq->qts, vq->avail + VRING_IDX, new_idx);
    vq->kicked_idx = new_idx;
    if (vq->event_idx) {
        uint16_t avail_event = qtest_readw(vq->qts, vq->used + VRING_RING +
                                           VRING_USED_ELEM_SIZE * vq->size);
        notify = vring_need_event(avail_event, new_idx, old_idx);
    } else {
        notify = !(qtest_readw(vq->qts, vq->used + VRING_FLAGS) &
                   VRING_USED_F_NO_NOTIFY);
    }
    if (notify) {
        qvirtio_pci_queue_notify(vq->dev, vq);
    }
}

static void free_chain(QVirtQueue *vq, uint16_t head)
{
    uint16_t last = head;

    g_assert_cmpuint(head, <, vq->size);
    if (!vq->chain_len[head]) {
        g_error("virtqueue %u: the device used descriptor %u, which heads "
                "no chain", vq->index, head);
    }
    for (unsigned i = 1; i < vq->chain_len[head]; i++) {
        last = vq->next[last];
    }
    vq->next[last] = vq->free_head;
    vq->free_head = head;
    vq->num_free += vq->chain_len[head];
    vq->chain_len[head] = 0;
    if (vq->indirect_table[head]) {
        guest_free(vq->alloc, vq->indirect_table[head]);
        vq->indirect_table[head] = 0;
    }
}

bool qvirtqueue_get_used(QVirtQueue *vq, uint16_t *head, uint32_t *len)
{
    uint64_t elem;

    if (qtest_readw(vq->qts, vq->used + VRING_IDX) == vq->last_used_idx) {
        return false;
    }
    elem = vq->used + VRING_RING +
           VRING_USED_ELEM_SIZE * (vq->last_used_idx % vq->size);
    *head = qtest_readl(vq->qts, elem);
    *len = qtest_readl(vq->qts, elem + 4);
    free_chain(vq, *head);
    vq->last_used_idx++;
    if (vq->event_idx) {
        qtest_writew(vq->qts, vq->avail + VRING_RING + 2 * vq->size,
                     vq->last_used_idx);
    }
    return true;
}

void qvirtqueue_wait_used(QVirtQueue *vq, uint16_t *head, uint32_t *len,
                          uint64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;

    while (!qvirtqueue_get_used(vq, head, len)) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("virtqueue %u: nothing used within %" G_GUINT64_FORMAT
                    " us", vq->index, timeout_us);
        }
        qtest_clock_step(vq->qts, VIRTQUEUE_POLL_US * 1000);
        g_usleep(VIRTQUEUE_POLL_US);
    }
}

void qvirtqueue_set_avail_flags(QVirtQueue *vq, uint16_t flags)
{
    qtest_writew(vq->qts, vq->avail + VRING_FLAGS, flags);
}

void qvirtqueue_set_used_event(QVirtQueue *vq, uint16_t idx)
{
    qtest_writew(vq->qts, vq->avail + VRING_RING + 2 * vq->size, idx);
}

uint16_t qvirtqueue_avail_event(QVirtQueue *vq)
{
    return qtest_readw(vq->qts, vq->used + VRING_RING +
                       VRING_USED_ELEM_SIZE * vq->size);
}

uint16_t qvirtqueue_used_flags(QVirtQueue *vq)
{
    return qtest_readw(vq->qts, vq->used + VRING_FLAGS);
}

uint16_t qvirtqueue_used_idx(QVirtQueue *vq)
{
    return qtest_readw(vq->qts, vq->used + VRING_IDX);
}

void qvirtqueue_write_desc(QTestState *qts, uint64_t table, uint16_t i,
                           uint64_t addr, uint32_t len, uint16_t flags,
                           uint16_t next)
{
    write_desc(qts, table + (uint64_t)VRING_DESC_SIZE * i, addr, len, flags,
               next);
}

void qvirtqueue_add_raw(QVirtQueue *vq, uint16_t head)
{
    make_available(vq, head);
    qtest_writew(vq->qts, vq->avail + VRING_IDX, vq->avail_idx);
    vq->kicked_idx = vq->avail_idx;
}

void qvirtqueue_set_avail_idx_raw(QVirtQueue *vq, uint16_t idx)
{
    vq->avail_idx = vq->kicked_idx = idx;
    qtest_writew(vq->qts, vq->avail + VRING_IDX, idx);
}
