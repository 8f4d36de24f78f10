/*
 * The io_uring passthrough of virtio-blk as docs/specs/virtio-blk-uring.rst
 * defines it: the feature bit, the shared memory region, and the layout of
 * the extension's device configuration fields.  Shared by the device
 * (hw/block/virtio-blk-uring.c), libqos and the guest programs' driver, so
 * that the three cannot disagree; it needs only the kernel's UAPI types.
 *
 * Fields are little-endian, as in the rest of virtio 1.x configuration.
 * Every field is naturally aligned, so the structure needs no packing;
 * the checks below hold it to the spec's table.
 */
#ifndef VIRTIO_BLK_URING_SPEC_H
#define VIRTIO_BLK_URING_SPEC_H

#include <linux/types.h>

#define VIRTIO_BLK_F_URING_PASSTHROUGH  23

/* The rings and SQE arrays are in this virtio shared memory region. */
#define VIRTIO_BLK_URING_SHM_ID         0

/* Where the extension's fields start in the device configuration space. */
#define VIRTIO_BLK_URING_CONFIG_OFFSET  0x100

/* The kernel's io_sqring_offsets and io_cqring_offsets, field by field. */
struct virtio_blk_uring_sq_offsets {
    __le32 head, tail, ring_mask, ring_entries, flags, dropped, array;
};

struct virtio_blk_uring_cq_offsets {
    __le32 head, tail, ring_mask, ring_entries, overflow, cqes, flags;
};

struct virtio_blk_uring_config {
    __le32 sq_entries;
    __le32 cq_entries;
    __le32 setup_flags;                 /* IORING_SETUP_* */
    __le32 features;                    /* IORING_FEAT_* */
    struct virtio_blk_uring_sq_offsets sq_off;
    struct virtio_blk_uring_cq_offsets cq_off;
    __le64 rings_offset;                /* of the selected ring, in the region */
    __le64 rings_size;
    __le64 sqes_offset;                 /* of the selected ring */
    __le64 sqes_size;
    __le64 ram_host_base;               /* host address of guest physical 0 */
    __le64 disk_size;                   /* bytes */
    __le64 allowed_ops;                 /* bit n: IORING_OP n allowed */
    __le32 buf_shift;                   /* log2 of a fixed buffer's window */
    __le32 nr_bufs;
    __le32 file_index;
    __le32 dma_alignment;               /* of offsets, lengths, addresses */
    __le16 msix_vector;                 /* of the selected ring (read-write) */
    __le16 doorbell_notify_off;         /* of the selected ring */
    __u8 sqe_flags_required;
    __u8 sqe_flags_allowed;
    __le16 num_rings;
    __le16 ring_select;                 /* read-write */
    __u8 reserved[6];
};

/* A field's offset in the device configuration space. */
#define VIRTIO_BLK_URING_CFG(field) \
    (VIRTIO_BLK_URING_CONFIG_OFFSET + \
     __builtin_offsetof(struct virtio_blk_uring_config, field))

/* Where the extension's fields end: the configuration space's minimum size. */
#define VIRTIO_BLK_URING_CONFIG_END \
    (VIRTIO_BLK_URING_CONFIG_OFFSET + sizeof(struct virtio_blk_uring_config))

/* The spec's table, checked. */
_Static_assert(VIRTIO_BLK_URING_CFG(sq_off) == 0x110, "sq_off");
_Static_assert(VIRTIO_BLK_URING_CFG(cq_off) == 0x12c, "cq_off");
_Static_assert(VIRTIO_BLK_URING_CFG(rings_offset) == 0x148, "rings_offset");
_Static_assert(VIRTIO_BLK_URING_CFG(allowed_ops) == 0x178, "allowed_ops");
_Static_assert(VIRTIO_BLK_URING_CFG(msix_vector) == 0x190, "msix_vector");
_Static_assert(VIRTIO_BLK_URING_CFG(num_rings) == 0x196, "num_rings");
_Static_assert(VIRTIO_BLK_URING_CFG(ring_select) == 0x198, "ring_select");
_Static_assert(VIRTIO_BLK_URING_CONFIG_END == 0x1a0, "size");

#endif
