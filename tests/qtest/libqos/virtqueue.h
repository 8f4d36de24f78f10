/*
 * Split virtqueues, driver side (virtio 1.2, section 2.7): the descriptor
 * table, the available (driver) ring and the used (device) ring in guest
 * memory; descriptor chains, direct or through an indirect table; kicks
 * that respect the device's notification suppression, with or without
 * VIRTIO_F_EVENT_IDX.
 */
#ifndef LIBQOS_VIRTQUEUE_H
#define LIBQOS_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "../libqtest.h"
#include "guest-alloc.h"


#define VRING_DESC_SIZE             16
#define VRING_DESC_ALIGN            16
#define VRING_AVAIL_ALIGN           2
#define VRING_USED_ALIGN            4
#define VRING_USED_ELEM_SIZE        8

typedef struct QVirtioPCIDevice QVirtioPCIDevice;

typedef struct QVirtQueue {
    QVirtioPCIDevice *dev;      /* for notifications */
    QTestState *qts;
    GuestAlloc *alloc;
    uint16_t index;
    uint16_t size;
    uint64_t desc, avail, used; /* guest addresses */
    bool event_idx;             /* VIRTIO_F_EVENT_IDX was negotiated */
    uint64_t notify_addr;       /* BAR offset of the notification register */

    uint16_t avail_idx;         /* the next entry of the available ring */
    uint16_t kicked_idx;        /* avail_idx as of the last kick */
    uint16_t last_used_idx;     /* used entries consumed so far */

    /* Free descriptors are chained through next[], from free_head. */
    uint16_t *next;
    uint16_t free_head, num_free;
    uint16_t *chain_len;        /* by head: descriptors in the chain */
    uint64_t *indirect_table;   /* by head: its indirect table, or 0 */

    /* MSI-X vector and where its message lands (0: none). */
    uint16_t msix_vector;
    uint64_t msix_addr;
    uint32_t msix_data;
} QVirtQueue;

/* One element of a chain: a guest buffer the device reads or writes. */
typedef struct QVirtQueueBuffer {
    uint64_t addr;
    uint32_t len;
    bool device_writes;
} QVirtQueueBuffer;

/* Allocate and zero the rings of a queue of size entries. */
QVirtQueue *qvirtqueue_new(QTestState *qts, GuestAlloc *alloc,
                           uint16_t index, uint16_t size, bool event_idx);
/* Free the rings and everything still allocated for the queue. */
void qvirtqueue_free(QVirtQueue *vq);

/*
 * Make a chain of the n buffers (device-readable ones first) and put it in
 * the available ring, without telling the device yet.  Returns the head
 * descriptor's index, which the used ring will name.
 */
uint16_t qvirtqueue_add(QVirtQueue *vq, const QVirtQueueBuffer *bufs,
                        unsigned n);
/* The same through one descriptor pointing to an indirect table. */
uint16_t qvirtqueue_add_indirect(QVirtQueue *vq, const QVirtQueueBuffer *bufs,
                                 unsigned n);
/* Publish the added chains and notify the device unless it declined. */
void qvirtqueue_kick(QVirtQueue *vq);

/*
 * The ring fields the two sides use to suppress notifications (2.7.7,
 * 2.7.10): the driver's flags and used_event in the available ring, the
 * device's avail_event in the used ring, and the used index.
 */
void qvirtqueue_set_avail_flags(QVirtQueue *vq, uint16_t flags);
void qvirtqueue_set_used_event(QVirtQueue *vq, uint16_t idx);
uint16_t qvirtqueue_avail_event(QVirtQueue *vq);
uint16_t qvirtqueue_used_flags(QVirtQueue *vq);
uint16_t qvirtqueue_used_idx(QVirtQueue *vq);

/*
 * For tests of hostile drivers, which build what the device must refuse.
 * Write the descriptor at index i of the table at table (the queue's own,
 * vq->desc, or an indirect one) as given, without any checks.
 */
void qvirtqueue_write_desc(QTestState *qts, uint64_t table, uint16_t i,
                           uint64_t addr, uint32_t len, uint16_t flags,
                           uint16_t next);
/*
 * Put head in the available ring and publish it, without bookkeeping:
 * the device must not use it, and the queue is unusable until it is set up
 * anew.  The caller notifies the device.
 */
void qvirtqueue_add_raw(QVirtQueue *vq, uint16_t head);
/* Publish an arbitrary available index, also without bookkeeping. */
void qvirtqueue_set_avail_idx_raw(QVirtQueue *vq, uint16_t idx);

/*
 * Consume the next used element, if there is one: its head and the number
 * of bytes the device wrote.  Frees the chain.  With event index, asks for
 * an interrupt at the next used element.
 */
bool qvirtqueue_get_used(QVirtQueue *vq, uint16_t *head, uint32_t *len);
/* The same, waiting up to timeout_us; aborts the test on timeout. */
void qvirtqueue_wait_used(QVirtQueue *vq, uint16_t *head, uint32_t *len,
                          uint64_t timeout_us);

#endif
