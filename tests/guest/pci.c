/*
 * PCI configuration mechanism #1: the address (enable bit, bus, device,
 * function, dword-aligned register) goes to port 0xcf8, the data is read or
 * written at 0xcfc plus the byte offset within the dword.  Each access is a
 * port I/O exit, which is fine for set-up and never done on the I/O path.
 */
#include "pci.h"

#include "x86.h"

#define PCI_CONFIG_ADDRESS      0xcf8
#define PCI_CONFIG_DATA         0xcfc
#define PCI_CONFIG_ENABLE       0x80000000u

#define PCI_BAR_IO              0x1
#define PCI_BAR_MEM_TYPE_MASK   0x6
#define PCI_BAR_MEM_TYPE_64     0x4
#define PCI_BAR_IO_MASK         (~(uint64_t)0x3)
#define PCI_BAR_MEM_MASK        (~(uint64_t)0xf)

#define PCI_DEVICES_PER_BUS     32
#define PCI_FUNCTIONS           8

static void select_register(const struct pci_address *a, uint8_t offset)
{
    outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | (uint32_t)a->bus << 16 |
         (uint32_t)a->device << 11 | (uint32_t)a->function << 8 | (offset & 0xfc));
}

uint8_t pci_read8(const struct pci_address *a, uint8_t offset)
{
    select_register(a, offset);
    return inb(PCI_CONFIG_DATA + (offset & 3));
}

uint16_t pci_read16(const struct pci_address *a, uint8_t offset)
{
    select_register(a, offset);
    return inw(PCI_CONFIG_DATA + (offset & 2));
}

uint32_t pci_read32(const struct pci_address *a, uint8_t offset)
{
    select_register(a, offset);
    return inl(PCI_CONFIG_DATA);
}

void pci_write16(const struct pci_address *a, uint8_t offset, uint16_t v)
{
    select_register(a, offset);
    outw(PCI_CONFIG_DATA + (offset & 2), v);
}

void pci_write32(const struct pci_address *a, uint8_t offset, uint32_t v)
{
    select_register(a, offset);
    outl(PCI_CONFIG_DATA, v);
}

static bool identify(struct pci_device *dev)
{
    const struct pci_address *a = &dev->addr;

    dev->vendor_id = pci_read16(a, PCI_VENDOR_ID);
    if (dev->vendor_id == 0xffff) {
        return false;
    }
    dev->device_id = pci_read16(a, PCI_DEVICE_ID);
    dev->subsystem_vendor_id = pci_read16(a, PCI_SUBSYSTEM_VENDOR_ID);
    dev->subsystem_id = pci_read16(a, PCI_SUBSYSTEM_ID);
    dev->revision = pci_read8(a, PCI_REVISION_ID);
    return true;
}

bool pci_scan_bus0(bool (*fn)(const struct pci_device *dev, void *arg), void *arg)
{
    for (uint8_t d = 0; d < PCI_DEVICES_PER_BUS; d++) {
        for (uint8_t f = 0; f < PCI_FUNCTIONS; f++) {
            struct pci_device dev = { .addr = { .bus = 0, .device = d, .function = f } };

            if (!identify(&dev)) {
                if (f == 0) {
                    break;
                }
                continue;
            }
            if (fn(&dev, arg)) {
                return true;
            }
            if (f == 0 &&
                !(pci_read8(&dev.addr, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION)) {
                break;
            }
        }
    }
    return false;
}

/*
 * Size one BAR by writing all ones and reading back which address bits
 * stick; returns the number of BAR registers it uses (1 or 2).
 */
static unsigned int read_bar(const struct pci_address *a, unsigned int i,
                             struct pci_bar *bar)
{
    uint8_t reg = PCI_BAR0 + 4 * i;
    uint32_t lo = pci_read32(a, reg), hi = 0, probe_lo, probe_hi = 0;
    uint64_t probe, addr;

    bar->io = lo & PCI_BAR_IO;
    bar->is_64bit = !bar->io && (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 &&
                    i + 1 < PCI_NUM_BARS;
    pci_write32(a, reg, 0xffffffff);
    probe_lo = pci_read32(a, reg);
    pci_write32(a, reg, lo);
    if (bar->is_64bit) {
        hi = pci_read32(a, reg + 4);
        pci_write32(a, reg + 4, 0xffffffff);
        probe_hi = pci_read32(a, reg + 4);
        pci_write32(a, reg + 4, hi);
    }

    if (bar->io) {
        /* I/O space is 16 bits wide; the upper half may read as zero. */
        probe = probe_lo & PCI_BAR_IO_MASK & 0xffff;
        bar->size = probe ? (~probe + 1) & 0xffff : 0;
        addr = lo & PCI_BAR_IO_MASK;
    } else if (bar->is_64bit) {
        probe = ((uint64_t)probe_hi << 32 | probe_lo) & PCI_BAR_MEM_MASK;
        bar->size = probe ? ~probe + 1 : 0;
        addr = ((uint64_t)hi << 32 | lo) & PCI_BAR_MEM_MASK;
    } else {
        probe = probe_lo & PCI_BAR_MEM_MASK & 0xffffffff;
        bar->size = probe ? (~probe + 1) & 0xffffffff : 0;
        addr = lo & PCI_BAR_MEM_MASK;
    }
    bar->addr = bar->size ? addr : 0;
    return bar->is_64bit ? 2 : 1;
}

void pci_read_bars(struct pci_device *dev)
{
    const struct pci_address *a = &dev->addr;
    uint16_t command = pci_read16(a, PCI_COMMAND);

    /* Sizing moves the BARs to all-ones addresses for a moment. */
    pci_write16(a, PCI_COMMAND, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    for (unsigned int i = 0; i < PCI_NUM_BARS;) {
        struct pci_bar *bar = &dev->bar[i];

        i += read_bar(a, i, bar);
        if (bar->is_64bit) {
            dev->bar[i - 1] = (struct pci_bar){ 0 };
        }
    }
    pci_write16(a, PCI_COMMAND, command);
}

void pci_enable(const struct pci_device *dev, uint16_t bits)
{
    pci_write16(&dev->addr, PCI_COMMAND, pci_read16(&dev->addr, PCI_COMMAND) | bits);
}

/* Follow the capability pointer at @offset; 0 ends the list. */
static uint8_t capability_at(const struct pci_address *a, uint8_t offset)
{
    uint8_t pos = pci_read8(a, offset) & 0xfc;

    /* Capabilities live after the 64-byte header. */
    return pos >= 0x40 ? pos : 0;
}

uint8_t pci_capability_first(const struct pci_address *a)
{
    if (!(pci_read16(a, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    return capability_at(a, PCI_CAPABILITY_LIST);
}

uint8_t pci_capability_next(const struct pci_address *a, uint8_t pos)
{
    return capability_at(a, pos + 1);
}
