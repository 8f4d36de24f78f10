/*
 * PCI from the test's side: configuration space through configuration
 * mechanism #1 (address port 0xcf8, data port 0xcfc), devices on bus 0,
 * BARs and the capability list (PCI Local Bus Specification 3.0, chapter 6).
 */
#ifndef LIBQOS_PCI_H
#define LIBQOS_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/pci_regs.h>

#include "../libqtest.h"

#define  PCI_HEADER_TYPE_MULTI_FUNCTION 0x80

#define PCI_NUM_BARS            6

/* Where BARs the VMM left unassigned are placed (docs/devel/guest-abi.rst). */
#define QPCI_MMIO_WINDOW_START  0xc0000000ULL
#define QPCI_MMIO_WINDOW_END    0xe0000000ULL
#define QPCI_PIO_WINDOW_START   0xc000
#define QPCI_PIO_WINDOW_END     0x10000

typedef struct QPCIBus {
    QTestState *qts;
    uint64_t mmio_next;         /* next free address for a memory BAR */
    uint32_t pio_next;          /* next free port for an I/O BAR */
} QPCIBus;

typedef struct QPCIBar {
    uint64_t addr;
    uint64_t size;
    bool is_io;
} QPCIBar;

typedef struct QPCIDevice {
    QPCIBus *bus;
    uint8_t devfn;
    QPCIBar bars[PCI_NUM_BARS];
} QPCIDevice;

void qpci_bus_init(QPCIBus *bus, QTestState *qts);

uint8_t qpci_config_readb(QPCIDevice *dev, uint8_t offset);
uint16_t qpci_config_readw(QPCIDevice *dev, uint8_t offset);
uint32_t qpci_config_readl(QPCIDevice *dev, uint8_t offset);
void qpci_config_writeb(QPCIDevice *dev, uint8_t offset, uint8_t value);
void qpci_config_writew(QPCIDevice *dev, uint8_t offset, uint16_t value);
void qpci_config_writel(QPCIDevice *dev, uint8_t offset, uint32_t value);

/* The first function on bus 0 with these IDs, or NULL; g_free() it. */
QPCIDevice *qpci_find_device(QPCIBus *bus, uint16_t vendor_id,
                             uint16_t device_id);
/* Turn on memory and I/O decoding and bus mastering. */
void qpci_device_enable(QPCIDevice *dev);

/*
 * Size a BAR and find where it is: the address the VMM assigned, or one
 * from the bus's windows if it is unassigned.  Decoding must be enabled
 * afterwards (qpci_device_enable) for accesses to reach the device.
 */
const QPCIBar *qpci_map_bar(QPCIDevice *dev, unsigned bar);

uint8_t qpci_bar_readb(QPCIDevice *dev, const QPCIBar *bar, uint64_t off);
uint16_t qpci_bar_readw(QPCIDevice *dev, const QPCIBar *bar, uint64_t off);
uint32_t qpci_bar_readl(QPCIDevice *dev, const QPCIBar *bar, uint64_t off);
void qpci_bar_writeb(QPCIDevice *dev, const QPCIBar *bar, uint64_t off,
                     uint8_t value);
void qpci_bar_writew(QPCIDevice *dev, const QPCIBar *bar, uint64_t off,
                     uint16_t value);
void qpci_bar_writel(QPCIDevice *dev, const QPCIBar *bar, uint64_t off,
                     uint32_t value);

/*
 * The offset of the first capability with this ID after the one at start
 * (0: from the beginning of the list), or 0 if there is none.
 */
uint8_t qpci_find_capability(QPCIDevice *dev, uint8_t id, uint8_t start);

#endif
