/*
 * Virtio device status and feature bits, transport-independent (virtio 1.2,
 * sections 2.1, 2.2 and 6).
 */
#ifndef LIBQOS_VIRTIO_H
#define LIBQOS_VIRTIO_H

#define VIRTIO_CONFIG_S_ACKNOWLEDGE     0x01
#define VIRTIO_CONFIG_S_DRIVER          0x02
#define VIRTIO_CONFIG_S_DRIVER_OK       0x04
#define VIRTIO_CONFIG_S_FEATURES_OK     0x08
#define VIRTIO_CONFIG_S_NEEDS_RESET     0x40
#define VIRTIO_CONFIG_S_FAILED          0x80

/* Reserved feature bits, as bit numbers. */
#define VIRTIO_F_INDIRECT_DESC          28
#define VIRTIO_F_EVENT_IDX              29
#define VIRTIO_F_VERSION_1              32
#define VIRTIO_F_ACCESS_PLATFORM        33
#define VIRTIO_F_RING_PACKED            34
#define VIRTIO_F_IN_ORDER               35
#define VIRTIO_F_ORDER_PLATFORM         36
#define VIRTIO_F_SR_IOV                 37
#define VIRTIO_F_NOTIFICATION_DATA      38
#define VIRTIO_F_NOTIF_CONFIG_DATA      39
#define VIRTIO_F_RING_RESET             40

#define VIRTIO_BIT(b)                   (1ULL << (b))

/* How long a test waits for the device before it fails. */
#define QVIRTIO_TIMEOUT_US              (30 * 1000 * 1000)

#endif
