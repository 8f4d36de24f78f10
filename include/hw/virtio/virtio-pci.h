/*
 * The virtio 1.x PCI transport (virtio 1.2, section 4.1), modern only.
 *
 * BAR 1: MSI-X table and PBA.
 * BAR 2: the device's shared memory region, if it has one (64-bit,
 *        prefetchable, backed by host memory the guest maps directly).
 * BAR 4: common configuration (0x0000), ISR (0x1000), device configuration
 *        (0x2000) and notifications (0x3000, 4 bytes per queue, then the
 *        device's doorbell if it has one).
 */
#ifndef HW_VIRTIO_VIRTIO_PCI_H
#define HW_VIRTIO_VIRTIO_PCI_H

#include "hw/pci/msix.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"

#define VIRTIO_PCI_VENDOR_ID        0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE   0x1040  /* + virtio device ID */

#define VIRTIO_PCI_MSIX_BAR         1
#define VIRTIO_PCI_SHM_BAR          2
#define VIRTIO_PCI_MODERN_BAR       4
#define VIRTIO_PCI_COMMON_OFFSET    0x0000
#define VIRTIO_PCI_ISR_OFFSET       0x1000
#define VIRTIO_PCI_DEVICE_OFFSET    0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET    0x3000
#define VIRTIO_PCI_REGION_SIZE      0x1000
#define VIRTIO_PCI_MODERN_BAR_SIZE  0x4000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4

#define VIRTIO_PCI_VECTORS_AUTO     0xffffffff

typedef struct VirtIOPCIProxy {
    PCIDevice pci;
    /* properties */
    uint32_t vectors;
    OnOffAuto disable_legacy;
    bool disable_modern;
    /* the ring features offered, with QEMU's names and defaults */
    bool packed;
    bool event_idx;
    bool indirect_desc;

    VirtIODevice *vdev;
    MemoryRegion modern_bar;
    uint32_t dfselect;
    uint32_t gfselect;
    uint16_t queue_sel;
    int *host_notifiers;        /* one eventfd per queue */
    MSIXNotifier **queue_irq;   /* one per queue */
    MSIXNotifier *config_irq;
    GMutex intx_lock;           /* ISR and INTx, from any thread */
} VirtIOPCIProxy;

extern const DeviceClass virtio_pci_class;

/*
 * Realize the PCI function for vdev (already initialized by the device).
 * num_queues fixes the notify layout; the queues' eventfds are returned
 * by virtio_pci_host_notifier().
 */
bool virtio_pci_realize(VirtIOPCIProxy *proxy, VirtIODevice *vdev,
                        GError **errp);
void virtio_pci_unrealize(VirtIOPCIProxy *proxy);
void virtio_pci_reset(VirtIOPCIProxy *proxy);
/* The eventfd that a notification of queue n signals. */
int virtio_pci_host_notifier(VirtIOPCIProxy *proxy, unsigned n);
/* PCIDeviceClass hooks for every virtio PCI device type. */
void virtio_pci_config_read(PCIDevice *dev, uint32_t addr, unsigned len);
void virtio_pci_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                             unsigned len);

#endif
