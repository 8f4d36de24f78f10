/*
 * PCI from the test's side, through configuration mechanism #1.
 */
#include <glib.h>
#include <inttypes.h>

#include "pci.h"

#define PCI_CONFIG_ADDRESS      0xcf8
#define PCI_CONFIG_DATA         0xcfc
#define PCI_CONFIG_ENABLE       0x80000000u

/* Capability lists are at most this long: 48 dwords fit after 0x40. */
#define PCI_MAX_CAPABILITIES    48

void qpci_bus_init(QPCIBus *bus, QTestState *qts)
{
    bus->qts = qts;
    bus->mmio_next = QPCI_MMIO_WINDOW_START;
    bus->pio_next = QPCI_PIO_WINDOW_START;
}

/* Select a dword of dev's configuration space; bus 0 only. */
static void qpci_config_select(QPCIDevice *dev, uint8_t offset)
{
    qtest_outl(dev->bus->qts, PCI_CONFIG_ADDRESS,
               PCI_CONFIG_ENABLE | dev->devfn << 8 | (offset & 0xfc));
}

uint8_t qpci_config_readb(QPCIDevice *dev, uint8_t offset)
{
    qpci_config_select(dev, offset);
    return qtest_inb(dev->bus->qts, PCI_CONFIG_DATA + (offset & 3));
}

uint16_t qpci_config_readw(QPCIDevice *dev, uint8_t offset)
{
    g_assert(!(offset & 1));
    qpci_config_select(dev, offset);
    return qtest_inw(dev->bus->qts, PCI_CONFIG_DATA + (offset & 2));
}

uint32_t qpci_config_readl(QPCIDevice *dev, uint8_t offset)
{
    g_assert(!(offset & 3));
    qpci_config_select(dev, offset);
    return qtest_inl(dev->bus->qts, PCI_CONFIG_DATA);
}

void qpci_config_writeb(QPCIDevice *dev, uint8_t offset, uint8_t value)
{
    qpci_config_select(dev, offset);
    qtest_outb(dev->bus->qts, PCI_CONFIG_DATA + (offset & 3), value);
}

void qpci_config_writew(QPCIDevice *dev, uint8_t offset, uint16_t value)
{
    g_assert(!(offset & 1));
    qpci_config_select(dev, offset);
    qtest_outw(dev->bus->qts, PCI_CONFIG_DATA + (offset & 2), value);
}

void qpci_config_writel(QPCIDevice *dev, uint8_t offset, uint32_t value)
{
    g_assert(!(offset & 3));
    qpci_config_select(dev, offset);
    qtest_outl(dev->bus->qts, PCI_CONFIG_DATA, value);
}

QPCIDevice *qpci_find_device(QPCIBus *bus, uint16_t vendor_id,
                             uint16_t device_id)
{
    QPCIDevice probe = { .bus = bus };

    for (unsigned devfn = 0; devfn < 256; devfn++) {
        uint32_t id;

        probe.devfn = devfn;
        id = qpci_config_readl(&probe, PCI_VENDOR_ID);
        if ((id & 0xffff) == 0xffff) {
            /* No function 0: the other functions of the slot are absent. */
            if (!(devfn & 7)) {
                devfn += 7;
            }
            continue;
        }
        if (id == ((uint32_t)device_id << 16 | vendor_id)) {
            return g_memdup2(&probe, sizeof(probe));
        }
        if (!(devfn & 7) && !(qpci_config_readb(&probe, PCI_HEADER_TYPE) &
                              PCI_HEADER_TYPE_MULTI_FUNCTION)) {
            devfn += 7;
        }
    }
    return NULL;
}

void qpci_device_enable(QPCIDevice *dev)
{
    uint16_t cmd = qpci_config_readw(dev, PCI_COMMAND);

    cmd |= PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    qpci_config_writew(dev, PCI_COMMAND, cmd);
    g_assert_cmphex(qpci_config_readw(dev, PCI_COMMAND) &
                    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), ==,
                    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

/* Write all ones to a BAR register and read back which bits stuck. */
static uint32_t qpci_bar_probe(QPCIDevice *dev, uint8_t reg)
{
    uint32_t saved = qpci_config_readl(dev, reg), mask;

    qpci_config_writel(dev, reg, 0xffffffff);
    mask = qpci_config_readl(dev, reg);
    qpci_config_writel(dev, reg, saved);
    return mask;
}

const QPCIBar *qpci_map_bar(QPCIDevice *dev, unsigned bar)
{
    uint8_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint16_t cmd = qpci_config_readw(dev, PCI_COMMAND);
    uint32_t lo = qpci_config_readl(dev, reg);
    bool is64 = !(lo & PCI_BASE_ADDRESS_SPACE_IO) &&
                (lo & 0x6) == PCI_BASE_ADDRESS_MEM_TYPE_64;
    QPCIBar *b = &dev->bars[bar];
    uint64_t addr, mask;

    g_assert_cmpuint(bar, <, is64 ? PCI_NUM_BARS - 1 : PCI_NUM_BARS);
    /* Sizing moves the BAR: stop decoding meanwhile. */
    qpci_config_writew(dev, PCI_COMMAND,
                       cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    b->is_io = lo & PCI_BASE_ADDRESS_SPACE_IO;
    if (b->is_io) {
        addr = lo & ~0x3u;
        /* The upper 16 bits may be hardwired to 0. */
        mask = ~0xffffULL | (qpci_bar_probe(dev, reg) & ~0x3u);
    } else {
        addr = lo & ~0xfu;
        mask = qpci_bar_probe(dev, reg) & ~0xfu;
        if (is64) {
            addr |= (uint64_t)qpci_config_readl(dev, reg + 4) << 32;
            mask |= (uint64_t)qpci_bar_probe(dev, reg + 4) << 32;
        } else {
            mask |= ~0xffffffffULL;
        }
    }
    if (!mask || (!is64 && !(uint32_t)mask)) {
        g_error("BAR %u of PCI device %02x.%x is not implemented", bar,
                dev->devfn >> 3, dev->devfn & 7);
    }
    b->size = ~mask + 1;
    if (!addr) {
        if (b->is_io) {
            addr = (dev->bus->pio_next + b->size - 1) & ~(b->size - 1);
            g_assert_cmphex(addr + b->size, <=, QPCI_PIO_WINDOW_END);
            dev->bus->pio_next = addr + b->size;
        } else {
            addr = (dev->bus->mmio_next + b->size - 1) & ~(b->size - 1);
            g_assert_cmphex(addr + b->size, <=, QPCI_MMIO_WINDOW_END);
            dev->bus->mmio_next = addr + b->size;
        }
        qpci_config_writel(dev, reg, addr | (lo & (b->is_io ? 0x3 : 0xf)));
        if (is64) {
            qpci_config_writel(dev, reg + 4, addr >> 32);
        }
    }
    b->addr = addr;
    qpci_config_writew(dev, PCI_COMMAND, cmd);
    return b;
}

static uint64_t qpci_bar_read(QPCIDevice *dev, const QPCIBar *bar,
                              uint64_t off, unsigned size)
{
    QTestState *qts = dev->bus->qts;

    g_assert_cmphex(bar->size, !=, 0);
    g_assert_cmphex(off + size, <=, bar->size);
    if (bar->is_io) {
        switch (size) {
        case 1: return qtest_inb(qts, bar->addr + off);
        case 2: return qtest_inw(qts, bar->addr + off);
        default: return qtest_inl(qts, bar->addr + off);
        }
    }
    switch (size) {
    case 1: return qtest_readb(qts, bar->addr + off);
    case 2: return qtest_readw(qts, bar->addr + off);
    default: return qtest_readl(qts, bar->addr + off);
    }
}

static void qpci_bar_write(QPCIDevice *dev, const QPCIBar *bar, uint64_t off,
                           unsigned size, uint32_t value)
{
    QTestState *qts = dev->bus->qts;

    g_assert_cmphex(bar->size, !=, 0);
    g_assert_cmphex(off + size, <=, bar->size);
    if (bar->is_io) {
        switch (size) {
        case 1: qtest_outb(qts, bar->addr + off, value); return;
        case 2: qtest_outw(qts, bar->addr + off, value); return;
        default: qtest_outl(qts, bar->addr + off, value); return;
        }
    }
    switch (size) {
    case 1: qtest_writeb(qts, bar->addr + off, value); return;
    case 2: qtest_writew(qts, bar->addr + off, value); return;
    default: qtest_writel(qts, bar->addr + off, value); return;
    }
}

uint8_t qpci_bar_readb(QPCIDevice *dev, const QPCIBar *bar, uint64_t off)
{
    return qpci_bar_read(dev, bar, off, 1);
}

uint16_t qpci_bar_readw(QPCIDevice *dev, const QPCIBar *bar, uint64_t off)
{
    return qpci_bar_read(dev, bar, off, 2);
}

uint32_t qpci_bar_readl(QPCIDevice *dev, const QPCIBar *bar, uint64_t off)
{
    return qpci_bar_read(dev, bar, off, 4);
}

void qpci_bar_writeb(QPCIDevice *dev, const QPCIBar *bar, uint64_t off,
                     uint8_t value)
{
    qpci_bar_write(dev, bar, off, 1, value);
}

void qpci_bar_writew(QPCIDevice *dev, const QPCIBar *bar, uint64_t off,
                     uint16_t value)
{
    qpci_bar_write(dev, bar, off, 2, value);
}

void qpci_bar_writel(QPCIDevice *dev, const QPCIBar *bar, uint64_t off,
                     uint32_t value)
{
    qpci_bar_write(dev, bar, off, 4, value);
}

uint8_t qpci_find_capability(QPCIDevice *dev, uint8_t id, uint8_t start)
{
    uint8_t pos;

    if (!(qpci_config_readw(dev, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    pos = start ? qpci_config_readb(dev, start + 1)
                : qpci_config_readb(dev, PCI_CAPABILITY_LIST);
    for (unsigned n = 0; pos && n < PCI_MAX_CAPABILITIES; n++) {
        pos &= ~3;
        g_assert_cmphex(pos, >=, 0x40);
        if (qpci_config_readb(dev, pos) == id) {
            return pos;
        }
        pos = qpci_config_readb(dev, pos + 1);
    }
    g_assert_cmphex(pos, ==, 0);
    return 0;
}
