/*
 * virtio-blk-pci: virtio-blk on the virtio PCI transport.
 */
#include <linux/virtio_ids.h>

#include "hw/block/virtio-blk-uring.h"
#include "hw/bootindex.h"
#include "hw/qdev-properties-system.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/virtio/virtio-pci.h"

typedef struct VirtIOBlkPCI {
    VirtIOPCIProxy proxy;
    VirtIOBlock blk;
} VirtIOBlkPCI;

/*
 * The permissions on the image that the guest's disk needs, as QEMU's
 * virtio-blk takes them (docs/system/image-locking.rst): it reads, and
 * writes unless the drive is read-only; others may read, write what is
 * there and resize, and change the contents only with share-rw=on.
 * Called with the BQL held, as realize.
 */
static bool virtio_blk_pci_take_perm(VirtIOBlkPCI *d, GError **errp)
{
    BlockBackend *blk = d->blk.conf.blk;
    uint64_t perm = BLK_PERM_CONSISTENT_READ;
    uint64_t shared = BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED |
                      BLK_PERM_RESIZE;

    if (!blk_is_read_only(blk)) {
        perm |= BLK_PERM_WRITE;
    }
    if (d->blk.conf.share_rw) {
        shared |= BLK_PERM_WRITE;
    }
    return blk_set_perm(blk, perm, shared, errp);
}

/*
 * Back to a drive no device uses; giving permissions up cannot fail.
 * Called with the BQL held.
 */
static void virtio_blk_pci_drop_perm(VirtIOBlkPCI *d)
{
    bool ok = blk_set_perm(d->blk.conf.blk, BLK_PERM_CONSISTENT_READ,
                           BLK_PERM_ALL, NULL);

    g_assert(ok);
}

/* Called with the BQL held. */
static bool virtio_blk_pci_realize(DeviceState *dev, GError **errp)
{
    VirtIOBlkPCI *d = (VirtIOBlkPCI *)dev;

    if (!bootindex_add(d->blk.conf.bootindex, dev, errp)) {
        return false;
    }
    /* After the device has checked its properties, the drive's among them. */
    if (!virtio_blk_device_realize(&d->blk, errp)) {
        bootindex_del(dev);
        return false;
    }
    if (!virtio_blk_pci_take_perm(d, errp)) {
        virtio_blk_device_unrealize(&d->blk);
        virtio_blk_device_free(&d->blk);
        bootindex_del(dev);
        return false;
    }
    if (!virtio_pci_realize(&d->proxy, &d->blk.vdev, errp)) {
        virtio_blk_device_unrealize(&d->blk);
        virtio_blk_device_free(&d->blk);
        virtio_blk_pci_drop_perm(d);
        bootindex_del(dev);
        return false;
    }
    virtio_blk_set_host_notifiers(&d->blk, d->proxy.host_notifiers);
    return true;
}

/* Called with the BQL held. */
static void virtio_blk_pci_unrealize(DeviceState *dev)
{
    VirtIOBlkPCI *d = (VirtIOBlkPCI *)dev;

    virtio_blk_device_unrealize(&d->blk);
    virtio_pci_unrealize(&d->proxy);
    virtio_blk_device_free(&d->blk);
    virtio_blk_pci_drop_perm(d);
    bootindex_del(dev);
}

static void virtio_blk_pci_reset(DeviceState *dev)
{
    VirtIOBlkPCI *d = (VirtIOBlkPCI *)dev;

    virtio_reset(&d->blk.vdev);
    virtio_pci_reset(&d->proxy);
    pci_device_reset(&d->proxy.pci);
}

#define BLK_PROP(name, field, info, ...) \
    DEFINE_PROP(name, VirtIOBlkPCI, blk.conf.field, info, __VA_ARGS__)

static const Property virtio_blk_pci_props[] = {
    BLK_PROP("drive", blk, prop_info_drive),
    BLK_PROP("iothread", iothread, prop_info_iothread),
    BLK_PROP("serial", serial, prop_info_string),
    BLK_PROP("num-queues", num_queues, prop_info_uint16, .defval = 1,
             .desc = "number of request queues"),
    BLK_PROP("queue-size", queue_size, prop_info_uint16, .defval = 256),
    BLK_PROP("logical_block_size", logical_block_size, prop_info_size32,
             .defval = 512),
    BLK_PROP("physical_block_size", physical_block_size, prop_info_size32,
             .defval = 0),
    BLK_PROP("min_io_size", min_io_size, prop_info_size32, .defval = 0),
    BLK_PROP("opt_io_size", opt_io_size, prop_info_size32, .defval = 0),
    BLK_PROP("discard", discard, prop_info_bool, .defval = true),
    BLK_PROP("write-zeroes", write_zeroes, prop_info_bool, .defval = true),
    BLK_PROP("config-wce", config_wce, prop_info_bool, .defval = true),
    BLK_PROP("write-cache", write_cache, prop_info_on_off_auto,
             .defval = ON_OFF_AUTO_AUTO,
             .desc = "the write cache the guest sees (auto: the drive's)"),
    DEFINE_PROP("bootindex", VirtIOBlkPCI, blk.conf.bootindex,
                prop_info_int32, .defval = (uint64_t)-1,
                .desc = "boot order (kept; no firmware reads it)"),
    BLK_PROP("share-rw", share_rw, prop_info_bool, .defval = false,
             .desc = "let other processes write the image too"),
    BLK_PROP("max-discard-sectors", max_discard_sectors, prop_info_uint32,
             .defval = 4194303),
    BLK_PROP("max-write-zeroes-sectors", max_write_zeroes_sectors,
             prop_info_uint32, .defval = 4194303),
    BLK_PROP("uring-passthrough", uring_passthrough, prop_info_bool,
             .defval = false,
             .desc = "share the host's io_uring with the guest"),
    BLK_PROP("uring-iopoll", uring_iopoll, prop_info_on_off_auto,
             .defval = ON_OFF_AUTO_AUTO,
             .desc = "polled I/O (auto: if the drive supports it)"),
    DEFINE_PROP("uring-sq-cpu", VirtIOBlkPCI, blk.conf.uring_sq_cpu,
                prop_info_int32,
                .defval = (uint64_t)VIRTIO_BLK_URING_SQ_CPU_ANY,
                .desc = "host CPU of the SQPOLL thread (-1: any)"),
    BLK_PROP("uring-sq-idle", uring_sq_idle_ms, prop_info_uint32,
             .defval = VIRTIO_BLK_URING_SQ_IDLE_MS_DEFAULT,
             .desc = "SQPOLL idle time before sleeping, ms"),
    BLK_PROP("uring-entries", uring_entries, prop_info_uint32,
             .defval = VIRTIO_BLK_URING_ENTRIES_DEFAULT,
             .desc = "submission queue entries (rounded up to a power of 2)"),
    BLK_PROP("uring-owner-memory", uring_owner_memory, prop_info_size,
             .defval = VIRTIO_BLK_URING_OWNER_MEMORY_DEFAULT,
             .desc = "memory cgroup limit of the ring's owner (0: none)"),
    BLK_PROP("x-uring-overflow-check", uring_overflow_check, prop_info_bool,
             .defval = true,
             .desc = "withdraw the rings when the CQ overflows (testing)"),
    BLK_PROP("x-uring-stall-warn", uring_stall_warn_ms, prop_info_uint32,
             .defval = VIRTIO_BLK_URING_STALL_WARN_MS_DEFAULT,
             .desc = "warn when the ring has made no progress this long, "
                     "ms"),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass virtio_blk_pci_class = {
    .parent = {
        .name = "virtio-blk-pci",
        .desc = "Virtio block device",
        .parent = &virtio_pci_class,
        .instance_size = sizeof(VirtIOBlkPCI),
        .props = virtio_blk_pci_props,
        .user_creatable = true,
        .realize = virtio_blk_pci_realize,
        .unrealize = virtio_blk_pci_unrealize,
        .reset = virtio_blk_pci_reset,
    },
    .vendor_id = VIRTIO_PCI_VENDOR_ID,
    .device_id = VIRTIO_PCI_DEVICE_ID_BASE + VIRTIO_ID_BLOCK,
    .revision = 1,
    .class_id = 0x018000,
    .subsystem_vendor_id = VIRTIO_PCI_VENDOR_ID,
    .subsystem_id = 0x1100,
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
};
DEVICE_CLASS_REGISTER(virtio_blk_pci_class)

VirtIOBlock *virtio_blk_pci_get_block(DeviceState *dev)
{
    if (!device_class_is_a(dev->klass, &virtio_blk_pci_class.parent)) {
        return NULL;
    }
    return &((VirtIOBlkPCI *)dev)->blk;
}
