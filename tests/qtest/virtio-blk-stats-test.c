/*
 * Block statistics of a virtio-blk device's drive, as QMP's
 * query-blockstats reports them: the requests the guest made through the
 * virtqueue and their bytes, and those the device refused as invalid, by
 * type; in the main loop and in an iothread.
 */
#include <string.h>

#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (1ULL << 20)
#define IMAGE_SECTORS   (IMAGE_SIZE / VIRTIO_BLK_SECTOR_SIZE)

typedef struct StatsFixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
} StatsFixture;

/* data: the -device options beyond the drive (iothread=, or empty). */
static void stats_setup(StatsFixture *f, gconstpointer data)
{
    const char *dev_opts = data;
    QVirtioBlkSetup setup = {
        .features = VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
                    VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
                    VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES),
        .msix = true,
    };

    f->image = blk_image_new(IMAGE_SIZE);
    f->qts = qtest_initf("-object iothread,id=io0 "
                         "-drive file=%s,if=none,id=d0,format=raw "
                         "-device virtio-blk-pci,drive=d0,id=vblk0%s",
                         f->image->path, dev_opts);
    blk_image_detach(f->image);
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_new(f->qts, f->alloc);
    qvirtio_blk_pci_start(f->blk, &setup);
}

static void stats_teardown(StatsFixture *f, gconstpointer data)
{
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    blk_image_free(f->image);
}

/* query-blockstats' "stats" of drive d0, the only one (a new reference). */
static JsonObject *blockstats(StatsFixture *f)
{
    g_autoptr(JsonObject) reply = qtest_qmp(f->qts,
                                            "{'execute': 'query-blockstats'}");
    JsonObject *entry = qmp_blockstats_only(reply, "d0", NULL);

    return json_object_ref(json_object_get_object_member(entry, "stats"));
}

/* The statistic under key, which must be there. */
static gint64 counter(JsonObject *st, const char *key)
{
    if (!json_object_has_member(st, key)) {
        g_error("no %s in query-blockstats' reply", key);
    }
    return json_object_get_int_member(st, key);
}

/* A fresh drive has counted nothing and has never been busy. */
static void test_fresh(StatsFixture *f, gconstpointer data)
{
    g_autoptr(JsonObject) st = blockstats(f);
    static const char *const zero[] = {
        "rd_bytes", "wr_bytes", "unmap_bytes", "rd_operations",
        "wr_operations", "flush_operations", "unmap_operations",
        "invalid_rd_operations", "invalid_wr_operations",
        "failed_rd_operations", "failed_wr_operations", "wr_highest_offset",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(zero); i++) {
        g_assert_cmpint(counter(st, zero[i]), ==, 0);
    }
    /* QEMU leaves idle_time_ns out until the first request. */
    g_assert_false(json_object_has_member(st, "idle_time_ns"));
}

/* Known traffic, counted request by request and byte by byte. */
static void test_traffic(StatsFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    g_autofree uint8_t *buf = g_malloc(8192);
    g_autofree uint8_t *back = g_malloc(8192);
    QVirtioBlkSegment discard = { 64, 8, 0 }, zeroes = { 128, 16, 0 };
    g_autoptr(JsonObject) st = NULL;

    memset(buf, 0x3c, 8192);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpuint(qvirtio_blk_write(vq, i * 8, buf, 4096), ==,
                         VIRTIO_BLK_S_OK);
    }
    g_assert_cmpuint(qvirtio_blk_read(vq, 0, back, 8192), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(back, 4096, buf, 4096);
    g_assert_cmpuint(qvirtio_blk_read(vq, 100, back, 512), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_flush(vq), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_discard(vq, &discard, 1), ==,
                     VIRTIO_BLK_S_OK);
    /* The end of the last write's sectors, 16 to 24; a discard writes none. */
    st = blockstats(f);
    g_assert_cmpint(counter(st, "wr_highest_offset"), ==, 24 * 512);
    g_clear_pointer(&st, json_object_unref);
    g_assert_cmpuint(qvirtio_blk_write_zeroes(vq, &zeroes, 1), ==,
                     VIRTIO_BLK_S_OK);

    st = blockstats(f);
    g_assert_cmpint(counter(st, "wr_highest_offset"), ==, (128 + 16) * 512);
    g_assert_cmpint(counter(st, "wr_operations"), ==, 4);
    g_assert_cmpint(counter(st, "wr_bytes"), ==, 3 * 4096 + 16 * 512);
    g_assert_cmpint(counter(st, "rd_operations"), ==, 2);
    g_assert_cmpint(counter(st, "rd_bytes"), ==, 8192 + 512);
    g_assert_cmpint(counter(st, "flush_operations"), ==, 1);
    g_assert_cmpint(counter(st, "unmap_operations"), ==, 1);
    g_assert_cmpint(counter(st, "unmap_bytes"), ==, 8 * 512);
    g_assert_cmpint(counter(st, "rd_total_time_ns"), >, 0);
    g_assert_cmpint(counter(st, "wr_total_time_ns"), >, 0);
    g_assert_cmpint(counter(st, "idle_time_ns"), >=, 0);
    g_assert_cmpint(counter(st, "invalid_rd_operations") +
                    counter(st, "invalid_wr_operations") +
                    counter(st, "failed_rd_operations") +
                    counter(st, "failed_wr_operations"), ==, 0);
}

/* What the device refuses counts as invalid, by type, and nowhere else. */
static void test_invalid(StatsFixture *f, gconstpointer data)
{
    QVirtQueue *vq = f->blk->vq;
    g_autofree uint8_t *buf = g_malloc0(4096);
    QVirtioBlkSegment past_end = { IMAGE_SECTORS, 8, 0 };
    QVirtioBlkSegment bad_flags = { 0, 8, 0x80 };
    g_autoptr(JsonObject) st = NULL;

    g_assert_cmpuint(qvirtio_blk_read(vq, IMAGE_SECTORS - 1, buf, 4096), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_write(vq, IMAGE_SECTORS, buf, 512), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_write(vq, 1ULL << 62, buf, 512), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_discard(vq, &past_end, 1), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(qvirtio_blk_write_zeroes(vq, &bad_flags, 1), ==,
                     VIRTIO_BLK_S_UNSUPP);

    st = blockstats(f);
    g_assert_cmpint(counter(st, "invalid_rd_operations"), ==, 1);
    g_assert_cmpint(counter(st, "invalid_wr_operations"), ==, 3);
    g_assert_cmpint(counter(st, "invalid_unmap_operations"), ==, 1);
    g_assert_cmpint(counter(st, "invalid_flush_operations"), ==, 0);
    g_assert_cmpint(counter(st, "rd_operations") +
                    counter(st, "wr_operations") +
                    counter(st, "unmap_operations"), ==, 0);
    g_assert_cmpint(counter(st, "rd_bytes") + counter(st, "wr_bytes"),
                    ==, 0);
    g_assert_cmpint(counter(st, "idle_time_ns"), >=, 0);
}

/*
 * The drive is listed by its name, with the device using it (as QEMU
 * names it: the virtio-blk back-end inside the PCI device, the path
 * libvirt looks for), and without passthrough statistics.
 */
static void test_listing(StatsFixture *f, gconstpointer data)
{
    g_autoptr(JsonObject) reply = qtest_qmp(f->qts,
                                            "{'execute': 'query-blockstats'}");
    JsonObject *entry = qmp_blockstats_only(
        reply, "d0", "/machine/peripheral/vblk0/virtio-backend");
    g_autoptr(JsonObject) type = qtest_qmp(f->qts,
        "{'execute':'qom-get','arguments':{'path':"
        "'/machine/peripheral/vblk0/virtio-backend','property':'type'}}");

    g_assert_cmpstr(json_node_get_string(qmp_reply_return(type)), ==,
                    "virtio-blk-device");
    g_assert_false(json_object_has_member(entry, "x-uring-passthrough"));
}

int main(int argc, char **argv)
{
    static const struct { const char *name; const char *opts; } modes[] = {
        { "main-loop", "" }, { "iothread", ",iothread=io0" },
    };
    static const struct {
        const char *name;
        void (*fn)(StatsFixture *f, gconstpointer data);
    } tests[] = {
        { "fresh", test_fresh },
        { "traffic", test_traffic },
        { "invalid", test_invalid },
        { "listing", test_listing },
    };

    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        for (size_t j = 0; j < G_N_ELEMENTS(tests); j++) {
            g_autofree char *path = g_strdup_printf("/virtio-blk/stats/%s/%s",
                                                    modes[i].name,
                                                    tests[j].name);

            g_test_add(path, StatsFixture, modes[i].opts, stats_setup,
                       tests[j].fn, stats_teardown);
        }
    }
    return g_test_run();
}
