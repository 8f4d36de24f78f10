/*
 * The virtio device model and split virtqueues; packed virtqueues are in
 * virtio-packed.c.
 */
#include <stdarg.h>
#include <string.h>

#include "exec/guest-ram.h"
#include "hw/virtio/virtio.h"
#include "qemu/error-report.h"
#include "virtqueue-internal.h"


void virtio_init(VirtIODevice *vdev, const char *name, uint16_t device_id,
                 size_t config_len, unsigned num_queues, uint16_t queue_size,
                 const VirtioDeviceOps *ops)
{
    vdev->name = name;
    vdev->device_id = device_id;
    vdev->ops = ops;
    vdev->config_len = config_len;
    vdev->config = g_malloc0(config_len);
    vdev->num_queues = num_queues;
    vdev->vqs = g_new0(VirtQueue, num_queues);
    for (unsigned i = 0; i < num_queues; i++) {
        vdev->vqs[i].vdev = vdev;
        vdev->vqs[i].index = i;
        vdev->vqs[i].num_max = queue_size;
    }
    vdev->config_vector = VIRTIO_NO_VECTOR;
    virtio_reset(vdev);
}

void virtio_cleanup(VirtIODevice *vdev)
{
    g_clear_pointer(&vdev->config, g_free);
    g_clear_pointer(&vdev->vqs, g_free);
}

void virtio_set_handler(VirtIODevice *vdev, unsigned queue,
                        VirtIOHandleOutput *handler)
{
    vdev->vqs[queue].handle_output = handler;
}

static void virtio_queue_reset(VirtQueue *vq)
{
    vq->num = vq->num_max;
    vq->enabled = false;
    vq->vector = VIRTIO_NO_VECTOR;
    vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
    vq->packed = false;
    vq->desc = NULL;
    vq->avail = NULL;
    vq->used = NULL;
    vq->ring = NULL;
    vq->driver_event = vq->device_event = NULL;
    vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
    vq->used_total = 0;
    vq->signalled_used_valid = false;
    vq->notification = true;
    vq->inuse = 0;
}

void virtio_reset(VirtIODevice *vdev)
{
    if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        vdev->ops->stop(vdev);
    }
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
    vdev->status = 0;
    g_atomic_int_set(&vdev->isr, 0);
    __atomic_store_n(&vdev->broken, false, __ATOMIC_RELEASE);
    vdev->config_vector = VIRTIO_NO_VECTOR;
    vdev->guest_features = 0;
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        virtio_queue_reset(&vdev->vqs[i]);
    }
}

/* The device's features, VERSION_1 and the ring features chosen. */
uint64_t virtio_get_host_features(VirtIODevice *vdev)
{
    return vdev->ops->get_features(vdev) | (1ULL << VIRTIO_F_VERSION_1) |
           vdev->ring_features;
}

static bool virtio_features_ok(VirtIODevice *vdev)
{
    uint64_t host = virtio_get_host_features(vdev);

    if ((vdev->guest_features & ~host) ||
        !virtio_vdev_has_feature(vdev, VIRTIO_F_VERSION_1)) {
        return false;
    }
    return !vdev->ops->validate_features ||
           vdev->ops->validate_features(vdev);
}

/* Called with the BQL held. */
void virtio_set_status(VirtIODevice *vdev, uint8_t status)
{
    uint8_t old = __atomic_load_n(&vdev->status, __ATOMIC_SEQ_CST);

    if (status == 0) {
        virtio_reset(vdev);
        return;
    }
    /* The device decides whether FEATURES_OK sticks (3.1.1). */
    if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !(old & VIRTIO_CONFIG_S_FEATURES_OK) && !virtio_features_ok(vdev)) {
        status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    }
    /*
     * Only a reset clears bits (the driver MUST NOT, 2.1.2): features stay
     * frozen and the device is started once.  An OR, because virtio_error()
     * sets NEEDS_RESET from the device's thread at any time.
     */
    status = __atomic_or_fetch(&vdev->status, status, __ATOMIC_SEQ_CST);
    if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
        !(old & VIRTIO_CONFIG_S_DRIVER_OK) &&
        (status & VIRTIO_CONFIG_S_FEATURES_OK) && !virtio_broken(vdev)) {
        vdev->ops->start(vdev);
    }
}

void virtio_config_read(VirtIODevice *vdev, uint64_t addr, void *buf,
                        unsigned size)
{
    memset(buf, 0, size);
    if (addr >= vdev->config_len || size > vdev->config_len - addr) {
        return;
    }
    vdev->ops->get_config(vdev, vdev->config);
    memcpy(buf, vdev->config + addr, size);
}

void virtio_config_write(VirtIODevice *vdev, uint64_t addr, const void *buf,
                         unsigned size)
{
    if (addr >= vdev->config_len || size > vdev->config_len - addr) {
        return;
    }
    vdev->ops->get_config(vdev, vdev->config);
    memcpy(vdev->config + addr, buf, size);
    if (vdev->ops->set_config) {
        vdev->ops->set_config(vdev, vdev->config);
    }
}

bool virtio_queue_valid_size(VirtQueue *vq, uint16_t num)
{
    /* Split rings have a power-of-two size (2.7), packed ones any (2.8). */
    return num && num <= vq->num_max &&
           (virtio_vdev_has_feature(vq->vdev, VIRTIO_F_RING_PACKED) ||
            !(num & (num - 1)));
}

void virtio_notify_config(VirtIODevice *vdev)
{
    if (!(__atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE) &
          VIRTIO_CONFIG_S_DRIVER_OK)) {
        return;
    }
    vdev->generation++;
    g_atomic_int_or(&vdev->isr, 2);
    vdev->transport->notify_config(vdev);
}

/* Any thread of the device. */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_report("%s: %s", vdev->name, msg);
    g_free(msg);
    __atomic_store_n(&vdev->broken, true, __ATOMIC_RELEASE);
    __atomic_or_fetch(&vdev->status, VIRTIO_CONFIG_S_NEEDS_RESET,
                      __ATOMIC_SEQ_CST);
    g_atomic_int_or(&vdev->isr, 2);
    vdev->transport->notify_config(vdev);
}

void virtio_queue_enable(VirtQueue *vq)
{
    VirtIODevice *vdev = vq->vdev;
    size_t n = vq->num;

    /*
     * Fixed here, with the rings' mapping: a driver that enables a queue
     * before FEATURES_OK may still change its features afterwards.
     */
    vq->packed = virtio_vdev_has_feature(vdev, VIRTIO_F_RING_PACKED);
    if (vq->packed) {
        vq->enabled = packed_ring_map(vq);
        return;
    }
    /* 2.7: with EVENT_IDX the rings carry one more 16-bit field each. */
    size_t avail_size = sizeof(struct vring_avail) + 2 * n + 2;
    size_t used_size = sizeof(struct vring_used) +
                       sizeof(struct vring_used_elem) * n + 2;

    vq->desc = guest_ram_ptr(vq->desc_gpa, sizeof(struct vring_desc) * n);
    vq->avail = guest_ram_ptr(vq->avail_gpa, avail_size);
    vq->used = guest_ram_ptr(vq->used_gpa, used_size);
    if (!vq->desc || !vq->avail || !vq->used ||
        (vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
        virtio_error(vdev, "queue %u: ring addresses outside guest RAM or "
                     "misaligned", vq->index);
        vq->desc = NULL;
        vq->avail = NULL;
        vq->used = NULL;
        return;
    }
    vq->enabled = true;
}

/* Guest-shared fields are read exactly once each, with the right order. */
static uint16_t avail_idx(VirtQueue *vq)
{
    return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
}

static uint16_t used_event(VirtQueue *vq)
{
    return __atomic_load_n(&vq->avail->ring[vq->num], __ATOMIC_RELAXED);
}

bool virtqueue_empty(VirtQueue *vq)
{
    if (!vq->enabled || virtio_broken(vq->vdev)) {
        return true;
    }
    return vq->packed ? packed_ring_empty(vq)
                      : avail_idx(vq) == vq->last_avail_idx;
}

void virtio_queue_set_notification(VirtQueue *vq, bool enable)
{
    if (!vq->enabled) {
        return;
    }
    vq->notification = enable;
    if (vq->packed) {
        packed_ring_set_notification(vq, enable);
    } else if (virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX)) {
        /* avail_event lives after the used ring. */
        uint16_t *avail_event = (uint16_t *)&vq->used->ring[vq->num];
        if (enable) {
            __atomic_store_n(avail_event, avail_idx(vq), __ATOMIC_RELAXED);
        }
    } else if (enable) {
        __atomic_and_fetch(&vq->used->flags, ~VRING_USED_F_NO_NOTIFY,
                           __ATOMIC_RELAXED);
    } else {
        __atomic_or_fetch(&vq->used->flags, VRING_USED_F_NO_NOTIFY,
                          __ATOMIC_RELAXED);
    }
    if (enable) {
        /* Publish before re-checking the ring (the caller does). */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
}

static bool elem_add_sg(VirtQueueElement *elem, void *base, uint32_t len,
                        bool writable)
{
    unsigned n = elem->out_num + elem->in_num;

    if (n == elem->sg_cap) {
        elem->sg_cap = elem->sg_cap ? elem->sg_cap * 2 : 16;
        elem->sg = g_renew(struct iovec, elem->sg, elem->sg_cap);
    }
    elem->sg[n] = (struct iovec){ .iov_base = base, .iov_len = len };
    if (writable) {
        elem->in_num++;
    } else {
        if (elem->in_num) {
            return false;   /* readable after writable (2.7.4.2) */
        }
        elem->out_num++;
    }
    return true;
}

bool virtqueue_elem_map(VirtQueue *vq, VirtQueueElement *elem, uint64_t gpa,
                        uint32_t len, bool writable)
{
    void *p;

    if (!len) {
        return true;
    }
    p = guest_ram_ptr(gpa, len);
    if (!p) {
        virtio_error(vq->vdev, "queue %u: buffer 0x%llx+%u is outside guest "
                     "RAM", vq->index, (unsigned long long)gpa, len);
        return false;
    }
    if (!elem_add_sg(elem, p, len, writable)) {
        virtio_error(vq->vdev, "queue %u: device-readable descriptor after "
                     "a writable one", vq->index);
        return false;
    }
    return true;
}

void virtqueue_elem_set_sg(VirtQueueElement *elem)
{
    elem->out_sg = elem->sg;
    /*
     * A chain of zero-length buffers maps nothing, and an element that
     * never mapped anything has no storage: no pointer arithmetic on NULL.
     */
    elem->in_sg = elem->sg ? elem->sg + elem->out_num : NULL;
}

static struct vring_desc read_desc(const struct vring_desc *table,
                                   unsigned i)
{
    struct vring_desc d;

    d.addr = __atomic_load_n(&table[i].addr, __ATOMIC_RELAXED);
    d.len = __atomic_load_n(&table[i].len, __ATOMIC_RELAXED);
    d.flags = __atomic_load_n(&table[i].flags, __ATOMIC_RELAXED);
    d.next = __atomic_load_n(&table[i].next, __ATOMIC_RELAXED);
    return d;
}

/*
 * Walk the chain at head into elem.  Every bound is enforced: indices in
 * range, at most one table's worth of descriptors (no loop survives that),
 * one level of indirection, buffers wholly inside guest RAM.
 */
static bool virtqueue_map_chain(VirtQueue *vq, unsigned head,
                                VirtQueueElement *elem)
{
    VirtIODevice *vdev = vq->vdev;
    const struct vring_desc *table = vq->desc;
    unsigned max = vq->num, i = head, count = 0;
    bool indirect = false;

    elem->index = head;
    elem->out_num = elem->in_num = 0;
    for (;;) {
        struct vring_desc d;

        if (i >= max) {
            virtio_error(vdev, "queue %u: descriptor index %u out of range",
                         vq->index, i);
            return false;
        }
        d = read_desc(table, i);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (!virtio_vdev_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC) ||
                indirect || (d.flags & VRING_DESC_F_NEXT)) {
                virtio_error(vdev, "queue %u: invalid indirect descriptor",
                             vq->index);
                return false;
            }
            if (d.len == 0 || d.len % sizeof(struct vring_desc) ||
                d.len / sizeof(struct vring_desc) > VIRTQUEUE_MAX_SIZE ||
                !(table = guest_ram_ptr(d.addr, d.len))) {
                virtio_error(vdev, "queue %u: bad indirect table (0x%llx, "
                             "%u bytes)", vq->index, (unsigned long long)d.addr,
                             d.len);
                return false;
            }
            indirect = true;
            max = d.len / sizeof(struct vring_desc);
            i = 0;
            count = 0;
            continue;
        }
        if (++count > max) {
            virtio_error(vdev, "queue %u: descriptor chain loops or is "
                         "longer than its table", vq->index);
            return false;
        }
        if (!virtqueue_elem_map(vq, elem, d.addr, d.len,
                                d.flags & VRING_DESC_F_WRITE)) {
            return false;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            break;
        }
        i = d.next;
    }
    virtqueue_elem_set_sg(elem);
    return true;
}

/* In the device's AioContext. */
bool virtqueue_pop(VirtQueue *vq, VirtQueueElement *elem)
{
    uint16_t avail, head;

    if (virtqueue_empty(vq)) {
        return false;
    }
    if (vq->packed) {
        return packed_ring_pop(vq, elem);
    }
    avail = avail_idx(vq);
    if ((uint16_t)(avail - vq->last_avail_idx) > vq->num) {
        virtio_error(vq->vdev, "queue %u: avail index moved %u entries at "
                     "once", vq->index,
                     (uint16_t)(avail - vq->last_avail_idx));
        return false;
    }
    head = __atomic_load_n(&vq->avail->ring[vq->last_avail_idx % vq->num],
                           __ATOMIC_RELAXED);
    if (!virtqueue_map_chain(vq, head, elem)) {
        return false;
    }
    vq->last_avail_idx++;
    vq->inuse++;
    if (virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX) &&
        vq->notification) {
        uint16_t *avail_event = (uint16_t *)&vq->used->ring[vq->num];
        __atomic_store_n(avail_event, vq->last_avail_idx, __ATOMIC_RELAXED);
    }
    return true;
}

/* In the device's AioContext. */
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem,
                    uint32_t len)
{
    struct vring_used_elem *u;

    if (!vq->enabled) {
        return;     /* the queue was reset while the request ran */
    }
    if (vq->packed) {
        packed_ring_push(vq, elem, len);
        return;
    }
    u = &vq->used->ring[vq->used_idx % vq->num];
    __atomic_store_n(&u->id, elem->index, __ATOMIC_RELAXED);
    __atomic_store_n(&u->len, len, __ATOMIC_RELAXED);
    vq->used_idx++;
    __atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
    vq->inuse--;
}

static bool virtio_should_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    uint16_t old, new;
    bool valid;

    /* Order the used index store before reading the driver's wishes. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vq->packed) {
        return packed_ring_should_notify(vq);
    }
    if (!virtio_vdev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
        return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
                 VRING_AVAIL_F_NO_INTERRUPT);
    }
    valid = vq->signalled_used_valid;
    old = vq->signalled_used;
    new = vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    return !valid || (uint16_t)(new - used_event(vq) - 1) <
                     (uint16_t)(new - old);
}

/* In the device's AioContext. */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    if (vq->enabled && virtio_should_notify(vdev, vq)) {
        vdev->transport->notify_queue(vdev, vq);
    }
}

/* In the device's AioContext. */
void virtio_queue_notify(VirtQueue *vq)
{
    if (vq->enabled && !virtio_broken(vq->vdev) && vq->handle_output) {
        vq->handle_output(vq->vdev, vq);
    }
}

void virtqueue_element_free(VirtQueueElement *elem)
{
    g_clear_pointer(&elem->sg, g_free);
    elem->sg_cap = 0;
}
