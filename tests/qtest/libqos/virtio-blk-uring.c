/*
 * The io_uring passthrough of virtio-blk, driver side.
 */
#include <glib.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <string.h>

#include "virtio-blk-uring.h"

/* Polling interval while waiting for the kernel. */
#define VBU_POLL_US     50

QVirtioBlkUring *qvirtio_blk_uring_new(QTestState *qts)
{
    QVirtioBlkUring *u = g_new0(QVirtioBlkUring, 1);

    u->qts = qts;
    qpci_bus_init(&u->bus, qts);
    u->pdev = qpci_find_device(&u->bus, PCI_VENDOR_ID_VIRTIO,
                               VIRTIO_PCI_MODERN_DEVICE_ID(VIRTIO_ID_BLOCK));
    if (!u->pdev) {
        g_error("no virtio-blk-pci device on PCI bus 0");
    }
    qvirtio_pci_init(&u->vdev, u->pdev);
    u->has_shm = qvirtio_pci_find_shm(&u->vdev, VIRTIO_BLK_URING_SHM_ID,
                                      &u->shm);
    return u;
}

QVirtioBlkUring *qvirtio_blk_uring_new_at(QTestState *qts, uint8_t devfn)
{
    QVirtioBlkUring *u = g_new0(QVirtioBlkUring, 1);

    u->qts = qts;
    qpci_bus_init(&u->bus, qts);
    u->pdev = g_new0(QPCIDevice, 1);
    u->pdev->bus = &u->bus;
    u->pdev->devfn = devfn;
    if (qpci_config_readl(u->pdev, PCI_VENDOR_ID) !=
        ((uint32_t)VIRTIO_PCI_MODERN_DEVICE_ID(VIRTIO_ID_BLOCK) << 16 |
         PCI_VENDOR_ID_VIRTIO)) {
        g_error("no virtio-blk-pci device at devfn 0x%x", devfn);
    }
    qvirtio_pci_init(&u->vdev, u->pdev);
    u->has_shm = qvirtio_pci_find_shm(&u->vdev, VIRTIO_BLK_URING_SHM_ID,
                                      &u->shm);
    return u;
}

void qvirtio_blk_uring_free(QVirtioBlkUring *u)
{
    qvirtio_blk_uring_reset(u);
    g_free(u->pdev);
    g_free(u);
}

void qvirtio_blk_uring_reset(QVirtioBlkUring *u)
{
    qvirtio_pci_reset(&u->vdev);
    memset(&u->cfg, 0, sizeof(u->cfg));
    memset(u->ring, 0, sizeof(u->ring));
    u->cur = 0;
    u->rings = u->sqes = 0;
    u->sq_tail = u->sq_published = u->cq_head = 0;
}

void qvirtio_blk_uring_read_config(QVirtioBlkUring *u,
                                   QVirtioBlkUringConfig *cfg)
{
    QVirtioPCIDevice *d = &u->vdev;
    uint32_t *sq = &cfg->sq_off.head, *cq = &cfg->cq_off.head;

    cfg->sq_entries = qvirtio_pci_config_readl(d, VBU_CFG(sq_entries));
    cfg->cq_entries = qvirtio_pci_config_readl(d, VBU_CFG(cq_entries));
    cfg->setup_flags = qvirtio_pci_config_readl(d, VBU_CFG(setup_flags));
    cfg->features = qvirtio_pci_config_readl(d, VBU_CFG(features));
    G_STATIC_ASSERT(sizeof(cfg->sq_off) == 7 * 4);
    G_STATIC_ASSERT(sizeof(cfg->cq_off) == 7 * 4);
    for (unsigned i = 0; i < 7; i++) {
        sq[i] = qvirtio_pci_config_readl(d, VBU_CFG(sq_off) + 4 * i);
        cq[i] = qvirtio_pci_config_readl(d, VBU_CFG(cq_off) + 4 * i);
    }
    cfg->rings_offset = qvirtio_pci_config_readq(d, VBU_CFG(rings_offset));
    cfg->rings_size = qvirtio_pci_config_readq(d, VBU_CFG(rings_size));
    cfg->sqes_offset = qvirtio_pci_config_readq(d, VBU_CFG(sqes_offset));
    cfg->sqes_size = qvirtio_pci_config_readq(d, VBU_CFG(sqes_size));
    cfg->ram_host_base = qvirtio_pci_config_readq(d, VBU_CFG(ram_host_base));
    cfg->disk_size = qvirtio_pci_config_readq(d, VBU_CFG(disk_size));
    cfg->allowed_ops = qvirtio_pci_config_readq(d, VBU_CFG(allowed_ops));
    cfg->buf_shift = qvirtio_pci_config_readl(d, VBU_CFG(buf_shift));
    cfg->nr_bufs = qvirtio_pci_config_readl(d, VBU_CFG(nr_bufs));
    cfg->file_index = qvirtio_pci_config_readl(d, VBU_CFG(file_index));
    cfg->dma_alignment = qvirtio_pci_config_readl(d, VBU_CFG(dma_alignment));
    cfg->msix_vector = qvirtio_pci_config_readw(d, VBU_CFG(msix_vector));
    cfg->doorbell_notify_off =
        qvirtio_pci_config_readw(d, VBU_CFG(doorbell_notify_off));
    cfg->sqe_flags_required =
        qvirtio_pci_config_readb(d, VBU_CFG(sqe_flags_required));
    cfg->sqe_flags_allowed =
        qvirtio_pci_config_readb(d, VBU_CFG(sqe_flags_allowed));
    cfg->num_rings = qvirtio_pci_config_readw(d, VBU_CFG(num_rings));
    cfg->ring_select = qvirtio_pci_config_readw(d, VBU_CFG(ring_select));
}

/* Select ring i and make its state the current one. */
static void load_ring(QVirtioBlkUring *u, unsigned i)
{
    QVirtioBlkUringRing *r = &u->ring[i];

    qvirtio_pci_config_writew(&u->vdev, VBU_CFG(ring_select), i);
    u->cur = i;
    u->cfg.ring_select = i;
    u->cfg.rings_offset = r->rings_offset;
    u->cfg.sqes_offset = r->sqes_offset;
    u->cfg.msix_vector = r->msix_vector;
    u->cfg.doorbell_notify_off = r->doorbell_notify_off;
    u->rings = r->rings;
    u->sqes = r->sqes;
    u->sq_tail = r->sq_tail;
    u->sq_published = r->sq_published;
    u->cq_head = r->cq_head;
}

void qvirtio_blk_uring_use_ring(QVirtioBlkUring *u, unsigned i)
{
    g_assert_cmpuint(i, <, u->cfg.num_rings);
    u->ring[u->cur] = (QVirtioBlkUringRing){
        .rings_offset = u->cfg.rings_offset,
        .sqes_offset = u->cfg.sqes_offset,
        .msix_vector = u->cfg.msix_vector,
        .doorbell_notify_off = u->cfg.doorbell_notify_off,
        .rings = u->rings, .sqes = u->sqes, .sq_tail = u->sq_tail,
        .sq_published = u->sq_published, .cq_head = u->cq_head,
    };
    load_ring(u, i);
}

/* Ring i, selected, as the driver first finds it. */
static void set_up_ring(QVirtioBlkUring *u, unsigned i)
{
    QVirtioPCIDevice *d = &u->vdev;
    QVirtioBlkUringRing *r = &u->ring[i];

    qvirtio_pci_config_writew(d, VBU_CFG(ring_select), i);
    r->rings_offset = qvirtio_pci_config_readq(d, VBU_CFG(rings_offset));
    r->sqes_offset = qvirtio_pci_config_readq(d, VBU_CFG(sqes_offset));
    r->msix_vector = qvirtio_pci_config_readw(d, VBU_CFG(msix_vector));
    r->doorbell_notify_off =
        qvirtio_pci_config_readw(d, VBU_CFG(doorbell_notify_off));
    /* What the driver relies on to address the rings at all. */
    g_assert_cmphex(r->rings_offset + u->cfg.rings_size, <=, u->shm.length);
    g_assert_cmphex(r->sqes_offset + u->cfg.sqes_size, <=, u->shm.length);
    r->rings = u->shm.bar->addr + u->shm.offset + r->rings_offset;
    r->sqes = u->shm.bar->addr + u->shm.offset + r->sqes_offset;
    r->sq_tail = r->sq_published =
        qtest_readl(u->qts, r->rings + u->cfg.sq_off.tail);
    r->cq_head = qtest_readl(u->qts, r->rings + u->cfg.cq_off.head);
    /* Slots are used in order: array[k] = k, once. */
    for (uint32_t k = 0; k < u->cfg.sq_entries; k++) {
        qtest_writel(u->qts, r->rings + u->cfg.sq_off.array + 4 * k, k);
    }
}

uint64_t qvirtio_blk_uring_negotiate(QVirtioBlkUring *u, uint64_t wanted)
{
    uint64_t features;

    qvirtio_blk_uring_reset(u);
    features = qvirtio_pci_negotiate(&u->vdev, wanted |
                                     VIRTIO_BIT(VIRTIO_F_VERSION_1));
    if (!(features & VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH))) {
        return features;
    }
    g_assert_true(u->has_shm);
    qvirtio_blk_uring_read_config(u, &u->cfg);
    /* What the driver relies on to address the rings at all. */
    g_assert_cmpuint(u->cfg.sq_entries, !=, 0);
    g_assert_cmpuint(u->cfg.cq_entries, !=, 0);
    g_assert_cmpuint(u->cfg.num_rings, >=, 1);
    g_assert_cmpuint(u->cfg.num_rings, <=, VBU_MAX_RINGS);
    g_assert_cmphex(u->cfg.sqes_size, >=,
                    (uint64_t)u->cfg.sq_entries * VBU_SQE_SIZE);
    g_assert_cmphex(u->cfg.sq_off.array + 4ULL * u->cfg.sq_entries, <=,
                    u->cfg.rings_size);
    g_assert_cmphex(u->cfg.cq_off.cqes +
                    (uint64_t)VBU_CQE_SIZE * u->cfg.cq_entries, <=,
                    u->cfg.rings_size);
    for (unsigned i = 0; i < u->cfg.num_rings; i++) {
        set_up_ring(u, i);
    }
    load_ring(u, 0);
    return features;
}

void qvirtio_blk_uring_driver_ok(QVirtioBlkUring *u)
{
    qvirtio_pci_driver_ok(&u->vdev);
}

void qvirtio_blk_uring_start(QVirtioBlkUring *u)
{
    uint64_t features;

    features = qvirtio_blk_uring_negotiate(
        u, VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH) |
           VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
    g_assert_true(features & VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH));
    qvirtio_blk_uring_driver_ok(u);
}

uint32_t qvirtio_blk_uring_ring_readl(QVirtioBlkUring *u, uint32_t off)
{
    g_assert_cmphex(u->rings, !=, 0);
    g_assert_cmphex(off + 4ULL, <=, u->cfg.rings_size);
    return qtest_readl(u->qts, u->rings + off);
}

void qvirtio_blk_uring_ring_writel(QVirtioBlkUring *u, uint32_t off,
                                   uint32_t value)
{
    g_assert_cmphex(u->rings, !=, 0);
    g_assert_cmphex(off + 4ULL, <=, u->cfg.rings_size);
    qtest_writel(u->qts, u->rings + off, value);
}

uint32_t qvirtio_blk_uring_sq_flags(QVirtioBlkUring *u)
{
    return qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.flags);
}

uint32_t qvirtio_blk_uring_cq_flags(QVirtioBlkUring *u)
{
    return qvirtio_blk_uring_ring_readl(u, u->cfg.cq_off.flags);
}

void qvirtio_blk_uring_set_cq_flags(QVirtioBlkUring *u, uint32_t flags)
{
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.flags, flags);
}

void qvirtio_blk_uring_prep(QVirtioBlkUring *u, QUringSqe *sqe,
                            uint8_t opcode, uint64_t gpa, uint32_t len,
                            uint64_t off, uint64_t user_data)
{
    *sqe = (QUringSqe) {
        .opcode = opcode,
        .flags = u->cfg.sqe_flags_required,
        .fd = u->cfg.file_index,
        .off = off,
        .addr = u->cfg.ram_host_base + gpa,
        .len = len,
        .user_data = user_data,
        .buf_index = gpa >> u->cfg.buf_shift,
    };
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, v);
    put_le16(p + 2, v >> 16);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    put_le32(p, v);
    put_le32(p + 4, v >> 32);
}

static uint32_t get_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
    return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void encode_sqe(const QUringSqe *sqe, uint8_t *b)
{
    b[0] = sqe->opcode;
    b[1] = sqe->flags;
    put_le16(b + 2, sqe->ioprio);
    put_le32(b + 4, sqe->fd);
    put_le64(b + 8, sqe->off);
    put_le64(b + 16, sqe->addr);
    put_le32(b + 24, sqe->len);
    put_le32(b + 28, sqe->rw_flags);
    put_le64(b + 32, sqe->user_data);
    put_le16(b + 40, sqe->buf_index);
    put_le16(b + 42, sqe->personality);
    put_le32(b + 44, sqe->splice_fd_in);
    put_le64(b + 48, sqe->addr3);
    put_le64(b + 56, sqe->pad);
}

void qvirtio_blk_uring_queue_many(QVirtioBlkUring *u, const QUringSqe *sqes,
                                  unsigned n)
{
    g_assert_cmphex(u->sqes, !=, 0);
    g_assert_cmpuint(n, <=, u->cfg.sq_entries);
    while (n) {
        uint32_t slot = u->sq_tail & (u->cfg.sq_entries - 1);
        /* Slots up to the end of the array, in one write. */
        unsigned run = MIN(n, u->cfg.sq_entries - slot);
        g_autofree uint8_t *b = g_malloc(run * VBU_SQE_SIZE);

        for (unsigned i = 0; i < run; i++) {
            encode_sqe(&sqes[i], b + i * VBU_SQE_SIZE);
        }
        qtest_memwrite(u->qts, u->sqes + (uint64_t)slot * VBU_SQE_SIZE, b,
                       run * VBU_SQE_SIZE);
        u->sq_tail += run;
        sqes += run;
        n -= run;
    }
}

void qvirtio_blk_uring_queue(QVirtioBlkUring *u, const QUringSqe *sqe)
{
    qvirtio_blk_uring_queue_many(u, sqe, 1);
}

void qvirtio_blk_uring_publish(QVirtioBlkUring *u)
{
    /*
     * The SQE and array writes were separate qtest commands, done before
     * this one by the VMM's thread: on x86 its stores become visible in
     * order, which is the release the spec asks for.
     */
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.tail, u->sq_tail);
    u->sq_published = u->sq_tail;
}

void qvirtio_blk_uring_doorbell(QVirtioBlkUring *u)
{
    qvirtio_pci_notify_slot(&u->vdev, u->cfg.doorbell_notify_off, 0);
}

bool qvirtio_blk_uring_kick(QVirtioBlkUring *u)
{
    qvirtio_blk_uring_publish(u);
    if (qvirtio_blk_uring_sq_flags(u) & IORING_SQ_NEED_WAKEUP) {
        qvirtio_blk_uring_doorbell(u);
        return true;
    }
    return false;
}

bool qvirtio_blk_uring_pop_cqe(QVirtioBlkUring *u, QUringCqe *cqe)
{
    uint32_t tail = qvirtio_blk_uring_ring_readl(u, u->cfg.cq_off.tail);
    uint8_t b[VBU_CQE_SIZE];
    uint32_t slot;

    if (tail == u->cq_head) {
        return false;
    }
    slot = u->cq_head & (u->cfg.cq_entries - 1);
    qtest_memread(u->qts, u->rings + u->cfg.cq_off.cqes +
                  (uint64_t)slot * VBU_CQE_SIZE, b, sizeof(b));
    cqe->user_data = get_le64(b);
    cqe->res = (int32_t)get_le32(b + 8);
    cqe->flags = get_le32(b + 12);
    u->cq_head++;
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.head, u->cq_head);
    return true;
}

bool qvirtio_blk_uring_poll_cqe(QVirtioBlkUring *u, QUringCqe *cqe,
                                uint64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;

    while (!qvirtio_blk_uring_pop_cqe(u, cqe)) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(VBU_POLL_US);
    }
    return true;
}

void qvirtio_blk_uring_wait_cqe(QVirtioBlkUring *u, QUringCqe *cqe)
{
    if (!qvirtio_blk_uring_poll_cqe(u, cqe, VBU_TIMEOUT_US)) {
        g_error("virtio-blk-uring: no completion within %d s (SQ head %u "
                "tail %u flags 0x%x dropped %u, CQ head %u tail %u "
                "overflow %u)", VBU_TIMEOUT_US / 1000000,
                qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.head),
                qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.tail),
                qvirtio_blk_uring_sq_flags(u),
                qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.dropped),
                qvirtio_blk_uring_ring_readl(u, u->cfg.cq_off.head),
                qvirtio_blk_uring_ring_readl(u, u->cfg.cq_off.tail),
                qvirtio_blk_uring_ring_readl(u, u->cfg.cq_off.overflow));
    }
}

int32_t qvirtio_blk_uring_submit_wait(QVirtioBlkUring *u,
                                      const QUringSqe *sqe)
{
    QUringCqe cqe;

    qvirtio_blk_uring_queue(u, sqe);
    qvirtio_blk_uring_kick(u);
    qvirtio_blk_uring_wait_cqe(u, &cqe);
    g_assert_cmphex(cqe.user_data, ==, sqe->user_data);
    return cqe.res;
}

int32_t qvirtio_blk_uring_rw(QVirtioBlkUring *u, uint8_t opcode,
                             uint64_t gpa, uint32_t len, uint64_t off)
{
    QUringSqe sqe;

    qvirtio_blk_uring_prep(u, &sqe, opcode, gpa, len, off,
                           0x5a5a000000000000ULL | u->sq_tail);
    return qvirtio_blk_uring_submit_wait(u, &sqe);
}
