/*
 * The io_uring passthrough of virtio-blk: the host's io_uring, confined,
 * shared with the guest (docs/specs/virtio-blk-uring.rst).
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_H
#define HW_BLOCK_VIRTIO_BLK_URING_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct VirtIOBlock VirtIOBlock;
typedef struct VirtIOBlkUring VirtIOBlkUring;

typedef struct VirtIOBlkConf VirtIOBlkConf;

/* Defaults of the uring-* properties of virtio-blk-pci. */
#define VIRTIO_BLK_URING_SQ_CPU_ANY         (-1)
#define VIRTIO_BLK_URING_SQ_IDLE_MS_DEFAULT 1000
#define VIRTIO_BLK_URING_ENTRIES_DEFAULT    128
#define VIRTIO_BLK_URING_OWNER_MEMORY_DEFAULT (64ULL << 20)
#define VIRTIO_BLK_URING_STALL_WARN_MS_DEFAULT 30000

/* Without uring-passthrough=on: refuse a uring-* property set to other than
 * its default, which would otherwise be ignored. */
bool virtio_blk_uring_check_unused(const VirtIOBlkConf *c, GError **errp);
/* At device realize: check the host and the properties. */
VirtIOBlkUring *virtio_blk_uring_new(VirtIOBlock *s, GError **errp);
/* After virtio_init, before the transport: shared memory and doorbell. */
void virtio_blk_uring_realize(VirtIOBlkUring *u);
/* Tear the ring down and give back the transport's interrupt source. */
void virtio_blk_uring_unrealize(VirtIOBlkUring *u);
/* After the transport has unmapped the shared memory region. */
void virtio_blk_uring_free(VirtIOBlkUring *u);

size_t virtio_blk_uring_config_size(void);
uint64_t virtio_blk_uring_features(VirtIOBlkUring *u);
void virtio_blk_uring_get_config(VirtIOBlkUring *u, uint8_t *config);
void virtio_blk_uring_set_config(VirtIOBlkUring *u, const uint8_t *config);
/* FEATURES_OK: set the ring up if the driver took the feature. */
bool virtio_blk_uring_validate_features(VirtIOBlkUring *u);
void virtio_blk_uring_start(VirtIOBlkUring *u);
void virtio_blk_uring_stop(VirtIOBlkUring *u);
/* Device reset: tear the ring down. */
void virtio_blk_uring_reset(VirtIOBlkUring *u);

/*
 * block_resize: the running ring's file size limit (RLIMIT_FSIZE of its
 * owner) follows the image.  Before the image shrinks to new_size the
 * limit comes down to it, so that no write of the ring lands past the new
 * end once the file is cut; a block device cannot shrink under a ring,
 * which would still reach its end.  After the resize the limit is the
 * image's size.  Called with the BQL held.
 */
bool virtio_blk_uring_resize_prepare(VirtIOBlkUring *u, uint64_t new_size,
                                     GError **errp);
void virtio_blk_uring_resized(VirtIOBlkUring *u, uint64_t size);

#endif
