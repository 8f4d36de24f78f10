/*
 * Properties that name other parts of the system: drive= and iothread=.
 */
#include "block/block-backend.h"
#include "block/blockdev.h"
#include "hw/qdev-properties-system.h"
#include "qemu/error-report.h"
#include "sysemu/iothread.h"

static bool set_drive(DeviceState *dev, const Property *prop, const char *str,
                      GError **errp)
{
    BlockBackend **p = (BlockBackend **)((char *)dev + prop->offset);
    /* A -drive's id, or a -blockdev's node name, as in QEMU. */
    BlockBackend *blk = blk_by_name(str) ?: blockdev_backend(str);

    if (!blk) {
        error_setg(errp, "Drive '%s' not found", str);
        return false;
    }
    if (*p == blk) {
        return true;
    }
    if (!blk_attach_dev(blk, dev, errp)) {
        return false;
    }
    if (*p) {
        blk_detach_dev(*p);
    }
    *p = blk;
    return true;
}

static void release_drive(DeviceState *dev, const Property *prop)
{
    BlockBackend *blk = *(BlockBackend **)((char *)dev + prop->offset);

    if (blk) {
        blk_detach_dev(blk);
    }
}

const PropertyInfo prop_info_drive = {
    .type = "str", .set = set_drive, .release = release_drive,
};

static bool set_iothread(DeviceState *dev, const Property *prop,
                         const char *str, GError **errp)
{
    IOThread **p = (IOThread **)((char *)dev + prop->offset);

    *p = iothread_by_id(str);
    if (!*p) {
        error_setg(errp, "IOThread '%s' not found", str);
        return false;
    }
    return true;
}

const PropertyInfo prop_info_iothread = {
    .type = "link<iothread>", .set = set_iothread,
};
