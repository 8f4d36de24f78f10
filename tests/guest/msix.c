/*
 * msix: route an interrupt of virtio-blk device 0 through MSI-X and exit,
 * so that the VMM holds an interrupt route (KVM's irqfd) when it ends.
 *
 * Table entry 0 gets a message for vector 0x40 of APIC 0 and is unmasked,
 * MSI-X is enabled, and the device's configuration change interrupt is
 * given entry 0.  Prints "msix: config vector N" with the vector the
 * device reads back (0, or 0xffff if it refused it).
 *
 * Exit status: 0 the route was set up, 2 no device or no MSI-X capability,
 * 3 the device refused the vector.
 */
#include "guest.h"

#include "guest_errno.h"
#include "pci.h"
#include "virtio.h"
#include "virtio_pci.h"

#define MSIX_DEVICE         2
#define MSIX_REFUSED        3

#define PCI_CAP_ID_MSIX     0x11
#define PCI_MSIX_FLAGS      2       /* message control */
#define PCI_MSIX_TABLE      4       /* BIR in bits 0-2, offset above */
#define PCI_MSIX_ENABLE     0x8000
#define MSIX_ENTRY_BYTES    16
#define MSI_ADDRESS_APIC0   0xfee00000u
#define MSI_VECTOR          0x40

static uint8_t find_msix(const struct pci_address *a)
{
    uint8_t pos = pci_capability_first(a);

    for (unsigned i = 0; pos && i < PCI_MAX_CAPABILITIES; i++) {
        if (pci_read8(a, pos) == PCI_CAP_ID_MSIX) {
            return pos;
        }
        pos = pci_capability_next(a, pos);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct virtio_pci_device dev;
    const struct pci_bar *bar;
    volatile uint32_t *entry;
    uint32_t table;
    uint16_t vector;
    uint8_t cap;
    int ret;

    ret = virtio_pci_find(VIRTIO_ID_BLOCK, 0, &dev);
    if (ret) {
        printf("msix: no virtio-blk device: %s\n", guest_strerror(ret));
        return MSIX_DEVICE;
    }
    cap = find_msix(&dev.pci.addr);
    if (!cap) {
        printf("msix: %s has no MSI-X capability\n", dev.name);
        return MSIX_DEVICE;
    }
    table = pci_read32(&dev.pci.addr, cap + PCI_MSIX_TABLE);
    bar = &dev.pci.bar[table & 7];
    if (bar->addr + bar->size > 0x100000000ull) {
        guest_map_identity(bar->addr, bar->size);
    }
    entry = (volatile uint32_t *)(uintptr_t)(bar->addr + (table & ~7u));
    entry[0] = MSI_ADDRESS_APIC0;
    entry[1] = 0;
    entry[2] = MSI_VECTOR;
    entry[3] = 0;                   /* unmasked */
    pci_write16(&dev.pci.addr, cap + PCI_MSIX_FLAGS, PCI_MSIX_ENABLE);
    dev.common->config_msix_vector = 0;
    vector = dev.common->config_msix_vector;
    printf("msix: config vector %u\n", vector);
    return vector == 0 ? 0 : MSIX_REFUSED;
}
