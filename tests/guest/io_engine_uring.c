/*
 * gfio engine "uring": the io_uring passthrough of a virtio-blk PCI device
 * (virtio_blk_uring.h).  Requests go to the host kernel through the shared
 * SQ; no virtqueue is set up.
 */
#include "io_engine.h"

#include "guest_errno.h"
#include "libc.h"
#include "virtio.h"
#include "virtio_blk_uring.h"

int io_engine_uring_open(const struct io_engine_params *params, struct io_engine *e);

static struct virtio_pci_device dev;
static struct virtio_blk_uring ring;

struct completion_relay {
    io_done_fn done;
    void *opaque;
};

/* The CQE's user_data: the tag, and the length a full transfer returns. */
static uint64_t user_data(uint32_t tag, uint32_t len)
{
    return (uint64_t)len << 32 | tag;
}

static int submit(struct io_engine *e, enum io_op op, uint64_t offset, void *buf,
                  uint32_t len, uint32_t tag)
{
    uint8_t opcode = op == IO_OP_READ ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;

    return virtio_blk_uring_submit(e->state, opcode, offset, buf, len, user_data(tag, len));
}

static void kick(struct io_engine *e)
{
    virtio_blk_uring_kick(e->state);
}

static void relay(void *opaque, uint64_t user_data, int32_t res)
{
    struct completion_relay *r = opaque;
    uint32_t len = user_data >> 32;

    /* A short transfer (a read past the end, say) is an error for gfio. */
    r->done(r->opaque, (uint32_t)user_data, res < 0 ? res : (uint32_t)res == len ? 0 : -EIO);
}

static unsigned int poll(struct io_engine *e, io_done_fn done, void *opaque)
{
    struct completion_relay r = { .done = done, .opaque = opaque };

    return virtio_blk_uring_poll(e->state, relay, &r);
}

static void describe(struct io_engine *e, char *buf, size_t size)
{
    const struct virtio_blk_uring *r = e->state;

    snprintf(buf, size, "requests=%lu kicks=%lu doorbells=%lu sq=%u cq=%u iopoll=%s",
             r->submitted, r->kicks, r->doorbells, r->cfg.sq_entries, r->cfg.cq_entries,
             r->cfg.setup_flags & IORING_SETUP_IOPOLL ? "on" : "off");
}

/* Reset, negotiate the passthrough, take over its ring, DRIVER_OK. */
static int start_device(const struct io_engine_params *params)
{
    int ret = virtio_pci_find(VIRTIO_ID_BLOCK, params->dev, &dev);

    if (ret == -ENODEV) {
        printf("uring: no virtio-blk device %u\n", params->dev);
    }
    if (ret) {
        return ret;
    }
    ret = virtio_pci_negotiate(&dev, VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH));
    if (ret) {
        return ret;
    }
    if (!(dev.features & VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH))) {
        printf("uring: %s does not offer VIRTIO_BLK_F_URING_PASSTHROUGH "
               "(give the device uring-passthrough=on)\n", dev.name);
        virtio_pci_fail(&dev);
        return -EOPNOTSUPP;
    }
    ret = virtio_blk_uring_attach(&dev, &ring);
    if (ret) {
        virtio_pci_fail(&dev);
        return ret;
    }
    return virtio_pci_driver_ok(&dev);
}

int io_engine_uring_open(const struct io_engine_params *params, struct io_engine *e)
{
    const struct virtio_blk_uring_config *c = &ring.cfg;
    uint64_t window;
    int ret = start_device(params);

    if (ret) {
        return ret;
    }
    window = 1ull << c->buf_shift;
    e->capacity = c->disk_size;
    e->sector_size = c->dma_alignment > 512 ? c->dma_alignment : 512;
    /* One SQE per request: no more than a fixed-buffer window or a u32 length. */
    e->max_request = window < UINT32_MAX ? window : UINT32_MAX & ~(e->sector_size - 1);
    e->max_in_flight = ring.max_in_flight;
    e->submit = submit;
    e->kick = kick;
    e->poll = poll;
    e->describe = describe;
    e->state = &ring;
    printf("gfio: %s: uring passthrough: %lu bytes, sq %u, cq %u, %s, dma_alignment %u, "
           "%u windows of %lu MiB, region 0 at 0x%lx\n",
           dev.name, e->capacity, c->sq_entries, c->cq_entries,
           c->setup_flags & IORING_SETUP_IOPOLL ? "sqpoll+iopoll" : "sqpoll",
           c->dma_alignment, c->nr_bufs, window >> 20, ring.region->addr);
    return 0;
}
