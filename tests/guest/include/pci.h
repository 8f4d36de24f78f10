/*
 * PCI configuration space through configuration mechanism #1 (ports 0xcf8
 * and 0xcfc), enumeration of bus 0, BARs and the capability list.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/pci_regs.h>

#define PCI_BAR0                0x10

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
