/*
 * Virtio PCI modern transport (virtio 1.2, 4.1).
 *
 * Every structure is used through a memory BAR; the spec also allows I/O
 * BARs and the VIRTIO_PCI_CAP_PCI_CFG window, which this driver skips
 * ("the driver SHOULD use the first instance of each virtio structure type
 * they can support").
 */
#include "virtio_pci.h"

#include "guest_errno.h"
#include "libc.h"
#include "paging.h"
#include "timing.h"
#include "virtio.h"
#include "x86.h"

#define FOUR_GIB            0x100000000ull
#define RESET_TIMEOUT_US    1000000
#define NOTIFY_WIDTH        2           /* le16 queue number */

_Static_assert(__builtin_offsetof(struct virtio_pci_common_cfg, queue_select) == 22,
               "common configuration layout");
_Static_assert(__builtin_offsetof(struct virtio_pci_common_cfg, queue_desc_lo) == 32,
               "common configuration layout");
_Static_assert(__builtin_offsetof(struct virtio_pci_common_cfg, queue_reset) == 58,
               "common configuration layout");

struct find_request {
    uint16_t device_type;
    unsigned int index;         /* matches still to skip */
    struct pci_device *found;
};

/* Virtio device type of a PCI function, or 0 if it is not virtio. */
static uint16_t virtio_type(const struct pci_device *dev)
{
    if (dev->vendor_id != VIRTIO_PCI_VENDOR_ID) {
        return 0;
    }
    if (dev->device_id >= VIRTIO_PCI_MODERN_DEVICE_BASE &&
        dev->device_id <= VIRTIO_PCI_MODERN_LAST) {
        return dev->device_id - VIRTIO_PCI_MODERN_DEVICE_BASE;
    }
    if (dev->device_id >= VIRTIO_PCI_TRANSITIONAL_FIRST &&
        dev->device_id <= VIRTIO_PCI_TRANSITIONAL_LAST) {
        return dev->subsystem_id;       /* 4.1.2.3: the virtio device type */
    }
    return 0;
}

static bool match(const struct pci_device *dev, void *arg)
{
    struct find_request *req = arg;

    if (virtio_type(dev) != req->device_type) {
        return false;
    }
    if (req->index--) {
        return false;
    }
    *req->found = *dev;
    return true;
}

struct cap {
    uint8_t pos;                /* offset in configuration space */
    uint8_t cfg_type;
    uint8_t bar;
    uint8_t id;
    uint8_t len;
    uint64_t offset;
    uint64_t length;
};

static void read_cap(const struct pci_address *a, uint8_t pos, struct cap *cap)
{
    cap->pos = pos;
    cap->len = pci_read8(a, pos + 2);
    cap->cfg_type = pci_read8(a, pos + VIRTIO_PCI_CAP_CFG_TYPE);
    cap->bar = pci_read8(a, pos + VIRTIO_PCI_CAP_BAR);
    cap->id = pci_read8(a, pos + VIRTIO_PCI_CAP_ID);
    cap->offset = pci_read32(a, pos + VIRTIO_PCI_CAP_OFFSET);
    cap->length = pci_read32(a, pos + VIRTIO_PCI_CAP_LENGTH);
    if (cap->cfg_type == VIRTIO_PCI_CAP_SHARED_MEMORY_CFG &&
        cap->len >= VIRTIO_PCI_CAP_LENGTH_HI + 4) {
        cap->offset |= (uint64_t)pci_read32(a, pos + VIRTIO_PCI_CAP_OFFSET_HI) << 32;
        cap->length |= (uint64_t)pci_read32(a, pos + VIRTIO_PCI_CAP_LENGTH_HI) << 32;
    }
}

/*
 * Address of the structure @cap describes, or 0 if it is not in a memory
 * BAR that contains it.  BARs above 4 GiB get identity-mapped.
 */
static uint64_t cap_address(struct virtio_pci_device *vdev, const struct cap *cap,
                            uint8_t *mapped_bars)
{
    const struct pci_bar *bar;

    if (cap->bar >= PCI_NUM_BARS) {
        return 0;               /* reserved value: ignore the capability */
    }
    bar = &vdev->pci.bar[cap->bar];
    if (!bar->addr || bar->io || cap->offset > bar->size ||
        cap->length > bar->size - cap->offset) {
        return 0;
    }
    if (bar->addr + bar->size > FOUR_GIB && !(*mapped_bars & (1u << cap->bar))) {
        guest_map_identity(bar->addr, bar->size);
        *mapped_bars |= 1u << cap->bar;
    }
    return bar->addr + cap->offset;
}

static void use_cap(struct virtio_pci_device *vdev, const struct cap *cap,
                    uint8_t *mapped_bars)
{
    uint64_t addr = cap_address(vdev, cap, mapped_bars);

    if (!addr) {
        return;
    }
    switch (cap->cfg_type) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
        if (!vdev->common && cap->length >= sizeof(struct virtio_pci_common_cfg)) {
            vdev->common = (void *)(uintptr_t)addr;
        }
        break;
    case VIRTIO_PCI_CAP_NOTIFY_CFG:
        if (!vdev->notify_base && cap->len >= VIRTIO_PCI_CAP_NOTIFY_MULTIPLIER + 4 &&
            cap->length >= NOTIFY_WIDTH) {
            vdev->notify_base = (void *)(uintptr_t)addr;
            vdev->notify_length = cap->length;
            vdev->notify_off_multiplier =
                pci_read32(&vdev->pci.addr, cap->pos + VIRTIO_PCI_CAP_NOTIFY_MULTIPLIER);
        }
        break;
    case VIRTIO_PCI_CAP_ISR_CFG:
        if (!vdev->isr && cap->length >= 1) {
            vdev->isr = (void *)(uintptr_t)addr;
        }
        break;
    case VIRTIO_PCI_CAP_DEVICE_CFG:
        if (!vdev->device_cfg) {
            vdev->device_cfg = (void *)(uintptr_t)addr;
            vdev->device_cfg_length = cap->length;
        }
        break;
    case VIRTIO_PCI_CAP_SHARED_MEMORY_CFG:
        if (vdev->shm_count < VIRTIO_PCI_MAX_SHM_REGIONS &&
            cap->len >= VIRTIO_PCI_CAP_LENGTH_HI + 4) {
            vdev->shm[vdev->shm_count++] = (struct virtio_shm_region){
                .id = cap->id, .bar = cap->bar, .offset = cap->offset,
                .length = cap->length, .addr = addr,
            };
        }
        break;
    }
}

int virtio_pci_find(uint16_t device_type, unsigned int index,
                    struct virtio_pci_device *vdev)
{
    struct find_request req = { .device_type = device_type, .index = index,
                                .found = &vdev->pci };
    const struct pci_address *a = &vdev->pci.addr;
    uint8_t mapped_bars = 0;
    unsigned int steps = 0;

    *vdev = (struct virtio_pci_device){ .device_type = device_type };
    if (!pci_scan_bus0(match, &req)) {
        return -ENODEV;
    }
    snprintf(vdev->name, sizeof(vdev->name), "virtio-pci %02x:%02x.%x",
             a->bus, a->device, a->function);
    pci_read_bars(&vdev->pci);
    pci_enable(&vdev->pci,
               PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);

    for (uint8_t pos = pci_capability_first(a); pos && steps < PCI_MAX_CAPABILITIES;
         pos = pci_capability_next(a, pos), steps++) {
        struct cap cap;

        if (pci_read8(a, pos) != PCI_CAP_ID_VENDOR) {
            continue;
        }
        read_cap(a, pos, &cap);
        use_cap(vdev, &cap, &mapped_bars);
    }
    if (!vdev->common || !vdev->notify_base || !vdev->isr) {
        printf("%s: no usable %s capability (legacy-only device?)\n", vdev->name,
               !vdev->common ? "common" : !vdev->notify_base ? "notify" : "ISR");
        return -EPROTO;
    }
    return 0;
}

static void set_status(struct virtio_pci_device *vdev, uint8_t bits)
{
    vdev->common->device_status = vdev->common->device_status | bits;
}

void virtio_pci_fail(struct virtio_pci_device *vdev)
{
    set_status(vdev, VIRTIO_STATUS_FAILED);
}

static int reset(struct virtio_pci_device *vdev)
{
    uint64_t start = rdtsc();

    vdev->common->device_status = 0;
    while (vdev->common->device_status) {
        if (tsc_to_ns(rdtsc() - start) > RESET_TIMEOUT_US * 1000ull) {
            printf("%s: reset did not complete\n", vdev->name);
            return -ETIMEDOUT;
        }
        cpu_relax();
    }
    return 0;
}

static uint64_t read_device_features(struct virtio_pci_device *vdev)
{
    volatile struct virtio_pci_common_cfg *c = vdev->common;
    uint64_t features;

    c->device_feature_select = 0;
    features = c->device_feature;
    c->device_feature_select = 1;
    return features | (uint64_t)c->device_feature << 32;
}

static void write_driver_features(struct virtio_pci_device *vdev, uint64_t features)
{
    volatile struct virtio_pci_common_cfg *c = vdev->common;

    c->driver_feature_select = 0;
    c->driver_feature = features;
    c->driver_feature_select = 1;
    c->driver_feature = features >> 32;
}

int virtio_pci_negotiate(struct virtio_pci_device *vdev, uint64_t wanted)
{
    uint64_t offered;
    int ret = reset(vdev);

    if (ret) {
        return ret;
    }
    set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
    set_status(vdev, VIRTIO_STATUS_DRIVER);

    offered = read_device_features(vdev);
    if (!(offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
        printf("%s: device does not offer VIRTIO_F_VERSION_1\n", vdev->name);
        virtio_pci_fail(vdev);
        return -EPROTO;
    }
    /*
     * A device may refuse FEATURES_OK if ACCESS_PLATFORM is declined; there
     * is no IOMMU here, so the platform's addresses are physical ones.
     */
    wanted |= VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM);
    vdev->features = offered & wanted;
    write_driver_features(vdev, vdev->features);

    set_status(vdev, VIRTIO_STATUS_FEATURES_OK);
    if (!(vdev->common->device_status & VIRTIO_STATUS_FEATURES_OK)) {
        printf("%s: device rejected features 0x%lx (offered 0x%lx)\n", vdev->name,
               vdev->features, offered);
        virtio_pci_fail(vdev);
        return -EPROTO;
    }
    return 0;
}

uint16_t virtio_pci_queue_max_size(struct virtio_pci_device *vdev, uint16_t index)
{
    vdev->common->queue_select = index;
    return vdev->common->queue_size;
}

int virtio_pci_setup_queue(struct virtio_pci_device *vdev, uint16_t index, uint16_t size,
                           struct virtqueue *vq)
{
    volatile struct virtio_pci_common_cfg *c = vdev->common;
    uint16_t max = virtio_pci_queue_max_size(vdev, index);
    uint64_t notify_offset;

    if (!size || size > max || (size & (size - 1))) {
        printf("%s: queue %u: size %u not usable (device maximum %u)\n", vdev->name,
               index, size, max);
        return -EINVAL;
    }
    notify_offset = (uint64_t)c->queue_notify_off * vdev->notify_off_multiplier;
    if (notify_offset + NOTIFY_WIDTH > vdev->notify_length) {
        printf("%s: queue %u: notify offset 0x%lx outside the notify region\n",
               vdev->name, index, notify_offset);
        return -EPROTO;
    }

    virtq_init(vq, index, size, vdev->features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
    vq->notify = (volatile uint16_t *)(vdev->notify_base + notify_offset);
    c->queue_size = size;
    c->queue_desc_lo = (uintptr_t)vq->desc;
    c->queue_desc_hi = (uint64_t)(uintptr_t)vq->desc >> 32;
    c->queue_driver_lo = (uintptr_t)vq->avail;
    c->queue_driver_hi = (uint64_t)(uintptr_t)vq->avail >> 32;
    c->queue_device_lo = (uintptr_t)vq->used;
    c->queue_device_hi = (uint64_t)(uintptr_t)vq->used >> 32;
    c->queue_enable = 1;
    return 0;
}

int virtio_pci_driver_ok(struct virtio_pci_device *vdev)
{
    uint8_t status;

    set_status(vdev, VIRTIO_STATUS_DRIVER_OK);
    status = vdev->common->device_status;
    if (status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
        printf("%s: device status 0x%x after DRIVER_OK\n", vdev->name, status);
        return -EIO;
    }
    return 0;
}

static bool config_fits(struct virtio_pci_device *vdev, uint32_t offset, uint32_t width)
{
    return vdev->device_cfg && offset + width <= vdev->device_cfg_length;
}

/* Fields past the end of the device's structure read as 0. */
uint8_t virtio_pci_config_read8(struct virtio_pci_device *vdev, uint32_t offset)
{
    if (!config_fits(vdev, offset, 1)) {
        return 0;
    }
    return mmio_read8((uintptr_t)vdev->device_cfg + offset);
}

void virtio_pci_config_write16(struct virtio_pci_device *vdev, uint32_t offset,
                               uint16_t value)
{
    if (config_fits(vdev, offset, 2)) {
        mmio_write16((uintptr_t)vdev->device_cfg + offset, value);
    }
}

uint16_t virtio_pci_config_read16(struct virtio_pci_device *vdev, uint32_t offset)
{
    if (!config_fits(vdev, offset, 2)) {
        return 0;
    }
    return mmio_read16((uintptr_t)vdev->device_cfg + offset);
}

uint32_t virtio_pci_config_read32(struct virtio_pci_device *vdev, uint32_t offset)
{
    if (!config_fits(vdev, offset, 4)) {
        return 0;
    }
    return mmio_read32((uintptr_t)vdev->device_cfg + offset);
}

uint64_t virtio_pci_config_read64(struct virtio_pci_device *vdev, uint32_t offset)
{
    uint32_t lo = virtio_pci_config_read32(vdev, offset);

    return lo | (uint64_t)virtio_pci_config_read32(vdev, offset + 4) << 32;
}

uint8_t virtio_pci_config_generation(struct virtio_pci_device *vdev)
{
    return vdev->common->config_generation;
}
