/*
 * MSI-X from the test's side (PCI Local Bus Specification 3.0, 6.8.2):
 * enable it, program a vector's message and mask, read the pending bits.
 *
 * Under -accel qtest an MSI is a 4-byte memory write of the message data at
 * the message address, so a test points vectors at guest RAM and watches
 * for the data to appear there (qpci_msix_wait).
 */
#ifndef LIBQOS_MSIX_H
#define LIBQOS_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

#define  PCI_MSIX_BIR           0x7

typedef struct QPCIMSIX {
    QPCIDevice *dev;
    uint8_t cap;
    unsigned nr_vectors;
    const QPCIBar *table_bar, *pba_bar;
    uint64_t table_off, pba_off;
} QPCIMSIX;

/* Find the capability and map the table's and the PBA's BARs. */
void qpci_msix_init(QPCIMSIX *msix, QPCIDevice *dev);
void qpci_msix_enable(QPCIMSIX *msix);
void qpci_msix_disable(QPCIMSIX *msix);
bool qpci_msix_enabled(QPCIMSIX *msix);

/* Program a vector's message and unmask it. */
void qpci_msix_set_vector(QPCIMSIX *msix, unsigned vector, uint64_t addr,
                          uint32_t data);
void qpci_msix_mask(QPCIMSIX *msix, unsigned vector, bool masked);
/* The vector's pending bit, set while a message waits on its mask. */
bool qpci_msix_pending(QPCIMSIX *msix, unsigned vector);

/*
 * Wait up to timeout_us for the message data (not 0) to appear at addr, in
 * guest RAM, then clear it for the next one.  False on timeout.
 */
bool qpci_msix_wait(QTestState *qts, uint64_t addr, uint32_t data,
                    uint64_t timeout_us);

#endif
