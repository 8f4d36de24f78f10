/*
 * isa-debug-exit (QEMU's test device).
 */
#ifndef HW_MISC_DEBUGEXIT_H
#define HW_MISC_DEBUGEXIT_H

#include "hw/qdev.h"

extern const DeviceClass debug_exit_class;

#endif
