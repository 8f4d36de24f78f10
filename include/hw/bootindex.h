/*
 * bootindex=: the boot order management tools give devices (libvirt gives
 * its first disk bootindex=1).  The pvh machine boots -kernel and has no
 * firmware to read the order, so it is only kept, one device per index,
 * refused as QEMU refuses a second device with an index already taken.
 * Called with the BQL held, from realize and unrealize.
 */
#ifndef HW_BOOTINDEX_H
#define HW_BOOTINDEX_H

#include <glib.h>
#include <stdint.h>

#include "hw/qdev.h"

/* Give dev boot position index; a negative index (the default) is none. */
bool bootindex_add(int32_t index, DeviceState *dev, GError **errp);
/* Free dev's position, if it has one. */
void bootindex_del(DeviceState *dev);

#endif
