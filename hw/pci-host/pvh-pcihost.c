/*
 * The host bridge of the pvh machine: device 00.0, configuration
 * mechanism #1 on ports 0xcf8/0xcfc and ECAM (PCIe enhanced configuration
 * access) at 0xb0000000, one bus.
 */
#include "hw/pci/pci.h"
#include "hw/pci-host/pvh-pcihost.h"

#define PCI_CONFIG_ADDR_PORT    0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc
#define PCI_CONFIG_ADDR_ENABLE  0x80000000u

typedef struct PCIHostState {
    PCIDevice pci;
    uint32_t config_addr;
    MemoryRegion addr_io;
    MemoryRegion data_io;
    MemoryRegion ecam;
} PCIHostState;

static uint64_t addr_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIHostState *s = opaque;

    return size == 4 ? s->config_addr : ~0ULL;
}

static void addr_write(void *opaque, uint64_t addr, uint64_t val,
                       unsigned size)
{
    PCIHostState *s = opaque;

    /* Narrower accesses are not configuration cycles (0xcf9 is reset). */
    if (size == 4) {
        s->config_addr = val;
    }
}

static const MemoryRegionOps addr_ops = {
    .read = addr_read,
    .write = addr_write,
};

/* Decode 0xcf8: bus 23:16, devfn 15:8, register 7:2 (+ 11:8 extended). */
static bool decode_config_addr(PCIHostState *s, uint64_t port_off,
                               unsigned size, uint8_t *bus, uint8_t *devfn,
                               uint32_t *reg)
{
    uint32_t a = s->config_addr;

    if (!(a & PCI_CONFIG_ADDR_ENABLE)) {
        return false;
    }
    *bus = a >> 16;
    *devfn = a >> 8;
    *reg = ((a >> 16) & 0xf00) | (a & 0xfc) | port_off;
    return port_off + size <= 4;
}

static uint64_t data_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIHostState *s = opaque;
    uint8_t bus, devfn;
    uint32_t reg;

    if (!decode_config_addr(s, addr, size, &bus, &devfn, &reg)) {
        return ~0ULL;
    }
    return pci_bus_config_read(bus, devfn, reg, size);
}

static void data_write(void *opaque, uint64_t addr, uint64_t val,
                       unsigned size)
{
    PCIHostState *s = opaque;
    uint8_t bus, devfn;
    uint32_t reg;

    if (decode_config_addr(s, addr, size, &bus, &devfn, &reg)) {
        pci_bus_config_write(bus, devfn, reg, val, size);
    }
}

static const MemoryRegionOps data_ops = {
    .read = data_read,
    .write = data_write,
};

/* ECAM: bus 27:20, devfn 19:12, register 11:0. */
static uint64_t ecam_read(void *opaque, uint64_t addr, unsigned size)
{
    if (size > 4 || (addr & 0xfff) + size > 0x1000) {
        return ~0ULL;
    }
    return pci_bus_config_read(addr >> 20, addr >> 12, addr & 0xfff, size);
}

static void ecam_write(void *opaque, uint64_t addr, uint64_t val,
                       unsigned size)
{
    if (size <= 4 && (addr & 0xfff) + size <= 0x1000) {
        pci_bus_config_write(addr >> 20, addr >> 12, addr & 0xfff, val, size);
    }
}

static const MemoryRegionOps ecam_ops = {
    .read = ecam_read,
    .write = ecam_write,
};

static bool pcihost_realize(DeviceState *dev, GError **errp)
{
    PCIHostState *s = (PCIHostState *)dev;

    if (!pci_device_realize(&s->pci, errp)) {
        return false;
    }
    memory_region_init_io(&s->addr_io, "pci-conf-addr", 4, &addr_ops, s);
    memory_region_map(&s->addr_io, &address_space_io, PCI_CONFIG_ADDR_PORT,
                      0);
    memory_region_init_io(&s->data_io, "pci-conf-data", 4, &data_ops, s);
    memory_region_map(&s->data_io, &address_space_io, PCI_CONFIG_DATA_PORT,
                      0);
    memory_region_init_io(&s->ecam, "pcie-ecam", PVH_ECAM_SIZE, &ecam_ops, s);
    memory_region_map(&s->ecam, &address_space_memory, PVH_ECAM_BASE, 0);
    return true;
}

static void pcihost_unrealize(DeviceState *dev)
{
    PCIHostState *s = (PCIHostState *)dev;

    memory_region_destroy(&s->addr_io);
    memory_region_destroy(&s->data_io);
    memory_region_destroy(&s->ecam);
    pci_device_unrealize(&s->pci);
}

static void pcihost_reset(DeviceState *dev)
{
    PCIHostState *s = (PCIHostState *)dev;

    s->config_addr = 0;
    pci_device_reset(&s->pci);
}

static const PCIDeviceClass pcihost_class = {
    .parent = {
        .name = "pvh-pcihost",
        .desc = "PCIe host bridge",
        .parent = &pci_device_class,
        .instance_size = sizeof(PCIHostState),
        .realize = pcihost_realize,
        .unrealize = pcihost_unrealize,
        .reset = pcihost_reset,
    },
    /* Red Hat's ID for a generic PCIe host bridge of a virtual machine. */
    .vendor_id = 0x1b36,
    .device_id = 0x0008,
    .class_id = 0x060000,
};
DEVICE_CLASS_REGISTER(pcihost_class)

bool pvh_pcihost_create(GError **errp)
{
    DeviceState *dev = qdev_new(pcihost_class.parent.name);

    if (!qdev_prop_set(dev, "addr", "0", errp) || !qdev_realize(dev, errp)) {
        qdev_destroy(dev);
        return false;
    }
    return true;
}
