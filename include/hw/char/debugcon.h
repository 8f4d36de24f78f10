/*
 * The debug console on port 0xe9 (-debugcon).
 */
#ifndef HW_CHAR_DEBUGCON_H
#define HW_CHAR_DEBUGCON_H

#include "hw/qdev.h"

typedef struct Chardev Chardev;

DeviceState *debugcon_create(Chardev *chr, GError **errp);

#endif
