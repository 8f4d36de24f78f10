/*
 * The pvh machine's PCI host bridge.
 */
#ifndef HW_PCI_HOST_PVH_PCIHOST_H
#define HW_PCI_HOST_PVH_PCIHOST_H

#include <glib.h>

#define PVH_ECAM_BASE   0xb0000000ULL
#define PVH_ECAM_SIZE   0x10000000ULL

bool pvh_pcihost_create(GError **errp);

#endif
