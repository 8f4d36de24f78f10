/*
 * Driver side of a split virtqueue for polling drivers: the caller owns the
 * descriptor table (it fills descriptors and chooses heads); this module
 * publishes heads on the available ring, decides whether the device needs a
 * notification, reaps the used ring and keeps the device from interrupting.
 *
 * Not thread-safe: one CPU drives a queue.
 */
#ifndef GUEST_VIRTQUEUE_H
#define GUEST_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_ring.h"

struct virtqueue {
    uint16_t index;             /* queue number within the device */
    uint16_t size;              /* entries, a power of two */
    bool event_idx;             /* VIRTIO_F_EVENT_IDX negotiated */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    volatile uint16_t *notify;  /* where the queue number is written */

    uint16_t avail_idx;         /* next free available ring entry */
    uint16_t kicked_idx;        /* avail_idx at the last kick */
    uint16_t used_idx;          /* next used ring entry to reap */
    uint16_t used_idx_seen;     /* device's used idx as last read */

    uint64_t kicks;             /* virtq_kick() calls that published entries */
    uint64_t notifications;     /* kicks that wrote the notify register */
};

/*
 * Allocate and zero the rings of a @size-entry queue (size a power of two)
 * and set up interrupt suppression.  The notify address is set separately
 * by the transport.
 */
void virtq_init(struct virtqueue *vq, uint16_t index, uint16_t size, bool event_idx);

/* Queue descriptor chain @head; the device sees it at the next kick. */
static inline void virtq_add(struct virtqueue *vq, uint16_t head)
{
    vq->avail->ring[vq->avail_idx++ & (vq->size - 1)] = head;
}

/*
 * Make the chains added since the last kick visible to the device and
 * notify it unless it said it does not need to be (VIRTQ_USED_F_NO_NOTIFY,
 * or avail_event with VIRTIO_F_EVENT_IDX).  Returns whether it notified.
 */
bool virtq_kick(struct virtqueue *vq);

/* Take the next used element; false if the device has returned none. */
bool virtq_get_used(struct virtqueue *vq, struct virtq_used_elem *elem);

#endif
