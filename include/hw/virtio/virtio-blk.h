/*
 * virtio-blk (virtio 1.2, section 5.2), with QEMU's properties and the
 * io_uring passthrough extension (docs/specs/virtio-blk-uring.rst).
 */
#ifndef HW_VIRTIO_VIRTIO_BLK_H
#define HW_VIRTIO_VIRTIO_BLK_H

#include <linux/virtio_blk.h>

#include "block/aio.h"
#include "block/block-backend.h"
#include "hw/qdev.h"
#include "hw/virtio/virtio.h"

typedef struct IOThread IOThread;
typedef struct VirtIOBlkUring VirtIOBlkUring;
typedef struct VirtIOBlockReq VirtIOBlockReq;

#define VIRTIO_BLK_SECTOR_BITS  9
#define VIRTIO_BLK_SECTOR_SIZE  512
#define VIRTIO_BLK_ID_BYTES     20
#define VIRTIO_BLK_MAX_QUEUES   64
/*
 * The most data one read or write may carry; a longer one completes with
 * VIRTIO_BLK_S_IOERR.  It keeps every length within 32 bits (the used
 * ring's) and bounds the time one request holds the device.  size_max is
 * set so that a driver keeping to seg_max and size_max stays within it.
 */
#define VIRTIO_BLK_MAX_REQUEST  (1ULL << 30)

typedef struct VirtIOBlkConf {
    BlockBackend *blk;
    IOThread *iothread;
    char *serial;
    uint32_t logical_block_size;
    uint32_t physical_block_size;
    uint32_t min_io_size;
    uint32_t opt_io_size;
    uint16_t num_queues;
    uint16_t queue_size;
    bool discard;
    bool write_zeroes;
    bool config_wce;
    OnOffAuto write_cache;      /* auto: the drive's cache mode decides */
    int32_t bootindex;          /* -1: none */
    bool share_rw;              /* other processes may write the image */
    uint32_t max_discard_sectors;
    uint32_t max_write_zeroes_sectors;
    /* io_uring passthrough (hw/block/virtio-blk-uring.c) */
    bool uring_passthrough;
    OnOffAuto uring_iopoll;
    int32_t uring_sq_cpu;
    uint32_t uring_sq_idle_ms;
    uint32_t uring_entries;
    uint64_t uring_owner_memory;
    bool uring_overflow_check;  /* x-: off only to test the cgroup's bound */
    uint32_t uring_stall_warn_ms;
} VirtIOBlkConf;

/* Requests of one queue: a slot per ring entry, never allocated later. */
typedef struct VirtIOBlockQueue {
    struct VirtIOBlock *s;
    VirtQueue *vq;
    VirtIOBlockReq *reqs;
    VirtIOBlockReq *free;
    int host_notifier;
} VirtIOBlockQueue;

typedef struct VirtIOBlock {
    VirtIODevice vdev;
    VirtIOBlkConf conf;
    AioContext *ctx;            /* where the queues are served */
    bool wce;                   /* the guest-visible write cache is on */
    bool wce_default;           /* ... after a reset: write-cache= */
    bool dataplane_started;
    VirtIOBlockQueue *queues;
    VirtIOBlkUring *uring;      /* the passthrough, if configured */
} VirtIOBlock;

/*
 * For the transport: realize the device half; to take it down, unrealize
 * (stop, and let go of what the transport lent) before the transport's own
 * unrealize, and free after it (the transport unmaps the device's memory).
 */
bool virtio_blk_device_realize(VirtIOBlock *s, GError **errp);
void virtio_blk_device_unrealize(VirtIOBlock *s);
void virtio_blk_device_free(VirtIOBlock *s);
/* The virtio-blk device of dev, or NULL if dev is not virtio-blk-pci. */
VirtIOBlock *virtio_blk_pci_get_block(DeviceState *dev);
/* The transport hands over its per-queue notification eventfds. */
void virtio_blk_set_host_notifiers(VirtIOBlock *s, const int *fds);

#endif
