/*
 * The boot order given with bootindex= (include/hw/bootindex.h).
 */
#include "hw/bootindex.h"
#include "qemu/error-report.h"

/* index -> DeviceState *, of the devices that have one. */
static GHashTable *boot_order;

bool bootindex_add(int32_t index, DeviceState *dev, GError **errp)
{
    if (index < 0) {
        return true;
    }
    if (!boot_order) {
        boot_order = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    if (g_hash_table_contains(boot_order, GINT_TO_POINTER(index))) {
        error_setg(errp, "The bootindex %d has already been used", index);
        return false;
    }
    g_hash_table_insert(boot_order, GINT_TO_POINTER(index), dev);
    return true;
}

static gboolean is_dev(gpointer key, gpointer value, gpointer dev)
{
    return value == dev;
}

void bootindex_del(DeviceState *dev)
{
    if (boot_order) {
        g_hash_table_foreach_remove(boot_order, is_dev, dev);
        if (!g_hash_table_size(boot_order)) {
            g_clear_pointer(&boot_order, g_hash_table_unref);
        }
    }
}
