/*
 * A hostile driver's rings: descriptors outside guest RAM, in the PCI hole
 * or wrapping around the address space, loops, chains longer than the
 * queue, bad indices, malformed indirect tables, requests without a status
 * byte or with a short header, writable descriptors before readable ones.
 *
 * Each must end with NEEDS_RESET (and the configuration interrupt the spec
 * asks for, 2.1.2), with no used element, with guest memory untouched
 * (canaries fill the area around the request's buffers and the top of
 * RAM), and with a VMM that keeps running, that a reset brings back to
 * working order and that exits cleanly.  Valid but unusual chains built
 * the same way must work and write only their buffers.
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (1ULL << 20)
#define QUEUE_SIZE      16
#define TOP_SIZE        0x10000         /* canaries at the top of RAM */
#define TOP             (RAM_SIZE - TOP_SIZE)
#define ARENA_SIZE      0x10000         /* canaries around the buffers */
#define HDR_OFF         0x1000
#define DATA_OFF        0x2000
#define STATUS_OFF      0x3000
#define TABLE_OFF       0x4000          /* indirect tables, up to the end */
#define SECTOR          1               /* what the requests read */
#define CONFIG_VECTOR   1
#define CONFIG_MSI_DATA 0xc0f1
#define POLL_US         100

typedef struct HostileFixture HostileFixture;

typedef struct HostileCase {
    const char *name;
    /* Write descriptors (and tables) and publish them; no notification. */
    void (*build)(HostileFixture *f);
    bool without_indirect;      /* do not negotiate VIRTIO_F_INDIRECT_DESC */
} HostileCase;

typedef struct HostileTest {
    const HostileCase *c;
    bool iothread;
} HostileTest;

struct HostileFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
    QVirtioBlkSetup setup;
    QVirtQueue *vq;
    uint64_t config_msi;
    uint64_t arena, hdr, data, status, table;
    uint8_t arena_before[ARENA_SIZE], top_before[TOP_SIZE];
    uint16_t used_before;
};

static uint8_t canary(uint64_t addr)
{
    return 0xc3 ^ (addr >> 3) ^ (addr >> 11);
}

static void fill_canaries(HostileFixture *f, uint64_t addr, size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);

    for (size_t i = 0; i < len; i++) {
        buf[i] = canary(addr + i);
    }
    qtest_memwrite(f->qts, addr, buf, len);
}

/* Point the configuration vector at a word of guest RAM. */
static void route_config_vector(HostileFixture *f)
{
    QVirtioPCIDevice *d = &f->blk->vdev;

    qtest_writel(f->qts, f->config_msi, 0);
    qpci_msix_set_vector(&d->msix, CONFIG_VECTOR, f->config_msi,
                         CONFIG_MSI_DATA);
    qvirtio_pci_common_writew(d, VIRTIO_PCI_COMMON_MSIX, CONFIG_VECTOR);
    g_assert_cmpuint(qvirtio_pci_common_readw(d, VIRTIO_PCI_COMMON_MSIX), ==,
                     CONFIG_VECTOR);
}

static void start_device(HostileFixture *f)
{
    qvirtio_blk_pci_start(f->blk, &f->setup);
    f->vq = f->blk->vq;
    g_assert_cmpuint(f->vq->size, ==, QUEUE_SIZE);
    route_config_vector(f);
}

static void hostile_setup(HostileFixture *f, gconstpointer data)
{
    const HostileTest *t = data;

    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-drive file=%s,if=none,id=d0,format=raw %s "
                         "-device virtio-blk-pci,drive=d0%s", f->image->path,
                         t->iothread ? "-object iothread,id=io0" : "",
                         t->iothread ? ",iothread=io0" : "");
    blk_image_detach(f->image);
    /* The allocator keeps off the canaries at the top of RAM. */
    f->alloc = guest_alloc_new(1 << 20, TOP);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    f->setup = (QVirtioBlkSetup){
        .features = VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
                    VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
                    (t->c && t->c->without_indirect ? 0 :
                     VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)),
        .msix = true,
        .queue_size = QUEUE_SIZE,
    };
    f->config_msi = guest_alloc(f->alloc, 4);
    start_device(f);

    f->arena = guest_alloc(f->alloc, ARENA_SIZE);
    f->hdr = f->arena + HDR_OFF;
    f->data = f->arena + DATA_OFF;
    f->status = f->arena + STATUS_OFF;
    f->table = f->arena + TABLE_OFF;
    fill_canaries(f, f->arena, ARENA_SIZE);
    fill_canaries(f, TOP, TOP_SIZE);
    /* A read of sector SECTOR; some cases make it something else. */
    qtest_writel(f->qts, f->hdr, VIRTIO_BLK_T_IN);
    qtest_writel(f->qts, f->hdr + 4, 0);
    qtest_writeq(f->qts, f->hdr + 8, SECTOR);
    qtest_writeb(f->qts, f->status, 0xff);
}

static void hostile_teardown(HostileFixture *f, gconstpointer data)
{
    guest_free(f->alloc, f->arena);
    qvirtio_blk_pci_free(f->blk);
    guest_free(f->alloc, f->config_msi);
    guest_alloc_destroy(f->alloc);
    /* Checks that the VMM exits cleanly, with status 0. */
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

/* Descriptor i of the queue's table, or of the indirect table. */
static void desc(HostileFixture *f, uint16_t i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next)
{
    qvirtqueue_write_desc(f->qts, f->vq->desc, i, addr, len, flags, next);
}

static void idesc(HostileFixture *f, uint16_t i, uint64_t addr, uint32_t len,
                  uint16_t flags, uint16_t next)
{
    qvirtqueue_write_desc(f->qts, f->table, i, addr, len, flags, next);
}

static void snapshot(HostileFixture *f)
{
    qtest_memread(f->qts, f->arena, f->arena_before, ARENA_SIZE);
    qtest_memread(f->qts, TOP, f->top_before, TOP_SIZE);
    f->used_before = qvirtqueue_used_idx(f->vq);
}

/*
 * Guest memory is as the snapshot has it, except (if the device completed
 * the request) for the data and status buffers.
 */
static void assert_memory_unchanged(HostileFixture *f, bool completed)
{
    g_autofree uint8_t *arena = g_malloc(ARENA_SIZE);
    g_autofree uint8_t *top = g_malloc(TOP_SIZE);

    qtest_memread(f->qts, f->arena, arena, ARENA_SIZE);
    qtest_memread(f->qts, TOP, top, TOP_SIZE);
    for (unsigned i = 0; i < ARENA_SIZE; i++) {
        if (completed && ((i >= DATA_OFF &&
                           i < DATA_OFF + VIRTIO_BLK_SECTOR_SIZE) ||
                          i == STATUS_OFF)) {
            continue;
        }
        if (arena[i] != f->arena_before[i]) {
            g_error("guest memory at 0x%" G_GINT64_MODIFIER "x changed: "
                    "0x%02x, was 0x%02x", f->arena + i, arena[i],
                    f->arena_before[i]);
        }
    }
    g_assert_cmpmem(top, TOP_SIZE, f->top_before, TOP_SIZE);
}

/* After a reset and the initialization sequence, a read works. */
static void assert_recovers(HostileFixture *f)
{
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];

    qvirtio_blk_pci_stop(f->blk);
    g_assert_cmphex(qvirtio_pci_get_status(&f->blk->vdev), ==, 0);
    start_device(f);
    g_assert_false(qvirtio_pci_get_status(&f->blk->vdev) &
                   VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_cmpuint(qvirtio_blk_read(f->vq, 9, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, blk_image_sector_byte(9));
    }
}

/* Build the case, kick, and check every consequence of NEEDS_RESET. */
static void test_needs_reset(HostileFixture *f, gconstpointer data)
{
    const HostileTest *t = data;
    QVirtioPCIDevice *d = &f->blk->vdev;

    t->c->build(f);
    snapshot(f);
    qvirtio_pci_queue_notify(d, f->vq);
    if (!qvirtio_pci_wait_status(d, VIRTIO_CONFIG_S_NEEDS_RESET,
                                 QVIRTIO_TIMEOUT_US)) {
        g_error("%s: no NEEDS_RESET (status 0x%02x, used index %u)",
                t->c->name, qvirtio_pci_get_status(d),
                qvirtqueue_used_idx(f->vq));
    }
    g_assert_true(qpci_msix_wait(f->qts, f->config_msi, CONFIG_MSI_DATA,
                                 QVIRTIO_TIMEOUT_US));
    g_assert_cmpuint(qvirtqueue_used_idx(f->vq), ==, f->used_before);
    assert_memory_unchanged(f, false);
    assert_recovers(f);
}

/* A valid request made with qvirtqueue_add*: OK, only its buffers written. */
static void run_valid(HostileFixture *f, uint16_t head)
{
    uint8_t buf[VIRTIO_BLK_SECTOR_SIZE];
    uint16_t used_head;
    uint32_t len;

    snapshot(f);
    qvirtqueue_kick(f->vq);
    qvirtqueue_wait_used(f->vq, &used_head, &len, QVIRTIO_TIMEOUT_US);
    g_assert_cmpuint(used_head, ==, head);
    g_assert_cmpuint(len, ==, sizeof(buf) + 1);
    g_assert_cmphex(qtest_readb(f->qts, f->status), ==, VIRTIO_BLK_S_OK);
    qtest_memread(f->qts, f->data, buf, sizeof(buf));
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, blk_image_sector_byte(SECTOR));
    }
    assert_memory_unchanged(f, true);
    g_assert_false(qvirtio_pci_get_status(&f->blk->vdev) &
                   VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* The header split across two descriptors and the data across two. */
static void test_split_header(HostileFixture *f, gconstpointer data)
{
    QVirtQueueBuffer bufs[] = {
        { f->hdr, 8, false }, { f->hdr + 8, 8, false },
        { f->data, 100, true }, { f->data + 100, 412, true },
        { f->status, 1, true },
    };

    run_valid(f, qvirtqueue_add(f->vq, bufs, G_N_ELEMENTS(bufs)));
}

/* The same request through an indirect table. */
static void test_valid_indirect(HostileFixture *f, gconstpointer data)
{
    QVirtQueueBuffer bufs[] = {
        { f->hdr, VIRTIO_BLK_OUTHDR_SIZE, false },
        { f->data, VIRTIO_BLK_SECTOR_SIZE, true }, { f->status, 1, true },
    };

    run_valid(f, qvirtqueue_add_indirect(f->vq, bufs, G_N_ELEMENTS(bufs)));
}

/* Cases: header, data and status with one thing wrong. */

static void build_read(HostileFixture *f, uint64_t data, uint32_t len)
{
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 1);
    desc(f, 1, data, len, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    desc(f, 2, f->status, 1, VRING_DESC_F_WRITE, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_data_past_ram_end(HostileFixture *f)
{
    build_read(f, RAM_SIZE - 256, VIRTIO_BLK_SECTOR_SIZE);
}

static void build_data_in_pci_hole(HostileFixture *f)
{
    /* The device's own registers, in the PCI MMIO window. */
    build_read(f, f->blk->vdev.common.bar->addr, VIRTIO_BLK_SECTOR_SIZE);
}

static void build_data_wraps(HostileFixture *f)
{
    build_read(f, 0xfffffffffffffe00ULL, 0x400);
}

static void build_data_huge(HostileFixture *f)
{
    build_read(f, f->data, UINT32_MAX);
}

static void build_header_huge(HostileFixture *f)
{
    desc(f, 0, f->hdr, UINT32_MAX, VRING_DESC_F_NEXT, 1);
    desc(f, 1, f->status, 1, VRING_DESC_F_WRITE, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_status_past_ram_end(HostileFixture *f)
{
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 1);
    desc(f, 1, f->data, VIRTIO_BLK_SECTOR_SIZE,
         VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    desc(f, 2, RAM_SIZE, 1, VRING_DESC_F_WRITE, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_self_loop(HostileFixture *f)
{
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_loop_back(HostileFixture *f)
{
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 1);
    desc(f, 1, f->data, 256, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    desc(f, 2, f->data + 256, 256, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
         1);
    qvirtqueue_add_raw(f->vq, 0);
}

/* Every descriptor of the table in one chain, and then one more. */
static void build_longer_than_queue(HostileFixture *f)
{
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 1);
    for (uint16_t i = 1; i < QUEUE_SIZE; i++) {
        desc(f, i, f->data + 32 * (i - 1), 32,
             VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (i + 1) % QUEUE_SIZE);
    }
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_next_out_of_range(HostileFixture *f)
{
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT,
         QUEUE_SIZE);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_next_max(HostileFixture *f)
{
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT,
         UINT16_MAX);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_head_out_of_range(HostileFixture *f)
{
    qvirtqueue_add_raw(f->vq, QUEUE_SIZE);
}

/* A valid chain, and an available index that claims more than a ring. */
static void build_avail_idx_jump(HostileFixture *f)
{
    build_read(f, f->data, VIRTIO_BLK_SECTOR_SIZE);
    qvirtqueue_set_avail_idx_raw(f->vq, QUEUE_SIZE + 1);
}

static void build_avail_idx_backwards(HostileFixture *f)
{
    build_read(f, f->data, VIRTIO_BLK_SECTOR_SIZE);
    qvirtqueue_set_avail_idx_raw(f->vq, UINT16_MAX);
}

static void build_no_status(HostileFixture *f)
{
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, 0, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

/* A write whose every descriptor is device-readable. */
static void build_write_without_status(HostileFixture *f)
{
    qtest_writel(f->qts, f->hdr, VIRTIO_BLK_T_OUT);
    desc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 1);
    desc(f, 1, f->data, VIRTIO_BLK_SECTOR_SIZE, VRING_DESC_F_NEXT, 2);
    desc(f, 2, f->status, 1, 0, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_short_header(HostileFixture *f)
{
    desc(f, 0, f->hdr, 8, VRING_DESC_F_NEXT, 1);
    desc(f, 1, f->data, VIRTIO_BLK_SECTOR_SIZE,
         VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    desc(f, 2, f->status, 1, VRING_DESC_F_WRITE, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_empty_header(HostileFixture *f)
{
    desc(f, 0, f->hdr, 0, VRING_DESC_F_NEXT, 1);
    desc(f, 1, f->status, 1, VRING_DESC_F_WRITE, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_writable_first(HostileFixture *f)
{
    desc(f, 0, f->data, VIRTIO_BLK_SECTOR_SIZE,
         VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    desc(f, 1, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 2);
    desc(f, 2, f->status, 1, VRING_DESC_F_WRITE, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

/* Cases: indirect tables. */

/* A valid table of header, data and status at f->table. */
static void fill_table(HostileFixture *f)
{
    idesc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 1);
    idesc(f, 1, f->data, VIRTIO_BLK_SECTOR_SIZE,
          VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    idesc(f, 2, f->status, 1, VRING_DESC_F_WRITE, 0);
}

static void build_indirect(HostileFixture *f, uint64_t table, uint32_t len)
{
    fill_table(f);
    desc(f, 0, table, len, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_indirect_not_negotiated(HostileFixture *f)
{
    build_indirect(f, f->table, 3 * VRING_DESC_SIZE);
}

static void build_indirect_len_zero(HostileFixture *f)
{
    build_indirect(f, f->table, 0);
}

static void build_indirect_len_odd(HostileFixture *f)
{
    build_indirect(f, f->table, 3 * VRING_DESC_SIZE - 8);
}

/* More entries than any queue may have; the table is all in RAM. */
static void build_indirect_len_huge(HostileFixture *f)
{
    build_indirect(f, f->table, 1025 * VRING_DESC_SIZE);
}

static void build_indirect_past_ram_end(HostileFixture *f)
{
    build_indirect(f, RAM_SIZE - VRING_DESC_SIZE, 3 * VRING_DESC_SIZE);
}

static void build_indirect_wraps(HostileFixture *f)
{
    build_indirect(f, 0xfffffffffffffff0ULL, 3 * VRING_DESC_SIZE);
}

static void build_indirect_nested(HostileFixture *f)
{
    uint64_t inner = f->table + 0x100;

    idesc(f, 0, inner, 3 * VRING_DESC_SIZE, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_write_desc(f->qts, inner, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE,
                          VRING_DESC_F_NEXT, 1);
    qvirtqueue_write_desc(f->qts, inner, 1, f->data, VIRTIO_BLK_SECTOR_SIZE,
                          VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    qvirtqueue_write_desc(f->qts, inner, 2, f->status, 1, VRING_DESC_F_WRITE,
                          0);
    desc(f, 0, f->table, VRING_DESC_SIZE, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_indirect_with_next(HostileFixture *f)
{
    fill_table(f);
    desc(f, 0, f->table, 3 * VRING_DESC_SIZE,
         VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
    desc(f, 1, f->status, 1, VRING_DESC_F_WRITE, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_indirect_loop(HostileFixture *f)
{
    idesc(f, 0, f->hdr, VIRTIO_BLK_OUTHDR_SIZE, VRING_DESC_F_NEXT, 1);
    idesc(f, 1, f->data, 256, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    idesc(f, 2, f->data + 256, 256, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
          1);
    desc(f, 0, f->table, 3 * VRING_DESC_SIZE, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static void build_indirect_next_out_of_range(HostileFixture *f)
{
    fill_table(f);
    idesc(f, 1, f->data, VIRTIO_BLK_SECTOR_SIZE,
          VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
    desc(f, 0, f->table, 3 * VRING_DESC_SIZE, VRING_DESC_F_INDIRECT, 0);
    qvirtqueue_add_raw(f->vq, 0);
}

static const HostileCase cases[] = {
    { "data-past-ram-end", build_data_past_ram_end },
    { "data-in-pci-hole", build_data_in_pci_hole },
    { "data-wraps-address-space", build_data_wraps },
    { "data-len-4g", build_data_huge },
    { "header-len-4g", build_header_huge },
    { "status-past-ram-end", build_status_past_ram_end },
    { "self-loop", build_self_loop },
    { "loop-back", build_loop_back },
    { "chain-longer-than-queue", build_longer_than_queue },
    { "next-out-of-range", build_next_out_of_range },
    { "next-0xffff", build_next_max },
    { "head-out-of-range", build_head_out_of_range },
    { "avail-idx-jump", build_avail_idx_jump },
    { "avail-idx-backwards", build_avail_idx_backwards },
    { "no-status", build_no_status },
    { "write-without-status", build_write_without_status },
    { "short-header", build_short_header },
    { "empty-header", build_empty_header },
    { "writable-first", build_writable_first },
    { "indirect-not-negotiated", build_indirect_not_negotiated, true },
    { "indirect-len-zero", build_indirect_len_zero },
    { "indirect-len-not-multiple", build_indirect_len_odd },
    { "indirect-len-huge", build_indirect_len_huge },
    { "indirect-past-ram-end", build_indirect_past_ram_end },
    { "indirect-wraps-address-space", build_indirect_wraps },
    { "indirect-nested", build_indirect_nested },
    { "indirect-with-next", build_indirect_with_next },
    { "indirect-loop", build_indirect_loop },
    { "indirect-next-out-of-range", build_indirect_next_out_of_range },
};

static HostileTest tests[2][G_N_ELEMENTS(cases) + 1];

static void add_hostile_test(const HostileTest *t, const char *name,
                             void (*fn)(HostileFixture *, gconstpointer))
{
    g_autofree char *path = g_strdup_printf("/virtio-blk/hostile/%s/%s",
                                            t->iothread ? "iothread"
                                                        : "main-loop", name);

    g_test_add(path, HostileFixture, t, hostile_setup, fn, hostile_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned io = 0; io < 2; io++) {
        HostileTest *valid = &tests[io][G_N_ELEMENTS(cases)];

        for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
            tests[io][i] = (HostileTest){ &cases[i], io };
            add_hostile_test(&tests[io][i], cases[i].name, test_needs_reset);
        }
        *valid = (HostileTest){ NULL, io };
        add_hostile_test(valid, "valid-split-header", test_split_header);
        add_hostile_test(valid, "valid-indirect", test_valid_indirect);
    }
    return g_test_run();
}
