/*
 * Fuzz target 1: the PCI configuration space and every BAR of
 * virtio-blk-pci (common, notification, ISR and device configuration, the
 * MSI-X table and PBA), with feature negotiation, queue set-up and device
 * reset in any order.
 *
 * Beyond the common operations (fuzz-input.h):
 *   VIRTIO_WRITE  u8 structure, u16 offset, u8 size, u64 value
 *   VIRTIO_READ   u8 structure, u16 offset, u8 size
 *       structure: common, notify, ISR, device, MSI-X table, PBA (the
 *       offset wraps at its length, as the capabilities give it)
 *   NEGOTIATE     u64 features: reset, ACKNOWLEDGE, DRIVER, the features,
 *                 FEATURES_OK
 *   QUEUE_SETUP   u8 queue, u16 size: rings in guest RAM, enabled
 *   DRIVER_OK
 *
 * Called with the BQL held, in the VMM's main thread.
 */
#include <string.h>

#include "exec/memory.h"
#include "fuzz-input.h"
#include "fuzz-machine.h"
#include "fuzz-target.h"
#include "inproc-qtest.h"
#include "libqos/virtio-blk.h"

enum {
    OP_VIRTIO_WRITE = FUZZ_OP_TARGET,
    OP_VIRTIO_READ,
    OP_NEGOTIATE,
    OP_QUEUE_SETUP,
    OP_DRIVER_OK,
    NR_OPS,
};

/* Queue rings go here, 64 KiB per queue (enough for 32768 entries split). */
#define QUEUE_RAM_BASE  (1ULL << 20)

static const char *const objects[] = { "iothread,id=io1", NULL };
static const char *const drives[] = {
    "if=none,id=d0,cache=writeback,aio=io_uring,discard=unmap", NULL,
};
static const char *const devices[] = {
    "virtio-blk-pci,drive=d0,iothread=io1,num-queues=2,packed=on", NULL,
};

typedef struct Target {
    QPCIBus bus;
    QPCIDevice pdev;
    QVirtioPCIDevice vdev;
    QPCIMSIX msix;
} Target;

static Target t;

static void start_input(FuzzInput *in)
{
    int devfn = fuzz_pci_find(PCI_VENDOR_ID_VIRTIO,
                              VIRTIO_PCI_MODERN_DEVICE_ID(VIRTIO_ID_BLOCK), 0);

    g_assert(devfn >= 0);
    memset(&t, 0, sizeof(t));
    qpci_bus_init(&t.bus, inproc_qtest());
    t.pdev.bus = &t.bus;
    t.pdev.devfn = devfn;
    qvirtio_pci_init(&t.vdev, &t.pdev);
    qpci_msix_init(&t.msix, &t.pdev);
}

/* Where structure s is: its BAR, offset and length. */
static void locate(uint8_t s, const QPCIBar **bar, uint64_t *off,
                   uint64_t *len)
{
    const QVirtioPCIRegion *r[] = {
        &t.vdev.common, &t.vdev.notify, &t.vdev.isr, &t.vdev.device,
    };

    s %= 6;
    if (s < 4) {
        *bar = r[s]->bar;
        *off = r[s]->offset;
        *len = r[s]->length;
    } else if (s == 4) {
        *bar = t.msix.table_bar;
        *off = t.msix.table_off;
        *len = (uint64_t)t.msix.nr_vectors * PCI_MSIX_ENTRY_SIZE;
    } else {
        *bar = t.msix.pba_bar;
        *off = t.msix.pba_off;
        *len = (t.msix.nr_vectors + 63) / 64 * 8;
    }
}

static void virtio_access(FuzzInput *in, bool write)
{
    const QPCIBar *bar;
    uint64_t off, len, addr;
    uint16_t where;
    unsigned size;
    uint64_t value;

    locate(fuzz_u8(in), &bar, &off, &len);
    where = fuzz_u16(in);
    size = fuzz_access_size(fuzz_u8(in), 8);
    value = write ? fuzz_u64(in) : 0;
    if (!bar || !len) {
        return;
    }
    addr = bar->addr + off + where % len;
    if (write) {
        address_space_stn(&address_space_memory, addr, size, value);
    } else {
        address_space_ldn(&address_space_memory, addr, size);
    }
}

static void negotiate(uint64_t features)
{
    qvirtio_pci_set_status(&t.vdev, 0);
    qvirtio_pci_set_status(&t.vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    qvirtio_pci_set_status(&t.vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                                    VIRTIO_CONFIG_S_DRIVER);
    qvirtio_pci_write_driver_features(&t.vdev, features);
    qvirtio_pci_set_status(&t.vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                                    VIRTIO_CONFIG_S_DRIVER |
                                    VIRTIO_CONFIG_S_FEATURES_OK);
}

static void queue_setup(uint8_t index, uint16_t size)
{
    uint64_t ring = QUEUE_RAM_BASE + (uint64_t)(index % 4) * 0x10000;

    qvirtio_pci_common_writew(&t.vdev, VIRTIO_PCI_COMMON_Q_SELECT, index);
    qvirtio_pci_common_writew(&t.vdev, VIRTIO_PCI_COMMON_Q_SIZE, size);
    qvirtio_pci_common_writeq(&t.vdev, VIRTIO_PCI_COMMON_Q_DESCLO, ring);
    qvirtio_pci_common_writeq(&t.vdev, VIRTIO_PCI_COMMON_Q_AVAILLO,
                              ring + 0x8000);
    qvirtio_pci_common_writeq(&t.vdev, VIRTIO_PCI_COMMON_Q_USEDLO,
                              ring + 0xc000);
    qvirtio_pci_common_writew(&t.vdev, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
}

static void run_target_op(unsigned op, FuzzInput *in)
{
    switch (op) {
    case OP_VIRTIO_WRITE:
    case OP_VIRTIO_READ:
        virtio_access(in, op == OP_VIRTIO_WRITE);
        break;
    case OP_NEGOTIATE:
        negotiate(fuzz_u64(in));
        break;
    case OP_QUEUE_SETUP: {
        uint8_t index = fuzz_u8(in);

        queue_setup(index, fuzz_u16(in));
        break;
    }
    case OP_DRIVER_OK:
        qvirtio_pci_set_status(&t.vdev, qvirtio_pci_get_status(&t.vdev) |
                                        VIRTIO_CONFIG_S_DRIVER_OK);
        break;
    default:
        g_assert_not_reached();
    }
}

/* Its operations are raw accesses: they need no view of the device. */
const FuzzTarget fuzz_target = {
    .machine = { .objects = objects, .drives = drives, .devices = devices },
    .nr_ops = NR_OPS,
    .begin_input = start_input,
    .run_op = run_target_op,
};
