/*
 * virtio-blk, driver side (virtio 1.2, section 5.2): device set-up over
 * PCI, configuration layout and requests (IN, OUT, FLUSH, GET_ID, DISCARD,
 * WRITE_ZEROES), each a chain of header, payload and status byte.
 */
#ifndef LIBQOS_VIRTIO_BLK_H
#define LIBQOS_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_blk.h>

#include "virtio-pci.h"

/* Feature bits */
#define VIRTIO_BLK_F_LIFETIME           15

/* struct virtio_blk_config */
#define VIRTIO_BLK_CFG_CAPACITY                 0
#define VIRTIO_BLK_CFG_SIZE_MAX                 8
#define VIRTIO_BLK_CFG_SEG_MAX                  12
#define VIRTIO_BLK_CFG_GEOMETRY                 16
#define VIRTIO_BLK_CFG_BLK_SIZE                 20
#define VIRTIO_BLK_CFG_TOPOLOGY                 24
#define VIRTIO_BLK_CFG_WRITEBACK                32
#define VIRTIO_BLK_CFG_NUM_QUEUES               34
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS      36
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG          40
#define VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT 44
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 48
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG     52
#define VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP   56

#define VIRTIO_BLK_SECTOR_SIZE          512
#define VIRTIO_BLK_OUTHDR_SIZE          16
#define VIRTIO_BLK_SEGMENT_SIZE         16

/* A range of a DISCARD or WRITE_ZEROES request. */
typedef struct QVirtioBlkSegment {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
} QVirtioBlkSegment;

/* A request; the payload goes to the device (out) or comes back (in). */
typedef struct QVirtioBlkRequest {
    uint32_t type;
    uint64_t sector;
    const void *out;
    size_t out_len;
    void *in;
    size_t in_len;
} QVirtioBlkRequest;

/* A request submitted and not yet completed: its guest buffers. */
typedef struct QVirtioBlkInflight {
    uint16_t head;
    uint64_t hdr, payload, status;
    size_t payload_len;
    void *in;
} QVirtioBlkInflight;

/* A virtio-blk-pci device driven by the test, with its queues. */
typedef struct QVirtioBlk {
    QPCIBus bus;
    QPCIDevice *pdev;
    QVirtioPCIDevice vdev;
    GuestAlloc *alloc;
    QVirtQueue *vq;             /* vqs[0] */
    QVirtQueue **vqs;
    uint16_t num_vqs;
    uint64_t capacity;          /* in 512-byte sectors */
} QVirtioBlk;

/* How the driver sets the device up. */
typedef struct QVirtioBlkSetup {
    uint64_t features;          /* wanted, besides VERSION_1 */
    bool msix;                  /* MSI-X, vector i for queue i; else INTx */
    uint16_t num_queues;        /* queues set up (0: 1) */
    uint16_t queue_size;        /* 0: the device's maximum */
} QVirtioBlkSetup;

/* Find the first virtio-blk-pci device; it is not initialized yet. */
QVirtioBlk *qvirtio_blk_pci_new(QTestState *qts, GuestAlloc *alloc);
/*
 * The initialization sequence: negotiate the features, set up the queues,
 * DRIVER_OK.  Also after qvirtio_blk_pci_stop(), to start over.
 */
void qvirtio_blk_pci_start(QVirtioBlk *blk, const QVirtioBlkSetup *setup);
/* Reset the device and free the queues. */
void qvirtio_blk_pci_stop(QVirtioBlk *blk);

/*
 * Find the first virtio-blk-pci device, negotiate the wanted features (plus
 * VERSION_1), set up queue 0 (with MSI-X vector 0 if msix), DRIVER_OK.
 */
QVirtioBlk *qvirtio_blk_pci_init(QTestState *qts, GuestAlloc *alloc,
                                 uint64_t wanted_features, bool msix);
/* Reset the device and free everything. */
void qvirtio_blk_pci_free(QVirtioBlk *blk);
/* Free everything without a word to the device: once the VMM is gone. */
void qvirtio_blk_pci_forget(QVirtioBlk *blk);

/* Put the request's chain on vq, not yet kicked. */
QVirtioBlkInflight *qvirtio_blk_submit(QVirtQueue *vq,
                                       const QVirtioBlkRequest *req,
                                       bool indirect);
/* Once the device used it: copy the in payload back, free, status. */
uint8_t qvirtio_blk_complete(QVirtQueue *vq, QVirtioBlkInflight *r);
/*
 * Free the buffers of a request whose outcome does not matter (the device
 * was reset, or the VMM is gone); its descriptors go with the queue.
 */
void qvirtio_blk_abandon(GuestAlloc *alloc, QVirtioBlkInflight *r);
/* Submit, kick, wait for the device and complete; returns the status. */
uint8_t qvirtio_blk_request(QVirtQueue *vq, const QVirtioBlkRequest *req,
                            bool indirect);

uint8_t qvirtio_blk_read(QVirtQueue *vq, uint64_t sector, void *buf,
                         size_t len);
uint8_t qvirtio_blk_write(QVirtQueue *vq, uint64_t sector, const void *buf,
                          size_t len);
uint8_t qvirtio_blk_flush(QVirtQueue *vq);
/* id: VIRTIO_BLK_ID_BYTES, not necessarily NUL-terminated. */
uint8_t qvirtio_blk_get_id(QVirtQueue *vq, char *id);
uint8_t qvirtio_blk_discard(QVirtQueue *vq, const QVirtioBlkSegment *segs,
                            unsigned n);
uint8_t qvirtio_blk_write_zeroes(QVirtQueue *vq,
                                 const QVirtioBlkSegment *segs, unsigned n);

#endif
