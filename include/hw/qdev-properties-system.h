/*
 * Properties that name other parts of the system.
 */
#ifndef HW_QDEV_PROPERTIES_SYSTEM_H
#define HW_QDEV_PROPERTIES_SYSTEM_H

#include "hw/qdev.h"

/* A BlockBackend * field, attached to the device; detach on unrealize. */
extern const PropertyInfo prop_info_drive;
/* An IOThread * field. */
extern const PropertyInfo prop_info_iothread;
/* A Chardev * field, claimed by the device; released when it is freed. */
extern const PropertyInfo prop_info_chardev;

#define DEFINE_PROP_DRIVE(n, s, f) DEFINE_PROP(n, s, f, prop_info_drive)
#define DEFINE_PROP_IOTHREAD(n, s, f) DEFINE_PROP(n, s, f, prop_info_iothread)
#define DEFINE_PROP_CHR(n, s, f) DEFINE_PROP(n, s, f, prop_info_chardev)

#endif
