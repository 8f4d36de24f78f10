/*
 * MSI-X.
 */
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "hw/pci/msix.h"
#include "qemu/error-report.h"
#include "qemu/eventfd.h"
#include "sysemu/accel.h"

#define MSIX_ENTRY_SIZE         16
#define MSIX_ENTRY_CTRL_MASKBIT 1

struct MSIXNotifier {
    PCIDevice *dev;
    int fd;
    bool owns_fd;
    unsigned vector;
    MSIRoute *route;
};

struct MSIXState {
    unsigned nentries;
    uint8_t cap;
    gint enabled;               /* MSI-X enable and not function-masked */
    uint8_t table[MSIX_MAX_ENTRIES * MSIX_ENTRY_SIZE];
    uint64_t pending[MSIX_MAX_ENTRIES / 64];    /* of msix_notify() */
    MemoryRegion bar;
    GPtrArray *notifiers;
};

static uint8_t *entry(MSIXState *m, unsigned v)
{
    return m->table + v * MSIX_ENTRY_SIZE;
}

static bool vector_masked(MSIXState *m, unsigned v)
{
    return !m->enabled ||
           (pci_get_long(entry(m, v) + PCI_MSIX_ENTRY_VECTOR_CTRL) &
            MSIX_ENTRY_CTRL_MASKBIT);
}

static uint64_t vector_addr(MSIXState *m, unsigned v)
{
    return pci_get_long(entry(m, v) + PCI_MSIX_ENTRY_LOWER_ADDR) |
           (uint64_t)pci_get_long(entry(m, v) + PCI_MSIX_ENTRY_UPPER_ADDR)
           << 32;
}

static void send_vector(MSIXState *m, unsigned v)
{
    current_accel->send_msi(vector_addr(m, v),
                            pci_get_long(entry(m, v) + PCI_MSIX_ENTRY_DATA));
}

static void notifier_update(MSIXState *m, MSIXNotifier *n)
{
    bool live = n->vector < m->nentries && !vector_masked(m, n->vector);

    /* Enabling a route delivers what accumulated in the eventfd. */
    current_accel->msi_route_update(
        n->route, live ? vector_addr(m, n->vector) : 0,
        live ? pci_get_long(entry(m, n->vector) + PCI_MSIX_ENTRY_DATA) : 0,
        live);
}

/* Re-derive routes and send what became deliverable. */
static void msix_update(PCIDevice *dev)
{
    MSIXState *m = dev->msix;
    uint16_t ctrl = pci_get_word(dev->config + m->cap + PCI_MSIX_FLAGS);

    g_atomic_int_set(&m->enabled, (ctrl & PCI_MSIX_FLAGS_ENABLE) &&
                                  !(ctrl & PCI_MSIX_FLAGS_MASKALL));
    for (guint i = 0; i < m->notifiers->len; i++) {
        notifier_update(m, g_ptr_array_index(m->notifiers, i));
    }
    for (unsigned v = 0; v < m->nentries; v++) {
        if ((m->pending[v / 64] & (1ULL << (v % 64))) &&
            !vector_masked(m, v)) {
            m->pending[v / 64] &= ~(1ULL << (v % 64));
            send_vector(m, v);
        }
    }
}

static bool notifier_pending(MSIXNotifier *n)
{
    struct pollfd p = { .fd = n->fd, .events = POLLIN };

    return poll(&p, 1, 0) == 1;
}

/* The table and PBA: in a vCPU thread (or qtest's), BQL held. */
static uint64_t msix_bar_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIDevice *dev = opaque;
    MSIXState *m = dev->msix;
    uint64_t v = 0;

    if (addr < m->nentries * MSIX_ENTRY_SIZE) {
        memcpy(&v, m->table + addr, MIN(size, m->nentries * MSIX_ENTRY_SIZE -
                                               addr));
        return v;
    }
    if (addr >= MSIX_PBA_OFFSET && addr < MSIX_PBA_OFFSET + 16) {
        uint64_t bits[2] = { m->pending[0], m->pending[1] };
        for (guint i = 0; i < m->notifiers->len; i++) {
            MSIXNotifier *n = g_ptr_array_index(m->notifiers, i);
            if (n->vector < m->nentries && vector_masked(m, n->vector) &&
                notifier_pending(n)) {
                bits[n->vector / 64] |= 1ULL << (n->vector % 64);
            }
        }
        memcpy(&v, (uint8_t *)bits + (addr - MSIX_PBA_OFFSET),
               MIN(size, MSIX_PBA_OFFSET + 16 - addr));
    }
    return v;
}

static void msix_bar_write(void *opaque, uint64_t addr, uint64_t val,
                           unsigned size)
{
    PCIDevice *dev = opaque;
    MSIXState *m = dev->msix;

    if (addr >= m->nentries * MSIX_ENTRY_SIZE ||
        addr + size > m->nentries * MSIX_ENTRY_SIZE) {
        return;     /* the PBA is read-only */
    }
    memcpy(m->table + addr, &val, size);
    msix_update(dev);
}

static const MemoryRegionOps msix_bar_ops = {
    .read = msix_bar_read,
    .write = msix_bar_write,
};

bool msix_init(PCIDevice *dev, unsigned nentries, int bar, GError **errp)
{
    MSIXState *m;
    uint8_t cap;

    if (nentries == 0 || nentries > MSIX_MAX_ENTRIES) {
        error_setg(errp, "MSI-X supports 1 to %d vectors, not %u",
                   MSIX_MAX_ENTRIES, nentries);
        return false;
    }
    m = g_new0(MSIXState, 1);
    m->nentries = nentries;
    m->notifiers = g_ptr_array_new();
    dev->msix = m;
    cap = pci_add_capability(dev, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
    m->cap = cap;
    pci_set_word(dev->config + cap + PCI_MSIX_FLAGS, nentries - 1);
    pci_set_long(dev->config + cap + PCI_MSIX_TABLE, MSIX_TABLE_OFFSET | bar);
    pci_set_long(dev->config + cap + PCI_MSIX_PBA, MSIX_PBA_OFFSET | bar);
    pci_set_word(dev->wmask + cap + PCI_MSIX_FLAGS,
                 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    memory_region_init_io(&m->bar, "msix", MSIX_BAR_SIZE, &msix_bar_ops, dev);
    pci_register_bar(dev, bar, PCI_BASE_ADDRESS_SPACE_MEMORY, &m->bar);
    msix_reset(dev);
    return true;
}

void msix_uninit(PCIDevice *dev)
{
    MSIXState *m = dev->msix;

    if (!m) {
        return;
    }
    g_assert(m->notifiers->len == 0);
    g_ptr_array_unref(m->notifiers);
    memory_region_destroy(&m->bar);
    g_free(m);
    dev->msix = NULL;
}

void msix_reset(PCIDevice *dev)
{
    MSIXState *m = dev->msix;

    pci_set_word(dev->config + m->cap + PCI_MSIX_FLAGS,
                 pci_get_word(dev->config + m->cap + PCI_MSIX_FLAGS) &
                 ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
    memset(m->table, 0, sizeof(m->table));
    for (unsigned v = 0; v < m->nentries; v++) {
        pci_set_long(entry(m, v) + PCI_MSIX_ENTRY_VECTOR_CTRL,
                     MSIX_ENTRY_CTRL_MASKBIT);
    }
    memset(m->pending, 0, sizeof(m->pending));
    msix_update(dev);
}

void msix_config_write(PCIDevice *dev, uint32_t addr, unsigned len)
{
    uint8_t flags = dev->msix->cap + PCI_MSIX_FLAGS;

    if (addr < flags + 2u && addr + len > flags) {
        msix_update(dev);
    }
}

bool msix_enabled(PCIDevice *dev)
{
    return dev->msix && g_atomic_int_get(&dev->msix->enabled);
}

void msix_notify(PCIDevice *dev, unsigned vector)
{
    MSIXState *m = dev->msix;

    if (vector >= m->nentries) {
        return;
    }
    if (vector_masked(m, vector)) {
        m->pending[vector / 64] |= 1ULL << (vector % 64);
    } else {
        send_vector(m, vector);
    }
}

MSIXNotifier *msix_notifier_new_with_fd(PCIDevice *dev, int fd)
{
    MSIXNotifier *n = g_new0(MSIXNotifier, 1);

    n->dev = dev;
    n->fd = fd;
    n->vector = MSIX_NO_VECTOR;
    n->route = current_accel->msi_route_new(fd);
    g_ptr_array_add(dev->msix->notifiers, n);
    return n;
}

MSIXNotifier *msix_notifier_new(PCIDevice *dev)
{
    MSIXNotifier *n = msix_notifier_new_with_fd(dev, eventfd_new());

    n->owns_fd = true;
    return n;
}

void msix_notifier_free(MSIXNotifier *n)
{
    if (!n) {
        return;
    }
    g_ptr_array_remove(n->dev->msix->notifiers, n);
    current_accel->msi_route_free(n->route);
    if (n->owns_fd) {
        close(n->fd);
    }
    g_free(n);
}

void msix_notifier_set_vector(MSIXNotifier *n, unsigned vector)
{
    n->vector = vector;
    notifier_update(n->dev->msix, n);
}

int msix_notifier_fd(MSIXNotifier *n)
{
    return n->fd;
}

void msix_notifier_signal(MSIXNotifier *n)
{
    eventfd_signal(n->fd);
}
