/*
 * Packed virtqueues (virtio 1.2, section 2.8): one ring of descriptors that
 * the driver marks available and the device overwrites, in order, with
 * used descriptors; two event suppression structures instead of the split
 * ring's flags and event indexes.
 *
 * As with split rings, every field the guest writes is read once and
 * checked: a chain longer than the ring, a misplaced indirect descriptor or
 * a buffer outside guest RAM marks the device broken.
 */
#include "exec/guest-ram.h"
#include "virtqueue-internal.h"

#define DESC_F_AVAIL    (1 << VRING_PACKED_DESC_F_AVAIL)
#define DESC_F_USED     (1 << VRING_PACKED_DESC_F_USED)
#define EVENT_WRAP      (1 << VRING_PACKED_EVENT_F_WRAP_CTR)

bool packed_ring_map(VirtQueue *vq)
{
    vq->ring = guest_ram_ptr(vq->desc_gpa,
                             sizeof(struct vring_packed_desc) * vq->num);
    vq->driver_event = guest_ram_ptr(vq->avail_gpa,
                                     sizeof(*vq->driver_event));
    vq->device_event = guest_ram_ptr(vq->used_gpa, sizeof(*vq->device_event));
    if (!vq->ring || !vq->driver_event || !vq->device_event ||
        (vq->desc_gpa & 15) || (vq->avail_gpa & 3) || (vq->used_gpa & 3)) {
        virtio_error(vq->vdev, "queue %u: ring addresses outside guest RAM "
                     "or misaligned", vq->index);
        vq->ring = NULL;
        vq->driver_event = vq->device_event = NULL;
        return false;
    }
    vq->avail_wrap = vq->used_wrap = true;     /* 2.8.1: both start at 1 */
    return true;
}

/* Available: AVAIL matches the wrap counter, USED does not (2.8.1). */
static bool is_available(uint16_t flags, bool wrap)
{
    return !!(flags & DESC_F_AVAIL) == wrap && !!(flags & DESC_F_USED) != wrap;
}

bool packed_ring_empty(VirtQueue *vq)
{
    uint16_t flags = __atomic_load_n(&vq->ring[vq->last_avail_idx].flags,
                                     __ATOMIC_ACQUIRE);

    return !is_available(flags, vq->avail_wrap);
}

/* The driver writes a chain's first flags last: read them first (acquire). */
static struct vring_packed_desc read_desc(const struct vring_packed_desc *d)
{
    struct vring_packed_desc c;

    c.flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
    c.addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
    c.len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
    c.id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
    return c;
}

/*
 * An indirect table: its entries in order, only their WRITE flag counts.
 * It is a chain of its own (2.8.7): @d must be the chain's only descriptor.
 */
static bool map_indirect(VirtQueue *vq, const struct vring_packed_desc *d,
                         bool chain_head, VirtQueueElement *elem)
{
    const struct vring_packed_desc *table;
    unsigned n = d->len / sizeof(*table);

    if (!virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_INDIRECT_DESC) ||
        (d->flags & VRING_DESC_F_NEXT) || !chain_head) {
        virtio_error(vq->vdev, "queue %u: invalid indirect descriptor",
                     vq->index);
        return false;
    }
    if (!n || d->len % sizeof(*table) || n > VIRTQUEUE_MAX_SIZE ||
        !(table = guest_ram_ptr(d->addr, d->len))) {
        virtio_error(vq->vdev, "queue %u: bad indirect table (0x%llx, %u "
                     "bytes)", vq->index, (unsigned long long)d->addr,
                     d->len);
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t addr = __atomic_load_n(&table[i].addr, __ATOMIC_RELAXED);
        uint32_t len = __atomic_load_n(&table[i].len, __ATOMIC_RELAXED);
        uint16_t flags = __atomic_load_n(&table[i].flags, __ATOMIC_RELAXED);

        if (!virtqueue_elem_map(vq, elem, addr, len,
                                flags & VRING_DESC_F_WRITE)) {
            return false;
        }
    }
    return true;
}

bool packed_ring_pop(VirtQueue *vq, VirtQueueElement *elem)
{
    unsigned i = vq->last_avail_idx, n = 0;
    bool wrap = vq->avail_wrap;
    struct vring_packed_desc d;

    elem->out_num = elem->in_num = 0;
    do {
        if (++n > vq->num) {
            virtio_error(vq->vdev, "queue %u: descriptor chain longer than "
                         "the ring", vq->index);
            return false;
        }
        d = read_desc(&vq->ring[i]);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (!map_indirect(vq, &d, n == 1, elem)) {
                return false;
            }
        } else if (!virtqueue_elem_map(vq, elem, d.addr, d.len,
                                       d.flags & VRING_DESC_F_WRITE)) {
            return false;
        }
        if (++i == vq->num) {
            i = 0;
            wrap = !wrap;
        }
    } while (d.flags & VRING_DESC_F_NEXT);
    virtqueue_elem_set_sg(elem);
    elem->index = d.id;             /* the chain's last descriptor has it */
    elem->ndescs = n;
    vq->last_avail_idx = i;
    vq->avail_wrap = wrap;
    vq->inuse++;
    return true;
}

/*
 * One used descriptor for the chain, where the next one goes; the chain's
 * other descriptors are skipped.  Flags last, so that the driver sees the
 * ID and length with them.
 */
void packed_ring_push(VirtQueue *vq, const VirtQueueElement *elem,
                      uint32_t len)
{
    struct vring_packed_desc *d = &vq->ring[vq->used_idx];
    uint16_t flags = (vq->used_wrap ? DESC_F_AVAIL | DESC_F_USED : 0) |
                     (len ? VRING_DESC_F_WRITE : 0);

    __atomic_store_n(&d->id, elem->index, __ATOMIC_RELAXED);
    __atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
    __atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
    vq->used_idx += elem->ndescs;
    if (vq->used_idx >= vq->num) {
        vq->used_idx -= vq->num;
        vq->used_wrap = !vq->used_wrap;
    }
    vq->used_total += elem->ndescs;
    vq->inuse--;
}

/* Notifications from the driver: on, or off while the device polls. */
void packed_ring_set_notification(VirtQueue *vq, bool enable)
{
    __atomic_store_n(&vq->device_event->flags,
                     enable ? VRING_PACKED_EVENT_FLAG_ENABLE
                            : VRING_PACKED_EVENT_FLAG_DISABLE,
                     __ATOMIC_RELAXED);
}

/*
 * Whether the driver wants a used buffer notification now: always, never,
 * or (with EVENT_IDX) once the descriptor at the offset and wrap counter it
 * named has been used.  Positions are counted in descriptors used since
 * the queue started (mod 2^16): the event's position follows from where
 * the current lap began.
 */
bool packed_ring_should_notify(VirtQueue *vq)
{
    uint16_t flags, off_wrap, old, event, lap_start;
    bool valid;

    flags = __atomic_load_n(&vq->driver_event->flags, __ATOMIC_RELAXED) & 3;
    off_wrap = __atomic_load_n(&vq->driver_event->off_wrap, __ATOMIC_RELAXED);
    valid = vq->signalled_used_valid;
    old = vq->signalled_used;
    vq->signalled_used = vq->used_total;
    vq->signalled_used_valid = true;
    if (flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
        return false;
    }
    if (flags != VRING_PACKED_EVENT_FLAG_DESC || !valid ||
        !virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX)) {
        return true;
    }
    lap_start = vq->used_total - vq->used_idx;
    event = lap_start + (off_wrap & ~EVENT_WRAP);
    if (!!(off_wrap & EVENT_WRAP) != vq->used_wrap) {
        event -= vq->num;           /* in the previous lap */
    }
    return (uint16_t)(event - old) < (uint16_t)(vq->used_total - old);
}
