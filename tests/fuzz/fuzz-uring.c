/*
 * Fuzz target 3: the io_uring passthrough of virtio-blk
 * (docs/specs/virtio-blk-uring.rst): its configuration fields, reset and
 * re-negotiation cycles, and SQEs written into shared memory region 0,
 * which the host kernel's SQPOLL thread executes.
 *
 * An input starts with a byte that chooses the set-up, which libqos
 * performs before the operations run: bit 0 negotiate the passthrough (a
 * ring is made; else the plain device), bit 1 DRIVER_OK (the SQPOLL thread
 * starts consuming), bit 2 MSI-X with the completion vector set.
 * Beyond the common operations (fuzz-input.h):
 *   SQE        u8 opcode, u8 raw, u64 off, u32 gpa, u32 len, u8 flags,
 *              u16 buf_index, u32 rw_flags, u64 addr3: an SQE as
 *              qvirtio_blk_uring_prep() makes it, then each field whose
 *              bit is set in raw taken from the input; queued, not
 *              published.  opcode: READ_FIXED, WRITE_FIXED, FSYNC, NOP or
 *              the byte itself.
 *   KICK       publish, ring the doorbell if the SQ flags ask for it
 *   DOORBELL   ring it anyway
 *   REAP       consume CQEs, checking each against its SQE
 *   WAIT       let the kernel finish (bounded), then REAP
 *   RENEGOTIATE  u8 set-up byte: reset and set up again (at most
 *              MAX_RENEGOTIATIONS times an input: each makes a ring and
 *              its owner process, which takes milliseconds)
 *   CONFIG_WRITE u16 offset, u8 size, u64 value: the extension's fields
 *   CQ_FLAGS   u32
 *
 * Invariant of this target: a CQE's result is never more bytes than its
 * SQE asked for.  It is checked until the input writes guest memory, a
 * BAR, PCI configuration or a port behind the driver's back or resets
 * the machine, as in fuzz-virtqueue.c.
 *
 * Called with the BQL held, in the VMM's main thread.
 */
#include <linux/io_uring.h>
#include <string.h>

#include "exec/memory.h"
#include "fuzz-input.h"
#include "fuzz-machine.h"
#include "fuzz-target.h"
#include "inproc-qtest.h"
#include "libqos/virtio-blk-uring.h"

enum {
    OP_SQE = FUZZ_OP_TARGET,
    OP_KICK,
    OP_DOORBELL,
    OP_REAP,
    OP_WAIT,
    OP_RENEGOTIATE,
    OP_CONFIG_WRITE,
    OP_CQ_FLAGS,
    NR_OPS,
};

#define SQ_ENTRIES      8
/* The buffers SQEs name by default are here, in guest RAM. */
#define BUFFERS_START   (4ULL << 20)
#define BUFFERS_SIZE    (4ULL << 20)
#define WAIT_ROUNDS     100
#define WAIT_ROUND_US   200
/* user_data of the SQEs made here, by slot; raw ones have others. */
#define USER_DATA_BASE  0x5a5a000000000000ULL
#define MAX_TRACKED     256
#define MAX_RENEGOTIATIONS 4

static const char *const drives[] = {
    "if=none,id=d0,cache=none,aio=io_uring", NULL,
};
static const char *const devices[] = {
    "virtio-blk-pci,drive=d0,uring-passthrough=on,uring-entries=8", NULL,
};

typedef struct Target {
    QVirtioBlkUring *u;
    bool ready;                 /* the passthrough is negotiated */
    uint32_t next;              /* SQEs made so far */
    unsigned renegotiations;
    unsigned in_flight;         /* published and not reaped */
    bool outstanding[MAX_TRACKED];
    uint32_t len[MAX_TRACKED];
} Target;

static Target t;

static void set_up(uint8_t cfg)
{
    uint64_t features = VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);

    memset(t.outstanding, 0, sizeof(t.outstanding));
    t.in_flight = 0;
    t.ready = false;
    if (cfg & 1) {
        features |= VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH);
    }
    features = qvirtio_blk_uring_negotiate(t.u, features);
    t.ready = features & VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH);
    if (cfg & 4) {
        qvirtio_pci_enable_msix(&t.u->vdev);
        if (t.ready) {
            qvirtio_pci_config_writew(&t.u->vdev, VBU_CFG(msix_vector), 0);
        }
    }
    if (cfg & 2) {
        qvirtio_blk_uring_driver_ok(t.u);
    }
}

static void sqe(FuzzInput *in)
{
    static const uint8_t opcodes[] = {
        IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED, IORING_OP_FSYNC,
        IORING_OP_NOP,
    };
    uint8_t sel = fuzz_u8(in);
    uint8_t raw = fuzz_u8(in);
    uint64_t off = fuzz_u64(in);
    uint32_t gpa = fuzz_u32(in);
    uint32_t len = fuzz_u32(in);
    uint8_t flags = fuzz_u8(in);
    uint16_t buf_index = fuzz_u16(in);
    uint32_t rw_flags = fuzz_u32(in);
    uint64_t addr3 = fuzz_u64(in);
    uint8_t opcode = sel < 4 * G_N_ELEMENTS(opcodes)
                     ? opcodes[sel % G_N_ELEMENTS(opcodes)] : sel;
    uint32_t slot = t.next % MAX_TRACKED;
    QUringSqe s;

    if (!t.ready || t.u->sq_tail - t.u->sq_published >= SQ_ENTRIES) {
        return;
    }
    if (!(raw & 1)) {
        gpa = BUFFERS_START + gpa % BUFFERS_SIZE;
        len %= BUFFERS_START + BUFFERS_SIZE - gpa + 1;
        off %= 2 * FUZZ_IMAGE_SIZE;
        if (t.u->cfg.dma_alignment > 1) {
            gpa &= ~(t.u->cfg.dma_alignment - 1);
            len &= ~(t.u->cfg.dma_alignment - 1);
            off &= ~(uint64_t)(t.u->cfg.dma_alignment - 1);
        }
    }
    qvirtio_blk_uring_prep(t.u, &s, opcode, gpa, len, off,
                           USER_DATA_BASE + slot);
    if (raw & 2) {
        s.flags = flags;
    }
    if (raw & 4) {
        s.buf_index = buf_index;
    }
    if (raw & 8) {
        s.rw_flags = rw_flags;
    }
    if (raw & 16) {
        s.addr3 = addr3;
    }
    if (raw & 32) {
        s.ioprio = rw_flags >> 16;
    }
    if (raw & 64) {
        s.fd = (int8_t)flags;
    }
    if (raw & 128) {
        s.off = off;        /* unbounded, even -1 */
    }
    qvirtio_blk_uring_queue(t.u, &s);
    t.outstanding[slot] = true;
    t.len[slot] = len;
    t.next++;
}

/* After a kick every SQE made here is published. */
static void count_in_flight(void)
{
    t.in_flight = 0;
    for (unsigned i = 0; i < MAX_TRACKED; i++) {
        t.in_flight += t.outstanding[i];
    }
}

static void reap(void)
{
    QUringCqe cqe;

    if (!t.ready) {
        return;
    }
    while (qvirtio_blk_uring_pop_cqe(t.u, &cqe)) {
        uint64_t slot = cqe.user_data - USER_DATA_BASE;

        if (slot >= MAX_TRACKED || !t.outstanding[slot]) {
            continue;       /* an SQE the input wrote itself */
        }
        t.outstanding[slot] = false;
        t.in_flight -= t.in_flight > 0;
        if (cqe.res > 0 && (uint32_t)cqe.res > t.len[slot]) {
            fuzz_violation("CQE 0x%" G_GINT64_MODIFIER "x completed %d "
                           "bytes for an SQE of %u", cqe.user_data, cqe.res,
                           t.len[slot]);
        }
    }
}

static void wait_and_reap(void)
{
    reap();
    for (unsigned i = 0; i < WAIT_ROUNDS && t.in_flight; i++) {
        g_usleep(WAIT_ROUND_US);
        reap();
    }
}

/*
 * A write to the extension's fields, any size at any offset (the access
 * may run past the end of the device configuration structure).
 */
static void config_write(FuzzInput *in)
{
    const QVirtioPCIRegion *dev = &t.u->vdev.device;
    uint16_t off = VIRTIO_BLK_URING_CONFIG_OFFSET +
                   fuzz_u16(in) % sizeof(struct virtio_blk_uring_config);
    unsigned size = fuzz_access_size(fuzz_u8(in), 8);
    uint64_t value = fuzz_u64(in);

    if (dev->bar) {
        address_space_stn(&address_space_memory,
                          dev->bar->addr + dev->offset + off, size, value);
    }
}

static void run_target_op(unsigned op, FuzzInput *in)
{
    switch (op) {
    case OP_SQE:
        sqe(in);
        break;
    case OP_KICK:
        if (t.ready) {
            qvirtio_blk_uring_kick(t.u);
            count_in_flight();
        }
        break;
    case OP_DOORBELL:
        if (t.ready) {
            qvirtio_blk_uring_doorbell(t.u);
        }
        break;
    case OP_REAP:
        reap();
        break;
    case OP_WAIT:
        wait_and_reap();
        break;
    case OP_RENEGOTIATE: {
        uint8_t cfg = fuzz_u8(in);

        if (t.renegotiations++ < MAX_RENEGOTIATIONS) {
            set_up(cfg);
        }
        break;
    }
    case OP_CONFIG_WRITE:
        config_write(in);
        break;
    case OP_CQ_FLAGS: {
        uint32_t flags = fuzz_u32(in);

        if (t.ready) {
            qvirtio_blk_uring_set_cq_flags(t.u, flags);
        }
        break;
    }
    default:
        g_assert_not_reached();
    }
}

/* Start and end one ring, so that what stays for good is in the baseline. */
static void warm_up(void)
{
    t.u = qvirtio_blk_uring_new(inproc_qtest());
    set_up(7);
    g_assert_true(t.ready);
    qvirtio_blk_uring_reset(t.u);
}

/* A new input: its first byte picks the set-up (set_up()). */
static void begin_input(FuzzInput *in)
{
    t.next = 0;
    t.renegotiations = 0;
    set_up(fuzz_u8(in));
}

/* libqos's view of the device: reset, as the machine is now. */
static void end_input(void)
{
    memset(&t.u->cfg, 0, sizeof(t.u->cfg));
    t.u->rings = t.u->sqes = 0;
    t.u->sq_tail = t.u->sq_published = t.u->cq_head = 0;
}

const FuzzTarget fuzz_target = {
    .machine = { .drives = drives, .devices = devices },
    .warm_up = warm_up,
    .nr_ops = NR_OPS,
    .begin_input = begin_input,
    .run_op = run_target_op,
    .end_input = end_input,
    .needs_driver_view = true,
};
