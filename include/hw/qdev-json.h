/*
 * Devices and their properties as JSON values, for QMP (qom-get,
 * device-list-properties).  Main thread, BQL held.
 */
#ifndef HW_QDEV_JSON_H
#define HW_QDEV_JSON_H

#include <json-glib/json-glib.h>

#include "hw/qdev.h"

/* The property's current value (a new node), or NULL if it has none. */
JsonNode *qdev_prop_get_json(DeviceState *dev, const Property *prop);
/* Its default value (a new node), or NULL if it has none. */
JsonNode *qdev_prop_default_json(const Property *prop);

#endif
