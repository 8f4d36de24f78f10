/*
 * The virtio 1.x PCI transport, driver side (virtio 1.2, section 4.1): the
 * vendor capabilities that locate the common, notification, ISR and device
 * configuration structures, the status handshake, 64-bit feature
 * negotiation, queue set-up, notifications and interrupts (MSI-X or ISR).
 */
#ifndef LIBQOS_VIRTIO_PCI_H
#define LIBQOS_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include "guest-alloc.h"
#include "msix.h"
#include "pci.h"
#include "virtio.h"
#include "virtqueue.h"

#define PCI_VENDOR_ID_VIRTIO            0x1af4
#define VIRTIO_PCI_MODERN_DEVICE_ID(id) (0x1040 + (id))

/* struct virtio_pci_cap, a vendor-specific capability */
#define VIRTIO_PCI_CAP_ID               5
#define VIRTIO_PCI_CFG_DATA             16  /* of the PCI_CFG capability */
/* struct virtio_pci_cap64: the upper halves of offset and length */
#define VIRTIO_PCI_CAP64_OFFSET_HI      16
#define VIRTIO_PCI_CAP64_LENGTH_HI      20
#define VIRTIO_PCI_CAP64_SIZE           24

#define VIRTIO_PCI_ISR_QUEUE            0x1

/* Where one configuration structure is: a BAR and a range in it. */
typedef struct QVirtioPCIRegion {
    const QPCIBar *bar;
    uint64_t offset;
    uint32_t length;
} QVirtioPCIRegion;

struct QVirtioPCIDevice {
    QPCIDevice *pdev;
    QTestState *qts;
    QVirtioPCIRegion common, notify, isr, device;
    uint32_t notify_off_multiplier;
    uint64_t features;          /* negotiated */
    QPCIMSIX msix;              /* valid once qvirtio_pci_enable_msix ran */
    bool msix_enabled;
};

/*
 * Find the configuration structures (the first capability of each type, as
 * the spec asks of drivers), map their BARs and enable the PCI device.
 */
void qvirtio_pci_init(QVirtioPCIDevice *d, QPCIDevice *pdev);

uint8_t qvirtio_pci_get_status(QVirtioPCIDevice *d);
void qvirtio_pci_set_status(QVirtioPCIDevice *d, uint8_t status);
/* Write 0 to the status and wait for the device to read back 0. */
void qvirtio_pci_reset(QVirtioPCIDevice *d);
/* Wait up to timeout_us for all of bits to be set in the status. */
bool qvirtio_pci_wait_status(QVirtioPCIDevice *d, uint8_t bits,
                             uint64_t timeout_us);

/* Raw accesses to the common configuration (struct virtio_pci_common_cfg). */
uint8_t qvirtio_pci_common_readb(QVirtioPCIDevice *d, uint32_t off);
uint16_t qvirtio_pci_common_readw(QVirtioPCIDevice *d, uint32_t off);
uint32_t qvirtio_pci_common_readl(QVirtioPCIDevice *d, uint32_t off);
void qvirtio_pci_common_writeb(QVirtioPCIDevice *d, uint32_t off,
                               uint8_t value);
void qvirtio_pci_common_writew(QVirtioPCIDevice *d, uint32_t off,
                               uint16_t value);
void qvirtio_pci_common_writel(QVirtioPCIDevice *d, uint32_t off,
                               uint32_t value);
/* 64-bit fields as two 32-bit halves, low first. */
void qvirtio_pci_common_writeq(QVirtioPCIDevice *d, uint32_t off,
                               uint64_t value);

uint64_t qvirtio_pci_device_features(QVirtioPCIDevice *d);
void qvirtio_pci_write_driver_features(QVirtioPCIDevice *d,
                                       uint64_t features);
uint64_t qvirtio_pci_driver_features(QVirtioPCIDevice *d);

/*
 * The initialization sequence (3.1.1) up to FEATURES_OK: reset,
 * ACKNOWLEDGE, DRIVER, accept the device's features that are in wanted
 * (VERSION_1 is required), FEATURES_OK.  Returns the negotiated features;
 * aborts the test if the device does not keep FEATURES_OK.
 */
uint64_t qvirtio_pci_negotiate(QVirtioPCIDevice *d, uint64_t wanted);
/* The last step: DRIVER_OK. */
void qvirtio_pci_driver_ok(QVirtioPCIDevice *d);

uint16_t qvirtio_pci_num_queues(QVirtioPCIDevice *d);

/* Device-specific configuration; 64-bit reads retry on a generation change. */
uint8_t qvirtio_pci_config_readb(QVirtioPCIDevice *d, uint32_t off);
uint16_t qvirtio_pci_config_readw(QVirtioPCIDevice *d, uint32_t off);
uint32_t qvirtio_pci_config_readl(QVirtioPCIDevice *d, uint32_t off);
uint64_t qvirtio_pci_config_readq(QVirtioPCIDevice *d, uint32_t off);
void qvirtio_pci_config_writeb(QVirtioPCIDevice *d, uint32_t off,
                               uint8_t value);

/*
 * An access of size bytes (1, 2 or 4) at offset in BAR bar through the
 * VIRTIO_PCI_CAP_PCI_CFG window in configuration space (4.1.4.9).
 */
uint32_t qvirtio_pci_cfg_window_read(QVirtioPCIDevice *d, uint8_t bar,
                                     uint32_t offset, unsigned size);
void qvirtio_pci_cfg_window_write(QVirtioPCIDevice *d, uint8_t bar,
                                  uint32_t offset, unsigned size,
                                  uint32_t value);

/* Enable MSI-X on the PCI function (before queues get vectors). */
void qvirtio_pci_enable_msix(QVirtioPCIDevice *d);

/*
 * Set up and enable queue index with its largest size (or max_size if
 * smaller and not 0).  With a vector (not VIRTIO_MSI_NO_VECTOR, MSI-X
 * enabled), its message is pointed at a word of guest RAM.
 */
QVirtQueue *qvirtio_pci_queue_setup(QVirtioPCIDevice *d, GuestAlloc *alloc,
                                    uint16_t index, uint16_t max_size,
                                    uint16_t msix_vector);
/* Notify the device of new available buffers in vq. */
void qvirtio_pci_queue_notify(QVirtioPCIDevice *d, QVirtQueue *vq);
/* The BAR offset of the notification address for a queue_notify_off. */
uint64_t qvirtio_pci_notify_addr(QVirtioPCIDevice *d, uint16_t notify_off);
/*
 * Write value (a queue index) at the notification address for notify_off,
 * whether or not a queue has it: for tests of bogus notifications.
 */
void qvirtio_pci_notify_raw(QVirtioPCIDevice *d, uint16_t notify_off,
                            uint16_t value);

/* Read (and so clear) the ISR status. */
uint8_t qvirtio_pci_read_isr(QVirtioPCIDevice *d);
/* Wait up to timeout_us for the ISR's queue bit (INTx); false on timeout. */
bool qvirtio_pci_wait_isr_queue(QVirtioPCIDevice *d, uint64_t timeout_us);
/*
 * Wait up to timeout_us for vq's interrupt: its MSI-X message, or without
 * one, the queue bit of the ISR status.  False on timeout.
 */
bool qvirtio_pci_wait_queue_interrupt(QVirtioPCIDevice *d, QVirtQueue *vq,
                                      uint64_t timeout_us);

/* A shared memory region (virtio 1.2, section 2.10): a range of a BAR. */
typedef struct QVirtioPCIShm {
    const QPCIBar *bar;
    uint64_t offset;
    uint64_t length;
} QVirtioPCIShm;

/*
 * Find the shared memory capability with this id (cfg_type 8, struct
 * virtio_pci_cap64) and map its BAR.  False if the device has none.
 */
bool qvirtio_pci_find_shm(QVirtioPCIDevice *d, uint8_t id,
                          QVirtioPCIShm *shm);

void qvirtio_pci_config_writew(QVirtioPCIDevice *d, uint32_t off,
                               uint16_t value);
void qvirtio_pci_config_writel(QVirtioPCIDevice *d, uint32_t off,
                               uint32_t value);

/* queue_notify_off of queue index, from the common configuration. */
uint16_t qvirtio_pci_queue_notify_off(QVirtioPCIDevice *d, uint16_t index);
/*
 * The BAR offset of notification slot notify_off (times the multiplier);
 * aborts the test if it is outside the notification structure.
 */
uint64_t qvirtio_pci_notify_slot_addr(QVirtioPCIDevice *d,
                                      uint16_t notify_off);
/* A 16-bit write of value to notification slot notify_off. */
void qvirtio_pci_notify_slot(QVirtioPCIDevice *d, uint16_t notify_off,
                             uint16_t value);

#endif
