/*
 * The virtio 1.x PCI transport.
 */
#include <linux/virtio_pci.h>
#include <string.h>
#include <unistd.h>

#include "hw/virtio/virtio-pci.h"
#include "qemu/error-report.h"
#include "qemu/eventfd.h"

static const Property virtio_pci_props[] = {
    DEFINE_PROP_UINT32("vectors", VirtIOPCIProxy, vectors,
                       VIRTIO_PCI_VECTORS_AUTO),
    DEFINE_PROP_ON_OFF_AUTO("disable-legacy", VirtIOPCIProxy, disable_legacy,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("disable-modern", VirtIOPCIProxy, disable_modern, false),
    /*
     * Packed rings only when asked for, as in QEMU: drivers written
     * against QEMU take them whenever they are offered.
     */
    DEFINE_PROP_BOOL("packed", VirtIOPCIProxy, packed, false),
    DEFINE_PROP_BOOL("event_idx", VirtIOPCIProxy, event_idx, true),
    DEFINE_PROP_BOOL("indirect_desc", VirtIOPCIProxy, indirect_desc, true),
    DEFINE_PROP_END_OF_LIST(),
};

const DeviceClass virtio_pci_class = {
    .name = "virtio-pci",
    .parent = &pci_device_class,
    .props = virtio_pci_props,
};

static VirtIOPCIProxy *proxy_of(VirtIODevice *vdev)
{
    return vdev->transport_opaque;
}

static uint32_t num_vectors(VirtIOPCIProxy *p)
{
    return p->vectors;
}

/*
 * Interrupts: MSI-X through the notifiers, else INTx with the ISR.  In the
 * device's AioContext, or any thread of the device (virtio_error()): the
 * ISR and the INTx level it implies change together under intx_lock, not
 * the BQL (pci_set_irq() then takes the PCI device's irq_lock inside it).
 */
static void raise_intx(VirtIOPCIProxy *p, int isr_bit)
{
    g_mutex_lock(&p->intx_lock);
    g_atomic_int_or(&p->vdev->isr, isr_bit);
    pci_set_irq(&p->pci, true);
    g_mutex_unlock(&p->intx_lock);
}

/* In the device's AioContext (an I/O thread, or with the BQL). */
static void virtio_pci_notify_queue(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOPCIProxy *p = proxy_of(vdev);

    if (msix_enabled(&p->pci)) {
        if (vq->vector != VIRTIO_NO_VECTOR) {
            msix_notifier_signal(p->queue_irq[vq->index]);
        }
    } else {
        raise_intx(p, 1);
    }
}

/* Any thread of the device. */
static void virtio_pci_notify_config(VirtIODevice *vdev)
{
    VirtIOPCIProxy *p = proxy_of(vdev);

    if (msix_enabled(&p->pci)) {
        if (vdev->config_vector != VIRTIO_NO_VECTOR) {
            msix_notifier_signal(p->config_irq);
        }
    } else {
        raise_intx(p, 2);
    }
}

/* The irqfd ops: called with the BQL held. */
static void *virtio_pci_irqfd_new(VirtIODevice *vdev, int fd)
{
    return msix_notifier_new_with_fd(&proxy_of(vdev)->pci, fd);
}

static void virtio_pci_irqfd_set_vector(void *irqfd, uint16_t vector)
{
    msix_notifier_set_vector(irqfd, vector);
}

static void virtio_pci_irqfd_free(void *irqfd)
{
    msix_notifier_free(irqfd);
}

static uint16_t checked_vector(VirtIOPCIProxy *p, uint64_t v)
{
    return v < num_vectors(p) ? v : VIRTIO_NO_VECTOR;
}

static uint16_t virtio_pci_check_vector(VirtIODevice *vdev, uint16_t vector)
{
    return checked_vector(proxy_of(vdev), vector);
}

static const VirtioTransportOps virtio_pci_transport = {
    .notify_queue = virtio_pci_notify_queue,
    .notify_config = virtio_pci_notify_config,
    .irqfd_new = virtio_pci_irqfd_new,
    .check_vector = virtio_pci_check_vector,
    .irqfd_set_vector = virtio_pci_irqfd_set_vector,
    .irqfd_free = virtio_pci_irqfd_free,
};

static VirtQueue *selected_queue(VirtIOPCIProxy *p)
{
    return p->queue_sel < p->vdev->num_queues ? &p->vdev->vqs[p->queue_sel]
                                              : NULL;
}

#define COMMON(field) offsetof(struct virtio_pci_common_cfg, field)
/*
 * virtio 1.2 adds queue_notify_data and queue_reset after queue_used; they
 * matter only with features this device does not offer, and read as zero.
 */
#define COMMON_CFG_SIZE (sizeof(struct virtio_pci_common_cfg) + 4)

static uint64_t common_read(VirtIOPCIProxy *p, uint64_t off, unsigned size)
{
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = selected_queue(p);
    uint64_t features;

    switch (off) {
    case COMMON(device_feature_select):
        return p->dfselect;
    case COMMON(device_feature):
        features = virtio_get_host_features(vdev);
        return p->dfselect < 2 ? (uint32_t)(features >> (32 * p->dfselect))
                               : 0;
    case COMMON(guest_feature_select):
        return p->gfselect;
    case COMMON(guest_feature):
        return p->gfselect < 2 ?
               (uint32_t)(vdev->guest_features >> (32 * p->gfselect)) : 0;
    case COMMON(msix_config):
        return vdev->config_vector;
    case COMMON(num_queues):
        return vdev->num_queues;
    case COMMON(device_status):
        return vdev->status;
    case COMMON(config_generation):
        return vdev->generation;
    case COMMON(queue_select):
        return p->queue_sel;
    }
    if (!vq) {
        return 0;   /* queue_size 0: this queue does not exist */
    }
    switch (off) {
    case COMMON(queue_size):
        return vq->num;
    case COMMON(queue_msix_vector):
        return vq->vector;
    case COMMON(queue_enable):
        return vq->enabled;
    case COMMON(queue_notify_off):
        return vq->index;
    case COMMON(queue_desc_lo):
        return size == 8 ? vq->desc_gpa : (uint32_t)vq->desc_gpa;
    case COMMON(queue_desc_hi):
        return vq->desc_gpa >> 32;
    case COMMON(queue_avail_lo):
        return size == 8 ? vq->avail_gpa : (uint32_t)vq->avail_gpa;
    case COMMON(queue_avail_hi):
        return vq->avail_gpa >> 32;
    case COMMON(queue_used_lo):
        return size == 8 ? vq->used_gpa : (uint32_t)vq->used_gpa;
    case COMMON(queue_used_hi):
        return vq->used_gpa >> 32;
    }
    return 0;
}

/* Update the low or high half of a 64-bit ring address (or all of it). */
static void set_addr(uint64_t *addr, uint64_t val, unsigned size, bool hi)
{
    if (size == 8) {
        *addr = val;
    } else if (hi) {
        *addr = (*addr & 0xffffffffULL) | (val << 32);
    } else {
        *addr = (*addr & ~0xffffffffULL) | (uint32_t)val;
    }
}

static void virtio_pci_set_status(VirtIOPCIProxy *p, uint8_t status)
{
    VirtIODevice *vdev = p->vdev;

    virtio_set_status(vdev, status);
    if (status == 0) {
        virtio_pci_reset(p);
    }
}

static void common_write(VirtIOPCIProxy *p, uint64_t off, uint64_t val,
                         unsigned size)
{
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = selected_queue(p);
    uint64_t mask;

    switch (off) {
    case COMMON(device_feature_select):
        p->dfselect = val;
        return;
    case COMMON(guest_feature_select):
        p->gfselect = val;
        return;
    case COMMON(guest_feature):
        /* Features are frozen once FEATURES_OK is set (3.1.1). */
        if (p->gfselect < 2 &&
            !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
            mask = 0xffffffffULL << (32 * p->gfselect);
            vdev->guest_features = (vdev->guest_features & ~mask) |
                                   ((uint64_t)(uint32_t)val <<
                                    (32 * p->gfselect));
        }
        return;
    case COMMON(msix_config):
        vdev->config_vector = checked_vector(p, val);
        msix_notifier_set_vector(p->config_irq, vdev->config_vector);
        return;
    case COMMON(device_status):
        virtio_pci_set_status(p, val);
        return;
    case COMMON(queue_select):
        p->queue_sel = val;
        return;
    }
    if (!vq) {
        return;
    }
    if (off == COMMON(queue_msix_vector)) {
        vq->vector = checked_vector(p, val);
        msix_notifier_set_vector(p->queue_irq[vq->index], vq->vector);
        return;
    }
    /* A live queue's layout does not change under the device (4.1.4.3). */
    if (vq->enabled) {
        return;
    }
    switch (off) {
    case COMMON(queue_size):
        if (virtio_queue_valid_size(vq, val)) {
            vq->num = val;
        }
        break;
    case COMMON(queue_enable):
        if (val == 1) {
            virtio_queue_enable(vq);
        }
        break;
    case COMMON(queue_desc_lo):
    case COMMON(queue_desc_hi):
        set_addr(&vq->desc_gpa, val, size, off == COMMON(queue_desc_hi));
        break;
    case COMMON(queue_avail_lo):
    case COMMON(queue_avail_hi):
        set_addr(&vq->avail_gpa, val, size, off == COMMON(queue_avail_hi));
        break;
    case COMMON(queue_used_lo):
    case COMMON(queue_used_hi):
        set_addr(&vq->used_gpa, val, size, off == COMMON(queue_used_hi));
        break;
    }
}

static void notify_write(VirtIOPCIProxy *p, uint64_t off)
{
    unsigned slot = off / VIRTIO_PCI_NOTIFY_MULTIPLIER;
    int fd = -1;

    /* Writes that bypassed the ioeventfd (odd sizes, qtest) end up here. */
    if (slot < p->vdev->num_queues) {
        fd = p->host_notifiers[slot];
    } else if (slot - p->vdev->num_queues < p->vdev->nr_doorbells) {
        fd = p->vdev->doorbell_fds[slot - p->vdev->num_queues];
    }
    if (fd >= 0) {
        eventfd_signal(fd);
    }
}

static uint64_t isr_read(VirtIOPCIProxy *p)
{
    uint64_t v;

    g_mutex_lock(&p->intx_lock);
    v = g_atomic_int_and(&p->vdev->isr, 0);
    pci_set_irq(&p->pci, false);
    g_mutex_unlock(&p->intx_lock);
    return v;
}

/* Register accesses: in a vCPU thread (or qtest's main thread), BQL held. */
static uint64_t modern_bar_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtIOPCIProxy *p = opaque;
    uint64_t off = addr % VIRTIO_PCI_REGION_SIZE, v = 0;

    switch (addr - off) {
    case VIRTIO_PCI_COMMON_OFFSET:
        return common_read(p, off, size);
    case VIRTIO_PCI_ISR_OFFSET:
        return off == 0 ? isr_read(p) : 0;
    case VIRTIO_PCI_DEVICE_OFFSET:
        virtio_config_read(p->vdev, off, &v, size);
        return v;
    }
    return 0;
}

static void modern_bar_write(void *opaque, uint64_t addr, uint64_t val,
                             unsigned size)
{
    VirtIOPCIProxy *p = opaque;
    uint64_t off = addr % VIRTIO_PCI_REGION_SIZE;

    switch (addr - off) {
    case VIRTIO_PCI_COMMON_OFFSET:
        common_write(p, off, val, size);
        break;
    case VIRTIO_PCI_DEVICE_OFFSET:
        virtio_config_write(p->vdev, off, &val, size);
        break;
    case VIRTIO_PCI_NOTIFY_OFFSET:
        notify_write(p, off);
        break;
    }
}

static const MemoryRegionOps modern_bar_ops = {
    .read = modern_bar_read,
    .write = modern_bar_write,
};

static void add_cap(VirtIOPCIProxy *p, uint8_t type, uint8_t bar,
                    uint64_t offset, uint64_t length, uint8_t id,
                    uint8_t extra_len, uint32_t extra)
{
    bool is64 = type == VIRTIO_PCI_CAP_SHARED_MEMORY_CFG;
    uint8_t len = sizeof(struct virtio_pci_cap) + (is64 ? 8 : extra_len);
    uint8_t off = pci_add_capability(&p->pci, PCI_CAP_ID_VNDR, len);
    uint8_t *c = p->pci.config + off;

    c[VIRTIO_PCI_CAP_LEN] = len;
    c[VIRTIO_PCI_CAP_CFG_TYPE] = type;
    c[VIRTIO_PCI_CAP_BAR] = bar;
    c[offsetof(struct virtio_pci_cap, id)] = id;
    pci_set_long(c + VIRTIO_PCI_CAP_OFFSET, offset);
    pci_set_long(c + VIRTIO_PCI_CAP_LENGTH, length);
    if (is64) {
        pci_set_long(c + offsetof(struct virtio_pci_cap64, offset_hi),
                     offset >> 32);
        pci_set_long(c + offsetof(struct virtio_pci_cap64, length_hi),
                     length >> 32);
    } else if (extra_len) {
        pci_set_long(c + sizeof(struct virtio_pci_cap), extra);
    }
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG: a window through configuration space into the
 * BARs, for drivers that cannot map them (4.1.4.9).
 */
static uint8_t pci_cfg_cap(VirtIOPCIProxy *p)
{
    uint8_t off = p->pci.config[PCI_CAPABILITY_LIST];

    while (off) {
        if (p->pci.config[off] == PCI_CAP_ID_VNDR &&
            p->pci.config[off + VIRTIO_PCI_CAP_CFG_TYPE] ==
            VIRTIO_PCI_CAP_PCI_CFG) {
            return off;
        }
        off = p->pci.config[off + 1];
    }
    return 0;
}

/* The BAR region a PCI_CFG window access goes to, with its offset. */
static MemoryRegion *pci_cfg_target(VirtIOPCIProxy *p, uint8_t cap,
                                    uint64_t *offset, unsigned *len)
{
    uint8_t *c = p->pci.config + cap;
    uint8_t bar = c[VIRTIO_PCI_CAP_BAR];
    PCIIORegion *r;

    *offset = pci_get_long(c + VIRTIO_PCI_CAP_OFFSET);
    *len = pci_get_long(c + VIRTIO_PCI_CAP_LENGTH);
    if (bar >= PCI_NUM_REGIONS || !(r = &p->pci.io_regions[bar])->size ||
        !r->mr->ops || (*len != 1 && *len != 2 && *len != 4) ||
        *offset + *len > r->size || (*offset & (*len - 1))) {
        return NULL;
    }
    return r->mr;
}

/* The PCI_CFG window: in a vCPU thread (or qtest's), BQL held. */
void virtio_pci_config_read(PCIDevice *dev, uint32_t addr, unsigned len)
{
    VirtIOPCIProxy *p = (VirtIOPCIProxy *)dev;
    uint8_t cap = pci_cfg_cap(p);
    uint32_t data = cap + sizeof(struct virtio_pci_cap);
    MemoryRegion *mr;
    uint64_t offset;
    unsigned size;

    if (cap && addr < data + 4 && addr + len > data &&
        (mr = pci_cfg_target(p, cap, &offset, &size))) {
        pci_set_long(dev->config + data,
                     mr->ops->read(mr->opaque, offset, size));
    }
}

void virtio_pci_config_write(PCIDevice *dev, uint32_t addr, uint32_t val,
                             unsigned len)
{
    VirtIOPCIProxy *p = (VirtIOPCIProxy *)dev;
    uint8_t cap = pci_cfg_cap(p);
    uint32_t data = cap + sizeof(struct virtio_pci_cap);
    MemoryRegion *mr;
    uint64_t offset;
    unsigned size;

    if (cap && addr == data &&
        (mr = pci_cfg_target(p, cap, &offset, &size)) && size <= len &&
        mr->ops->write) {
        mr->ops->write(mr->opaque, offset, pci_get_long(dev->config + data),
                       size);
    }
}

bool virtio_pci_realize(VirtIOPCIProxy *p, VirtIODevice *vdev, GError **errp)
{
    PCIDevice *pci = &p->pci;
    unsigned nvq = vdev->num_queues;
    /* Notification slots: the queues', then the device's doorbells (one
     * slot is always there, as it was before devices had several). */
    unsigned slots = nvq + MAX(vdev->nr_doorbells, 1);
    uint8_t cfg;

    if (p->disable_legacy == ON_OFF_AUTO_OFF || p->disable_modern) {
        error_setg(errp, "only modern virtio is supported (disable-legacy=on, "
                   "disable-modern=off)");
        return false;
    }
    if (p->vectors == VIRTIO_PCI_VECTORS_AUTO) {
        /* 64 queues and 64 passthrough rings need one more than MSI-X has:
         * the driver then polls the last ring or shares a vector. */
        p->vectors = MIN(nvq + 1 + vdev->extra_vectors, MSIX_MAX_ENTRIES);
    }
    if (p->vectors > MSIX_MAX_ENTRIES || p->vectors == 0) {
        error_setg(errp, "vectors must be between 1 and %d",
                   MSIX_MAX_ENTRIES);
        return false;
    }
    if (slots * VIRTIO_PCI_NOTIFY_MULTIPLIER > VIRTIO_PCI_REGION_SIZE) {
        error_setg(errp, "too many queues for the notification area");
        return false;
    }
    p->vdev = vdev;
    vdev->ring_features =
        (p->packed ? 1ULL << VIRTIO_F_RING_PACKED : 0) |
        (p->event_idx ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0) |
        (p->indirect_desc ? 1ULL << VIRTIO_RING_F_INDIRECT_DESC : 0);
    vdev->transport = &virtio_pci_transport;
    vdev->transport_opaque = p;
    g_mutex_init(&p->intx_lock);

    if (!pci_device_realize(pci, errp)) {
        return false;
    }
    memory_region_init_io(&p->modern_bar, "virtio-pci-modern",
                          VIRTIO_PCI_MODERN_BAR_SIZE, &modern_bar_ops, p);
    pci_register_bar(pci, VIRTIO_PCI_MODERN_BAR,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &p->modern_bar);
    if (vdev->shm.mr) {
        pci_register_bar(pci, VIRTIO_PCI_SHM_BAR,
                         PCI_BASE_ADDRESS_SPACE_MEMORY |
                         PCI_BASE_ADDRESS_MEM_TYPE_64 |
                         PCI_BASE_ADDRESS_MEM_PREFETCH, vdev->shm.mr);
    }
    if (!msix_init(pci, p->vectors, VIRTIO_PCI_MSIX_BAR, errp)) {
        pci_device_unrealize(pci);
        memory_region_destroy(&p->modern_bar);
        return false;
    }

    add_cap(p, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_MODERN_BAR,
            VIRTIO_PCI_COMMON_OFFSET, COMMON_CFG_SIZE, 0, 0, 0);
    add_cap(p, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_MODERN_BAR,
            VIRTIO_PCI_ISR_OFFSET, 1, 0, 0, 0);
    add_cap(p, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_MODERN_BAR,
            VIRTIO_PCI_DEVICE_OFFSET, vdev->config_len, 0, 0, 0);
    add_cap(p, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_MODERN_BAR,
            VIRTIO_PCI_NOTIFY_OFFSET,
            slots * VIRTIO_PCI_NOTIFY_MULTIPLIER, 0, 4,
            VIRTIO_PCI_NOTIFY_MULTIPLIER);
    if (vdev->shm.mr) {
        add_cap(p, VIRTIO_PCI_CAP_SHARED_MEMORY_CFG, VIRTIO_PCI_SHM_BAR, 0,
                vdev->shm.mr->size, vdev->shm.id, 0, 0);
    }
    add_cap(p, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, 0, 4, 0);
    /* The window's bar, offset and length fields are the driver's. */
    cfg = pci_cfg_cap(p);
    pci->wmask[cfg + VIRTIO_PCI_CAP_BAR] = 0xff;
    memset(pci->wmask + cfg + VIRTIO_PCI_CAP_OFFSET, 0xff, 8);
    memset(pci->wmask + cfg + sizeof(struct virtio_pci_cap), 0xff, 4);

    p->host_notifiers = g_new(int, nvq);
    p->queue_irq = g_new(MSIXNotifier *, nvq);
    for (unsigned i = 0; i < nvq; i++) {
        p->host_notifiers[i] = eventfd_new();
        memory_region_add_eventfd(&p->modern_bar,
                                  VIRTIO_PCI_NOTIFY_OFFSET +
                                  i * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, false,
                                  0, p->host_notifiers[i]);
        p->queue_irq[i] = msix_notifier_new(pci);
    }
    for (unsigned i = 0; i < vdev->nr_doorbells; i++) {
        memory_region_add_eventfd(&p->modern_bar,
                                  VIRTIO_PCI_NOTIFY_OFFSET +
                                  (nvq + i) * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2,
                                  false, 0, vdev->doorbell_fds[i]);
    }
    p->config_irq = msix_notifier_new(pci);
    return true;
}

void virtio_pci_unrealize(VirtIOPCIProxy *p)
{
    VirtIODevice *vdev = p->vdev;

    for (unsigned i = 0; i < vdev->num_queues; i++) {
        memory_region_del_eventfd(&p->modern_bar,
                                  VIRTIO_PCI_NOTIFY_OFFSET +
                                  i * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, false,
                                  0, p->host_notifiers[i]);
        close(p->host_notifiers[i]);
        msix_notifier_free(p->queue_irq[i]);
    }
    for (unsigned i = 0; i < vdev->nr_doorbells; i++) {
        memory_region_del_eventfd(&p->modern_bar,
                                  VIRTIO_PCI_NOTIFY_OFFSET +
                                  (vdev->num_queues + i) *
                                  VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, false, 0,
                                  vdev->doorbell_fds[i]);
    }
    msix_notifier_free(p->config_irq);
    g_free(p->host_notifiers);
    g_free(p->queue_irq);
    pci_device_unrealize(&p->pci);
    msix_uninit(&p->pci);
    memory_region_destroy(&p->modern_bar);
    g_mutex_clear(&p->intx_lock);
}

/* Transport state back to power-on (after the virtio device's reset). */
void virtio_pci_reset(VirtIOPCIProxy *p)
{
    p->dfselect = p->gfselect = 0;
    p->queue_sel = 0;
    msix_notifier_set_vector(p->config_irq, VIRTIO_NO_VECTOR);
    for (unsigned i = 0; i < p->vdev->num_queues; i++) {
        msix_notifier_set_vector(p->queue_irq[i], VIRTIO_NO_VECTOR);
    }
    g_mutex_lock(&p->intx_lock);
    g_atomic_int_set(&p->vdev->isr, 0);
    pci_set_irq(&p->pci, false);
    g_mutex_unlock(&p->intx_lock);
}

int virtio_pci_host_notifier(VirtIOPCIProxy *p, unsigned n)
{
    return p->host_notifiers[n];
}
