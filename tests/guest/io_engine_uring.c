/*
 * gfio engine "uring": the io_uring passthrough of a virtio-blk PCI device
 * (virtio_blk_uring.h).  Requests go to the host kernel through the shared
 * SQ; no virtqueue is set up.  An engine on queue i drives ring i of the
 * device; engines on the rings of one device share the device, which they
 * only read once it is set up.
 */
#include "io_engine.h"

#include "guest_errno.h"
#include "libc.h"
#include "memory.h"
#include "timing.h"
#include "virtio.h"
#include "virtio_blk_uring.h"

/* How long a stall report watches the ring after its probing doorbell. */
#define PROBE_NS        UINT64_C(1000000000)

int io_engine_uring_open(const struct io_engine_params *params, struct io_engine *e);

/* A tag's latest request: where it went in the SQ, what it carries. */
struct tag_request {
    uint32_t sq_index;                  /* the SQ tail when it was queued */
    uint64_t user_data;
};

/* An engine's state: one ring, and its requests. */
struct uring_queue {
    struct virtio_blk_uring ring;
    struct tag_request *tag_requests;   /* by tag, max_in_flight of them */
};

/* Devices set up so far, by their index among virtio-blk devices. */
#define MAX_DEVICES     8

static struct {
    unsigned int index;
    struct virtio_pci_device *dev;
} devices[MAX_DEVICES];
static unsigned int device_count;

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
    struct uring_queue *q = e->state;
    struct virtio_blk_uring *r = &q->ring;
    uint8_t opcode = op == IO_OP_READ ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
    struct tag_request req = { .sq_index = r->sq_next, .user_data = user_data(tag, len) };
    int ret;

    if (tag >= e->max_in_flight) {
        return -EINVAL;
    }
    ret = virtio_blk_uring_submit(r, opcode, offset, buf, len, req.user_data);
    if (!ret) {
        q->tag_requests[tag] = req;
    }
    return ret;
}

static struct virtio_blk_uring *ring_of(struct io_engine *e)
{
    return &((struct uring_queue *)e->state)->ring;
}

static void kick(struct io_engine *e)
{
    virtio_blk_uring_kick(ring_of(e));
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

    return virtio_blk_uring_poll(ring_of(e), relay, &r);
}

static void describe(struct io_engine *e, char *buf, size_t size)
{
    const struct virtio_blk_uring *r = ring_of(e);

    snprintf(buf, size, "requests=%lu kicks=%lu doorbells=%lu sq=%u cq=%u iopoll=%s",
             r->submitted, r->kicks, r->doorbells, r->cfg.sq_entries, r->cfg.cq_entries,
             r->cfg.setup_flags & IORING_SETUP_IOPOLL ? "on" : "off");
}

static const char *opcode_name(uint8_t opcode)
{
    switch (opcode) {
    case IORING_OP_NOP:
        return "NOP";
    case IORING_OP_FSYNC:
        return "FSYNC";
    case IORING_OP_READ_FIXED:
        return "READ_FIXED";
    case IORING_OP_WRITE_FIXED:
        return "WRITE_FIXED";
    default:
        return "?";
    }
}

/* Where the kernel has request @index of the SQ. */
static const char *request_whereabouts(const struct virtio_blk_uring_state *s,
                                       uint32_t index)
{
    if ((int32_t)(index - s->sq_head) >= 0) {
        return "not consumed: the kernel's SQ head has not passed it";
    }
    if (s->cq_tail != s->cq_head) {
        return "consumed; CQEs are waiting that the driver did not reap";
    }
    return "consumed by the kernel, no CQE";
}

/*
 * Ring the doorbell once and watch the ring for a while.  Only an
 * unconsumed request can be waiting for the SQPOLL thread to wake: if the
 * SQ head then moves, that thread had gone to sleep without the driver
 * seeing IORING_SQ_NEED_WAKEUP (a lost wakeup).  A consumed request's
 * completion does not wait for a doorbell; if it comes now, the stall just
 * ended (docs/devel/stall-diagnosis.rst).
 */
static void probe_doorbell(struct virtio_blk_uring *r, const struct virtio_blk_uring_state *s)
{
    struct virtio_blk_uring_state now;
    uint64_t start = rdtsc(), waited;
    bool moved;

    virtio_blk_uring_ring_doorbell(r);
    do {
        cpu_relax();
        virtio_blk_uring_read_state(r, &now);
        moved = now.sq_head != s->sq_head || now.cq_tail != s->cq_tail;
        waited = tsc_to_ns(rdtsc() - start);
    } while (!moved && waited < PROBE_NS);
    printf(IO_ENGINE_STALL "uring after one doorbell: sq head %u, cq tail %u: ",
           now.sq_head, now.cq_tail);
    if (moved) {
        printf("the ring moved after %lu us\n", waited / 1000);
    } else {
        printf("unchanged for %lu ms\n", PROBE_NS / 1000000);
    }
}

/*
 * Called when requests stopped completing: the ring's indexes and flags,
 * the SQE of request @tag and where the kernel has it, then a probe.
 */
static void report_stall(struct io_engine *e, uint32_t tag)
{
    struct uring_queue *q = e->state;
    struct virtio_blk_uring *r = &q->ring;
    struct virtio_blk_uring_state s;
    const struct tag_request *req = &q->tag_requests[tag];
    uint32_t index = req->sq_index;
    const struct io_uring_sqe *sqe = virtio_blk_uring_sqe(r, index);

    virtio_blk_uring_read_state(r, &s);
    printf(IO_ENGINE_STALL "uring sq: head %u tail %u dropped %u flags 0x%x%s%s%s\n",
           s.sq_head, s.sq_tail, s.sq_dropped, s.sq_flags,
           s.sq_flags & IORING_SQ_NEED_WAKEUP ? " NEED_WAKEUP" : "",
           s.sq_flags & IORING_SQ_CQ_OVERFLOW ? " CQ_OVERFLOW" : "",
           s.sq_flags & IORING_SQ_TASKRUN ? " TASKRUN" : "");
    printf(IO_ENGINE_STALL "uring cq: head %u tail %u overflow %u flags 0x%x\n",
           s.cq_head, s.cq_tail, s.cq_overflow, s.cq_flags);
    printf(IO_ENGINE_STALL "uring driver: %u in flight, %lu submitted, %lu kicks, "
           "%lu doorbells\n", r->in_flight, r->submitted, r->kicks, r->doorbells);
    printf(IO_ENGINE_STALL "uring request of tag %u: sq index %u, sqe %u: ", tag, index,
           index & r->sq_mask);
    if (sqe->user_data == req->user_data) {
        printf("user_data 0x%llx opcode %u (%s) off %llu (0x%llx) len %u buf_index %u: %s\n",
               sqe->user_data, sqe->opcode, opcode_name(sqe->opcode), sqe->off, sqe->off,
               sqe->len, sqe->buf_index, request_whereabouts(&s, index));
    } else {
        printf("reused by a later request (user_data 0x%llx): %s\n", sqe->user_data,
               request_whereabouts(&s, index));
    }
    printf(IO_ENGINE_STALL "uring device status 0x%02x\n", r->dev->common->device_status);
    probe_doorbell(r, &s);
}

/* Reset, negotiate the passthrough, DRIVER_OK; its rings are attached later. */
static int start_device(unsigned int index, struct virtio_pci_device *dev)
{
    int ret = virtio_pci_find(VIRTIO_ID_BLOCK, index, dev);

    if (ret == -ENODEV) {
        printf("uring: no virtio-blk device %u\n", index);
    }
    if (ret) {
        return ret;
    }
    ret = virtio_pci_negotiate(dev, VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH));
    if (ret) {
        return ret;
    }
    if (!(dev->features & VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH))) {
        printf("uring: %s does not offer VIRTIO_BLK_F_URING_PASSTHROUGH "
               "(give the device uring-passthrough=on)\n", dev->name);
        virtio_pci_fail(dev);
        return -EOPNOTSUPP;
    }
    return virtio_pci_driver_ok(dev);
}

/* Device @index, started on first use. */
static int open_device(unsigned int index, struct virtio_pci_device **dev)
{
    struct virtio_pci_device *d;
    int ret;

    for (unsigned int i = 0; i < device_count; i++) {
        if (devices[i].index == index) {
            *dev = devices[i].dev;
            return 0;
        }
    }
    if (device_count == MAX_DEVICES) {
        printf("uring: more than %u devices\n", MAX_DEVICES);
        return -E2BIG;
    }
    d = guest_alloc(sizeof(*d), 64);
    memset(d, 0, sizeof(*d));
    ret = start_device(index, d);
    if (ret) {
        return ret;
    }
    devices[device_count].index = index;
    devices[device_count++].dev = d;
    *dev = d;
    return 0;
}

int io_engine_uring_open(const struct io_engine_params *params, struct io_engine *e)
{
    struct virtio_pci_device *dev;
    struct uring_queue *q;
    const struct virtio_blk_uring_config *c;
    uint64_t window;
    int ret = open_device(params->dev, &dev);

    if (ret) {
        return ret;
    }
    q = guest_alloc(sizeof(*q), 64);
    ret = virtio_blk_uring_attach_ring(dev, params->queue, &q->ring);
    if (ret) {
        virtio_pci_fail(dev);
        return ret;
    }
    c = &q->ring.cfg;
    window = 1ull << c->buf_shift;
    e->queue_kind = "ring";
    e->capacity = c->disk_size;
    e->sector_size = c->dma_alignment > 512 ? c->dma_alignment : 512;
    /* One SQE per request: no more than a fixed-buffer window or a u32 length. */
    e->max_request = window < UINT32_MAX ? window : UINT32_MAX & ~(e->sector_size - 1);
    e->max_in_flight = q->ring.max_in_flight;
    e->submit = submit;
    e->kick = kick;
    e->poll = poll;
    e->describe = describe;
    e->report_stall = report_stall;
    e->state = q;
    q->tag_requests = guest_alloc(sizeof(*q->tag_requests) * e->max_in_flight, 8);
    if (!params->queue) {
        printf("gfio: %s: uring passthrough: %lu bytes, sq %u, cq %u, %s, dma_alignment %u, "
               "%u windows of %lu MiB, region 0 at 0x%lx\n",
               dev->name, e->capacity, c->sq_entries, c->cq_entries,
               c->setup_flags & IORING_SETUP_IOPOLL ? "sqpoll+iopoll" : "sqpoll",
               c->dma_alignment, c->nr_bufs, window >> 20, q->ring.region->addr);
    }
    return 0;
}
