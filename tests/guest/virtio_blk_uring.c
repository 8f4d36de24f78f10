/*
 * virtio-blk io_uring passthrough driver (docs/specs/virtio-blk-uring.rst).
 *
 * Slots are used in order: request k goes to SQE k & sq_mask and the SQ
 * array is the identity.  Keeping at most min(sq_entries, cq_entries)
 * requests in flight makes both rings safe without reading the kernel's SQ
 * head: the kernel consumes SQEs in order, so when fewer than sq_entries
 * requests are out, one of the last sq_entries has completed, hence been
 * consumed together with every SQE before it, including the one about to
 * be reused; and the CQ can never hold more CQEs than it has entries.
 */
#include "virtio_blk_uring.h"

#include "guest_errno.h"
#include "libc.h"

#define CFG(field)              VIRTIO_BLK_URING_CFG(field)
#define CFG_OFF_FIELDS          7       /* le32 each in sq_off and cq_off */

#define DOORBELL_WIDTH          2

static void read_offsets(struct virtio_pci_device *dev, uint32_t at, uint32_t *fields)
{
    for (unsigned int i = 0; i < CFG_OFF_FIELDS; i++) {
        fields[i] = virtio_pci_config_read32(dev, at + 4 * i);
    }
}

static void read_config(struct virtio_pci_device *dev, struct virtio_blk_uring_config *c)
{
    uint8_t generation;

    _Static_assert(sizeof(c->sq_off) == CFG_OFF_FIELDS * 4, "sq_off fields");
    _Static_assert(sizeof(c->cq_off) == CFG_OFF_FIELDS * 4, "cq_off fields");
    do {
        generation = virtio_pci_config_generation(dev);
        c->sq_entries = virtio_pci_config_read32(dev, CFG(sq_entries));
        c->cq_entries = virtio_pci_config_read32(dev, CFG(cq_entries));
        c->setup_flags = virtio_pci_config_read32(dev, CFG(setup_flags));
        c->features = virtio_pci_config_read32(dev, CFG(features));
        read_offsets(dev, CFG(sq_off), &c->sq_off.head);
        read_offsets(dev, CFG(cq_off), &c->cq_off.head);
        c->rings_offset = virtio_pci_config_read64(dev, CFG(rings_offset));
        c->rings_size = virtio_pci_config_read64(dev, CFG(rings_size));
        c->sqes_offset = virtio_pci_config_read64(dev, CFG(sqes_offset));
        c->sqes_size = virtio_pci_config_read64(dev, CFG(sqes_size));
        c->ram_host_base = virtio_pci_config_read64(dev, CFG(ram_host_base));
        c->disk_size = virtio_pci_config_read64(dev, CFG(disk_size));
        c->allowed_ops = virtio_pci_config_read64(dev, CFG(allowed_ops));
        c->buf_shift = virtio_pci_config_read32(dev, CFG(buf_shift));
        c->nr_bufs = virtio_pci_config_read32(dev, CFG(nr_bufs));
        c->file_index = virtio_pci_config_read32(dev, CFG(file_index));
        c->dma_alignment = virtio_pci_config_read32(dev, CFG(dma_alignment));
        c->msix_vector = virtio_pci_config_read16(dev, CFG(msix_vector));
        c->doorbell_notify_off = virtio_pci_config_read16(dev, CFG(doorbell_notify_off));
        c->sqe_flags_required = virtio_pci_config_read8(dev, CFG(sqe_flags_required));
        c->sqe_flags_allowed = virtio_pci_config_read8(dev, CFG(sqe_flags_allowed));
    } while (generation != virtio_pci_config_generation(dev));
}

static bool power_of_two(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Does [offset, offset + length) lie within [0, size)? */
static bool within(uint64_t offset, uint64_t length, uint64_t size)
{
    return offset <= size && length <= size - offset;
}

static const struct virtio_shm_region *find_region(const struct virtio_pci_device *dev)
{
    for (unsigned int i = 0; i < dev->shm_count; i++) {
        if (dev->shm[i].id == VIRTIO_BLK_URING_SHM_ID) {
            return &dev->shm[i];
        }
    }
    return NULL;
}

/* Check the configuration against the spec and the device's resources. */
static const char *config_problem(const struct virtio_blk_uring *r)
{
    const struct virtio_blk_uring_config *c = &r->cfg;
    const struct virtio_pci_device *dev = r->dev;
    uint64_t doorbell = (uint64_t)c->doorbell_notify_off * dev->notify_off_multiplier;
    uint32_t sq_word = c->sq_off.head | c->sq_off.tail | c->sq_off.ring_mask |
                       c->sq_off.flags | c->sq_off.dropped | c->sq_off.array;
    uint32_t cq_word = c->cq_off.head | c->cq_off.tail | c->cq_off.ring_mask |
                       c->cq_off.flags | c->cq_off.overflow | c->cq_off.cqes;

    if (!power_of_two(c->sq_entries) || !power_of_two(c->cq_entries)) {
        return "ring sizes are not powers of two (configuration missing?)";
    }
    if (!(c->setup_flags & IORING_SETUP_SQPOLL)) {
        return "the ring has no SQPOLL thread";
    }
    if (!r->region) {
        return "no shared memory region 0";
    }
    if (!within(c->rings_offset, c->rings_size, r->region->length) ||
        !within(c->sqes_offset, c->sqes_size, r->region->length)) {
        return "rings or SQEs outside shared memory region 0";
    }
    if (sq_word % 4 || cq_word % 4 || c->cq_off.cqes % sizeof(struct io_uring_cqe)) {
        return "misaligned ring offsets";
    }
    if (!within(c->sq_off.head, 4, c->rings_size) ||
        !within(c->sq_off.tail, 4, c->rings_size) ||
        !within(c->sq_off.ring_mask, 4, c->rings_size) ||
        !within(c->sq_off.flags, 4, c->rings_size) ||
        !within(c->sq_off.dropped, 4, c->rings_size) ||
        !within(c->sq_off.array, 4ull * c->sq_entries, c->rings_size) ||
        !within(c->cq_off.head, 4, c->rings_size) ||
        !within(c->cq_off.tail, 4, c->rings_size) ||
        !within(c->cq_off.ring_mask, 4, c->rings_size) ||
        !within(c->cq_off.flags, 4, c->rings_size) ||
        !within(c->cq_off.overflow, 4, c->rings_size) ||
        !within(c->cq_off.cqes, sizeof(struct io_uring_cqe) * (uint64_t)c->cq_entries,
                c->rings_size) ||
        c->sqes_size < sizeof(struct io_uring_sqe) * (uint64_t)c->sq_entries) {
        return "ring offsets outside the rings";
    }
    if (c->sqe_flags_required & ~IOSQE_FIXED_FILE) {
        return "the device requires SQE flags this driver does not know";
    }
    if (!(c->allowed_ops & 1ull << IORING_OP_READ_FIXED)) {
        return "IORING_OP_READ_FIXED is not allowed";
    }
    if (c->buf_shift >= 64 || !c->nr_bufs) {
        return "no usable fixed-buffer windows";
    }
    if (c->dma_alignment > 1 && !power_of_two(c->dma_alignment)) {
        return "dma_alignment is not a power of two";
    }
    if (!within(doorbell, DOORBELL_WIDTH, dev->notify_length)) {
        return "doorbell outside the notification structure";
    }
    return NULL;
}

static void *ring_field(const struct virtio_blk_uring *r, uint32_t offset)
{
    return (void *)(uintptr_t)(r->region->addr + r->cfg.rings_offset + offset);
}

unsigned int virtio_blk_uring_num_rings(struct virtio_pci_device *dev)
{
    unsigned int n = virtio_pci_config_read16(dev, CFG(num_rings));

    /* A device that predates several rings has the field reserved, 0. */
    return n ? n : 1;
}

int virtio_blk_uring_attach(struct virtio_pci_device *dev, struct virtio_blk_uring *r)
{
    return virtio_blk_uring_attach_ring(dev, 0, r);
}

int virtio_blk_uring_attach_ring(struct virtio_pci_device *dev, unsigned int index,
                                 struct virtio_blk_uring *r)
{
    const struct virtio_blk_uring_config *c = &r->cfg;
    unsigned int rings = virtio_blk_uring_num_rings(dev);
    const char *problem;

    *r = (struct virtio_blk_uring){ .dev = dev, .region = find_region(dev), .index = index };
    if (index >= rings) {
        printf("%s: uring passthrough: no ring %u (the device has %u)\n", dev->name, index,
               rings);
        return -EPROTO;
    }
    /* The per-ring fields describe the selected ring; one ring: nothing to select. */
    if (rings > 1) {
        virtio_pci_config_write16(dev, CFG(ring_select), index);
    }
    read_config(dev, &r->cfg);
    problem = config_problem(r);
    if (problem) {
        printf("%s: uring passthrough: %s\n", dev->name, problem);
        return -EPROTO;
    }

    r->sq_head = ring_field(r, c->sq_off.head);
    r->sq_tail = ring_field(r, c->sq_off.tail);
    r->sq_flags = ring_field(r, c->sq_off.flags);
    r->sq_dropped = ring_field(r, c->sq_off.dropped);
    r->sq_array = ring_field(r, c->sq_off.array);
    r->sq_mask = *(uint32_t *)ring_field(r, c->sq_off.ring_mask);
    r->sqes = (void *)(uintptr_t)(r->region->addr + c->sqes_offset);
    r->cq_head = ring_field(r, c->cq_off.head);
    r->cq_tail = ring_field(r, c->cq_off.tail);
    r->cq_flags = ring_field(r, c->cq_off.flags);
    r->cq_overflow = ring_field(r, c->cq_off.overflow);
    r->cq_mask = *(uint32_t *)ring_field(r, c->cq_off.ring_mask);
    r->cqes = ring_field(r, c->cq_off.cqes);
    r->doorbell = (volatile uint16_t *)(dev->notify_base + (uint64_t)c->doorbell_notify_off *
                                                               dev->notify_off_multiplier);
    if (r->sq_mask != c->sq_entries - 1 || r->cq_mask != c->cq_entries - 1) {
        printf("%s: uring passthrough: ring masks 0x%x/0x%x in region 0 do not match "
               "%u/%u entries\n", dev->name, r->sq_mask, r->cq_mask, c->sq_entries,
               c->cq_entries);
        return -EPROTO;
    }

    /* Start from the ring's own indexes (0 on the fresh ring of FEATURES_OK). */
    r->sq_next = r->sq_published = __atomic_load_n(r->sq_tail, __ATOMIC_RELAXED);
    r->cq_next = __atomic_load_n(r->cq_head, __ATOMIC_RELAXED);
    for (uint32_t k = 0; k < c->sq_entries; k++) {
        r->sq_array[k] = k;
    }
    /* Polling: no completion interrupts (msix_vector stays 0xffff). */
    __atomic_store_n(r->cq_flags, *r->cq_flags | IORING_CQ_EVENTFD_DISABLED,
                     __ATOMIC_RELEASE);
    r->max_in_flight = c->sq_entries < c->cq_entries ? c->sq_entries : c->cq_entries;
    return 0;
}

int virtio_blk_uring_submit(struct virtio_blk_uring *r, uint8_t opcode, uint64_t offset,
                            void *buf, uint32_t len, uint64_t user_data)
{
    const struct virtio_blk_uring_config *c = &r->cfg;
    uint64_t phys = (uintptr_t)buf;     /* identity-mapped */
    uint64_t window = phys >> c->buf_shift;
    uint64_t align_mask = c->dma_alignment > 1 ? c->dma_alignment - 1 : 0;

    if (r->in_flight == r->max_in_flight) {
        return -EBUSY;
    }
    if (opcode >= 64 || !(c->allowed_ops & 1ull << opcode)) {
        /* The device allows no writes only on a read-only drive. */
        return opcode == IORING_OP_WRITE_FIXED ? -EROFS : -EOPNOTSUPP;
    }
    if (!len || (offset | len | phys) & align_mask ||
        (phys + len - 1) >> c->buf_shift != window || window >= c->nr_bufs) {
        return -EINVAL;
    }
    r->sqes[r->sq_next & r->sq_mask] = (struct io_uring_sqe){
        .opcode = opcode,
        .flags = IOSQE_FIXED_FILE | c->sqe_flags_required,
        .fd = c->file_index,
        .off = offset,
        .addr = c->ram_host_base + phys,
        .len = len,
        .buf_index = window,
        .user_data = user_data,
    };
    r->sq_next++;
    r->in_flight++;
    r->submitted++;
    return 0;
}

void virtio_blk_uring_kick(struct virtio_blk_uring *r)
{
    if (r->sq_next == r->sq_published) {
        return;
    }
    __atomic_store_n(r->sq_tail, r->sq_next, __ATOMIC_RELEASE);
    r->sq_published = r->sq_next;
    r->kicks++;
    /*
     * The SQPOLL thread sets NEED_WAKEUP, then looks at the tail once more
     * before it sleeps; the full barrier orders our tail store before the
     * flag load, so one of the two sides sees the other.
     */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(r->sq_flags, __ATOMIC_RELAXED) & IORING_SQ_NEED_WAKEUP) {
        virtio_blk_uring_ring_doorbell(r);
    }
}

void virtio_blk_uring_read_state(const struct virtio_blk_uring *r,
                                 struct virtio_blk_uring_state *s)
{
    *s = (struct virtio_blk_uring_state){
        .sq_head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE),
        .sq_tail = __atomic_load_n(r->sq_tail, __ATOMIC_RELAXED),
        .sq_flags = __atomic_load_n(r->sq_flags, __ATOMIC_RELAXED),
        .sq_dropped = __atomic_load_n(r->sq_dropped, __ATOMIC_RELAXED),
        .cq_head = __atomic_load_n(r->cq_head, __ATOMIC_RELAXED),
        .cq_tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE),
        .cq_flags = __atomic_load_n(r->cq_flags, __ATOMIC_RELAXED),
        .cq_overflow = __atomic_load_n(r->cq_overflow, __ATOMIC_RELAXED),
    };
}

const struct io_uring_sqe *virtio_blk_uring_sqe(const struct virtio_blk_uring *r,
                                                uint32_t sq_index)
{
    return &r->sqes[sq_index & r->sq_mask];
}

void virtio_blk_uring_ring_doorbell(struct virtio_blk_uring *r)
{
    *r->doorbell = 0;
    r->doorbells++;
}

unsigned int virtio_blk_uring_poll(struct virtio_blk_uring *r, virtio_blk_uring_done_fn done,
                                   void *opaque)
{
    uint32_t tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
    uint32_t head = r->cq_next;
    unsigned int reaped = tail - head;

    if (!reaped) {
        return 0;
    }
    /*
     * More CQEs than requests: not the ring this driver filled (after
     * DEVICE_NEEDS_RESET the region reads as zeroes).  Reap nothing; the
     * caller's timeout ends the wait.
     */
    if (reaped > r->in_flight) {
        if (!r->broken) {
            printf("virtio-blk-uring: CQ tail %u is %u past the head with %u "
                   "requests in flight: the rings are gone (device status "
                   "0x%02x)\n", tail, reaped, r->in_flight,
                   r->dev->common->device_status);
            r->broken = true;
        }
        return 0;
    }
    for (; head != tail; head++) {
        const struct io_uring_cqe *cqe = &r->cqes[head & r->cq_mask];

        done(opaque, cqe->user_data, cqe->res);
    }
    /* Only now may the kernel reuse the CQEs, and the driver the slots. */
    __atomic_store_n(r->cq_head, tail, __ATOMIC_RELEASE);
    r->cq_next = tail;
    r->in_flight -= reaped;
    return reaped;
}
