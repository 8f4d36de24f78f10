/*
 * The PCI bus: device registration, configuration space, BAR mapping.
 */
#include <string.h>

#include "hw/pci/msix.h"
#include "hw/pci/pci.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "sysemu/accel.h"

/* The windows where the VMM, acting as firmware, places BARs. */
#define PCI_MMIO_WINDOW_BASE    0xc0000000ULL
#define PCI_MMIO_WINDOW_END     0xe0000000ULL
#define PCI_IO_WINDOW_BASE      0xc000
#define PCI_IO_WINDOW_END       0x10000
/* INTA of slot s is GSI 16 + s % 4, set in the Interrupt Line register. */
#define PCI_INTX_GSI_BASE       16

static PCIDevice *bus_devices[256];
static uint64_t next_mmio = PCI_MMIO_WINDOW_BASE;
static uint64_t next_io = PCI_IO_WINDOW_BASE;

/*
 * bus=: the one bus there is, which QEMU's PC machines (and so libvirt)
 * name pci.0.  Nothing to store.
 */
static bool set_bus(DeviceState *dev, const Property *prop, const char *str,
                    GError **errp)
{
    if (strcmp(str, "pci.0")) {
        error_setg(errp, "Bus '%s' not found", str);
        return false;
    }
    return true;
}

static const PropertyInfo prop_info_pci_bus = {
    .type = "str", .set = set_bus,
};

static const Property pci_props[] = {
    { .name = "bus", .info = &prop_info_pci_bus },
    DEFINE_PROP_STRING("addr", PCIDevice, addr),
    DEFINE_PROP_BOOL("multifunction", PCIDevice, multifunction, false),
    DEFINE_PROP_END_OF_LIST(),
};

const DeviceClass pci_device_class = {
    .name = "pci-device",
    .instance_size = sizeof(PCIDevice),
    .props = pci_props,
};

/* "slot" or "slot.fn", in hexadecimal as QEMU spells it. */
static bool parse_devfn(const char *str, int *devfn)
{
    unsigned long slot, fn = 0;
    char *end;

    slot = strtoul(str, &end, 16);
    if (end == str) {
        return false;
    }
    if (*end == '.') {
        const char *f = end + 1;
        fn = strtoul(f, &end, 16);
        if (end == f) {
            return false;
        }
    }
    if (*end || slot > 31 || fn > 7) {
        return false;
    }
    *devfn = PCI_DEVFN(slot, fn);
    return true;
}

static bool pci_assign_devfn(PCIDevice *dev, GError **errp)
{
    const char *name = dev->qdev.klass->name;

    if (dev->addr) {
        if (!parse_devfn(dev->addr, &dev->devfn)) {
            error_setg(errp, "Property '%s.addr' doesn't take value '%s'",
                       name, dev->addr);
            return false;
        }
        if (bus_devices[dev->devfn]) {
            error_setg(errp, "PCI: slot %d function %d not available for %s, "
                       "in use by %s", PCI_SLOT(dev->devfn),
                       PCI_FUNC(dev->devfn), name,
                       bus_devices[dev->devfn]->qdev.klass->name);
            return false;
        }
        return true;
    }
    for (int slot = 0; slot < 32; slot++) {
        if (!bus_devices[PCI_DEVFN(slot, 0)]) {
            dev->devfn = PCI_DEVFN(slot, 0);
            return true;
        }
    }
    error_setg(errp, "PCI: no slot/function available for %s, all in use",
               name);
    return false;
}

bool pci_device_realize(PCIDevice *dev, GError **errp)
{
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(dev);
    uint8_t *c = dev->config;

    if (!pci_assign_devfn(dev, errp)) {
        return false;
    }
    g_mutex_init(&dev->irq_lock);
    bus_devices[dev->devfn] = dev;

    pci_set_word(c + PCI_VENDOR_ID, pc->vendor_id);
    pci_set_word(c + PCI_DEVICE_ID, pc->device_id);
    c[PCI_REVISION_ID] = pc->revision;
    c[PCI_CLASS_PROG] = pc->class_id;
    pci_set_word(c + PCI_CLASS_DEVICE, pc->class_id >> 8);
    c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL |
                         (dev->multifunction ? 0x80 : 0);
    pci_set_word(c + PCI_SUBSYSTEM_VENDOR_ID, pc->subsystem_vendor_id);
    pci_set_word(c + PCI_SUBSYSTEM_ID, pc->subsystem_id);
    dev->gsi = PCI_INTX_GSI_BASE + PCI_SLOT(dev->devfn) % 4;
    c[PCI_INTERRUPT_PIN] = 1;
    c[PCI_INTERRUPT_LINE] = dev->gsi;
    dev->next_cap = 0x40;

    pci_set_word(dev->wmask + PCI_COMMAND,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                 PCI_COMMAND_INTX_DISABLE);
    dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    dev->wmask[PCI_LATENCY_TIMER] = 0xff;
    dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
    pci_set_word(dev->w1cmask + PCI_STATUS,
                 PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
                 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |
                 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY);
    return true;
}

static void pci_unmap_bars(PCIDevice *dev)
{
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIIORegion *r = &dev->io_regions[i];
        if (r->mapped) {
            memory_region_unmap(r->mr);
            r->mapped = false;
        }
    }
}

void pci_device_unrealize(PCIDevice *dev)
{
    pci_unmap_bars(dev);
    pci_set_irq(dev, false);
    if (bus_devices[dev->devfn] == dev) {
        bus_devices[dev->devfn] = NULL;
    }
    g_mutex_clear(&dev->irq_lock);
}

void pci_register_bar(PCIDevice *dev, int bar, uint8_t type,
                      MemoryRegion *mr)
{
    PCIIORegion *r = &dev->io_regions[bar];
    uint64_t mask = ~(mr->size - 1);
    unsigned off = PCI_BASE_ADDRESS_0 + bar * 4;

    g_assert(mr->size && !(mr->size & (mr->size - 1)));
    r->size = mr->size;
    r->type = type;
    r->mr = mr;
    pci_set_long(dev->config + off, type);
    if (type & PCI_BASE_ADDRESS_SPACE_IO) {
        pci_set_long(dev->wmask + off, mask & 0xfffc);
    } else {
        pci_set_long(dev->wmask + off, mask & ~0xfULL);
        if (type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
            pci_set_long(dev->wmask + off + 4, mask >> 32);
        }
    }
}

uint8_t pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t size)
{
    uint8_t off = dev->next_cap, *p;

    g_assert(off + size <= 0x100);
    dev->config[off] = cap_id;
    dev->config[off + 1] = 0;
    /* Link it at the end of the list. */
    if (!(pci_get_word(dev->config + PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        dev->config[PCI_CAPABILITY_LIST] = off;
        pci_set_word(dev->config + PCI_STATUS, PCI_STATUS_CAP_LIST);
    } else {
        p = &dev->config[PCI_CAPABILITY_LIST];
        while (dev->config[*p + 1]) {
            p = &dev->config[*p + 1];
        }
        dev->config[*p + 1] = off;
    }
    dev->next_cap = (off + size + 3) & ~3;
    return off;
}

/* The address a BAR decodes at now, or false if it does not decode. */
static bool pci_bar_address(PCIDevice *dev, int bar, uint64_t *addr)
{
    PCIIORegion *r = &dev->io_regions[bar];
    uint16_t cmd = pci_get_word(dev->config + PCI_COMMAND);
    unsigned off = PCI_BASE_ADDRESS_0 + bar * 4;
    uint64_t mask = ~(r->size - 1);
    uint64_t a = pci_get_long(dev->config + off);

    if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
        if (!(cmd & PCI_COMMAND_IO)) {
            return false;
        }
        a &= PCI_BASE_ADDRESS_IO_MASK;
        *addr = a;
        /* 0 is unassigned; all ones (masked) is a sizing probe. */
        return a && a != (mask & 0xfffc) && a + r->size <= 0x10000;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) {
        return false;
    }
    a &= PCI_BASE_ADDRESS_MEM_MASK;
    if (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        a |= (uint64_t)pci_get_long(dev->config + off + 4) << 32;
    } else {
        mask &= 0xffffffffULL;
    }
    *addr = a;
    return a && (a & mask) != (mask & ~0xfULL) && a + r->size > a &&
           a + r->size <= (1ULL << 52);
}

static void pci_update_mappings(PCIDevice *dev)
{
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIIORegion *r = &dev->io_regions[i];
        uint64_t addr;
        bool decode;

        if (!r->size) {
            continue;
        }
        decode = pci_bar_address(dev, i, &addr);
        if (r->mapped && (!decode || addr != r->addr)) {
            memory_region_unmap(r->mr);
            r->mapped = false;
        }
        if (decode && !r->mapped) {
            memory_region_map(r->mr, (r->type & PCI_BASE_ADDRESS_SPACE_IO) ?
                              &address_space_io : &address_space_memory,
                              addr, 1);
            r->addr = addr;
            r->mapped = true;
        }
    }
}

/*
 * The line follows the device's interrupt unless the command register
 * disables INTx; PCI status shows the interrupt either way.  Called with
 * irq_lock held.
 */
static void pci_update_intx(PCIDevice *dev)
{
    bool disabled = pci_get_word(dev->config + PCI_COMMAND) &
                    PCI_COMMAND_INTX_DISABLE;
    bool assert = dev->intx_pending && !disabled;

    if (dev->intx_pending) {
        dev->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    } else {
        dev->config[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
    }
    if (assert != dev->intx_asserted) {
        dev->intx_asserted = assert;
        current_accel->set_irq(dev->gsi, assert);
    }
}

void pci_set_irq(PCIDevice *dev, bool level)
{
    g_mutex_lock(&dev->irq_lock);
    dev->intx_pending = level;
    pci_update_intx(dev);
    g_mutex_unlock(&dev->irq_lock);
}

uint32_t pci_bus_config_read(uint8_t bus, uint8_t devfn, uint32_t addr,
                             unsigned len)
{
    PCIDevice *dev = bus ? NULL : bus_devices[devfn];
    uint32_t val = 0;

    if (!dev || addr + len > PCI_CONFIG_SPACE_SIZE) {
        return len == 4 ? 0xffffffff : (1U << (len * 8)) - 1;
    }
    if (PCI_DEVICE_GET_CLASS(dev)->config_read) {
        PCI_DEVICE_GET_CLASS(dev)->config_read(dev, addr, len);
    }
    g_mutex_lock(&dev->irq_lock);
    for (unsigned i = 0; i < len; i++) {
        val |= (uint32_t)dev->config[addr + i] << (8 * i);
    }
    g_mutex_unlock(&dev->irq_lock);
    return val;
}

void pci_bus_config_write(uint8_t bus, uint8_t devfn, uint32_t addr,
                          uint32_t val, unsigned len)
{
    PCIDevice *dev = bus ? NULL : bus_devices[devfn];
    const PCIDeviceClass *pc;
    bool remap = false, intx = false;

    if (!dev || addr + len > PCI_CONFIG_SPACE_SIZE) {
        return;
    }
    g_mutex_lock(&dev->irq_lock);
    for (unsigned i = 0; i < len; i++) {
        uint32_t a = addr + i;
        uint8_t byte = val >> (8 * i);
        uint8_t wm = dev->wmask[a], w1c = dev->w1cmask[a];
        dev->config[a] = (dev->config[a] & ~wm) | (byte & wm);
        dev->config[a] &= ~(byte & w1c);
        remap |= (a >= PCI_BASE_ADDRESS_0 && a < PCI_CARDBUS_CIS) ||
                 a == PCI_COMMAND;
        intx |= a == PCI_COMMAND + 1;
    }
    if (intx) {
        pci_update_intx(dev);
    }
    g_mutex_unlock(&dev->irq_lock);
    if (remap) {
        pci_update_mappings(dev);
    }
    if (dev->msix) {
        msix_config_write(dev, addr, len);
    }
    pc = PCI_DEVICE_GET_CLASS(dev);
    if (pc->config_write) {
        pc->config_write(dev, addr, val, len);
    }
}

static void pci_assign_bar(PCIDevice *dev, int bar)
{
    PCIIORegion *r = &dev->io_regions[bar];
    unsigned off = PCI_BASE_ADDRESS_0 + bar * 4;
    uint64_t *next, end;

    if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
        next = &next_io;
        end = PCI_IO_WINDOW_END;
    } else {
        next = &next_mmio;
        end = PCI_MMIO_WINDOW_END;
    }
    *next = (*next + r->size - 1) & ~(r->size - 1);
    if (*next + r->size > end) {
        warn_report("%s: no room for BAR %d in the PCI window",
                    dev->qdev.klass->name, bar);
        return;
    }
    pci_set_long(dev->config + off, (uint32_t)*next | r->type);
    if (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        pci_set_long(dev->config + off + 4, *next >> 32);
    }
    *next += r->size;
}

/*
 * As firmware would: give each BAR an address and turn decoding on.  The
 * result is kept as the device's power-on state for later resets.
 */
void pci_bus_assign_bars(void)
{
    for (int devfn = 0; devfn < 256; devfn++) {
        PCIDevice *dev = bus_devices[devfn];
        uint16_t cmd = 0;

        if (!dev || dev->reset_valid) {
            continue;
        }
        for (int i = 0; i < PCI_NUM_REGIONS; i++) {
            if (dev->io_regions[i].size) {
                pci_assign_bar(dev, i);
                cmd |= (dev->io_regions[i].type & PCI_BASE_ADDRESS_SPACE_IO) ?
                       PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
            }
        }
        pci_set_word(dev->config + PCI_COMMAND, cmd);
        memcpy(dev->reset_config, dev->config, sizeof(dev->reset_config));
        dev->reset_valid = true;
        pci_update_mappings(dev);
    }
}

void pci_device_reset(PCIDevice *dev)
{
    g_mutex_lock(&dev->irq_lock);
    if (dev->reset_valid) {
        /* The header as firmware left it, capabilities included. */
        memcpy(dev->config, dev->reset_config, sizeof(dev->reset_config));
    }
    dev->intx_pending = false;
    pci_update_intx(dev);
    g_mutex_unlock(&dev->irq_lock);
    pci_update_mappings(dev);
    if (dev->msix) {
        msix_reset(dev);
    }
}
