/*
 * Split virtqueue layout (virtio 1.2, 2.7).  All fields are little-endian,
 * which is the guest's byte order.
 */
#ifndef GUEST_VIRTIO_RING_H
#define GUEST_VIRTIO_RING_H

#include <stdint.h>

#define VIRTQ_DESC_F_NEXT       1       /* continues via the next field */
#define VIRTQ_DESC_F_WRITE      2       /* device-writable buffer */
#define VIRTQ_DESC_F_INDIRECT   4       /* buffer holds a descriptor table */

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

#define VIRTQ_AVAIL_F_NO_INTERRUPT  1

/* Followed by uint16_t used_event when VIRTIO_F_EVENT_IDX is negotiated. */
struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

#define VIRTQ_USED_F_NO_NOTIFY  1

struct virtq_used_elem {
    uint32_t id;                /* head of the descriptor chain */
    uint32_t len;               /* bytes the device wrote */
};

/* Followed by uint16_t avail_event when VIRTIO_F_EVENT_IDX is negotiated. */
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

/*
 * With VIRTIO_F_EVENT_IDX: must the side waiting for index @event be told,
 * now that the index moved from @old to @new?  True if @event lies in
 * [old, new), with 16-bit wrap-around (2.7.7.2 and 2.7.10).
 */
static inline int virtq_need_event(uint16_t event, uint16_t new, uint16_t old)
{
    return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

#endif
