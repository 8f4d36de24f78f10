/*
 * MSI-X from the test's side.
 */
#include <glib.h>

#include "msix.h"

/* Polling interval of qpci_msix_wait, in wall-clock and virtual time. */
#define MSIX_POLL_US    100

void qpci_msix_init(QPCIMSIX *msix, QPCIDevice *dev)
{
    uint8_t cap = qpci_find_capability(dev, PCI_CAP_ID_MSIX, 0);
    uint32_t table, pba;

    g_assert_cmphex(cap, !=, 0);
    msix->dev = dev;
    msix->cap = cap;
    msix->nr_vectors = (qpci_config_readw(dev, cap + PCI_MSIX_FLAGS) &
                        PCI_MSIX_FLAGS_QSIZE) + 1;
    table = qpci_config_readl(dev, cap + PCI_MSIX_TABLE);
    pba = qpci_config_readl(dev, cap + PCI_MSIX_PBA);
    msix->table_bar = qpci_map_bar(dev, table & PCI_MSIX_BIR);
    msix->table_off = table & ~PCI_MSIX_BIR;
    msix->pba_bar = qpci_map_bar(dev, pba & PCI_MSIX_BIR);
    msix->pba_off = pba & ~PCI_MSIX_BIR;
    g_assert_cmphex(msix->table_off + msix->nr_vectors * PCI_MSIX_ENTRY_SIZE,
                    <=, msix->table_bar->size);
    g_assert_cmphex(msix->pba_off + (msix->nr_vectors + 63) / 64 * 8, <=,
                    msix->pba_bar->size);
}

static void qpci_msix_set_flags(QPCIMSIX *msix, uint16_t clear, uint16_t set)
{
    uint8_t reg = msix->cap + PCI_MSIX_FLAGS;
    uint16_t flags = qpci_config_readw(msix->dev, reg);

    qpci_config_writew(msix->dev, reg, (flags & ~clear) | set);
}

void qpci_msix_enable(QPCIMSIX *msix)
{
    qpci_msix_set_flags(msix, PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_FLAGS_ENABLE);
}

void qpci_msix_disable(QPCIMSIX *msix)
{
    qpci_msix_set_flags(msix, PCI_MSIX_FLAGS_ENABLE, 0);
}

bool qpci_msix_enabled(QPCIMSIX *msix)
{
    return qpci_config_readw(msix->dev, msix->cap + PCI_MSIX_FLAGS) &
           PCI_MSIX_FLAGS_ENABLE;
}

static uint64_t qpci_msix_entry(QPCIMSIX *msix, unsigned vector)
{
    g_assert_cmpuint(vector, <, msix->nr_vectors);
    return msix->table_off + vector * PCI_MSIX_ENTRY_SIZE;
}

void qpci_msix_set_vector(QPCIMSIX *msix, unsigned vector, uint64_t addr,
                          uint32_t data)
{
    uint64_t entry = qpci_msix_entry(msix, vector);

    qpci_msix_mask(msix, vector, true);
    qpci_bar_writel(msix->dev, msix->table_bar,
                    entry + PCI_MSIX_ENTRY_LOWER_ADDR, addr);
    qpci_bar_writel(msix->dev, msix->table_bar,
                    entry + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_bar_writel(msix->dev, msix->table_bar, entry + PCI_MSIX_ENTRY_DATA,
                    data);
    qpci_msix_mask(msix, vector, false);
}

void qpci_msix_mask(QPCIMSIX *msix, unsigned vector, bool masked)
{
    uint64_t ctrl = qpci_msix_entry(msix, vector) +
                    PCI_MSIX_ENTRY_VECTOR_CTRL;
    uint32_t v = qpci_bar_readl(msix->dev, msix->table_bar, ctrl);

    v = masked ? v | PCI_MSIX_ENTRY_CTRL_MASKBIT
               : v & ~PCI_MSIX_ENTRY_CTRL_MASKBIT;
    qpci_bar_writel(msix->dev, msix->table_bar, ctrl, v);
}

bool qpci_msix_pending(QPCIMSIX *msix, unsigned vector)
{
    uint64_t off = msix->pba_off + vector / 32 * 4;

    g_assert_cmpuint(vector, <, msix->nr_vectors);
    return qpci_bar_readl(msix->dev, msix->pba_bar, off) &
           (1u << (vector % 32));
}

bool qpci_msix_wait(QTestState *qts, uint64_t addr, uint32_t data,
                    uint64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;

    g_assert_cmphex(data, !=, 0);
    while (qtest_readl(qts, addr) != data) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        qtest_clock_step(qts, MSIX_POLL_US * 1000);
        g_usleep(MSIX_POLL_US);
    }
    qtest_writel(qts, addr, 0);
    return true;
}
