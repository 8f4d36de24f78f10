/*
 * MSI-X: the capability, the vector table and pending bit array (in a BAR
 * of their own), and delivery.
 *
 * Interrupt sources on the hot path are MSIXNotifiers: an eventfd the
 * device writes (from any thread) and a route that makes the accelerator
 * inject the vector's message for every write (KVM's irqfd).  The route is
 * kept in step with the table: while the vector or the function is masked,
 * or MSI-X is off, writes accumulate in the eventfd and show as pending.
 */
#ifndef HW_PCI_MSIX_H
#define HW_PCI_MSIX_H

#include "hw/pci/pci.h"

#define MSIX_NO_VECTOR          0xffff
#define MSIX_TABLE_OFFSET       0
#define MSIX_PBA_OFFSET         0x800
#define MSIX_BAR_SIZE           0x1000
#define MSIX_MAX_ENTRIES        128

typedef struct MSIXNotifier MSIXNotifier;

/* Add the capability and a BAR of MSIX_BAR_SIZE holding table and PBA. */
bool msix_init(PCIDevice *dev, unsigned nentries, int bar, GError **errp);
void msix_uninit(PCIDevice *dev);
void msix_reset(PCIDevice *dev);
/* Hooks for the PCI bus (BQL held). */
void msix_config_write(PCIDevice *dev, uint32_t addr, unsigned len);

/* Any thread. */
bool msix_enabled(PCIDevice *dev);
/* Send vector's message now, or mark it pending if masked (BQL held). */
void msix_notify(PCIDevice *dev, unsigned vector);

/* Notifiers are made, routed and freed with the BQL held. */
MSIXNotifier *msix_notifier_new(PCIDevice *dev);
/* An existing eventfd (owned by the caller) as the source. */
MSIXNotifier *msix_notifier_new_with_fd(PCIDevice *dev, int fd);
void msix_notifier_free(MSIXNotifier *n);
/* MSIX_NO_VECTOR detaches it (writes then go nowhere). */
void msix_notifier_set_vector(MSIXNotifier *n, unsigned vector);
int msix_notifier_fd(MSIXNotifier *n);
/* Signal the eventfd: safe from any thread, one syscall. */
void msix_notifier_signal(MSIXNotifier *n);

#endif
