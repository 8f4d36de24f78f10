/*
 * The 16550A UART on the ISA ports of COM1..COM4 (COM1 at 0x3f8, IRQ 4).
 */
#ifndef HW_CHAR_SERIAL_H
#define HW_CHAR_SERIAL_H

#include "hw/qdev.h"

typedef struct Chardev Chardev;

/*
 * Create and realize COM(index + 1), whose back-end is chr (a registered
 * chardev, which the UART claims).  Called with the BQL held.
 */
DeviceState *serial_isa_create(int index, Chardev *chr, GError **errp);

#endif
