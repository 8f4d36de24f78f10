/*
 * The machine's power and reset ports, where Q35 guests expect them:
 * ACPI PM1a status and enable at 0x600 and 0x602 (the power button:
 * PWRBTN_STS, set by a power-down request, raising the SCI when enabled),
 * PM1a control at 0x604 (SLP_EN with sleep type 0 or 5 powers off) and the
 * reset control register at 0xcf9 (RST_CPU resets).
 */
#include "exec/memory.h"
#include "hw/qdev.h"
#include "sysemu/accel.h"
#include "sysemu/runstate.h"
#include "sysemu/vm-state.h"

#define PM1A_EVT_PORT   0x600
#define PM1_PWRBTN      (1u << 8)       /* in PM1_STS and PM1_EN */
#define ACPI_SCI_GSI    9
#define PM1A_CNT_PORT   0x604
#define PM1_CNT_SLP_EN  (1u << 13)
#define PM1_CNT_SLP_TYP(v) (((v) >> 10) & 7)
#define RST_CNT_PORT    0xcf9
#define RST_CNT_RST_CPU 0x04

typedef struct PMPortsState {
    DeviceState qdev;
    MemoryRegion pm1_evt;
    MemoryRegion pm1_cnt;
    MemoryRegion rst_cnt;
    uint16_t pm1_sts;
    uint16_t pm1_en;
    uint16_t pm1_cnt_val;
    uint8_t rst_cnt_val;
} PMPortsState;

static void pm1_update_sci(PMPortsState *s)
{
    current_accel->set_irq(ACPI_SCI_GSI, s->pm1_sts & s->pm1_en);
}

/* The power button is pressed (main thread, BQL held). */
static void pm_ports_powerdown(void *opaque)
{
    PMPortsState *s = opaque;

    s->pm1_sts |= PM1_PWRBTN;
    pm1_update_sci(s);
}

/* PM1_STS (offset 0, write 1 to clear) and PM1_EN (offset 2). */
static uint64_t pm1_evt_read(void *opaque, uint64_t addr, unsigned size)
{
    PMPortsState *s = opaque;
    uint32_t regs = s->pm1_sts | (uint32_t)s->pm1_en << 16;

    return regs >> (addr * 8);
}

static void pm1_evt_write(void *opaque, uint64_t addr, uint64_t val,
                          unsigned size)
{
    PMPortsState *s = opaque;
    uint32_t mask = (size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1)
                    << (addr * 8);
    uint32_t v = (uint32_t)val << (addr * 8);

    s->pm1_sts &= ~(v & mask & 0xffff);
    if (mask & 0xffff0000u) {
        s->pm1_en = ((s->pm1_en & ~(mask >> 16)) | (v >> 16)) & PM1_PWRBTN;
    }
    pm1_update_sci(s);
}

static const MemoryRegionOps pm1_evt_ops = {
    .read = pm1_evt_read,
    .write = pm1_evt_write,
};

static uint64_t pm1_cnt_read(void *opaque, uint64_t addr, unsigned size)
{
    PMPortsState *s = opaque;

    return s->pm1_cnt_val >> (addr * 8);
}

static void pm1_cnt_write(void *opaque, uint64_t addr, uint64_t val,
                          unsigned size)
{
    PMPortsState *s = opaque;
    unsigned typ;

    if (addr != 0 || size < 2) {
        return;
    }
    s->pm1_cnt_val = val & ~PM1_CNT_SLP_EN;
    typ = PM1_CNT_SLP_TYP(val);
    if ((val & PM1_CNT_SLP_EN) && (typ == 0 || typ == 5)) {
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, 0);
    }
}

static const MemoryRegionOps pm1_cnt_ops = {
    .read = pm1_cnt_read,
    .write = pm1_cnt_write,
};

static uint64_t rst_cnt_read(void *opaque, uint64_t addr, unsigned size)
{
    return ((PMPortsState *)opaque)->rst_cnt_val;
}

static void rst_cnt_write(void *opaque, uint64_t addr, uint64_t val,
                          unsigned size)
{
    PMPortsState *s = opaque;

    s->rst_cnt_val = val & 0x0a;
    if (val & RST_CNT_RST_CPU) {
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static const MemoryRegionOps rst_cnt_ops = {
    .read = rst_cnt_read,
    .write = rst_cnt_write,
};

static bool pm_ports_realize(DeviceState *dev, GError **errp)
{
    PMPortsState *s = (PMPortsState *)dev;

    memory_region_init_io(&s->pm1_evt, "pm1a-evt", 4, &pm1_evt_ops, s);
    memory_region_map(&s->pm1_evt, &address_space_io, PM1A_EVT_PORT, 0);
    memory_region_init_io(&s->pm1_cnt, "pm1a-cnt", 2, &pm1_cnt_ops, s);
    memory_region_map(&s->pm1_cnt, &address_space_io, PM1A_CNT_PORT, 0);
    memory_region_init_io(&s->rst_cnt, "rst-cnt", 1, &rst_cnt_ops, s);
    memory_region_map(&s->rst_cnt, &address_space_io, RST_CNT_PORT, 0);
    vm_set_powerdown_handler(pm_ports_powerdown, s);
    return true;
}

static void pm_ports_unrealize(DeviceState *dev)
{
    PMPortsState *s = (PMPortsState *)dev;

    vm_set_powerdown_handler(NULL, NULL);
    memory_region_destroy(&s->pm1_evt);
    memory_region_destroy(&s->pm1_cnt);
    memory_region_destroy(&s->rst_cnt);
}

static void pm_ports_reset(DeviceState *dev)
{
    PMPortsState *s = (PMPortsState *)dev;

    s->pm1_sts = 0;
    s->pm1_en = 0;
    pm1_update_sci(s);
    s->pm1_cnt_val = 0;
    s->rst_cnt_val = 0;
}

static const DeviceClass pm_ports_class = {
    .name = "pm-ports",
    .desc = "ACPI PM1a event and control registers, reset control",
    .instance_size = sizeof(PMPortsState),
    .realize = pm_ports_realize,
    .unrealize = pm_ports_unrealize,
    .reset = pm_ports_reset,
};
DEVICE_CLASS_REGISTER(pm_ports_class)
