/*
 * Device-independent virtio definitions (virtio 1.2, chapters 2 and 6):
 * device status bits, reserved feature bits and device type IDs.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

/* Device status field (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE       1
#define VIRTIO_STATUS_DRIVER            2
#define VIRTIO_STATUS_DRIVER_OK         4
#define VIRTIO_STATUS_FEATURES_OK       8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED            128

/* Reserved feature bits (6) */
#define VIRTIO_F_INDIRECT_DESC          28
#define VIRTIO_F_EVENT_IDX              29
#define VIRTIO_F_VERSION_1              32
#define VIRTIO_F_ACCESS_PLATFORM        33
#define VIRTIO_F_RING_PACKED            34
#define VIRTIO_F_IN_ORDER               35
#define VIRTIO_F_ORDER_PLATFORM         36
#define VIRTIO_F_NOTIFICATION_DATA      38

#define VIRTIO_BIT(feature)             (1ull << (feature))

/* Device types (5) */
#define VIRTIO_ID_NET                   1
#define VIRTIO_ID_BLOCK                 2

#endif
