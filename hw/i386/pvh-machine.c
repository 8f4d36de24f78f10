/*
 * The "pvh" machine: a firmware-less x86 PC that boots an ELF kernel through
 * its PVH entry, with RAM below 2 GiB (and above 4 GiB), the in-kernel
 * interrupt controllers, COM1, the power and reset ports, isa-debug-exit
 * and a PCI host bridge.  See docs/devel/guest-abi.rst for the layout.
 */
#include "exec/guest-ram.h"
#include "hw/boards.h"
#include "hw/char/debugcon.h"
#include "hw/char/serial.h"
#include "hw/i386/pvh.h"
#include "hw/misc/debugexit.h"
#include "hw/pci-host/pvh-pcihost.h"
#include "hw/pci/pci.h"
#include "qemu/error-report.h"
#include "sysemu/accel.h"

MachineState *current_machine;

static bool create_onboard_devices(MachineState *ms, GError **errp)
{
    DeviceState *dev;

    dev = qdev_new("pm-ports");
    if (!qdev_realize(dev, errp)) {
        qdev_destroy(dev);
        return false;
    }
    if (!pvh_pcihost_create(errp)) {
        return false;
    }
    for (unsigned i = 0; i < ms->nr_serials; i++) {
        if (!serial_isa_create(i, ms->serials[i], errp)) {
            return false;
        }
    }
    if (ms->debugcon && !debugcon_create(ms->debugcon, errp)) {
        return false;
    }
    /* So that guests can always report a status; -nodefaults removes it. */
    if (ms->default_devices && !ms->user_debug_exit) {
        dev = qdev_new("isa-debug-exit");
        if (!qdev_prop_set(dev, "iobase", "0xf4", errp) ||
            !qdev_prop_set(dev, "iosize", "4", errp) ||
            !qdev_realize(dev, errp)) {
            qdev_destroy(dev);
            return false;
        }
    }
    return true;
}

bool pvh_machine_init(MachineState *ms, GError **errp)
{
    if (!guest_ram_init(ms->ram_size, ms->ram_backing, errp)) {
        return false;
    }
    for (unsigned i = 0; i < guest_ram_nr_ranges(); i++) {
        const GuestRAMRange *r = guest_ram_range(i);
        memory_region_init_ram_ptr(&ms->ram[i], i ? "ram-above-4g" : "ram",
                                   r->size, guest_ram_host_addr(r->gpa));
        memory_region_map(&ms->ram[i], &address_space_memory, r->gpa, 0);
    }
    if (ms->kernel_filename && !pvh_kernel_open(ms, errp)) {
        return false;
    }
    return create_onboard_devices(ms, errp);
}

void pvh_machine_reset(MachineState *ms)
{
    /* The first reset also does the firmware's job of placing BARs. */
    pci_bus_assign_bars();
    qdev_reset_all();
    if (ms->kernel_filename) {
        pvh_kernel_load(ms);
    }
    if (current_accel->reset) {
        current_accel->reset(ms);
    }
}

void pvh_machine_cleanup(MachineState *ms)
{
    qdev_destroy_all();
    for (unsigned i = 0; i < G_N_ELEMENTS(ms->ram); i++) {
        memory_region_destroy(&ms->ram[i]);
    }
    pvh_kernel_close();
    guest_ram_cleanup();
}
