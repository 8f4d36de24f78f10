/*
 * Fuzz target 2: split and packed virtqueues carrying virtio-blk requests
 * (chains, indirect tables, event indexes, every request type, discard and
 * write-zeroes segments), on two devices: one with an I/O thread over a
 * cache=none image, one in the main loop over a cache=writeback image.
 *
 * An input starts with two bytes that choose the set-up, which libqos
 * performs before the operations run:
 *   byte 0: bit 0 the device (0: iothread + cache=none, 1: main loop +
 *           cache=writeback), bit 1 packed, bit 2 VIRTIO_F_EVENT_IDX,
 *           bit 3 VIRTIO_F_INDIRECT_DESC, bit 4 MSI-X, bit 5 the optional
 *           virtio-blk features (flush, discard, write zeroes, ...)
 *   byte 1: the queue size, 2 << (byte % 8)
 * Beyond the common operations (fuzz-input.h):
 *   REQUEST   u8 type, u64 sector, u16 length, u8 segments, u8 flags:
 *             a request chain (header, payload split in 1-4 buffers,
 *             status), added but not published; flags bit 0 indirect, bit 1
 *             misaligned buffers.  DISCARD, WRITE_ZEROES and unknown types
 *             take their payload from the input.
 *   KICK      publish and notify, unless the device suppressed it
 *   COLLECT   consume used entries, checking each against its request
 *   WAIT      let the device finish (bounded), then COLLECT
 *   EVENT     u16 flags, u16 index: the driver's notification suppression
 *   RAW_CHAIN u8 count, then count x (u16 slot, u64 addr, u32 len,
 *             u16 flags, u16 next): descriptors written as given into the
 *             split queue's table, the first slot's made available and
 *             notified; the driver's bookkeeping no longer holds after it
 *
 * Invariant of this target: a used entry names a chain the driver made
 * available, and reports no more bytes than that chain's device-writable
 * buffers hold.  It is checked until the input writes guest memory, a
 * BAR, PCI configuration or a port behind the driver's back or resets
 * the machine; from then on the target's own operations do nothing.
 *
 * Called with the BQL held, in the VMM's main thread.
 */
#include <string.h>

#include "exec/memory.h"
#include "fuzz-input.h"
#include "fuzz-machine.h"
#include "fuzz-target.h"
#include "inproc-qtest.h"
#include "libqos/virtio-blk.h"
#include "libqos/virtqueue-packed.h"

enum {
    OP_REQUEST = FUZZ_OP_TARGET,
    OP_KICK,
    OP_COLLECT,
    OP_WAIT,
    OP_EVENT,
    OP_RAW_CHAIN,
    NR_OPS,
};

/* Rings and indirect tables (libqos's allocator), then request buffers. */
#define ALLOC_START     (1ULL << 20)
#define ALLOC_END       (4ULL << 20)
#define BUFFERS_START   ALLOC_END
#define BUFFERS_END     (8ULL << 20)
#define MAX_PAYLOAD     (64 * 1024)
/* Payloads read from the input: DISCARD/WRITE_ZEROES segments and such. */
#define MAX_INPUT_PAYLOAD 256
#define MAX_SEGMENTS    4
#define WAIT_ROUNDS     50
#define WAIT_ROUND_US   200
#define QUEUE_SIZE_MAX  256

static const char *const objects[] = { "iothread,id=io1", NULL };
static const char *const drives[] = {
    "if=none,id=d0,cache=none,aio=io_uring,discard=unmap",
    "if=none,id=d1,cache=writeback,aio=io_uring",
    NULL,
};
static const char *const devices[] = {
    "virtio-blk-pci,drive=d0,iothread=io1,packed=on",
    "virtio-blk-pci,drive=d1,packed=on",
    NULL,
};

typedef struct Target {
    QPCIBus bus;
    QPCIDevice pdev;
    QVirtioPCIDevice vdev;
    GuestAlloc *alloc;
    QVirtQueue *vq;             /* split, or */
    QPackedQueue *pq;           /* packed */
    uint64_t next_buffer;
    /* by head (split) or buffer ID (packed): outstanding chains */
    bool outstanding[QUEUE_SIZE_MAX];
    uint32_t writable[QUEUE_SIZE_MAX];
} Target;

static Target t;

static uint64_t wanted_features(uint8_t cfg)
{
    uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1);

    f |= cfg & 2 ? VIRTIO_BIT(VIRTIO_F_RING_PACKED) : 0;
    f |= cfg & 4 ? VIRTIO_BIT(VIRTIO_F_EVENT_IDX) : 0;
    f |= cfg & 8 ? VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) : 0;
    if (cfg & 32) {
        f |= VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
             VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) |
             VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
             VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
             VIRTIO_BIT(VIRTIO_BLK_F_CONFIG_WCE) |
             VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX);
    }
    return f;
}

static void start_input(FuzzInput *in)
{
    uint8_t cfg = fuzz_u8(in);
    uint16_t size = 2u << (fuzz_u8(in) % 8);
    int devfn = fuzz_pci_find(PCI_VENDOR_ID_VIRTIO,
                              VIRTIO_PCI_MODERN_DEVICE_ID(VIRTIO_ID_BLOCK),
                              cfg & 1);

    g_assert(devfn >= 0);
    memset(&t, 0, sizeof(t));
    t.alloc = guest_alloc_new(ALLOC_START, ALLOC_END);
    t.next_buffer = BUFFERS_START;
    qpci_bus_init(&t.bus, inproc_qtest());
    t.pdev.bus = &t.bus;
    t.pdev.devfn = devfn;
    qvirtio_pci_init(&t.vdev, &t.pdev);
    qvirtio_pci_negotiate(&t.vdev, wanted_features(cfg));
    if (cfg & 16) {
        qvirtio_pci_enable_msix(&t.vdev);
    }
    if (cfg & 2) {
        t.pq = qpacked_setup(&t.vdev, t.alloc, 0, size);
    } else {
        t.vq = qvirtio_pci_queue_setup(&t.vdev, t.alloc, 0, size,
                                       cfg & 16 ? 0 : VIRTIO_MSI_NO_VECTOR);
    }
    qvirtio_pci_driver_ok(&t.vdev);
}

static void end_input(void)
{
    if (t.vq) {
        qvirtqueue_free(t.vq);
    }
    if (t.pq) {
        qpacked_free(t.pq);
    }
    guest_alloc_destroy(t.alloc);
}

/* A buffer in the request area, wrapping around (earlier ones are lost). */
static uint64_t buffer(uint32_t len, bool misaligned)
{
    uint64_t addr;

    if (t.next_buffer + len + 1 > BUFFERS_END) {
        t.next_buffer = BUFFERS_START;
    }
    addr = t.next_buffer + misaligned;
    t.next_buffer = (addr + len + 511) & ~511ULL;
    return addr;
}

static uint16_t num_free(void)
{
    return t.vq ? t.vq->num_free : t.pq->num_free;
}

static void request(FuzzInput *in)
{
    static const uint32_t types[] = {
        VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
        VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD,
        VIRTIO_BLK_T_WRITE_ZEROES, 14 /* SECURE_ERASE */,
    };
    uint8_t sel = fuzz_u8(in);
    uint32_t type = sel % 8 < G_N_ELEMENTS(types) ? types[sel % 8]
                                                   : fuzz_u32(in);
    uint64_t sector = fuzz_u64(in);
    uint32_t len = fuzz_u16(in);
    unsigned nseg = 1 + fuzz_u8(in) % MAX_SEGMENTS;
    uint8_t flags = fuzz_u8(in);
    bool indirect = flags & 1, misaligned = flags & 2;
    bool device_writes = type == VIRTIO_BLK_T_IN ||
                         type == VIRTIO_BLK_T_GET_ID;
    bool from_input = !device_writes && type != VIRTIO_BLK_T_OUT;
    QVirtQueueBuffer bufs[2 + MAX_SEGMENTS];
    uint8_t hdr[VIRTIO_BLK_OUTHDR_SIZE] = { 0 };
    unsigned n = 0;
    uint32_t writable = 1;
    uint16_t id;

    if (from_input) {
        len %= MAX_INPUT_PAYLOAD + 1;
    } else {
        len %= MAX_PAYLOAD + 1;
    }
    if (!len) {
        nseg = 0;
    }
    if (num_free() < (indirect ? 1 : 2 + nseg)) {
        return;
    }
    /*
     * libqos names a packed chain by its first slot.  Requests complete out
     * of order, so that slot may come round again while the chain that had
     * it is still in flight: wait, as two chains with one buffer ID could
     * not be told apart.
     */
    if (t.pq && t.outstanding[t.pq->avail_idx]) {
        return;
    }
    memcpy(hdr, &type, 4);
    memcpy(hdr + 8, &sector, 8);
    bufs[n].addr = buffer(sizeof(hdr), misaligned);
    bufs[n].len = sizeof(hdr);
    bufs[n].device_writes = false;
    address_space_write(&address_space_memory, bufs[n].addr, hdr,
                        sizeof(hdr));
    n++;
    for (unsigned i = 0; i < nseg; i++) {
        uint32_t part = len / nseg + (i + 1 == nseg ? len % nseg : 0);
        const uint8_t *data;
        size_t got;

        if (!part) {
            continue;
        }
        bufs[n].addr = buffer(part, misaligned);
        bufs[n].len = part;
        bufs[n].device_writes = device_writes;
        if (from_input) {
            got = fuzz_bytes(in, part, &data);
            address_space_write(&address_space_memory, bufs[n].addr, data,
                                got);
        } else {
            qtest_memset(inproc_qtest(), bufs[n].addr, 0x5a, part);
        }
        writable += device_writes ? part : 0;
        n++;
    }
    bufs[n].addr = buffer(1, false);
    bufs[n].len = 1;
    bufs[n].device_writes = true;
    n++;
    if (t.vq) {
        id = indirect ? qvirtqueue_add_indirect(t.vq, bufs, n)
                      : qvirtqueue_add(t.vq, bufs, n);
    } else {
        id = indirect ? qpacked_add_indirect(t.pq, bufs, n)
                      : qpacked_add(t.pq, bufs, n);
    }
    t.outstanding[id] = true;
    t.writable[id] = writable;
}

/* The next used entry, if any, without consuming it. */
static bool peek_used(uint16_t *id, uint32_t *len)
{
    uint64_t elem;

    if (t.vq) {
        if (qtest_readw(NULL, t.vq->used + 2) == t.vq->last_used_idx) {
            return false;
        }
        elem = t.vq->used + 4 + 8 * (t.vq->last_used_idx % t.vq->size);
        *id = qtest_readl(NULL, elem);
        *len = qtest_readl(NULL, elem + 4);
    } else {
        uint64_t d = t.pq->ring + (uint64_t)t.pq->used_idx * 16;
        uint16_t flags = qtest_readw(NULL, d + 14);
        bool avail = flags & PACKED_DESC_F_AVAIL;
        bool used = flags & PACKED_DESC_F_USED;

        if (avail != t.pq->used_wrap || used != t.pq->used_wrap) {
            return false;
        }
        *id = qtest_readw(NULL, d + 12);
        *len = qtest_readl(NULL, d + 8);
    }
    return true;
}

static void collect(void)
{
    uint16_t id, got_id;
    uint32_t len, got_len;

    inproc_qtest_poll();
    while (peek_used(&id, &len)) {
        if (id >= QUEUE_SIZE_MAX || !t.outstanding[id]) {
            fuzz_violation("%s queue: the device used chain %u, which the "
                           "driver had not made available",
                           t.vq ? "split" : "packed", id);
        }
        if (len > t.writable[id]) {
            fuzz_violation("%s queue: chain %u completed with %u bytes "
                           "written, but only %u bytes were writable",
                           t.vq ? "split" : "packed", id, len,
                           t.writable[id]);
        }
        t.outstanding[id] = false;
        if (t.vq) {
            qvirtqueue_get_used(t.vq, &got_id, &got_len);
        } else {
            qpacked_get_used(t.pq, &got_id, &got_len);
        }
    }
}

static bool any_outstanding(void)
{
    for (unsigned i = 0; i < QUEUE_SIZE_MAX; i++) {
        if (t.outstanding[i]) {
            return true;
        }
    }
    return false;
}

static void wait_and_collect(void)
{
    collect();
    for (unsigned i = 0; i < WAIT_ROUNDS && any_outstanding(); i++) {
        g_usleep(WAIT_ROUND_US);
        collect();
    }
}

static void event(FuzzInput *in)
{
    uint16_t flags = fuzz_u16(in);
    uint16_t index = fuzz_u16(in);

    if (t.vq) {
        qvirtqueue_set_avail_flags(t.vq, flags & VRING_AVAIL_F_NO_INTERRUPT);
        if (t.vq->event_idx) {
            qvirtqueue_set_used_event(t.vq, index);
        }
    } else {
        qpacked_set_driver_event(t.pq, flags % 3, index);
    }
}

/* Descriptors as a hostile driver writes them (split queues only). */
static void raw_chain(FuzzInput *in)
{
    unsigned count = 1 + fuzz_u8(in) % MAX_SEGMENTS;
    uint16_t head = 0;

    for (unsigned i = 0; i < count; i++) {
        uint16_t slot = fuzz_u16(in);
        uint64_t addr = fuzz_u64(in);
        uint32_t len = fuzz_u32(in);
        uint16_t flags = fuzz_u16(in);
        uint16_t next = fuzz_u16(in);

        if (t.vq) {
            slot %= t.vq->size;
            head = i ? head : slot;
            qvirtqueue_write_desc(inproc_qtest(), t.vq->desc, slot, addr, len,
                                  flags, next);
        }
    }
    if (t.vq) {
        qvirtqueue_add_raw(t.vq, head);
        qvirtio_pci_queue_notify(&t.vdev, t.vq);
        fuzz_target_taint();
    }
}

static void run_target_op(unsigned op, FuzzInput *in)
{
    switch (op) {
    case OP_REQUEST:
        request(in);
        break;
    case OP_KICK:
        if (t.vq) {
            qvirtqueue_kick(t.vq);
        } else {
            qpacked_kick(t.pq);
        }
        break;
    case OP_COLLECT:
        collect();
        break;
    case OP_WAIT:
        wait_and_collect();
        break;
    case OP_EVENT:
        event(in);
        break;
    case OP_RAW_CHAIN:
        raw_chain(in);
        break;
    default:
        g_assert_not_reached();
    }
}

const FuzzTarget fuzz_target = {
    .machine = { .objects = objects, .drives = drives, .devices = devices },
    .nr_ops = NR_OPS,
    .begin_input = start_input,
    .run_op = run_target_op,
    .end_input = end_input,
    .needs_driver_view = true,
};
