/*
 * Packed virtqueues, driver side (virtio 1.2, section 2.8): the descriptor
 * ring and the two event suppression structures in guest memory; chains of
 * consecutive descriptors or one indirect table; used descriptors read in
 * the order the device writes them.
 */
#ifndef LIBQOS_VIRTQUEUE_PACKED_H
#define LIBQOS_VIRTQUEUE_PACKED_H

#include <stdbool.h>
#include <stdint.h>

#include "../libqtest.h"
#include "guest-alloc.h"
#include "virtqueue.h"

#define PACKED_DESC_F_AVAIL         (1 << 7)
#define PACKED_DESC_F_USED          (1 << 15)
#define PACKED_EVENT_ENABLE         0
#define PACKED_EVENT_DISABLE        1
#define PACKED_EVENT_DESC           2
#define PACKED_EVENT_WRAP           (1 << 15)

typedef struct QVirtioPCIDevice QVirtioPCIDevice;

typedef struct QPackedQueue {
    QVirtioPCIDevice *dev;
    QTestState *qts;
    GuestAlloc *alloc;
    uint16_t index;
    uint16_t size;
    uint64_t ring, driver_event, device_event;  /* guest addresses */
    uint64_t notify_addr;           /* BAR offset of its notification */

    uint16_t avail_idx;             /* where the next chain goes */
    bool avail_wrap;
    uint16_t used_idx;              /* where the next used descriptor is */
    bool used_wrap;
    uint16_t num_free;
    /* by buffer ID (the chain's first slot): its length and indirect table */
    uint16_t *chain_len;
    uint64_t *indirect;
} QPackedQueue;

/*
 * Set up queue @index of @d (FEATURES_OK with VIRTIO_F_RING_PACKED done)
 * with @size entries, any number up to the device's maximum, and enable it.
 */
QPackedQueue *qpacked_setup(QVirtioPCIDevice *d, GuestAlloc *alloc,
                            uint16_t index, uint16_t size);
void qpacked_free(QPackedQueue *q);

/*
 * Make the @n buffers (device-readable ones first) available as one chain
 * of descriptors, or through one descriptor and an indirect table.
 * Returns the buffer ID the used descriptor will carry.
 */
uint16_t qpacked_add(QPackedQueue *q, const QVirtQueueBuffer *bufs,
                     unsigned n);
uint16_t qpacked_add_indirect(QPackedQueue *q, const QVirtQueueBuffer *bufs,
                              unsigned n);
/* Notify the device, unless its event suppression says not to. */
void qpacked_kick(QPackedQueue *q);

/* The next used descriptor, if there is one: buffer ID and length. */
bool qpacked_get_used(QPackedQueue *q, uint16_t *id, uint32_t *len);
/* The same, waiting up to timeout_us; aborts the test on timeout. */
void qpacked_wait_used(QPackedQueue *q, uint16_t *id, uint32_t *len,
                       uint64_t timeout_us);

/* The event suppression structures: the driver's, and the device's. */
void qpacked_set_driver_event(QPackedQueue *q, uint16_t flags,
                              uint16_t off_wrap);
uint16_t qpacked_device_event_flags(QPackedQueue *q);

/* For hostile tests: write descriptor slot @i as given, no bookkeeping. */
void qpacked_write_desc(QPackedQueue *q, uint16_t i, uint64_t addr,
                        uint32_t len, uint16_t id, uint16_t flags);

#endif
