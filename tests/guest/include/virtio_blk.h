/*
 * virtio-blk driver for polling programs (virtio 1.2, 5.2).
 *
 * Each queue has a fixed number of request slots; a slot's request header,
 * status byte, discard/write-zeroes range and indirect descriptor table are
 * allocated once, so submitting allocates nothing.  Requests are queued with
 * virtio_blk_submit(), made visible with one virtio_blk_kick() per batch
 * (which notifies only if the device asks for it) and reaped with
 * virtio_blk_poll().  The device is told never to interrupt.
 */
#ifndef GUEST_VIRTIO_BLK_H
#define GUEST_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "virtio.h"
#include "virtio_pci.h"
#include "virtqueue.h"

/* Offsets in struct virtio_blk_config (5.2.4) */
#define VIRTIO_BLK_CFG_CAPACITY                 0
#define VIRTIO_BLK_CFG_SIZE_MAX                 8
#define VIRTIO_BLK_CFG_SEG_MAX                  12
#define VIRTIO_BLK_CFG_BLK_SIZE                 20
#define VIRTIO_BLK_CFG_PHYSICAL_BLOCK_EXP       24
#define VIRTIO_BLK_CFG_ALIGNMENT_OFFSET         25
#define VIRTIO_BLK_CFG_MIN_IO_SIZE              26
#define VIRTIO_BLK_CFG_OPT_IO_SIZE              28
#define VIRTIO_BLK_CFG_WRITEBACK                32
#define VIRTIO_BLK_CFG_NUM_QUEUES               34
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS      36
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG          40
#define VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT 44
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 48
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG     52
#define VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP   56

/* Left in the status byte if the device completes without writing it. */
#define VIRTIO_BLK_S_NOT_WRITTEN    0xff

#define VIRTIO_BLK_SECTOR_SIZE      512


/* The configuration, read once after feature negotiation. */
struct virtio_blk_info {
    uint64_t capacity;              /* 512-byte sectors */
    uint32_t size_max;              /* 0 if unlimited */
    uint32_t seg_max;               /* 0 if not given */
    uint32_t blk_size;              /* 512 if not given */
    uint8_t physical_block_exp;
    uint8_t alignment_offset;
    uint16_t min_io_size;
    uint32_t opt_io_size;
    bool writeback;                 /* volatile write cache: FLUSH matters */
    bool read_only;
    uint16_t num_queues;
    uint32_t max_discard_sectors;
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
    uint32_t max_write_zeroes_sectors;
    uint32_t max_write_zeroes_seg;
    bool write_zeroes_may_unmap;
};

struct virtio_blk;
struct virtio_blk_slot;

/*
 * A queue's state starts a cache line of its own, so that CPUs driving
 * different queues of a device do not write the same line.
 */
struct __attribute__((aligned(64))) virtio_blk_queue {
    struct virtqueue vq;
    struct virtio_blk *blk;
    bool indirect;                  /* one ring descriptor per request */
    uint16_t descs_per_slot;        /* ring descriptors a slot owns */
    uint16_t slots;                 /* requests in flight at most */
    uint16_t max_segments;          /* data descriptors per request */
    uint16_t free_count;
    uint16_t *free_slots;           /* stack of free slot numbers */
    size_t slot_stride;
    uint8_t *slot_area;             /* struct virtio_blk_slot, slot_stride apart */
    uint64_t *tags;
    uint64_t submitted;
};

#define VIRTIO_BLK_MAX_QUEUES   16

struct virtio_blk {
    struct virtio_pci_device dev;
    struct virtio_blk_info info;
    uint64_t features;              /* negotiated */
    uint32_t max_transfer;          /* bytes per READ/WRITE request */
    unsigned int num_queues;        /* set up */
    struct virtio_blk_queue queue[VIRTIO_BLK_MAX_QUEUES];
};

struct virtio_blk_options {
    uint64_t features;              /* VIRTIO_BIT() set to offer; 0: all supported */
    uint16_t queue_size;            /* 0: the device's maximum */
    uint16_t num_queues;            /* 0: 1; capped by the device's */
};

/* Everything this driver can use: the default of virtio_blk_options.features. */
#define VIRTIO_BLK_SUPPORTED_FEATURES ( \
    VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | \
    VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | \
    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) | \
    VIRTIO_BIT(VIRTIO_BLK_F_CONFIG_WCE) | VIRTIO_BIT(VIRTIO_BLK_F_MQ) | \
    VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) | \
    VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX))

/*
 * Set up the @index-th virtio-blk device (bus order, from 0).  Returns 0 or
 * a negative error (-ENODEV: no such device; others after a message).
 */
int virtio_blk_open(unsigned int index, const struct virtio_blk_options *options,
                    struct virtio_blk *blk);

/*
 * Queue one request on @q, to be reported to virtio_blk_poll()'s callback
 * with @tag.  @sector is in 512-byte units.  READ/WRITE: @len bytes at @buf
 * (physically contiguous, a multiple of 512, at most blk->max_transfer).
 * GET_ID: @buf receives VIRTIO_BLK_ID_BYTES.  FLUSH: no data.
 * DISCARD/WRITE_ZEROES: @len bytes from @sector, as one range (@unmap: let
 * WRITE_ZEROES deallocate).  Returns 0, -EBUSY if every slot is in flight,
 * -EOPNOTSUPP if the feature the request needs was not negotiated, or
 * -EINVAL/-E2BIG for a request the device cannot take.
 */
int virtio_blk_submit(struct virtio_blk_queue *q, uint32_t type, uint64_t sector,
                      void *buf, uint32_t len, bool unmap, uint64_t tag);

/* Make submitted requests visible to the device, notifying it if needed. */
void virtio_blk_kick(struct virtio_blk_queue *q);

typedef void (*virtio_blk_done_fn)(void *opaque, uint64_t tag, uint8_t status);

/*
 * Reap every completed request, calling @done for each with its tag and
 * status (VIRTIO_BLK_S_*); returns how many.  Never waits.
 */
unsigned int virtio_blk_poll(struct virtio_blk_queue *q, virtio_blk_done_fn done,
                             void *opaque);

/* "IOERR", "UNSUPP", ... for messages */
const char *virtio_blk_status_name(uint8_t status);

#endif
