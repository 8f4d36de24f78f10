/*
 * virtio-blk io_uring passthrough (docs/specs/virtio-blk-uring.rst): the
 * device shares a host io_uring, confined to its disk and to guest RAM, in
 * virtio shared memory region 0.  The driver writes SQEs and reads CQEs
 * there; the host's SQPOLL thread picks the SQEs up, so submitting costs no
 * exit.  Only when that thread has gone to sleep does the driver ring a
 * doorbell (an ioeventfd, also without an exit).
 *
 * This driver uses SQE slots in order (array[k] = k), polls for completions
 * with the completion eventfd muted, and keeps no more requests in flight
 * than either ring has entries.
 */
#ifndef GUEST_VIRTIO_BLK_URING_H
#define GUEST_VIRTIO_BLK_URING_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/io_uring.h>
#include "virtio_blk_uring_spec.h"
#include "virtio_pci.h"

struct virtio_blk_uring {
    struct virtio_pci_device *dev;
    unsigned int index;                 /* which of the device's rings */
    struct virtio_blk_uring_config cfg;
    const struct virtio_shm_region *region;
    /* In shared memory: the kernel's and the driver's indexes and flags. */
    uint32_t *sq_head;                  /* read only for reports */
    uint32_t *sq_tail;
    uint32_t *sq_flags;
    uint32_t *sq_dropped;               /* read only for reports */
    uint32_t *sq_array;
    struct io_uring_sqe *sqes;
    uint32_t *cq_head;
    uint32_t *cq_tail;
    uint32_t *cq_flags;
    uint32_t *cq_overflow;              /* read only for reports */
    struct io_uring_cqe *cqes;
    volatile uint16_t *doorbell;
    uint32_t sq_mask;
    uint32_t cq_mask;
    uint32_t sq_next;                   /* SQ tail after the queued requests */
    uint32_t sq_published;              /* SQ tail the kernel has seen */
    uint32_t cq_next;                   /* CQ head: next CQE to reap */
    uint32_t in_flight;                 /* queued and not yet reaped */
    uint32_t max_in_flight;
    bool broken;                        /* the CQ made no sense */
    uint64_t submitted;                 /* counters for reports */
    uint64_t kicks;
    uint64_t doorbells;
};

/*
 * Take over ring 0 of @dev, which has accepted FEATURES_OK with
 * VIRTIO_BLK_F_URING_PASSTHROUGH: read the configuration, locate the rings
 * in shared memory region 0, fill the SQ array and mute the completion
 * eventfd.  Valid before or after DRIVER_OK (the kernel reads the SQ only
 * from then on).  Returns 0, or -EPROTO after printing what is wrong.
 */
int virtio_blk_uring_attach(struct virtio_pci_device *dev, struct virtio_blk_uring *r);

/* The rings @dev offers, one per virtqueue (1 on a device of one ring). */
unsigned int virtio_blk_uring_num_rings(struct virtio_pci_device *dev);

/*
 * The same for ring @index (below virtio_blk_uring_num_rings()).  It selects
 * the ring in the device's configuration (ring_select), which is the
 * device's, not the CPU's: attach a device's rings one after the other, on
 * one CPU; once attached, each ring can be driven from a CPU of its own.
 */
int virtio_blk_uring_attach_ring(struct virtio_pci_device *dev, unsigned int index,
                                 struct virtio_blk_uring *r);

/*
 * Queue a read (IORING_OP_READ_FIXED) or write (IORING_OP_WRITE_FIXED) of
 * @len bytes at disk offset @offset to/from @buf (identity-mapped guest RAM
 * within one fixed-buffer window, aligned to cfg.dma_alignment, as are
 * @offset and @len); @user_data comes back with its completion.  Returns 0,
 * -EBUSY if max_in_flight requests are out, -EROFS for a write to a
 * read-only drive, -EOPNOTSUPP if the device does not allow @opcode, -EINVAL
 * for a misaligned request or one that crosses a window.
 */
int virtio_blk_uring_submit(struct virtio_blk_uring *r, uint8_t opcode, uint64_t offset,
                            void *buf, uint32_t len, uint64_t user_data);

/* Publish the queued SQEs; ring the doorbell if the SQPOLL thread sleeps. */
void virtio_blk_uring_kick(struct virtio_blk_uring *r);

/*
 * The ring as it is in shared memory, for a report when requests stop
 * completing: the kernel's SQ head, flags and dropped count, the CQ tail
 * and overflow count, and the driver's SQ tail and CQ head.
 */
struct virtio_blk_uring_state {
    uint32_t sq_head, sq_tail, sq_flags, sq_dropped;
    uint32_t cq_head, cq_tail, cq_flags, cq_overflow;
};

void virtio_blk_uring_read_state(const struct virtio_blk_uring *r,
                                 struct virtio_blk_uring_state *s);

/*
 * The SQE request @sq_index (the SQ tail when it was queued) went to; a
 * later request may have reused it since the kernel consumed it.
 */
const struct io_uring_sqe *virtio_blk_uring_sqe(const struct virtio_blk_uring *r,
                                                uint32_t sq_index);

/*
 * Ring the doorbell, whatever the SQ flags say: the device wakes the SQPOLL
 * thread if it sleeps.  virtio_blk_uring_kick() rings it when needed.
 */
void virtio_blk_uring_ring_doorbell(struct virtio_blk_uring *r);

/* @res: bytes transferred or a negative Linux errno (guest_errno.h values). */
typedef void (*virtio_blk_uring_done_fn)(void *opaque, uint64_t user_data, int32_t res);

/* Reap every CQE there is, calling @done for each; returns how many. */
unsigned int virtio_blk_uring_poll(struct virtio_blk_uring *r, virtio_blk_uring_done_fn done,
                                   void *opaque);

#endif
