/* gfio engine "virtio-blk": one queue of a virtio-blk PCI device. */
#include "io_engine.h"

#include "guest_errno.h"
#include "libc.h"
#include "virtio_blk.h"

int io_engine_virtio_blk_open(const struct io_engine_params *params, struct io_engine *e);

static struct virtio_blk blk;

struct completion_relay {
    io_done_fn done;
    void *opaque;
};

static struct virtio_blk_queue *queue(struct io_engine *e)
{
    return e->state;
}

static int submit(struct io_engine *e, enum io_op op, uint64_t offset, void *buf,
                  uint32_t len, uint32_t tag)
{
    uint32_t type = op == IO_OP_READ ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;

    return virtio_blk_submit(queue(e), type, offset / VIRTIO_BLK_SECTOR_SIZE, buf, len,
                             false, tag);
}

static void kick(struct io_engine *e)
{
    virtio_blk_kick(queue(e));
}

static void relay(void *opaque, uint64_t tag, uint8_t status)
{
    struct completion_relay *r = opaque;

    r->done(r->opaque, tag, status == VIRTIO_BLK_S_OK ? 0 :
                            status == VIRTIO_BLK_S_UNSUPP ? -EOPNOTSUPP :
                            status == VIRTIO_BLK_S_IOERR ? -EIO : -EPROTO);
}

static unsigned int poll(struct io_engine *e, io_done_fn done, void *opaque)
{
    struct completion_relay r = { .done = done, .opaque = opaque };

    return virtio_blk_poll(queue(e), relay, &r);
}

static void describe(struct io_engine *e, char *buf, size_t size)
{
    const struct virtio_blk_queue *q = queue(e);

    snprintf(buf, size, "requests=%lu kicks=%lu notifies=%lu queue=%u%s%s",
             q->submitted, q->vq.kicks, q->vq.notifications, q->vq.size,
             q->indirect ? " indirect" : "", q->vq.event_idx ? " event_idx" : "");
}

int io_engine_virtio_blk_open(const struct io_engine_params *params, struct io_engine *e)
{
    struct virtio_blk_options options = { 0 };
    int ret = virtio_blk_open(params->dev, &options, &blk);

    if (ret == -ENODEV) {
        printf("virtio-blk: no device %u\n", params->dev);
    }
    if (ret) {
        return ret;
    }
    e->capacity = blk.info.capacity * VIRTIO_BLK_SECTOR_SIZE;
    e->sector_size = VIRTIO_BLK_SECTOR_SIZE;
    e->max_request = blk.max_transfer;
    e->max_in_flight = blk.queue[0].slots;
    e->submit = submit;
    e->kick = kick;
    e->poll = poll;
    e->describe = describe;
    e->state = &blk.queue[0];
    printf("gfio: %s: %lu bytes, blk_size %u, %s cache, queue size %u, %u slots%s%s\n",
           blk.dev.name, e->capacity, blk.info.blk_size,
           blk.info.writeback ? "writeback" : "writethrough", blk.queue[0].vq.size,
           blk.queue[0].slots, blk.queue[0].indirect ? ", indirect" : "",
           blk.queue[0].vq.event_idx ? ", event_idx" : "");
    return 0;
}
