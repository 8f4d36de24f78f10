/*
 * Split virtqueue, driver side (virtio 1.2, 2.7).
 *
 * Ordering on x86: stores become visible in program order and loads are not
 * reordered with older loads, so publishing descriptors before the index,
 * and reading the used index before the used entries, only needs compiler
 * barriers (release/acquire accesses).  The one reordering x86 does, a load
 * passing an older store, matters in virtq_kick(): the index store must be
 * visible before the device's notification-suppression fields are read, or
 * the device could stop polling without the driver noticing (2.7.13.3),
 * hence a full fence there.
 */
#include "virtqueue.h"

#include "libc.h"
#include "memory.h"

#define PAGE_SIZE           4096

static uint16_t *used_event_field(struct virtqueue *vq)
{
    return &vq->avail->ring[vq->size];
}

static volatile uint16_t *avail_event_field(struct virtqueue *vq)
{
    return (volatile uint16_t *)&vq->used->ring[vq->size];
}

static void *alloc_zeroed(size_t size, size_t align)
{
    void *p = guest_alloc(size, align);

    memset(p, 0, size);
    return p;
}

/*
 * Polling drivers want no interrupts.  Without EVENT_IDX the flag says so;
 * with it the flag is ignored and the device interrupts when its used index
 * steps over used_event.  used_event is kept half the index space (32768)
 * ahead of the device's index @used as last seen, and moved along whenever
 * the driver sees that index move: the device is never more than the queue
 * size (at most 32768) ahead of the entries reaped, so it never gets there.
 */
static void suppress_interrupts(struct virtqueue *vq, uint16_t used)
{
    __atomic_store_n(used_event_field(vq), (uint16_t)(used + 0x8000), __ATOMIC_RELAXED);
}

void virtq_init(struct virtqueue *vq, uint16_t index, uint16_t size, bool event_idx)
{
    *vq = (struct virtqueue){ .index = index, .size = size, .event_idx = event_idx };
    /* Page alignment exceeds every part's (16, 2 and 4 bytes); sizes from 2.7. */
    vq->desc = alloc_zeroed(sizeof(struct virtq_desc) * size, PAGE_SIZE);
    vq->avail = alloc_zeroed(sizeof(struct virtq_avail) + 2 * size + 2, PAGE_SIZE);
    vq->used = alloc_zeroed(sizeof(struct virtq_used) +
                            sizeof(struct virtq_used_elem) * size + 2, PAGE_SIZE);
    if (event_idx) {
        suppress_interrupts(vq, 0);
    } else {
        vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    }
}

bool virtq_kick(struct virtqueue *vq)
{
    uint16_t old = vq->kicked_idx, new = vq->avail_idx;
    bool notify;

    if (old == new) {
        return false;
    }
    __atomic_store_n(&vq->avail->idx, new, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vq->event_idx) {
        notify = virtq_need_event(*avail_event_field(vq), new, old);
    } else {
        notify = !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) &
                   VIRTQ_USED_F_NO_NOTIFY);
    }
    vq->kicked_idx = new;
    vq->kicks++;
    if (notify) {
        *vq->notify = vq->index;
        vq->notifications++;
    }
    return notify;
}

bool virtq_get_used(struct virtqueue *vq, struct virtq_used_elem *elem)
{
    if (vq->used_idx == vq->used_idx_seen) {
        vq->used_idx_seen = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
        if (vq->used_idx == vq->used_idx_seen) {
            return false;
        }
        if (vq->event_idx) {
            suppress_interrupts(vq, vq->used_idx_seen);
        }
    }
    *elem = vq->used->ring[vq->used_idx++ & (vq->size - 1)];
    return true;
}
