/*
 * The io_uring passthrough of virtio-blk, driver side
 * (docs/specs/virtio-blk-uring.rst): negotiation of feature bit 23, the
 * configuration fields at 0x100, the SQ ring, CQ ring and SQE array in
 * shared memory region 0 (BAR 2), the doorbell and the completion vector.
 *
 * Under -accel qtest the test plays the guest: ring accesses are qtest
 * memory reads and writes of the BAR, which land in the io_uring's own
 * memory, and the host kernel's SQPOLL thread consumes the SQEs.  The
 * virtual clock does not drive the kernel, so waits are bounded in
 * wall-clock time.
 */
#ifndef LIBQOS_VIRTIO_BLK_URING_H
#define LIBQOS_VIRTIO_BLK_URING_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio-blk.h"
#include "virtio_blk_uring_spec.h"

/* A configuration field's offset */
#define VBU_CFG(field)  VIRTIO_BLK_URING_CFG(field)

/* As many rings as virtqueues, at most */
#define VBU_MAX_RINGS                   64

/* io_uring's fixed sizes (without SQE128 and CQE32) */
#define VBU_SQE_SIZE                    64
#define VBU_CQE_SIZE                    16

/* How long the driver waits for a completion before it fails. */
#define VBU_TIMEOUT_US                  (5 * 1000 * 1000)

typedef struct QVirtioBlkUringConfig {
    uint32_t sq_entries, cq_entries, setup_flags, features;
    struct {
        uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array;
    } sq_off;
    struct {
        uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags;
    } cq_off;
    uint64_t rings_offset, rings_size, sqes_offset, sqes_size;
    uint64_t ram_host_base, disk_size, allowed_ops;
    uint32_t buf_shift, nr_bufs, file_index, dma_alignment;
    uint16_t msix_vector, doorbell_notify_off;
    uint8_t sqe_flags_required, sqe_flags_allowed;
    uint16_t num_rings, ring_select;
} QVirtioBlkUringConfig;

/* What the driver keeps of each ring; the current one is in QVirtioBlkUring. */
typedef struct QVirtioBlkUringRing {
    uint64_t rings_offset, sqes_offset;
    uint16_t msix_vector, doorbell_notify_off;
    uint64_t rings, sqes;
    uint32_t sq_tail, sq_published, cq_head;
} QVirtioBlkUringRing;

/* An SQE, field by field (struct io_uring_sqe, 64 bytes). */
typedef struct QUringSqe {
    uint8_t opcode;
    uint8_t flags;
    uint16_t ioprio;
    int32_t fd;
    uint64_t off;
    uint64_t addr;
    uint32_t len;
    uint32_t rw_flags;
    uint64_t user_data;
    uint16_t buf_index;
    uint16_t personality;
    int32_t splice_fd_in;
    uint64_t addr3;
    uint64_t pad;
} QUringSqe;

/* A CQE (struct io_uring_cqe, 16 bytes). */
typedef struct QUringCqe {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
} QUringCqe;

typedef struct QVirtioBlkUring {
    QTestState *qts;
    QPCIBus bus;
    QPCIDevice *pdev;
    QVirtioPCIDevice vdev;
    bool has_shm;
    QVirtioPCIShm shm;          /* shared memory region 0 */

    /*
     * Valid once the feature is negotiated (qvirtio_blk_uring_negotiate),
     * for the current ring (qvirtio_blk_uring_use_ring): cfg's per-ring
     * fields too.
     */
    QVirtioBlkUringConfig cfg;
    uint64_t rings;             /* guest physical address of the rings */
    uint64_t sqes;              /* ... and of the SQE array */

    uint32_t sq_tail;           /* SQEs written up to here */
    uint32_t sq_published;      /* tail as last stored in the SQ ring */
    uint32_t cq_head;           /* CQEs consumed up to here */

    unsigned cur;               /* the current ring */
    QVirtioBlkUringRing ring[VBU_MAX_RINGS];  /* the others' state */
} QVirtioBlkUring;

/* Find the first virtio-blk-pci device and set up its transport. */
QVirtioBlkUring *qvirtio_blk_uring_new(QTestState *qts);
/* The same for the virtio-blk-pci device at devfn on bus 0. */
QVirtioBlkUring *qvirtio_blk_uring_new_at(QTestState *qts, uint8_t devfn);
/* Reset the device and free the driver. */
void qvirtio_blk_uring_free(QVirtioBlkUring *u);

/*
 * Reset, then negotiate wanted (plus VERSION_1) up to FEATURES_OK, which
 * must stick.  With the extension negotiated, read its configuration,
 * locate every ring and fill its SQ array in order (array[k] = k); ring 0
 * is then the current one.  Returns the negotiated features.
 */
uint64_t qvirtio_blk_uring_negotiate(QVirtioBlkUring *u, uint64_t wanted);
/* Set DRIVER_OK: the kernel starts consuming SQEs. */
void qvirtio_blk_uring_driver_ok(QVirtioBlkUring *u);
/* Both: a ready ring, with the extension (and VIRTIO_BLK_F_FLUSH). */
void qvirtio_blk_uring_start(QVirtioBlkUring *u);
/* Reset the device (status 0, wait for it to read back 0). */
void qvirtio_blk_uring_reset(QVirtioBlkUring *u);

/*
 * Make ring i the one the functions here use (it must be below num_rings),
 * and select it in the configuration (ring_select).
 */
void qvirtio_blk_uring_use_ring(QVirtioBlkUring *u, unsigned i);

/* Read all configuration fields of the extension. */
void qvirtio_blk_uring_read_config(QVirtioBlkUring *u,
                                   QVirtioBlkUringConfig *cfg);

/* 32-bit fields of the SQ/CQ rings, at an offset from sq_off/cq_off. */
uint32_t qvirtio_blk_uring_ring_readl(QVirtioBlkUring *u, uint32_t off);
void qvirtio_blk_uring_ring_writel(QVirtioBlkUring *u, uint32_t off,
                                   uint32_t value);
uint32_t qvirtio_blk_uring_sq_flags(QVirtioBlkUring *u);
uint32_t qvirtio_blk_uring_cq_flags(QVirtioBlkUring *u);
void qvirtio_blk_uring_set_cq_flags(QVirtioBlkUring *u, uint32_t flags);

/*
 * An SQE for opcode on the disk as the spec asks: the required flags, the
 * disk's fixed file, addr = ram_host_base + gpa, buf_index = gpa >>
 * buf_shift.
 */
void qvirtio_blk_uring_prep(QVirtioBlkUring *u, QUringSqe *sqe,
                            uint8_t opcode, uint64_t gpa, uint32_t len,
                            uint64_t off, uint64_t user_data);

/* Write an SQE into the next slot, not yet published. */
void qvirtio_blk_uring_queue(QVirtioBlkUring *u, const QUringSqe *sqe);
/* The same for n SQEs (at most sq_entries), in as few writes as it can. */
void qvirtio_blk_uring_queue_many(QVirtioBlkUring *u, const QUringSqe *sqes,
                                  unsigned n);
/* Store the SQ tail (what was queued becomes visible to the kernel). */
void qvirtio_blk_uring_publish(QVirtioBlkUring *u);
/* Publish, then ring the doorbell if the SQ flags ask for it (true then). */
bool qvirtio_blk_uring_kick(QVirtioBlkUring *u);
/* Ring the doorbell unconditionally. */
void qvirtio_blk_uring_doorbell(QVirtioBlkUring *u);

/* Consume the next CQE if there is one. */
bool qvirtio_blk_uring_pop_cqe(QVirtioBlkUring *u, QUringCqe *cqe);
/* The same, waiting up to timeout_us; false on timeout. */
bool qvirtio_blk_uring_poll_cqe(QVirtioBlkUring *u, QUringCqe *cqe,
                                uint64_t timeout_us);
/* Wait up to VBU_TIMEOUT_US for the next CQE; aborts the test otherwise. */
void qvirtio_blk_uring_wait_cqe(QVirtioBlkUring *u, QUringCqe *cqe);

/*
 * Queue one SQE, kick, wait for the next CQE, check that it is this SQE's
 * (user_data) and return res.
 */
int32_t qvirtio_blk_uring_submit_wait(QVirtioBlkUring *u,
                                      const QUringSqe *sqe);
/* The same for a request prepared by qvirtio_blk_uring_prep. */
int32_t qvirtio_blk_uring_rw(QVirtioBlkUring *u, uint8_t opcode,
                             uint64_t gpa, uint32_t len, uint64_t off);

#endif
