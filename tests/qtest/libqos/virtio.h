/*
 * Virtio device status and feature bits, transport-independent (virtio 1.2,
 * sections 2.1, 2.2 and 6).
 */
#ifndef LIBQOS_VIRTIO_H
#define LIBQOS_VIRTIO_H

#include <linux/virtio_config.h>

/* Reserved feature bits the UAPI header names otherwise, or lacks. */
#define VIRTIO_F_INDIRECT_DESC          28
#define VIRTIO_F_EVENT_IDX              29
#define VIRTIO_F_NOTIFICATION_DATA      38
#define VIRTIO_F_NOTIF_CONFIG_DATA      39

#define VIRTIO_BIT(b)                   (1ULL << (b))

/* How long a test waits for the device before it fails. */
#define QVIRTIO_TIMEOUT_US              (30 * 1000 * 1000)

#endif
