/*
 * virtio-blk: requests from the virtqueues to the block back-end.
 *
 * The queues are served in the device's AioContext (its iothread, or the
 * main loop): notifications arrive as eventfds, adaptive polling watches the
 * avail rings, requests go to the back-end in batches and complete in the
 * same thread, which fills the used ring and signals the guest.
 */
#include <endian.h>
#include <linux/virtio_ids.h>
#include <string.h>

#include "block/accounting.h"
#include "hw/block/virtio-blk-uring.h"
#include "hw/virtio/virtio-blk.h"
#include "qemu/error-report.h"
#include "qemu/eventfd.h"
#include "sysemu/iothread.h"

struct VirtIOBlockReq {
    VirtIOBlock *s;
    VirtQueue *vq;
    VirtIOBlockReq *next_free;
    VirtQueueElement elem;
    uint8_t *status;            /* the status byte in guest memory */
    uint32_t in_len;            /* bytes written for the driver */
    uint32_t type;
    uint64_t sector;
    struct iovec *iov;          /* the data part of the chain */
    unsigned iovcnt;
    unsigned iov_cap;
    size_t size;                /* bytes of data */
};

/* The used ring's length is 32-bit: a request's data must fit. */
G_STATIC_ASSERT(VIRTIO_BLK_MAX_REQUEST < UINT32_MAX);

static VirtIOBlockQueue *req_queue(VirtIOBlockReq *req)
{
    return &req->s->queues[req->vq->index];
}

/*
 * Data segments a request may have: with the header and the status byte
 * in descriptors of their own, a chain as long as the queue (2.7.5.3.1).
 */
static uint32_t seg_max(VirtIOBlock *s)
{
    return s->conf.queue_size - 2;
}

/* Bytes a segment may have: seg_max of them make a request at most. */
static uint32_t size_max(VirtIOBlock *s)
{
    return (VIRTIO_BLK_MAX_REQUEST / seg_max(s)) & ~(uint64_t)4095;
}

/*
 * Reads and writes within the limits the driver was given (the number of
 * segments) and the device's own (the bytes, whatever the segments).
 */
static bool req_within_limits(VirtIOBlockReq *req)
{
    return req->iovcnt <= seg_max(req->s) &&
           req->size <= VIRTIO_BLK_MAX_REQUEST;
}

static uint64_t capacity_bytes(VirtIOBlock *s)
{
    uint64_t len = blk_getlength(s->conf.blk);

    /* The guest sees whole logical blocks. */
    return len - len % s->conf.logical_block_size;
}

/* In the device's AioContext (so are the completions below). */
static void req_complete(VirtIOBlockReq *req, uint8_t status)
{
    VirtIOBlockQueue *q = req_queue(req);

    *req->status = status;
    virtqueue_push(req->vq, &req->elem, req->in_len + 1);
    virtio_notify(&req->s->vdev, req->vq);
    req->next_free = q->free;
    q->free = req;
}

static void req_flush_done(void *opaque, int ret)
{
    VirtIOBlockReq *req = opaque;

    req_complete(req, ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

static void req_rw_done(void *opaque, int ret)
{
    VirtIOBlockReq *req = opaque;
    VirtIOBlock *s = req->s;

    if (ret) {
        error_report("%s: %s error at sector %" G_GUINT64_FORMAT ": %s",
                     s->vdev.name, req->type == VIRTIO_BLK_T_IN ? "read"
                                                                 : "write",
                     req->sector, g_strerror(-ret));
        req_complete(req, VIRTIO_BLK_S_IOERR);
        return;
    }
    if (req->type == VIRTIO_BLK_T_IN) {
        req->in_len = req->size;
    } else if (!s->wce && blk_enable_write_cache(s->conf.blk)) {
        /* The guest turned the write cache off: make writes stable. */
        blk_aio_flush(s->conf.blk, req_flush_done, req);
        return;
    }
    req_complete(req, VIRTIO_BLK_S_OK);
}

static void req_done(void *opaque, int ret)
{
    req_complete(opaque, ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/*
 * Refuse a request before it reaches the back-end, which counts it as
 * invalid (include/block/accounting.h).  In the device's AioContext.
 */
static void req_refuse(VirtIOBlockReq *req, BlockAcctType type,
                       uint8_t status)
{
    blk_account_invalid(req->s->conf.blk, type);
    req_complete(req, status);
}

/* Copy up to len bytes out of an iovec array, starting at skip. */
static size_t iov_to_buf(const struct iovec *iov, unsigned cnt, size_t skip,
                         void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < cnt && done < len; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        size_t n = MIN(iov[i].iov_len - skip, len - done);
        memcpy((char *)buf + done, (char *)iov[i].iov_base + skip, n);
        done += n;
        skip = 0;
    }
    return done;
}

static size_t iov_from_buf(const struct iovec *iov, unsigned cnt,
                           const void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < cnt && done < len; i++) {
        size_t n = MIN(iov[i].iov_len, len - done);
        memcpy(iov[i].iov_base, (const char *)buf + done, n);
        done += n;
    }
    return done;
}

/* The data iovec: sg minus skip bytes at the front and trim at the end. */
static void req_set_data(VirtIOBlockReq *req, const struct iovec *sg,
                         unsigned cnt, size_t skip, size_t trim)
{
    size_t total = 0;

    if (req->iov_cap < cnt) {
        req->iov_cap = cnt;
        req->iov = g_renew(struct iovec, req->iov, cnt);
    }
    req->iovcnt = 0;
    for (unsigned i = 0; i < cnt; i++) {
        total += sg[i].iov_len;
    }
    total = total > skip + trim ? total - skip - trim : 0;
    req->size = total;
    for (unsigned i = 0; i < cnt && total; i++) {
        size_t base = 0, len = sg[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        base = skip;
        skip = 0;
        len = MIN(len - base, total);
        req->iov[req->iovcnt++] = (struct iovec){
            .iov_base = (char *)sg[i].iov_base + base, .iov_len = len,
        };
        total -= len;
    }
}

static bool range_ok(VirtIOBlock *s, uint64_t sector, uint64_t bytes)
{
    uint64_t cap = capacity_bytes(s) >> VIRTIO_BLK_SECTOR_BITS;
    uint64_t lbs_sectors = s->conf.logical_block_size >>
                           VIRTIO_BLK_SECTOR_BITS;

    return bytes % s->conf.logical_block_size == 0 &&
           sector % lbs_sectors == 0 && sector <= cap &&
           bytes >> VIRTIO_BLK_SECTOR_BITS <= cap - sector;
}

static void handle_discard_write_zeroes(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;
    bool is_wz = req->type == VIRTIO_BLK_T_WRITE_ZEROES;
    struct virtio_blk_discard_write_zeroes seg;
    uint32_t max = is_wz ? s->conf.max_write_zeroes_sectors
                         : s->conf.max_discard_sectors;
    BlockAcctType type = is_wz ? BLOCK_ACCT_WRITE : BLOCK_ACCT_UNMAP;
    uint32_t flags, num;
    uint64_t sector;

    if (!(is_wz ? s->conf.write_zeroes : s->conf.discard)) {
        req_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    /* One segment (max_*_seg is 1). */
    if (req->size != sizeof(seg) ||
        iov_to_buf(req->iov, req->iovcnt, 0, &seg, sizeof(seg)) !=
        sizeof(seg)) {
        req_refuse(req, type, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    sector = le64toh(seg.sector);
    num = le32toh(seg.num_sectors);
    flags = le32toh(seg.flags);
    if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
        (!is_wz && flags)) {
        req_refuse(req, type, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    if (blk_is_read_only(s->conf.blk) || num > max ||
        !range_ok(s, sector, (uint64_t)num << VIRTIO_BLK_SECTOR_BITS)) {
        req_refuse(req, type, VIRTIO_BLK_S_IOERR);
        return;
    }
    if (is_wz) {
        blk_aio_pwrite_zeroes(s->conf.blk, sector << VIRTIO_BLK_SECTOR_BITS,
                              (uint64_t)num << VIRTIO_BLK_SECTOR_BITS,
                              flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
                              req_done, req);
    } else {
        blk_aio_pdiscard(s->conf.blk, sector << VIRTIO_BLK_SECTOR_BITS,
                         (uint64_t)num << VIRTIO_BLK_SECTOR_BITS, req_done,
                         req);
    }
}

static void handle_request(VirtIOBlockReq *req)
{
    VirtIOBlock *s = req->s;
    VirtQueueElement *elem = &req->elem;
    struct virtio_blk_outhdr hdr;
    struct iovec *last;
    char id[VIRTIO_BLK_ID_BYTES];

    /* The status byte is the last byte the driver lets us write. */
    if (elem->in_num == 0 || elem->in_sg[elem->in_num - 1].iov_len < 1 ||
        iov_to_buf(elem->out_sg, elem->out_num, 0, &hdr, sizeof(hdr)) !=
        sizeof(hdr)) {
        virtio_error(&s->vdev, "request without header or status byte");
        req->next_free = req_queue(req)->free;
        req_queue(req)->free = req;
        return;
    }
    last = &elem->in_sg[elem->in_num - 1];
    req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    req->in_len = 0;
    req->type = le32toh(hdr.type);
    req->sector = le64toh(hdr.sector);

    switch (req->type) {
    case VIRTIO_BLK_T_IN:
        req_set_data(req, elem->in_sg, elem->in_num, 0, 1);
        if (!req_within_limits(req) || !range_ok(s, req->sector, req->size)) {
            req_refuse(req, BLOCK_ACCT_READ, VIRTIO_BLK_S_IOERR);
            return;
        }
        blk_aio_preadv(s->conf.blk, req->sector << VIRTIO_BLK_SECTOR_BITS,
                       req->iov, req->iovcnt, req_rw_done, req);
        return;
    case VIRTIO_BLK_T_OUT:
        req_set_data(req, elem->out_sg, elem->out_num, sizeof(hdr), 0);
        if (blk_is_read_only(s->conf.blk) || !req_within_limits(req) ||
            !range_ok(s, req->sector, req->size)) {
            req_refuse(req, BLOCK_ACCT_WRITE, VIRTIO_BLK_S_IOERR);
            return;
        }
        blk_aio_pwritev(s->conf.blk, req->sector << VIRTIO_BLK_SECTOR_BITS,
                        req->iov, req->iovcnt, req_rw_done, req);
        return;
    case VIRTIO_BLK_T_FLUSH:
        if (blk_enable_write_cache(s->conf.blk)) {
            blk_aio_flush(s->conf.blk, req_flush_done, req);
        } else {
            req_complete(req, VIRTIO_BLK_S_OK);
        }
        return;
    case VIRTIO_BLK_T_GET_ID:
        req_set_data(req, elem->in_sg, elem->in_num, 0, 1);
        /* Up to 20 bytes, NUL-padded, not necessarily terminated. */
        memset(id, 0, sizeof(id));
        if (s->conf.serial) {
            memcpy(id, s->conf.serial,
                   MIN(strlen(s->conf.serial), sizeof(id)));
        }
        req->in_len = iov_from_buf(req->iov, req->iovcnt, id,
                                   MIN(req->size, sizeof(id)));
        req_complete(req, VIRTIO_BLK_S_OK);
        return;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        req_set_data(req, elem->out_sg, elem->out_num, sizeof(hdr), 0);
        handle_discard_write_zeroes(req);
        return;
    default:
        req_complete(req, VIRTIO_BLK_S_UNSUPP);
    }
}

/* Pop and start every available request; true if there was one. */
static bool virtio_blk_handle_vq(VirtIOBlock *s, VirtQueue *vq)
{
    VirtIOBlockQueue *q = &s->queues[vq->index];
    bool progress = false;

    blk_io_plug(s->conf.blk);
    while (q->free && !virtio_broken(&s->vdev)) {
        VirtIOBlockReq *req = q->free;
        if (!virtqueue_pop(vq, &req->elem)) {
            break;
        }
        q->free = req->next_free;
        req->vq = vq;
        handle_request(req);
        progress = true;
    }
    blk_io_unplug(s->conf.blk);
    return progress;
}

/* In the device's AioContext. */
static void virtio_blk_handle_output(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;

    /* Drain with notifications off, then re-check with them on. */
    do {
        virtio_queue_set_notification(vq, false);
        virtio_blk_handle_vq(s, vq);
        virtio_queue_set_notification(vq, true);
    } while (!virtqueue_empty(vq) && s->queues[vq->index].free);
}

/* In the device's AioContext; a spurious call finds nothing to do. */
static void host_notifier_read(void *opaque)
{
    VirtIOBlockQueue *q = opaque;

    eventfd_consume(q->host_notifier);
    virtio_queue_notify(q->vq);
}

/*
 * Adaptive polling: look at the avail ring without waiting for a kick.
 * In the device's AioContext.
 */
static bool host_notifier_poll(void *opaque)
{
    VirtIOBlockQueue *q = opaque;

    if (virtqueue_empty(q->vq) || !q->free) {
        return false;
    }
    return virtio_blk_handle_vq(q->s, q->vq);
}

/* In the device's AioContext. */
static void host_notifier_poll_begin(void *opaque, bool polling)
{
    VirtIOBlockQueue *q = opaque;

    virtio_queue_set_notification(q->vq, !polling);
}

/* In the device's context: serve the queues the driver enabled. */
static void dataplane_attach(void *opaque)
{
    VirtIOBlock *s = opaque;

    blk_set_aio_context(s->conf.blk, s->ctx);
    for (unsigned i = 0; i < s->vdev.num_queues; i++) {
        VirtIOBlockQueue *q = &s->queues[i];
        if (!q->vq->enabled) {
            continue;
        }
        aio_set_fd_handler(s->ctx, q->host_notifier, host_notifier_read,
                           host_notifier_poll, host_notifier_poll_begin, q);
        /* Kicks that came before DRIVER_OK. */
        host_notifier_read(q);
    }
}

static void dataplane_detach(void *opaque)
{
    VirtIOBlock *s = opaque;

    for (unsigned i = 0; i < s->vdev.num_queues; i++) {
        aio_set_fd_handler(s->ctx, s->queues[i].host_notifier, NULL, NULL,
                           NULL, NULL);
    }
}

static bool requests_in_flight(void *opaque)
{
    VirtIOBlock *s = opaque;

    return blk_in_flight(s->conf.blk) > 0;
}

static void dataplane_return_blk(void *opaque)
{
    VirtIOBlock *s = opaque;

    blk_set_aio_context(s->conf.blk, qemu_get_aio_context());
}

/* Called with the BQL held. */
static void virtio_blk_start(VirtIODevice *vdev)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;

    s->ctx = s->conf.iothread ? iothread_get_aio_context(s->conf.iothread)
                              : qemu_get_aio_context();
    aio_run_sync(s->ctx, dataplane_attach, s);
    s->dataplane_started = true;
    if (s->uring) {
        virtio_blk_uring_start(s->uring);
    }
}

/*
 * Stop serving the queues and wait for the requests in flight.
 * Called with the BQL held.
 */
static void virtio_blk_stop(VirtIODevice *vdev)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;

    if (s->uring) {
        virtio_blk_uring_stop(s->uring);
    }
    if (!s->dataplane_started) {
        return;
    }
    aio_run_sync(s->ctx, dataplane_detach, s);
    aio_wait_while(s->ctx, requests_in_flight, s);
    aio_run_sync(s->ctx, dataplane_return_blk, s);
    s->dataplane_started = false;
}

/* Called with the BQL held. */
static void virtio_blk_reset(VirtIODevice *vdev)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;

    if (s->uring) {
        virtio_blk_uring_reset(s->uring);
    }
    s->wce = s->wce_default;
    for (unsigned i = 0; s->queues && i < vdev->num_queues; i++) {
        VirtIOBlockQueue *q = &s->queues[i];
        q->free = NULL;
        for (unsigned j = 0; j < s->conf.queue_size; j++) {
            q->reqs[j].next_free = q->free;
            q->free = &q->reqs[j];
        }
    }
}

static uint64_t virtio_blk_get_features(VirtIODevice *vdev)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;
    uint64_t f = (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
                 (1ULL << VIRTIO_BLK_F_SEG_MAX) |
                 (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
                 (1ULL << VIRTIO_BLK_F_TOPOLOGY);

    /*
     * As QEMU: FLUSH (the spec's old name for it is WCE) when there is a
     * write cache to flush, or the guest may turn one on.
     */
    if (s->wce_default || s->conf.config_wce) {
        f |= 1ULL << VIRTIO_BLK_F_FLUSH;
    }
    if (s->conf.config_wce) {
        f |= 1ULL << VIRTIO_BLK_F_CONFIG_WCE;
    }
    if (vdev->num_queues > 1) {
        f |= 1ULL << VIRTIO_BLK_F_MQ;
    }
    if (blk_is_read_only(s->conf.blk)) {
        f |= 1ULL << VIRTIO_BLK_F_RO;
    }
    if (s->conf.discard) {
        f |= 1ULL << VIRTIO_BLK_F_DISCARD;
    }
    if (s->conf.write_zeroes) {
        f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    }
    if (s->uring) {
        f |= virtio_blk_uring_features(s->uring);
    }
    return f;
}

static void virtio_blk_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;
    struct virtio_blk_config c;
    uint32_t lbs = s->conf.logical_block_size;

    memset(&c, 0, sizeof(c));
    c.capacity = htole64(capacity_bytes(s) >> VIRTIO_BLK_SECTOR_BITS);
    c.size_max = htole32(size_max(s));
    c.seg_max = htole32(seg_max(s));
    c.blk_size = htole32(lbs);
    c.physical_block_exp = __builtin_ctz(s->conf.physical_block_size / lbs);
    c.min_io_size = htole16(s->conf.min_io_size / lbs);
    c.opt_io_size = htole32(s->conf.opt_io_size / lbs);
    c.wce = s->wce;
    c.num_queues = htole16(vdev->num_queues);
    c.max_discard_sectors = htole32(s->conf.max_discard_sectors);
    c.max_discard_seg = htole32(1);
    c.discard_sector_alignment = htole32(lbs >> VIRTIO_BLK_SECTOR_BITS);
    c.max_write_zeroes_sectors = htole32(s->conf.max_write_zeroes_sectors);
    c.max_write_zeroes_seg = htole32(1);
    c.write_zeroes_may_unmap = blk_discard_enabled(s->conf.blk);
    memcpy(config, &c, sizeof(c));
    if (s->uring) {
        virtio_blk_uring_get_config(s->uring, config);
    }
}

static void virtio_blk_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;
    const struct virtio_blk_config *c = (const void *)config;

    if (s->conf.config_wce) {
        s->wce = c->wce;
    }
    if (s->uring) {
        virtio_blk_uring_set_config(s->uring, config);
    }
}

static bool virtio_blk_validate_features(VirtIODevice *vdev)
{
    VirtIOBlock *s = (VirtIOBlock *)vdev;

    /* A driver that cannot flush gets a writethrough cache (5.2.5). */
    if (!virtio_vdev_has_feature(vdev, VIRTIO_BLK_F_FLUSH)) {
        s->wce = false;
    }
    return !s->uring || virtio_blk_uring_validate_features(s->uring);
}

static const VirtioDeviceOps virtio_blk_ops = {
    .get_features = virtio_blk_get_features,
    .get_config = virtio_blk_get_config,
    .set_config = virtio_blk_set_config,
    .validate_features = virtio_blk_validate_features,
    .start = virtio_blk_start,
    .stop = virtio_blk_stop,
    .reset = virtio_blk_reset,
};

/*
 * block_resize: the passthrough's file size limit follows the image
 * (it may refuse), then the guest is told of its new capacity.  Called
 * with the BQL held.
 */
static bool virtio_blk_resize_prepare(void *opaque, uint64_t new_size,
                                      GError **errp)
{
    VirtIOBlock *s = opaque;

    return !s->uring || virtio_blk_uring_resize_prepare(s->uring, new_size,
                                                        errp);
}

static void virtio_blk_resized(void *opaque, uint64_t size)
{
    VirtIOBlock *s = opaque;

    if (s->uring) {
        virtio_blk_uring_resized(s->uring, size);
    }
    virtio_notify_config(&s->vdev);
}

static const BlockResizeNotifier virtio_blk_resize_notifier = {
    .prepare = virtio_blk_resize_prepare,
    .changed = virtio_blk_resized,
};

static bool check_conf(VirtIOBlock *s, GError **errp)
{
    VirtIOBlkConf *c = &s->conf;

    if (!c->blk) {
        error_setg(errp, "drive property not set");
        return false;
    }
    if (c->num_queues == 0 || c->num_queues > VIRTIO_BLK_MAX_QUEUES) {
        error_setg(errp, "num-queues property must be between 1 and %d",
                   VIRTIO_BLK_MAX_QUEUES);
        return false;
    }
    if (c->queue_size <= 2 || c->queue_size > VIRTQUEUE_MAX_SIZE ||
        (c->queue_size & (c->queue_size - 1))) {
        error_setg(errp, "queue-size property must be a power of 2 between "
                   "4 and %d", VIRTQUEUE_MAX_SIZE);
        return false;
    }
    if (c->logical_block_size < VIRTIO_BLK_SECTOR_SIZE ||
        c->logical_block_size > 32768 ||
        (c->logical_block_size & (c->logical_block_size - 1))) {
        error_setg(errp, "logical_block_size must be a power of 2 between "
                   "512 and 32768");
        return false;
    }
    if (c->physical_block_size == 0) {
        c->physical_block_size = c->logical_block_size;
    }
    if (c->physical_block_size < c->logical_block_size ||
        (c->physical_block_size & (c->physical_block_size - 1))) {
        error_setg(errp, "physical_block_size must be a power of 2 not "
                   "smaller than logical_block_size");
        return false;
    }
    if (blk_getlength(c->blk) % c->logical_block_size) {
        warn_report("disk size is not a multiple of logical_block_size; "
                    "the tail is not visible to the guest");
    }
    if (c->serial && strlen(c->serial) > VIRTIO_BLK_ID_BYTES) {
        warn_report("serial is longer than %d bytes and will be truncated",
                    VIRTIO_BLK_ID_BYTES);
    }
    if (c->discard && !c->max_discard_sectors) {
        error_setg(errp, "max-discard-sectors must be at least 1");
        return false;
    }
    if (c->write_zeroes && !c->max_write_zeroes_sectors) {
        error_setg(errp, "max-write-zeroes-sectors must be at least 1");
        return false;
    }
    return true;
}

bool virtio_blk_device_realize(VirtIOBlock *s, GError **errp)
{
    VirtIODevice *vdev = &s->vdev;

    if (!check_conf(s, errp)) {
        return false;
    }
    /* write-cache=auto: a cache mode with a volatile cache shows one. */
    s->wce_default = s->conf.write_cache == ON_OFF_AUTO_AUTO
                     ? blk_enable_write_cache(s->conf.blk)
                     : s->conf.write_cache == ON_OFF_AUTO_ON;
    s->wce = s->wce_default;
    if (s->conf.uring_passthrough) {
        s->uring = virtio_blk_uring_new(s, errp);
        if (!s->uring) {
            return false;
        }
    } else if (!virtio_blk_uring_check_unused(&s->conf, errp)) {
        return false;
    }
    s->queues = g_new0(VirtIOBlockQueue, s->conf.num_queues);
    for (unsigned i = 0; i < s->conf.num_queues; i++) {
        s->queues[i].reqs = g_new0(VirtIOBlockReq, s->conf.queue_size);
        s->queues[i].s = s;
        for (unsigned j = 0; j < s->conf.queue_size; j++) {
            s->queues[i].reqs[j].s = s;
        }
    }
    virtio_init(vdev, "virtio-blk", VIRTIO_ID_BLOCK,
                s->uring ? virtio_blk_uring_config_size()
                         : sizeof(struct virtio_blk_config),
                s->conf.num_queues, s->conf.queue_size, &virtio_blk_ops);
    for (unsigned i = 0; i < s->conf.num_queues; i++) {
        virtio_set_handler(vdev, i, virtio_blk_handle_output);
        s->queues[i].vq = &vdev->vqs[i];
    }
    if (s->uring) {
        virtio_blk_uring_realize(s->uring);
    }
    blk_set_resize_notifier(s->conf.blk, &virtio_blk_resize_notifier, s);
    return true;
}

void virtio_blk_device_unrealize(VirtIOBlock *s)
{
    blk_set_resize_notifier(s->conf.blk, NULL, NULL);
    virtio_reset(&s->vdev);
    if (s->uring) {
        virtio_blk_uring_unrealize(s->uring);
    }
}

void virtio_blk_device_free(VirtIOBlock *s)
{
    if (s->uring) {
        virtio_blk_uring_free(s->uring);
        s->uring = NULL;
    }
    for (unsigned i = 0; i < s->conf.num_queues; i++) {
        for (unsigned j = 0; j < s->conf.queue_size; j++) {
            virtqueue_element_free(&s->queues[i].reqs[j].elem);
            g_free(s->queues[i].reqs[j].iov);
        }
        g_free(s->queues[i].reqs);
    }
    g_clear_pointer(&s->queues, g_free);
    virtio_cleanup(&s->vdev);
}

void virtio_blk_set_host_notifiers(VirtIOBlock *s, const int *fds)
{
    for (unsigned i = 0; i < s->conf.num_queues; i++) {
        s->queues[i].host_notifier = fds[i];
    }
}
