/*
 * Between the virtio core (virtio.c: device model, split rings) and the
 * packed ring (virtio-packed.c): virtio.c calls the packed_* functions for
 * a queue whose driver negotiated VIRTIO_F_RING_PACKED.
 */
#ifndef HW_VIRTIO_VIRTQUEUE_INTERNAL_H
#define HW_VIRTIO_VIRTQUEUE_INTERNAL_H

#include "hw/virtio/virtio.h"

/*
 * Map [gpa, gpa + len) of guest RAM into elem as a device-readable or
 * -writable buffer.  False (after virtio_error) if it is not all guest RAM
 * or a readable buffer follows a writable one.
 */
bool virtqueue_elem_map(VirtQueue *vq, VirtQueueElement *elem, uint64_t gpa,
                        uint32_t len, bool writable);
/*
 * Once the chain is mapped: point out_sg and in_sg into elem's storage.
 * In the device's AioContext, as the pop that maps the chain.
 */
void virtqueue_elem_set_sg(VirtQueueElement *elem);

/* The ring's three areas, checked; false after virtio_error. */
bool packed_ring_map(VirtQueue *vq);
bool packed_ring_empty(VirtQueue *vq);
bool packed_ring_pop(VirtQueue *vq, VirtQueueElement *elem);
void packed_ring_push(VirtQueue *vq, const VirtQueueElement *elem,
                      uint32_t len);
void packed_ring_set_notification(VirtQueue *vq, bool enable);
bool packed_ring_should_notify(VirtQueue *vq);

#endif
