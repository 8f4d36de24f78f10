/*
 * Properties that name other parts of the system: drive=, iothread= and
 * chardev=.
 */
#include "block/block-backend.h"
#include "block/blockdev.h"
#include "chardev/char.h"
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

/* Claims the chardev for the device; a device holds one at most. */
static bool set_chardev(DeviceState *dev, const Property *prop,
                        const char *str, GError **errp)
{
    Chardev **p = (Chardev **)((char *)dev + prop->offset);
    Chardev *chr = qemu_chr_find(str);
    GError *err = NULL;

    if (!chr) {
        error_setg(errp, "Property '%s.%s' can't find value '%s'",
                   dev->klass->name, prop->name, str);
        return false;
    }
    if (*p == chr) {
        return true;
    }
    if (!qemu_chr_claim(chr, &err)) {
        error_setg(errp, "Property '%s.%s' can't take value '%s': %s",
                   dev->klass->name, prop->name, str, err->message);
        g_error_free(err);
        return false;
    }
    qemu_chr_release(*p);
    *p = chr;
    return true;
}

static void release_chardev(DeviceState *dev, const Property *prop)
{
    qemu_chr_release(*(Chardev **)((char *)dev + prop->offset));
}

const PropertyInfo prop_info_chardev = {
    .type = "str", .set = set_chardev, .release = release_chardev,
};
