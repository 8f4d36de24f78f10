/*
 * Device-independent virtio definitions (virtio 1.2, chapters 2 and 6):
 * device status bits, reserved feature bits and device type IDs.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

/* Device status field (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE       1
#define VIRTIO_STATUS_DRIVER            2
#define VIRTIO_STATUS_DRIVER_OK         4
#define VIRTIO_STATUS_FEATURES_OK       8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED            128

/* Reserved feature bits (6) that the UAPI header names otherwise */
#define VIRTIO_F_INDIRECT_DESC          28
#define VIRTIO_F_EVENT_IDX              29
#define VIRTIO_F_NOTIFICATION_DATA      38

#define VIRTIO_BIT(feature)             (1ull << (feature))

#endif
