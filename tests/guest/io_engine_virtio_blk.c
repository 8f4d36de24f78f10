/*
 * gfio engine "virtio-blk": one queue of a virtio-blk PCI device.  Engines
 * on the queues of one device share its struct virtio_blk, which they only
 * read once it is set up; each queue's state is its own.
 */
#include "io_engine.h"

#include "guest_errno.h"
#include "libc.h"
#include "memory.h"
#include "virtio_blk.h"

int io_engine_virtio_blk_open(const struct io_engine_params *params, struct io_engine *e);

/* Devices set up so far, by their index among virtio-blk devices. */
#define MAX_DEVICES     8

static struct {
    unsigned int index;
    struct virtio_blk *blk;
} devices[MAX_DEVICES];
static unsigned int device_count;

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

/* Device @index, set up with @queues queues on first use. */
static int open_device(unsigned int index, unsigned int queues, struct virtio_blk **blk)
{
    struct virtio_blk_options options = { .num_queues = queues };
    struct virtio_blk *b;
    int ret;

    for (unsigned int i = 0; i < device_count; i++) {
        if (devices[i].index == index) {
            *blk = devices[i].blk;
            return 0;
        }
    }
    if (device_count == MAX_DEVICES) {
        printf("virtio-blk: more than %u devices\n", MAX_DEVICES);
        return -E2BIG;
    }
    b = guest_alloc(sizeof(*b), 64);
    memset(b, 0, sizeof(*b));
    ret = virtio_blk_open(index, &options, b);
    if (ret == -ENODEV) {
        printf("virtio-blk: no device %u\n", index);
    }
    if (ret) {
        return ret;
    }
    printf("gfio: %s: %lu bytes, blk_size %u, %s cache, queue size %u, %u slots%s%s\n",
           b->dev.name, b->info.capacity * VIRTIO_BLK_SECTOR_SIZE, b->info.blk_size,
           b->info.writeback ? "writeback" : "writethrough", b->queue[0].vq.size,
           b->queue[0].slots, b->queue[0].indirect ? ", indirect" : "",
           b->queue[0].vq.event_idx ? ", event_idx" : "");
    devices[device_count].index = index;
    devices[device_count++].blk = b;
    *blk = b;
    return 0;
}

int io_engine_virtio_blk_open(const struct io_engine_params *params, struct io_engine *e)
{
    struct virtio_blk *blk;
    struct virtio_blk_queue *q;
    int ret = open_device(params->dev, params->queues, &blk);

    if (ret) {
        return ret;
    }
    if (params->queue >= blk->num_queues) {
        printf("virtio-blk: device %u has %u queue%s, no queue %u (give the device "
               "num-queues=%u)\n", params->dev, blk->num_queues,
               blk->num_queues == 1 ? "" : "s", params->queue, params->queues);
        return -ENODEV;
    }
    q = &blk->queue[params->queue];
    e->queue_kind = "queue";
    e->capacity = blk->info.capacity * VIRTIO_BLK_SECTOR_SIZE;
    e->sector_size = VIRTIO_BLK_SECTOR_SIZE;
    e->max_request = blk->max_transfer;
    e->max_in_flight = q->slots;
    e->submit = submit;
    e->kick = kick;
    e->poll = poll;
    e->describe = describe;
    e->state = q;
    return 0;
}
