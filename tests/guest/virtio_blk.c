/*
 * virtio-blk driver (virtio 1.2, 5.2) over the PCI transport.
 *
 * A request is a descriptor chain: the 16-byte header (device-readable),
 * the data (device-writable for reads and GET_ID), the status byte
 * (device-writable).  With VIRTIO_F_INDIRECT_DESC each slot's chain lives
 * in the slot's own indirect table and takes one ring descriptor, so a
 * queue of N entries carries N requests; without it slot s owns ring
 * descriptors [s * D, (s + 1) * D), D = 2 + data segments.  Either way the
 * head descriptor number identifies the slot when the request comes back.
 */
#include "virtio_blk.h"

#include "exit.h"
#include "guest_errno.h"
#include "libc.h"
#include "memory.h"
#include "virtio.h"

#define SLOT_ALIGN          64      /* one slot per cache line at least */
/* Data segments per request at most, when the device limits segment size. */
#define MAX_SEGMENTS        32
/* Largest READ/WRITE without a segment size limit: descriptor len is 32-bit. */
#define MAX_SINGLE_SEGMENT  (0xffffffffu & ~(VIRTIO_BLK_SECTOR_SIZE - 1))

struct virtio_blk_slot {
    struct virtio_blk_outhdr hdr;
    struct virtio_blk_discard_write_zeroes range;
    uint8_t status;
    uint8_t in_flight;          /* driver bookkeeping, not seen by the device */
    uint8_t padding[14];
    struct virtq_desc table[];  /* indirect chain: header, data..., status */
};

static bool has(const struct virtio_blk *blk, unsigned int feature)
{
    return blk->features & VIRTIO_BIT(feature);
}

static void read_config(struct virtio_blk *blk)
{
    struct virtio_pci_device *dev = &blk->dev;
    struct virtio_blk_info *info = &blk->info;
    uint8_t generation;

    do {
        generation = virtio_pci_config_generation(dev);
        *info = (struct virtio_blk_info){
            .capacity = virtio_pci_config_read64(dev, VIRTIO_BLK_CFG_CAPACITY),
            .blk_size = VIRTIO_BLK_SECTOR_SIZE,
            .num_queues = 1,
            .read_only = has(blk, VIRTIO_BLK_F_RO),
        };
        if (has(blk, VIRTIO_BLK_F_SIZE_MAX)) {
            info->size_max = virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_SIZE_MAX);
        }
        if (has(blk, VIRTIO_BLK_F_SEG_MAX)) {
            info->seg_max = virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_SEG_MAX);
        }
        if (has(blk, VIRTIO_BLK_F_BLK_SIZE)) {
            info->blk_size = virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_BLK_SIZE);
        }
        if (has(blk, VIRTIO_BLK_F_TOPOLOGY)) {
            info->physical_block_exp =
                virtio_pci_config_read8(dev, VIRTIO_BLK_CFG_PHYSICAL_BLOCK_EXP);
            info->alignment_offset =
                virtio_pci_config_read8(dev, VIRTIO_BLK_CFG_ALIGNMENT_OFFSET);
            info->min_io_size = virtio_pci_config_read16(dev, VIRTIO_BLK_CFG_MIN_IO_SIZE);
            info->opt_io_size = virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_OPT_IO_SIZE);
        }
        /* 5.2.5.1: without CONFIG_WCE, FLUSH alone implies a writeback cache. */
        if (has(blk, VIRTIO_BLK_F_CONFIG_WCE)) {
            info->writeback = virtio_pci_config_read8(dev, VIRTIO_BLK_CFG_WRITEBACK);
        } else {
            info->writeback = has(blk, VIRTIO_BLK_F_FLUSH);
        }
        if (has(blk, VIRTIO_BLK_F_MQ)) {
            info->num_queues = virtio_pci_config_read16(dev, VIRTIO_BLK_CFG_NUM_QUEUES);
        }
        if (has(blk, VIRTIO_BLK_F_DISCARD)) {
            info->max_discard_sectors =
                virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS);
            info->max_discard_seg =
                virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_MAX_DISCARD_SEG);
            info->discard_sector_alignment =
                virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT);
        }
        if (has(blk, VIRTIO_BLK_F_WRITE_ZEROES)) {
            info->max_write_zeroes_sectors =
                virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS);
            info->max_write_zeroes_seg =
                virtio_pci_config_read32(dev, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG);
            info->write_zeroes_may_unmap =
                virtio_pci_config_read8(dev, VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP);
        }
    } while (generation != virtio_pci_config_generation(dev));
}

/* Split READ/WRITE data only if the device limits the segment size. */
static uint16_t data_segments(const struct virtio_blk *blk)
{
    uint32_t limit = blk->info.seg_max ? blk->info.seg_max : MAX_SEGMENTS;

    if (!blk->info.size_max) {
        return 1;
    }
    return limit < MAX_SEGMENTS ? limit : MAX_SEGMENTS;
}

static struct virtio_blk_slot *slot_at(const struct virtio_blk_queue *q,
                                       unsigned int slot)
{
    return (struct virtio_blk_slot *)(q->slot_area + slot * q->slot_stride);
}

static int setup_queue(struct virtio_blk *blk, uint16_t index, uint16_t size)
{
    struct virtio_blk_queue *q = &blk->queue[index];
    uint16_t max = virtio_pci_queue_max_size(&blk->dev, index);
    int ret;

    if (!size || size > max) {
        size = max;
    }
    *q = (struct virtio_blk_queue){ .blk = blk,
                                    .indirect = has(blk, VIRTIO_F_INDIRECT_DESC) };
    ret = virtio_pci_setup_queue(&blk->dev, index, size, &q->vq);
    if (ret) {
        return ret;
    }
    q->max_segments = data_segments(blk);
    /* An indirect table may not have more entries than the queue (2.7.5.3.1). */
    if (q->max_segments + 2 > size) {
        q->max_segments = size > 2 ? size - 2 : 0;
    }
    q->descs_per_slot = q->indirect ? 1 : 2 + q->max_segments;
    q->slots = size / q->descs_per_slot;
    if (!q->max_segments || !q->slots) {
        printf("%s: queue %u of %u entries is too small\n", blk->dev.name, index, size);
        return -EINVAL;
    }

    q->slot_stride = sizeof(struct virtio_blk_slot);
    if (q->indirect) {
        q->slot_stride += sizeof(struct virtq_desc) * (2 + q->max_segments);
    }
    q->slot_stride = (q->slot_stride + SLOT_ALIGN - 1) & ~(size_t)(SLOT_ALIGN - 1);
    q->slot_area = guest_alloc(q->slot_stride * q->slots, SLOT_ALIGN);
    memset(q->slot_area, 0, q->slot_stride * q->slots);
    q->tags = guest_alloc(sizeof(*q->tags) * q->slots, 8);
    q->free_slots = guest_alloc(sizeof(*q->free_slots) * q->slots, 2);
    /* Hand out low slots first: their descriptors stay warm in the cache. */
    for (uint16_t i = 0; i < q->slots; i++) {
        q->free_slots[i] = q->slots - 1 - i;
    }
    q->free_count = q->slots;
    return 0;
}

int virtio_blk_open(unsigned int index, const struct virtio_blk_options *options,
                    struct virtio_blk *blk)
{
    struct virtio_pci_device *dev = &blk->dev;
    uint16_t queues = options->num_queues ? options->num_queues : 1;
    int ret = virtio_pci_find(VIRTIO_ID_BLOCK, index, dev);

    if (ret) {
        return ret;
    }
    ret = virtio_pci_negotiate(dev, options->features ? options->features
                                                      : VIRTIO_BLK_SUPPORTED_FEATURES);
    if (ret) {
        return ret;
    }
    blk->features = dev->features;
    read_config(blk);

    if (queues > blk->info.num_queues) {
        queues = blk->info.num_queues;
    }
    if (queues > VIRTIO_BLK_MAX_QUEUES) {
        queues = VIRTIO_BLK_MAX_QUEUES;
    }
    blk->max_transfer = MAX_SINGLE_SEGMENT;
    for (blk->num_queues = 0; blk->num_queues < queues; blk->num_queues++) {
        struct virtio_blk_queue *q = &blk->queue[blk->num_queues];

        ret = setup_queue(blk, blk->num_queues, options->queue_size);
        if (ret) {
            virtio_pci_fail(dev);
            return ret;
        }
        if (blk->info.size_max) {
            uint64_t max = (uint64_t)blk->info.size_max * q->max_segments &
                           ~(uint64_t)(VIRTIO_BLK_SECTOR_SIZE - 1);

            if (max < blk->max_transfer) {
                blk->max_transfer = max;
            }
        }
    }
    return virtio_pci_driver_ok(dev);
}

/* Check a request against the negotiated features and the device's limits. */
static int check_request(const struct virtio_blk *blk, uint32_t type, void *buf,
                         uint32_t len)
{
    uint32_t sectors = len / VIRTIO_BLK_SECTOR_SIZE;

    switch (type) {
    case VIRTIO_BLK_T_OUT:
        if (blk->info.read_only) {
            return -EROFS;
        }
        /* fall through */
    case VIRTIO_BLK_T_IN:
        if (!buf || !len || len % VIRTIO_BLK_SECTOR_SIZE) {
            return -EINVAL;
        }
        return len > blk->max_transfer ? -E2BIG : 0;
    case VIRTIO_BLK_T_FLUSH:
        return has(blk, VIRTIO_BLK_F_FLUSH) ? 0 : -EOPNOTSUPP;
    case VIRTIO_BLK_T_GET_ID:
        return buf ? 0 : -EINVAL;
    case VIRTIO_BLK_T_DISCARD:
        if (!has(blk, VIRTIO_BLK_F_DISCARD)) {
            return -EOPNOTSUPP;
        }
        if (!sectors || len % VIRTIO_BLK_SECTOR_SIZE) {
            return -EINVAL;
        }
        return blk->info.max_discard_sectors && sectors > blk->info.max_discard_sectors
               ? -E2BIG : 0;
    case VIRTIO_BLK_T_WRITE_ZEROES:
        if (!has(blk, VIRTIO_BLK_F_WRITE_ZEROES)) {
            return -EOPNOTSUPP;
        }
        if (blk->info.read_only) {
            return -EROFS;
        }
        if (!sectors || len % VIRTIO_BLK_SECTOR_SIZE) {
            return -EINVAL;
        }
        return blk->info.max_write_zeroes_sectors &&
               sectors > blk->info.max_write_zeroes_sectors ? -E2BIG : 0;
    }
    return -EINVAL;
}

int virtio_blk_submit(struct virtio_blk_queue *q, uint32_t type, uint64_t sector,
                      void *buf, uint32_t len, bool unmap, uint64_t tag)
{
    const struct virtio_blk *blk = q->blk;
    struct virtio_blk_slot *s;
    struct virtq_desc *chain;
    uint16_t slot, first, n = 0;
    uint64_t data = (uintptr_t)buf;
    uint16_t data_flags = 0;
    int ret = check_request(blk, type, buf, len);

    if (ret) {
        return ret;
    }
    if (!q->free_count) {
        return -EBUSY;
    }
    slot = q->free_slots[--q->free_count];
    s = slot_at(q, slot);
    s->hdr = (struct virtio_blk_outhdr){ .type = type,
        .sector = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT ? sector : 0 };
    s->status = VIRTIO_BLK_S_NOT_WRITTEN;
    s->in_flight = 1;

    switch (type) {
    case VIRTIO_BLK_T_IN:
        data_flags = VIRTQ_DESC_F_WRITE;
        break;
    case VIRTIO_BLK_T_GET_ID:
        data_flags = VIRTQ_DESC_F_WRITE;
        len = VIRTIO_BLK_ID_BYTES;
        break;
    case VIRTIO_BLK_T_FLUSH:
        len = 0;
        break;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        s->range = (struct virtio_blk_discard_write_zeroes){
            .sector = sector, .num_sectors = len / VIRTIO_BLK_SECTOR_SIZE,
            .flags = type == VIRTIO_BLK_T_WRITE_ZEROES && unmap
                     ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0,
        };
        data = (uintptr_t)&s->range;
        len = sizeof(s->range);
        break;
    }

    /* In an indirect table chain numbers are table indices, from 0. */
    first = q->indirect ? 0 : slot * q->descs_per_slot;
    chain = q->indirect ? s->table : &q->vq.desc[first];
    chain[n] = (struct virtq_desc){ .addr = (uintptr_t)&s->hdr, .len = sizeof(s->hdr),
                                    .flags = VIRTQ_DESC_F_NEXT, .next = first + n + 1 };
    n++;
    while (len) {
        uint32_t seg = len;

        if (blk->info.size_max && seg > blk->info.size_max) {
            seg = blk->info.size_max;
        }

        chain[n] = (struct virtq_desc){ .addr = data, .len = seg,
                                        .flags = data_flags | VIRTQ_DESC_F_NEXT,
                                        .next = first + n + 1 };
        n++;
        data += seg;
        len -= seg;
    }
    chain[n++] = (struct virtq_desc){ .addr = (uintptr_t)&s->status, .len = 1,
                                      .flags = VIRTQ_DESC_F_WRITE };
    if (q->indirect) {
        q->vq.desc[slot] = (struct virtq_desc){ .addr = (uintptr_t)s->table,
                                                .len = n * sizeof(struct virtq_desc),
                                                .flags = VIRTQ_DESC_F_INDIRECT };
        first = slot;
    }
    q->tags[slot] = tag;
    virtq_add(&q->vq, first);
    q->submitted++;
    return 0;
}

void virtio_blk_kick(struct virtio_blk_queue *q)
{
    virtq_kick(&q->vq);
}

unsigned int virtio_blk_poll(struct virtio_blk_queue *q, virtio_blk_done_fn done,
                             void *opaque)
{
    struct virtq_used_elem elem;
    unsigned int reaped = 0;

    while (virtq_get_used(&q->vq, &elem)) {
        uint32_t slot = elem.id / q->descs_per_slot;
        struct virtio_blk_slot *s = slot_at(q, slot);

        if (elem.id % q->descs_per_slot || slot >= q->slots || !s->in_flight) {
            guest_panic("%s: queue %u: device returned descriptor %u, "
                        "not a request in flight",
                        q->blk->dev.name, q->vq.index, elem.id);
        }
        s->in_flight = 0;
        q->free_slots[q->free_count++] = slot;
        done(opaque, q->tags[slot], s->status);
        reaped++;
    }
    return reaped;
}

const char *virtio_blk_status_name(uint8_t status)
{
    switch (status) {
    case VIRTIO_BLK_S_OK:           return "OK";
    case VIRTIO_BLK_S_IOERR:        return "IOERR";
    case VIRTIO_BLK_S_UNSUPP:       return "UNSUPP";
    case VIRTIO_BLK_S_NOT_WRITTEN:  return "status byte not written";
    }
    return "unknown status";
}
