/*
 * virtio-blk, driver side.
 */
#include <glib.h>
#include <string.h>

#include "virtio-blk.h"

QVirtioBlk *qvirtio_blk_pci_new(QTestState *qts, GuestAlloc *alloc)
{
    QVirtioBlk *blk = g_new0(QVirtioBlk, 1);

    qpci_bus_init(&blk->bus, qts);
    blk->pdev = qpci_find_device(&blk->bus, PCI_VENDOR_ID_VIRTIO,
                                 VIRTIO_PCI_MODERN_DEVICE_ID(VIRTIO_ID_BLOCK));
    if (!blk->pdev) {
        g_error("no virtio-blk-pci device on PCI bus 0");
    }
    blk->alloc = alloc;
    qvirtio_pci_init(&blk->vdev, blk->pdev);
    return blk;
}

void qvirtio_blk_pci_start(QVirtioBlk *blk, const QVirtioBlkSetup *setup)
{
    uint16_t n = setup->num_queues ? setup->num_queues : 1;

    g_assert_null(blk->vqs);
    /* Its queues are split rings (virtqueue-packed.h has packed ones). */
    qvirtio_pci_negotiate(&blk->vdev,
                          (setup->features | VIRTIO_BIT(VIRTIO_F_VERSION_1)) &
                          ~VIRTIO_BIT(VIRTIO_F_RING_PACKED));
    if (setup->msix) {
        qvirtio_pci_enable_msix(&blk->vdev);
    }
    blk->capacity = qvirtio_pci_config_readq(&blk->vdev,
                                             VIRTIO_BLK_CFG_CAPACITY);
    blk->vqs = g_new0(QVirtQueue *, n);
    blk->num_vqs = n;
    for (uint16_t i = 0; i < n; i++) {
        blk->vqs[i] = qvirtio_pci_queue_setup(&blk->vdev, blk->alloc, i,
                                              setup->queue_size,
                                              setup->msix ? i
                                                  : VIRTIO_MSI_NO_VECTOR);
    }
    blk->vq = blk->vqs[0];
    qvirtio_pci_driver_ok(&blk->vdev);
}

static void qvirtio_blk_free_queues(QVirtioBlk *blk)
{
    for (uint16_t i = 0; i < blk->num_vqs; i++) {
        qvirtqueue_free(blk->vqs[i]);
    }
    g_clear_pointer(&blk->vqs, g_free);
    blk->num_vqs = 0;
    blk->vq = NULL;
}

void qvirtio_blk_pci_stop(QVirtioBlk *blk)
{
    qvirtio_pci_reset(&blk->vdev);
    qvirtio_blk_free_queues(blk);
}

QVirtioBlk *qvirtio_blk_pci_init(QTestState *qts, GuestAlloc *alloc,
                                 uint64_t wanted_features, bool msix)
{
    QVirtioBlk *blk = qvirtio_blk_pci_new(qts, alloc);
    QVirtioBlkSetup setup = { .features = wanted_features, .msix = msix };

    qvirtio_blk_pci_start(blk, &setup);
    return blk;
}

void qvirtio_blk_pci_forget(QVirtioBlk *blk)
{
    qvirtio_blk_free_queues(blk);
    g_free(blk->pdev);
    g_free(blk);
}

void qvirtio_blk_pci_free(QVirtioBlk *blk)
{
    qvirtio_pci_reset(&blk->vdev);
    qvirtio_blk_pci_forget(blk);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = v >> (8 * i);
    }
}

static void put_le64(uint8_t *p, uint64_t v)
{
    put_le32(p, v);
    put_le32(p + 4, v >> 32);
}

QVirtioBlkInflight *qvirtio_blk_submit(QVirtQueue *vq,
                                       const QVirtioBlkRequest *req,
                                       bool indirect)
{
    QVirtioBlkInflight *r = g_new0(QVirtioBlkInflight, 1);
    uint8_t hdr[VIRTIO_BLK_OUTHDR_SIZE] = { 0 };
    QVirtQueueBuffer bufs[3];
    unsigned n = 0;

    g_assert_true(!req->out_len || !req->in_len);
    put_le32(hdr, req->type);
    put_le64(hdr + 8, req->sector);
    r->hdr = guest_alloc(vq->alloc, sizeof(hdr));
    qtest_memwrite(vq->qts, r->hdr, hdr, sizeof(hdr));
    bufs[n++] = (QVirtQueueBuffer){ r->hdr, sizeof(hdr), false };

    r->payload_len = req->out_len + req->in_len;
    if (r->payload_len) {
        r->payload = guest_alloc(vq->alloc, r->payload_len);
        if (req->out_len) {
            qtest_memwrite(vq->qts, r->payload, req->out, req->out_len);
        } else {
            /* Poison, so that data the device does not write shows. */
            qtest_memset(vq->qts, r->payload, 0xa5, req->in_len);
            r->in = req->in;
        }
        bufs[n++] = (QVirtQueueBuffer){ r->payload, r->payload_len,
                                        req->in_len != 0 };
    }

    r->status = guest_alloc(vq->alloc, 1);
    qtest_writeb(vq->qts, r->status, 0xff);
    bufs[n++] = (QVirtQueueBuffer){ r->status, 1, true };

    r->head = indirect ? qvirtqueue_add_indirect(vq, bufs, n)
                       : qvirtqueue_add(vq, bufs, n);
    return r;
}

void qvirtio_blk_abandon(GuestAlloc *alloc, QVirtioBlkInflight *r)
{
    guest_free(alloc, r->hdr);
    if (r->payload_len) {
        guest_free(alloc, r->payload);
    }
    guest_free(alloc, r->status);
    g_free(r);
}

uint8_t qvirtio_blk_complete(QVirtQueue *vq, QVirtioBlkInflight *r)
{
    uint8_t status = qtest_readb(vq->qts, r->status);

    if (r->in) {
        qtest_memread(vq->qts, r->payload, r->in, r->payload_len);
    }
    qvirtio_blk_abandon(vq->alloc, r);
    return status;
}

uint8_t qvirtio_blk_request(QVirtQueue *vq, const QVirtioBlkRequest *req,
                            bool indirect)
{
    QVirtioBlkInflight *r = qvirtio_blk_submit(vq, req, indirect);
    uint16_t head;
    uint32_t len;

    qvirtqueue_kick(vq);
    if (!qvirtio_pci_wait_queue_interrupt(vq->dev, vq, QVIRTIO_TIMEOUT_US)) {
        g_error("virtio-blk: no interrupt for request type %u", req->type);
    }
    qvirtqueue_wait_used(vq, &head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(head, ==, r->head);
    /* The device wrote the in payload (if any) and the status byte. */
    g_assert_cmpuint(len, <=, req->in_len + 1);
    return qvirtio_blk_complete(vq, r);
}

uint8_t qvirtio_blk_read(QVirtQueue *vq, uint64_t sector, void *buf,
                         size_t len)
{
    QVirtioBlkRequest req = {
        .type = VIRTIO_BLK_T_IN, .sector = sector, .in = buf, .in_len = len,
    };
    return qvirtio_blk_request(vq, &req, false);
}

uint8_t qvirtio_blk_write(QVirtQueue *vq, uint64_t sector, const void *buf,
                          size_t len)
{
    QVirtioBlkRequest req = {
        .type = VIRTIO_BLK_T_OUT, .sector = sector, .out = buf,
        .out_len = len,
    };
    return qvirtio_blk_request(vq, &req, false);
}

uint8_t qvirtio_blk_flush(QVirtQueue *vq)
{
    QVirtioBlkRequest req = { .type = VIRTIO_BLK_T_FLUSH };

    return qvirtio_blk_request(vq, &req, false);
}

uint8_t qvirtio_blk_get_id(QVirtQueue *vq, char *id)
{
    QVirtioBlkRequest req = {
        .type = VIRTIO_BLK_T_GET_ID, .in = id, .in_len = VIRTIO_BLK_ID_BYTES,
    };
    return qvirtio_blk_request(vq, &req, false);
}

/* DISCARD and WRITE_ZEROES carry an array of little-endian segments. */
static uint8_t qvirtio_blk_segments(QVirtQueue *vq, uint32_t type,
                                    const QVirtioBlkSegment *segs,
                                    unsigned n)
{
    g_autofree uint8_t *out = g_malloc0(n * VIRTIO_BLK_SEGMENT_SIZE);
    QVirtioBlkRequest req = {
        .type = type, .out = out, .out_len = n * VIRTIO_BLK_SEGMENT_SIZE,
    };

    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = out + i * VIRTIO_BLK_SEGMENT_SIZE;
        put_le64(p, segs[i].sector);
        put_le32(p + 8, segs[i].num_sectors);
        put_le32(p + 12, segs[i].flags);
    }
    return qvirtio_blk_request(vq, &req, false);
}

uint8_t qvirtio_blk_discard(QVirtQueue *vq, const QVirtioBlkSegment *segs,
                            unsigned n)
{
    return qvirtio_blk_segments(vq, VIRTIO_BLK_T_DISCARD, segs, n);
}

uint8_t qvirtio_blk_write_zeroes(QVirtQueue *vq,
                                 const QVirtioBlkSegment *segs, unsigned n)
{
    return qvirtio_blk_segments(vq, VIRTIO_BLK_T_WRITE_ZEROES, segs, n);
}
