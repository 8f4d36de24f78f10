/*
 * Accelerators: what runs the guest.  "kvm" runs vCPUs under KVM; "qtest"
 * runs no vCPU and lets a test drive the devices through the qtest protocol.
 */
#ifndef SYSEMU_ACCEL_H
#define SYSEMU_ACCEL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct MachineState MachineState;
typedef struct MSIRoute MSIRoute;

typedef struct AccelOps {
    const char *name;
    /* Create the VM, before RAM and devices are set up. */
    bool (*init)(MachineState *ms, GError **errp);
    /* Start the vCPUs, once the machine is built. */
    bool (*start)(MachineState *ms, GError **errp);
    /* Park every vCPU outside the guest (BQL held), and let them run again. */
    void (*pause)(void);
    void (*resume)(void);
    /*
     * The host thread that runs vCPU index (0 if it has not started), for
     * query-cpus-fast.  BQL held.
     */
    int (*vcpu_thread_id)(unsigned index);
    /* Put vCPUs in their power-on state (paused, BQL held). */
    void (*reset)(MachineState *ms);
    /* Stop vCPUs and release everything init made. */
    void (*cleanup)(void);

    void (*set_irq)(unsigned gsi, bool level);
    void (*send_msi)(uint64_t addr, uint32_t data);

    /*
     * A route from an eventfd to an MSI message: once enabled, every write
     * to the eventfd delivers the message without the VMM (KVM's irqfd).
     */
    MSIRoute *(*msi_route_new)(int eventfd);
    void (*msi_route_update)(MSIRoute *r, uint64_t addr, uint32_t data,
                             bool enabled);
    void (*msi_route_free)(MSIRoute *r);
} AccelOps;

extern const AccelOps *current_accel;

void accel_register(const AccelOps *ops);
#define ACCEL_REGISTER(ops) \
    static void __attribute__((constructor)) register_##ops(void) \
    { accel_register(&(ops)); }
const AccelOps *accel_find(const char *name);

#endif
