/*
 * isa-debug-exit: a write to its port ends the VMM with exit status
 * (value << 1) | 1, so a guest can report a result to a test harness.
 */
#include "exec/memory.h"
#include "hw/misc/debugexit.h"
#include "qemu/error-report.h"
#include "sysemu/runstate.h"

typedef struct DebugExitState {
    DeviceState qdev;
    uint32_t iobase;
    uint32_t iosize;
    MemoryRegion io;
} DebugExitState;

static void debug_exit_write(void *opaque, uint64_t addr, uint64_t val,
                             unsigned size)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_DEBUG_EXIT,
                                 (int)((val << 1) | 1));
}

static const MemoryRegionOps debug_exit_ops = {
    .write = debug_exit_write,
};

static bool debug_exit_realize(DeviceState *dev, GError **errp)
{
    DebugExitState *s = (DebugExitState *)dev;

    if (s->iosize != 1 && s->iosize != 2 && s->iosize != 4) {
        error_setg(errp, "iosize must be 1, 2 or 4");
        return false;
    }
    memory_region_init_io(&s->io, "isa-debug-exit", s->iosize,
                          &debug_exit_ops, s);
    memory_region_map(&s->io, &address_space_io, s->iobase, 0);
    return true;
}

static void debug_exit_unrealize(DeviceState *dev)
{
    memory_region_destroy(&((DebugExitState *)dev)->io);
}

static const Property debug_exit_props[] = {
    DEFINE_PROP("iobase", DebugExitState, iobase, prop_info_uint32,
                .defval = 0x501, .max = 0xffff),
    DEFINE_PROP_UINT32("iosize", DebugExitState, iosize, 2),
    DEFINE_PROP_END_OF_LIST(),
};

const DeviceClass debug_exit_class = {
    .name = "isa-debug-exit",
    .desc = "exits the VMM with (value << 1) | 1 written to its port",
    .instance_size = sizeof(DebugExitState),
    .props = debug_exit_props,
    .user_creatable = true,
    .realize = debug_exit_realize,
    .unrealize = debug_exit_unrealize,
};
DEVICE_CLASS_REGISTER(debug_exit_class)
