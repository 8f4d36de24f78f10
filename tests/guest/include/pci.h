/*
 * PCI configuration space through configuration mechanism #1 (ports 0xcf8
 * and 0xcfc), enumeration of bus 0, BARs and the capability list.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_HEADER_TYPE         0x0e
#define PCI_BAR0                0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_CAPABILITY_LIST     0x34

#define PCI_COMMAND_IO              0x0001
#define PCI_COMMAND_MEMORY          0x0002
#define PCI_COMMAND_MASTER          0x0004
#define PCI_COMMAND_INTX_DISABLE    0x0400

#define PCI_STATUS_CAP_LIST     0x0010
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_CAP_ID_VENDOR       0x09

#define PCI_NUM_BARS            6
/* At most this many capabilities fit; bounds walks of a looping list. */
#define PCI_MAX_CAPABILITIES    48

struct pci_address {
    uint8_t bus;
    uint8_t device;
    uint8_t function;
};

struct pci_bar {
    uint64_t addr;              /* 0 if absent or not assigned */
    uint64_t size;
    bool io;
    bool is_64bit;              /* takes this BAR and the next */
};

struct pci_device {
    struct pci_address addr;
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsystem_vendor_id;
    uint16_t subsystem_id;
    uint8_t revision;
    struct pci_bar bar[PCI_NUM_BARS];   /* filled by pci_read_bars() */
};

uint8_t pci_read8(const struct pci_address *a, uint8_t offset);
uint16_t pci_read16(const struct pci_address *a, uint8_t offset);
uint32_t pci_read32(const struct pci_address *a, uint8_t offset);
void pci_write16(const struct pci_address *a, uint8_t offset, uint16_t v);
void pci_write32(const struct pci_address *a, uint8_t offset, uint32_t v);

/*
 * Call @fn for each function present on bus 0, in device/function order,
 * with its identification filled in (BARs not yet read); stop early when @fn
 * returns true.  Returns whether some call returned true.
 */
bool pci_scan_bus0(bool (*fn)(const struct pci_device *dev, void *arg), void *arg);

/*
 * Read the addresses firmware (or the VMM) assigned to @dev's BARs and size
 * them.  Decoding is turned off while sizing and restored afterwards.
 */
void pci_read_bars(struct pci_device *dev);

/* Set @bits in the command register. */
void pci_enable(const struct pci_device *dev, uint16_t bits);

/* Offset of the first capability, or 0 if the function has none. */
uint8_t pci_capability_first(const struct pci_address *a);

/*
 * Offset of the capability after the one at @pos, or 0 at the end.  Callers
 * stop after PCI_MAX_CAPABILITIES steps in case the list loops.
 */
uint8_t pci_capability_next(const struct pci_address *a, uint8_t pos);

#endif
