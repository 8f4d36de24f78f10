/*
 * The 16550A UART on the ISA ports (COM1 at 0x3f8, IRQ 4).
 */
#ifndef HW_CHAR_SERIAL_H
#define HW_CHAR_SERIAL_H

#include "hw/qdev.h"

typedef struct Chardev Chardev;

/* Create and realize a UART at iobase/irq whose back-end is chr. */
DeviceState *serial_isa_create(uint32_t iobase, uint32_t irq, Chardev *chr,
                               GError **errp);

#endif
