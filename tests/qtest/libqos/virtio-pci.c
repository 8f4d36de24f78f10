/*
 * The virtio 1.x PCI transport, driver side.
 */
#include <glib.h>
#include <inttypes.h>

#include "virtio-pci.h"

/* Polling interval while waiting for the device. */
#define VIRTIO_PCI_POLL_US      100

/* MSI messages of queue vectors: this plus the vector, never 0. */
#define VIRTIO_PCI_MSI_DATA     0x4000

static void qvirtio_pci_find_region(QVirtioPCIDevice *d, uint8_t cfg_type,
                                    QVirtioPCIRegion *r)
{
    QPCIDevice *pdev = d->pdev;

    for (uint8_t cap = qpci_find_capability(pdev, PCI_CAP_ID_VNDR, 0); cap;
         cap = qpci_find_capability(pdev, PCI_CAP_ID_VNDR, cap)) {
        uint8_t bar;

        if (qpci_config_readb(pdev, cap + VIRTIO_PCI_CAP_CFG_TYPE) !=
            cfg_type) {
            continue;
        }
        bar = qpci_config_readb(pdev, cap + VIRTIO_PCI_CAP_BAR);
        /* Drivers ignore capabilities naming a reserved BAR. */
        if (bar >= PCI_NUM_BARS) {
            continue;
        }
        r->bar = qpci_map_bar(pdev, bar);
        r->offset = qpci_config_readl(pdev, cap + VIRTIO_PCI_CAP_OFFSET);
        r->length = qpci_config_readl(pdev, cap + VIRTIO_PCI_CAP_LENGTH);
        g_assert_cmphex(r->offset + r->length, <=, r->bar->size);
        if (cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
            d->notify_off_multiplier =
                qpci_config_readl(pdev, cap + VIRTIO_PCI_NOTIFY_CAP_MULT);
        }
        return;
    }
    g_error("virtio-pci: no capability of configuration type %u", cfg_type);
}

void qvirtio_pci_init(QVirtioPCIDevice *d, QPCIDevice *pdev)
{
    *d = (QVirtioPCIDevice){ .pdev = pdev, .qts = pdev->bus->qts };
    qvirtio_pci_find_region(d, VIRTIO_PCI_CAP_COMMON_CFG, &d->common);
    qvirtio_pci_find_region(d, VIRTIO_PCI_CAP_NOTIFY_CFG, &d->notify);
    qvirtio_pci_find_region(d, VIRTIO_PCI_CAP_ISR_CFG, &d->isr);
    qvirtio_pci_find_region(d, VIRTIO_PCI_CAP_DEVICE_CFG, &d->device);
    g_assert_cmpuint(d->common.length, >=, VIRTIO_PCI_COMMON_Q_USEDHI + 4);
    g_assert_cmpuint(d->isr.length, >=, 1);
    qpci_device_enable(pdev);
}

/* Accesses to the common configuration. */

uint8_t qvirtio_pci_common_readb(QVirtioPCIDevice *d, uint32_t off)
{
    return qpci_bar_readb(d->pdev, d->common.bar, d->common.offset + off);
}

uint16_t qvirtio_pci_common_readw(QVirtioPCIDevice *d, uint32_t off)
{
    return qpci_bar_readw(d->pdev, d->common.bar, d->common.offset + off);
}

uint32_t qvirtio_pci_common_readl(QVirtioPCIDevice *d, uint32_t off)
{
    return qpci_bar_readl(d->pdev, d->common.bar, d->common.offset + off);
}

void qvirtio_pci_common_writeb(QVirtioPCIDevice *d, uint32_t off,
                               uint8_t value)
{
    qpci_bar_writeb(d->pdev, d->common.bar, d->common.offset + off, value);
}

void qvirtio_pci_common_writew(QVirtioPCIDevice *d, uint32_t off,
                               uint16_t value)
{
    qpci_bar_writew(d->pdev, d->common.bar, d->common.offset + off, value);
}

void qvirtio_pci_common_writel(QVirtioPCIDevice *d, uint32_t off,
                               uint32_t value)
{
    qpci_bar_writel(d->pdev, d->common.bar, d->common.offset + off, value);
}

/* 64-bit fields are written as two 32-bit halves, low first. */
void qvirtio_pci_common_writeq(QVirtioPCIDevice *d, uint32_t off,
                               uint64_t value)
{
    qvirtio_pci_common_writel(d, off, value);
    qvirtio_pci_common_writel(d, off + 4, value >> 32);
}

uint8_t qvirtio_pci_get_status(QVirtioPCIDevice *d)
{
    return qvirtio_pci_common_readb(d, VIRTIO_PCI_COMMON_STATUS);
}

void qvirtio_pci_set_status(QVirtioPCIDevice *d, uint8_t status)
{
    qvirtio_pci_common_writeb(d, VIRTIO_PCI_COMMON_STATUS, status);
}

void qvirtio_pci_reset(QVirtioPCIDevice *d)
{
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_US;

    qvirtio_pci_set_status(d, 0);
    while (qvirtio_pci_get_status(d)) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("virtio-pci: the device did not finish its reset");
        }
        g_usleep(VIRTIO_PCI_POLL_US);
    }
}

bool qvirtio_pci_wait_status(QVirtioPCIDevice *d, uint8_t bits,
                             uint64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;

    while ((qvirtio_pci_get_status(d) & bits) != bits) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        qtest_clock_step(d->qts, VIRTIO_PCI_POLL_US * 1000);
        g_usleep(VIRTIO_PCI_POLL_US);
    }
    return true;
}

uint64_t qvirtio_pci_device_features(QVirtioPCIDevice *d)
{
    uint64_t f;

    qvirtio_pci_common_writel(d, VIRTIO_PCI_COMMON_DFSELECT, 0);
    f = qvirtio_pci_common_readl(d, VIRTIO_PCI_COMMON_DF);
    qvirtio_pci_common_writel(d, VIRTIO_PCI_COMMON_DFSELECT, 1);
    return f |
           (uint64_t)qvirtio_pci_common_readl(d, VIRTIO_PCI_COMMON_DF) << 32;
}

void qvirtio_pci_write_driver_features(QVirtioPCIDevice *d,
                                       uint64_t features)
{
    qvirtio_pci_common_writel(d, VIRTIO_PCI_COMMON_GFSELECT, 0);
    qvirtio_pci_common_writel(d, VIRTIO_PCI_COMMON_GF, features);
    qvirtio_pci_common_writel(d, VIRTIO_PCI_COMMON_GFSELECT, 1);
    qvirtio_pci_common_writel(d, VIRTIO_PCI_COMMON_GF, features >> 32);
}

uint64_t qvirtio_pci_driver_features(QVirtioPCIDevice *d)
{
    uint64_t f;

    qvirtio_pci_common_writel(d, VIRTIO_PCI_COMMON_GFSELECT, 0);
    f = qvirtio_pci_common_readl(d, VIRTIO_PCI_COMMON_GF);
    qvirtio_pci_common_writel(d, VIRTIO_PCI_COMMON_GFSELECT, 1);
    return f |
           (uint64_t)qvirtio_pci_common_readl(d, VIRTIO_PCI_COMMON_GF) << 32;
}

uint64_t qvirtio_pci_negotiate(QVirtioPCIDevice *d, uint64_t wanted)
{
    uint8_t status;

    qvirtio_pci_reset(d);
    qvirtio_pci_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    qvirtio_pci_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                              VIRTIO_CONFIG_S_DRIVER);
    d->features = qvirtio_pci_device_features(d) & wanted;
    g_assert_true(d->features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
    qvirtio_pci_write_driver_features(d, d->features);
    status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
             VIRTIO_CONFIG_S_FEATURES_OK;
    qvirtio_pci_set_status(d, status);
    if (qvirtio_pci_get_status(d) != status) {
        g_error("virtio-pci: the device refused features 0x%" PRIx64
                " (status 0x%02x)", d->features, qvirtio_pci_get_status(d));
    }
    return d->features;
}

void qvirtio_pci_driver_ok(QVirtioPCIDevice *d)
{
    uint8_t status = qvirtio_pci_get_status(d) | VIRTIO_CONFIG_S_DRIVER_OK;

    qvirtio_pci_set_status(d, status);
    g_assert_cmphex(qvirtio_pci_get_status(d), ==, status);
}

uint16_t qvirtio_pci_num_queues(QVirtioPCIDevice *d)
{
    return qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_NUMQ);
}

/* Device-specific configuration. */

static uint64_t config_read(QVirtioPCIDevice *d, uint32_t off, unsigned size)
{
    g_assert_cmpuint(off + size, <=, d->device.length);
    switch (size) {
    case 1:
        return qpci_bar_readb(d->pdev, d->device.bar, d->device.offset + off);
    case 2:
        return qpci_bar_readw(d->pdev, d->device.bar, d->device.offset + off);
    default:
        return qpci_bar_readl(d->pdev, d->device.bar, d->device.offset + off);
    }
}

uint8_t qvirtio_pci_config_readb(QVirtioPCIDevice *d, uint32_t off)
{
    return config_read(d, off, 1);
}

uint16_t qvirtio_pci_config_readw(QVirtioPCIDevice *d, uint32_t off)
{
    return config_read(d, off, 2);
}

uint32_t qvirtio_pci_config_readl(QVirtioPCIDevice *d, uint32_t off)
{
    return config_read(d, off, 4);
}

/* Two 32-bit reads, retried until the configuration generation holds. */
uint64_t qvirtio_pci_config_readq(QVirtioPCIDevice *d, uint32_t off)
{
    uint8_t gen;
    uint64_t v;

    do {
        gen = qvirtio_pci_common_readb(d, VIRTIO_PCI_COMMON_CFGGENERATION);
        v = config_read(d, off, 4) | config_read(d, off + 4, 4) << 32;
    } while (gen != qvirtio_pci_common_readb(d,
                                             VIRTIO_PCI_COMMON_CFGGENERATION));
    return v;
}

void qvirtio_pci_config_writeb(QVirtioPCIDevice *d, uint32_t off,
                               uint8_t value)
{
    g_assert_cmpuint(off + 1, <=, d->device.length);
    qpci_bar_writeb(d->pdev, d->device.bar, d->device.offset + off, value);
}

/* The VIRTIO_PCI_CAP_PCI_CFG capability, set up for one access. */
static uint8_t qvirtio_pci_cfg_window(QVirtioPCIDevice *d, uint8_t bar,
                                      uint32_t offset, unsigned size)
{
    QPCIDevice *pdev = d->pdev;

    g_assert(size == 1 || size == 2 || size == 4);
    for (uint8_t cap = qpci_find_capability(pdev, PCI_CAP_ID_VNDR, 0); cap;
         cap = qpci_find_capability(pdev, PCI_CAP_ID_VNDR, cap)) {
        if (qpci_config_readb(pdev, cap + VIRTIO_PCI_CAP_CFG_TYPE) ==
            VIRTIO_PCI_CAP_PCI_CFG) {
            qpci_config_writeb(pdev, cap + VIRTIO_PCI_CAP_BAR, bar);
            qpci_config_writel(pdev, cap + VIRTIO_PCI_CAP_OFFSET, offset);
            qpci_config_writel(pdev, cap + VIRTIO_PCI_CAP_LENGTH, size);
            return cap;
        }
    }
    g_error("virtio-pci: no VIRTIO_PCI_CAP_PCI_CFG capability");
}

uint32_t qvirtio_pci_cfg_window_read(QVirtioPCIDevice *d, uint8_t bar,
                                     uint32_t offset, unsigned size)
{
    uint8_t data = qvirtio_pci_cfg_window(d, bar, offset, size) +
                   VIRTIO_PCI_CFG_DATA;

    switch (size) {
    case 1:
        return qpci_config_readb(d->pdev, data);
    case 2:
        return qpci_config_readw(d->pdev, data);
    default:
        return qpci_config_readl(d->pdev, data);
    }
}

void qvirtio_pci_cfg_window_write(QVirtioPCIDevice *d, uint8_t bar,
                                  uint32_t offset, unsigned size,
                                  uint32_t value)
{
    uint8_t data = qvirtio_pci_cfg_window(d, bar, offset, size) +
                   VIRTIO_PCI_CFG_DATA;

    switch (size) {
    case 1:
        qpci_config_writeb(d->pdev, data, value);
        break;
    case 2:
        qpci_config_writew(d->pdev, data, value);
        break;
    default:
        qpci_config_writel(d->pdev, data, value);
    }
}

void qvirtio_pci_enable_msix(QVirtioPCIDevice *d)
{
    qpci_msix_init(&d->msix, d->pdev);
    qpci_msix_enable(&d->msix);
    d->msix_enabled = true;
}

/* Point vector's message at a fresh word of guest RAM. */
static void qvirtio_pci_route_vector(QVirtioPCIDevice *d, QVirtQueue *vq,
                                     uint16_t vector)
{
    g_assert_true(d->msix_enabled);
    vq->msix_vector = vector;
    vq->msix_addr = guest_alloc_aligned(vq->alloc, 4, 4);
    vq->msix_data = VIRTIO_PCI_MSI_DATA + vector;
    qtest_writel(d->qts, vq->msix_addr, 0);
    qpci_msix_set_vector(&d->msix, vector, vq->msix_addr, vq->msix_data);
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_MSIX, vector);
    if (qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_MSIX) != vector) {
        g_error("virtio-pci: queue %u refused MSI-X vector %u", vq->index,
                vector);
    }
}

QVirtQueue *qvirtio_pci_queue_setup(QVirtioPCIDevice *d, GuestAlloc *alloc,
                                    uint16_t index, uint16_t max_size,
                                    uint16_t msix_vector)
{
    uint16_t size, notify_off;
    QVirtQueue *vq;

    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SELECT, index);
    size = qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_SIZE);
    if (!size) {
        g_error("virtio-pci: queue %u is not available", index);
    }
    g_assert_cmpuint(qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_ENABLE),
                     ==, 0);
    if (max_size && max_size < size) {
        size = max_size;
        qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SIZE, size);
    }
    vq = qvirtqueue_new(d->qts, alloc, index, size,
                        d->features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
    vq->dev = d;
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc);
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_AVAILLO, vq->avail);
    qvirtio_pci_common_writeq(d, VIRTIO_PCI_COMMON_Q_USEDLO, vq->used);
    if (msix_vector != VIRTIO_MSI_NO_VECTOR) {
        qvirtio_pci_route_vector(d, vq, msix_vector);
    }
    notify_off = qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_NOFF);
    vq->notify_addr = qvirtio_pci_notify_addr(d, notify_off);
    g_assert_cmphex(vq->notify_addr + 2, <=, d->notify.offset +
                    d->notify.length);
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    return vq;
}

uint64_t qvirtio_pci_notify_addr(QVirtioPCIDevice *d, uint16_t notify_off)
{
    return d->notify.offset + (uint64_t)notify_off * d->notify_off_multiplier;
}

void qvirtio_pci_notify_raw(QVirtioPCIDevice *d, uint16_t notify_off,
                            uint16_t value)
{
    qpci_bar_writew(d->pdev, d->notify.bar,
                    qvirtio_pci_notify_addr(d, notify_off), value);
}

void qvirtio_pci_queue_notify(QVirtioPCIDevice *d, QVirtQueue *vq)
{
    qpci_bar_writew(d->pdev, d->notify.bar, vq->notify_addr, vq->index);
}

uint8_t qvirtio_pci_read_isr(QVirtioPCIDevice *d)
{
    return qpci_bar_readb(d->pdev, d->isr.bar, d->isr.offset);
}

bool qvirtio_pci_wait_queue_interrupt(QVirtioPCIDevice *d, QVirtQueue *vq,
                                      uint64_t timeout_us)
{
    if (vq->msix_vector != VIRTIO_MSI_NO_VECTOR) {
        return qpci_msix_wait(d->qts, vq->msix_addr, vq->msix_data,
                              timeout_us);
    }
    return qvirtio_pci_wait_isr_queue(d, timeout_us);
}

bool qvirtio_pci_wait_isr_queue(QVirtioPCIDevice *d, uint64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;

    while (!(qvirtio_pci_read_isr(d) & VIRTIO_PCI_ISR_QUEUE)) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        qtest_clock_step(d->qts, VIRTIO_PCI_POLL_US * 1000);
        g_usleep(VIRTIO_PCI_POLL_US);
    }
    return true;
}

bool qvirtio_pci_find_shm(QVirtioPCIDevice *d, uint8_t id,
                          QVirtioPCIShm *shm)
{
    QPCIDevice *pdev = d->pdev;

    for (uint8_t cap = qpci_find_capability(pdev, PCI_CAP_ID_VNDR, 0); cap;
         cap = qpci_find_capability(pdev, PCI_CAP_ID_VNDR, cap)) {
        uint8_t bar;

        if (qpci_config_readb(pdev, cap + VIRTIO_PCI_CAP_CFG_TYPE) !=
            VIRTIO_PCI_CAP_SHARED_MEMORY_CFG ||
            qpci_config_readb(pdev, cap + VIRTIO_PCI_CAP_ID) != id) {
            continue;
        }
        /* cap_len, right after the next pointer */
        g_assert_cmpuint(qpci_config_readb(pdev, cap + 2), >=,
                         VIRTIO_PCI_CAP64_SIZE);
        bar = qpci_config_readb(pdev, cap + VIRTIO_PCI_CAP_BAR);
        if (bar >= PCI_NUM_BARS) {
            continue;
        }
        shm->bar = qpci_map_bar(pdev, bar);
        shm->offset = qpci_config_readl(pdev, cap + VIRTIO_PCI_CAP_OFFSET) |
                      (uint64_t)qpci_config_readl(
                          pdev, cap + VIRTIO_PCI_CAP64_OFFSET_HI) << 32;
        shm->length = qpci_config_readl(pdev, cap + VIRTIO_PCI_CAP_LENGTH) |
                      (uint64_t)qpci_config_readl(
                          pdev, cap + VIRTIO_PCI_CAP64_LENGTH_HI) << 32;
        g_assert_cmphex(shm->offset + shm->length, <=, shm->bar->size);
        return true;
    }
    return false;
}

void qvirtio_pci_config_writew(QVirtioPCIDevice *d, uint32_t off,
                               uint16_t value)
{
    g_assert_cmpuint(off + 2, <=, d->device.length);
    qpci_bar_writew(d->pdev, d->device.bar, d->device.offset + off, value);
}

void qvirtio_pci_config_writel(QVirtioPCIDevice *d, uint32_t off,
                               uint32_t value)
{
    g_assert_cmpuint(off + 4, <=, d->device.length);
    qpci_bar_writel(d->pdev, d->device.bar, d->device.offset + off, value);
}

uint16_t qvirtio_pci_queue_notify_off(QVirtioPCIDevice *d, uint16_t index)
{
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_Q_SELECT, index);
    return qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_Q_NOFF);
}

uint64_t qvirtio_pci_notify_slot_addr(QVirtioPCIDevice *d,
                                      uint16_t notify_off)
{
    uint64_t addr = d->notify.offset +
                    (uint64_t)notify_off * d->notify_off_multiplier;

    g_assert_cmphex(addr + 2, <=, d->notify.offset + d->notify.length);
    return addr;
}

void qvirtio_pci_notify_slot(QVirtioPCIDevice *d, uint16_t notify_off,
                             uint16_t value)
{
    qpci_bar_writew(d->pdev, d->notify.bar,
                    qvirtio_pci_notify_slot_addr(d, notify_off), value);
}
