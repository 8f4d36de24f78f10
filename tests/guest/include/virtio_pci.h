/*
 * Virtio over PCI, modern interface (virtio 1.2, 4.1): finding devices on
 * bus 0, the vendor capabilities, reset, status handshake, 64-bit feature
 * negotiation and split virtqueue set-up.  MSI-X stays disabled and INTx is
 * masked: drivers poll.
 */
#ifndef GUEST_VIRTIO_PCI_H
#define GUEST_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "virtqueue.h"

#define VIRTIO_PCI_VENDOR_ID            0x1af4
#define VIRTIO_PCI_MODERN_DEVICE_BASE   0x1040  /* + virtio device type */
#define VIRTIO_PCI_TRANSITIONAL_FIRST   0x1000
#define VIRTIO_PCI_TRANSITIONAL_LAST    0x103f
#define VIRTIO_PCI_MODERN_LAST          0x107f

/* cfg_type of struct virtio_pci_cap (4.1.4) */
#define VIRTIO_PCI_CAP_COMMON_CFG           1
#define VIRTIO_PCI_CAP_NOTIFY_CFG           2
#define VIRTIO_PCI_CAP_ISR_CFG              3
#define VIRTIO_PCI_CAP_DEVICE_CFG           4
#define VIRTIO_PCI_CAP_PCI_CFG              5
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG    8

/* Byte offsets within struct virtio_pci_cap / virtio_pci_cap64 */
#define VIRTIO_PCI_CAP_CFG_TYPE         3
#define VIRTIO_PCI_CAP_BAR              4
#define VIRTIO_PCI_CAP_ID               5
#define VIRTIO_PCI_CAP_OFFSET           8
#define VIRTIO_PCI_CAP_LENGTH           12
#define VIRTIO_PCI_CAP_NOTIFY_MULTIPLIER 16     /* virtio_pci_notify_cap */
#define VIRTIO_PCI_CAP_OFFSET_HI        16      /* virtio_pci_cap64 */
#define VIRTIO_PCI_CAP_LENGTH_HI        20

/* Common configuration structure (4.1.4.3) */
struct virtio_pci_common_cfg {
    uint32_t device_feature_select;
    uint32_t device_feature;
    uint32_t driver_feature_select;
    uint32_t driver_feature;
    uint16_t config_msix_vector;
    uint16_t num_queues;
    uint8_t device_status;
    uint8_t config_generation;
    uint16_t queue_select;
    uint16_t queue_size;
    uint16_t queue_msix_vector;
    uint16_t queue_enable;
    uint16_t queue_notify_off;
    uint32_t queue_desc_lo;
    uint32_t queue_desc_hi;
    uint32_t queue_driver_lo;
    uint32_t queue_driver_hi;
    uint32_t queue_device_lo;
    uint32_t queue_device_hi;
    uint16_t queue_notify_data;
    uint16_t queue_reset;
};

/* A VIRTIO_PCI_CAP_SHARED_MEMORY_CFG region (2.10, 4.1.4.7) */
struct virtio_shm_region {
    uint8_t id;                 /* shmid, unique per device */
    uint8_t bar;
    uint64_t offset;            /* within the BAR */
    uint64_t length;
    uint64_t addr;              /* guest-physical (and virtual) address */
};

#define VIRTIO_PCI_MAX_SHM_REGIONS  16

struct virtio_pci_device {
    struct pci_device pci;
    char name[24];              /* "virtio-pci 00:04.0", for messages */
    uint16_t device_type;       /* VIRTIO_ID_* */
    volatile struct virtio_pci_common_cfg *common;
    volatile uint8_t *isr;
    volatile uint8_t *device_cfg;       /* NULL if the device has none */
    uint32_t device_cfg_length;
    volatile uint8_t *notify_base;
    uint64_t notify_length;
    uint32_t notify_off_multiplier;
    struct virtio_shm_region shm[VIRTIO_PCI_MAX_SHM_REGIONS];
    unsigned int shm_count;
    uint64_t features;          /* negotiated, valid after virtio_pci_negotiate() */
};

/*
 * Find the @index-th (from 0, in bus order) virtio device of type
 * @device_type, modern or transitional, enable memory decoding and bus
 * mastering, mask INTx and locate its structures, mapping BARs above 4 GiB.
 * Returns 0, -ENODEV if there is no such device, or -EPROTO (with a
 * message) if its capabilities are unusable.
 */
int virtio_pci_find(uint16_t device_type, unsigned int index,
                    struct virtio_pci_device *vdev);

/*
 * Reset the device, acknowledge it, offer the features in @wanted that the
 * device has (VIRTIO_F_VERSION_1 is required and always taken; bit numbers
 * from VIRTIO_BIT()) and set FEATURES_OK.  Returns 0 with vdev->features
 * set, or a negative error after printing why and setting FAILED.
 */
int virtio_pci_negotiate(struct virtio_pci_device *vdev, uint64_t wanted);

/* Largest size of queue @index; 0 if the queue does not exist. */
uint16_t virtio_pci_queue_max_size(struct virtio_pci_device *vdev, uint16_t index);

/*
 * Set up queue @index with @size entries (a power of two no larger than the
 * device's maximum) in @vq and enable it.  Between negotiation and
 * virtio_pci_driver_ok().  Returns 0 or a negative error (message printed).
 */
int virtio_pci_setup_queue(struct virtio_pci_device *vdev, uint16_t index, uint16_t size,
                           struct virtqueue *vq);

/* Set DRIVER_OK: the device is live.  Returns -EIO if the device failed. */
int virtio_pci_driver_ok(struct virtio_pci_device *vdev);

/* Set FAILED: the driver gives up on the device. */
void virtio_pci_fail(struct virtio_pci_device *vdev);

/*
 * Device-specific configuration reads, one access of the field's width
 * (64-bit fields as two 32-bit halves, low first).  Wrap groups of reads
 * in virtio_pci_config_generation() checks to get a consistent snapshot.
 */
uint8_t virtio_pci_config_read8(struct virtio_pci_device *vdev, uint32_t offset);
uint16_t virtio_pci_config_read16(struct virtio_pci_device *vdev, uint32_t offset);
uint32_t virtio_pci_config_read32(struct virtio_pci_device *vdev, uint32_t offset);
uint64_t virtio_pci_config_read64(struct virtio_pci_device *vdev, uint32_t offset);
uint8_t virtio_pci_config_generation(struct virtio_pci_device *vdev);
/* A write of a read-write field; ignored past the end of the structure. */
void virtio_pci_config_write16(struct virtio_pci_device *vdev, uint32_t offset,
                               uint16_t value);

#endif
