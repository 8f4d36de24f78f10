/*
 * PCI devices on the machine's single bus.
 *
 * A PCI device type derives from "pci-device" (whose properties are bus=,
 * addr= and multifunction=) and describes itself with a PCIDeviceClass.  The bus
 * owns configuration space accesses; BARs are memory regions that the bus
 * maps into the memory or I/O address space wherever the guest programs
 * them, while decoding is enabled in the command register.
 */
#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include <linux/pci_regs.h>

#include "exec/memory.h"
#include "hw/qdev.h"

#define PCI_CONFIG_SPACE_SIZE   4096
#define PCI_NUM_REGIONS         6
#define PCI_SLOT(devfn)         ((devfn) >> 3)
#define PCI_FUNC(devfn)         ((devfn) & 7)
#define PCI_DEVFN(slot, fn)     (((slot) << 3) | (fn))
#define PCI_DEVFN_AUTO          -1

typedef struct PCIDevice PCIDevice;
typedef struct MSIXState MSIXState;

typedef struct PCIDeviceClass {
    DeviceClass parent;
    uint16_t vendor_id;
    uint16_t device_id;
    uint8_t revision;
    uint32_t class_id;          /* base class, sub-class, prog-if */
    uint16_t subsystem_vendor_id;
    uint16_t subsystem_id;
    /* After the bus has stored a guest write to configuration space. */
    void (*config_write)(PCIDevice *dev, uint32_t addr, uint32_t val,
                         unsigned len);
    /* Before the bus reads configuration space (to refresh a window). */
    void (*config_read)(PCIDevice *dev, uint32_t addr, unsigned len);
} PCIDeviceClass;

typedef struct PCIIORegion {
    uint64_t size;              /* 0: not implemented */
    uint8_t type;               /* PCI_BASE_ADDRESS_* space and mem flags */
    MemoryRegion *mr;
    uint64_t addr;              /* where it is mapped, if mapped */
    bool mapped;
} PCIIORegion;

struct PCIDevice {
    DeviceState qdev;
    /* properties */
    char *addr;                 /* "slot[.fn]" */
    bool multifunction;

    int devfn;
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];   /* guest-writable bits */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE]; /* write-one-to-clear bits */
    PCIIORegion io_regions[PCI_NUM_REGIONS];
    uint8_t next_cap;           /* where the next capability goes */
    unsigned gsi;               /* INTx routed here */
    /*
     * INTx, from any thread of the device (an I/O thread may raise it
     * while a vCPU writes the command register with the BQL): irq_lock
     * covers these two and the command and status bytes of config space.
     */
    GMutex irq_lock;
    bool intx_pending;          /* the device's interrupt (PCI status) */
    bool intx_asserted;         /* the line: pending and not disabled */
    MSIXState *msix;
    /* the header as first assigned, restored on reset */
    uint8_t reset_config[PCI_CONFIG_SPACE_SIZE];
    bool reset_valid;
};

extern const DeviceClass pci_device_class;

static inline const PCIDeviceClass *PCI_DEVICE_GET_CLASS(PCIDevice *d)
{
    return (const PCIDeviceClass *)d->qdev.klass;
}

/* Register the device on the bus and fill its header; call first. */
bool pci_device_realize(PCIDevice *dev, GError **errp);
void pci_device_unrealize(PCIDevice *dev);
/* Power-on state of the header: decoding off, BARs as first assigned. */
void pci_device_reset(PCIDevice *dev);

/* Declare a BAR; the bus assigns it an address when the machine starts. */
void pci_register_bar(PCIDevice *dev, int bar, uint8_t type,
                      MemoryRegion *mr);
/* Append a capability of size bytes; returns its offset in config space. */
uint8_t pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t size);

/*
 * The device's INTx interrupt is pending (level) or not.  Any thread;
 * takes irq_lock, so a caller's own lock must come before it.
 */
void pci_set_irq(PCIDevice *dev, bool level);

static inline void pci_set_word(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    pci_set_word(p, v);
    pci_set_word(p + 2, v >> 16);
}

static inline uint16_t pci_get_word(const uint8_t *p)
{
    return p[0] | (p[1] << 8);
}

static inline uint32_t pci_get_long(const uint8_t *p)
{
    return pci_get_word(p) | ((uint32_t)pci_get_word(p + 2) << 16);
}

/* The bus: configuration accesses from the host bridge. */
uint32_t pci_bus_config_read(uint8_t bus, uint8_t devfn, uint32_t addr,
                             unsigned len);
void pci_bus_config_write(uint8_t bus, uint8_t devfn, uint32_t addr,
                          uint32_t val, unsigned len);
/* Assign every BAR an address in the PCI windows (at machine start). */
void pci_bus_assign_bars(void);

#endif
