/*
 * Properties that name other parts of the system: drive=, iothread= and
 * uring-sqpoll=.
 */
#include "block/block-backend.h"
#include "hw/block/uring-sqpoll.h"
#include "hw/qdev-properties-system.h"
#include "qemu/error-report.h"
#include "sysemu/iothread.h"

static bool set_drive(DeviceState *dev, const Property *prop, const char *str,
                      GError **errp)
{
    BlockBackend **p = (BlockBackend **)((char *)dev + prop->offset);
    BlockBackend *blk = blk_by_name(str);

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

static bool set_uring_sqpoll(DeviceState *dev, const Property *prop,
                             const char *str, GError **errp)
{
    UringSqpoll **p = (UringSqpoll **)((char *)dev + prop->offset);

    *p = uring_sqpoll_by_id(str);
    if (!*p) {
        error_setg(errp, "uring-sqpoll '%s' not found", str);
        return false;
    }
    return true;
}

const PropertyInfo prop_info_uring_sqpoll = {
    .type = "link<uring-sqpoll>", .set = set_uring_sqpoll,
};
