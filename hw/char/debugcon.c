/*
 * Bochs/QEMU debug console: a byte written to port 0xe9 goes to the
 * back-end; a read returns 0xe9 so that guests can detect the port.
 */
#include "chardev/char.h"
#include "exec/memory.h"
#include "hw/char/debugcon.h"
#include "hw/qdev-properties-system.h"

typedef struct DebugconState {
    DeviceState qdev;
    uint32_t iobase;
    Chardev *chr;
    MemoryRegion io;
} DebugconState;

static uint64_t debugcon_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0xe9;
}

static void debugcon_write(void *opaque, uint64_t addr, uint64_t val,
                           unsigned size)
{
    DebugconState *s = opaque;
    uint8_t byte = val;

    qemu_chr_write(s->chr, &byte, 1);
}

static const MemoryRegionOps debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
};

static bool debugcon_realize(DeviceState *dev, GError **errp)
{
    DebugconState *s = (DebugconState *)dev;

    memory_region_init_io(&s->io, "debugcon", 1, &debugcon_ops, s);
    memory_region_map(&s->io, &address_space_io, s->iobase, 0);
    return true;
}

static void debugcon_unrealize(DeviceState *dev)
{
    DebugconState *s = (DebugconState *)dev;

    memory_region_destroy(&s->io);
    /* The chardev property gives the back-end back when the device goes. */
}

static const Property debugcon_props[] = {
    DEFINE_PROP_CHR("chardev", DebugconState, chr),
    DEFINE_PROP_UINT32("iobase", DebugconState, iobase, 0xe9),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass debugcon_class = {
    .name = "isa-debugcon",
    .desc = "Bochs/QEMU debug console on port 0xe9",
    .instance_size = sizeof(DebugconState),
    .props = debugcon_props,
    .realize = debugcon_realize,
    .unrealize = debugcon_unrealize,
};
DEVICE_CLASS_REGISTER(debugcon_class)

DeviceState *debugcon_create(Chardev *chr, GError **errp)
{
    DeviceState *dev = qdev_new("isa-debugcon");

    if (!qdev_prop_set(dev, "chardev", qemu_chr_label(chr), errp) ||
        !qdev_realize(dev, errp)) {
        qdev_destroy(dev);
        return NULL;
    }
    return dev;
}
