/*
 * gfio's verify=crc32c under KVM: a guest writes a region (randomly or
 * sequentially), reads every block back and checks its header, payload
 * and CRC-32C, on our virtio-blk device and on stock QEMU's, with and
 * without an I/O thread.  The host then checks the image itself: every
 * block carries gfio's header for its own offset and the documented payload
 * pattern, and nothing beyond the region was written.  A block corrupted
 * from the host is caught by a read job, which names it; a read-only drive
 * refuses a write job and serves a read job.
 */
#include <inttypes.h>
#include <string.h>

#include "gfio-result.h"
#include "image.h"
#include "pattern.h"
#include "vmrun.h"

#define IMAGE_SIZE      (16 * 1024 * 1024)
#define REGION_SIZE     (8 * 1024 * 1024)   /* gfio's size= */
#define SEED            4242                /* gfio's random_seed= */

#define WRITEBACK       ",cache=writeback,aio=threads"
#define DIRECT          ",cache=none,aio=io_uring"

typedef struct VerifyCase {
    const char *path;
    bool stock;
    bool iothread;
    const char *drive;
    const char *rw;
    uint64_t bs;
} VerifyCase;

static const VerifyCase verify_cases[] = {
    { "/gfio/ours/verify/randwrite-4k", false, false, WRITEBACK,
      "randwrite", 4096 },
    { "/gfio/ours/verify/randwrite-64k", false, false, WRITEBACK,
      "randwrite", 65536 },
    { "/gfio/ours/verify/write-4k", false, false, WRITEBACK,
      "write", 4096 },
    { "/gfio/ours/verify/write-64k", false, false, WRITEBACK,
      "write", 65536 },
    { "/gfio/ours/verify/iothread/randwrite-4k", false, true, DIRECT,
      "randwrite", 4096 },
    { "/gfio/ours/verify/iothread/randwrite-64k", false, true, DIRECT,
      "randwrite", 65536 },
    { "/gfio/ours/verify/iothread/write-4k", false, true, DIRECT,
      "write", 4096 },
    { "/gfio/ours/verify/iothread/write-64k", false, true, DIRECT,
      "write", 65536 },
    /* Stock QEMU boots take seconds: two of them. */
    { "/gfio/stock-qemu/verify/randwrite-4k", true, false, NULL,
      "randwrite", 4096 },
    { "/gfio/stock-qemu/verify/iothread/write-64k", true, true, DIRECT,
      "write", 65536 },
};

static VMRun *run_gfio(bool stock, const VMRunDisk *disk, const char *rw,
                       uint64_t bs, const char *extra)
{
    g_autofree char *append = g_strdup_printf(
        "rw=%s bs=%" PRIu64 " iodepth=8 size=%u random_seed=%u%s", rw, bs,
        REGION_SIZE, SEED, extra ? extra : "");

    return vmrun_disk(stock, disk, "gfio", append);
}

/* A write job with verify=crc32c; the image checked from the host. */
static void write_and_check(bool stock, const VMRunDisk *disk, const Image *img,
                            const char *rw, uint64_t bs)
{
    g_autoptr(VMRun) r = run_gfio(stock, disk, rw, bs, " verify=crc32c");
    g_autoptr(GfioResult) res = gfio_assert_pass(r, rw, bs, REGION_SIZE, true);

    g_assert_cmpstr(json_object_get_string_member(
                        json_object_get_object_member(res->job, "job options"),
                        "verify"), ==, "crc32c");
    /* Each block written, then read back. */
    gfio_assert_requests(res, "virtio-blk", 2 * REGION_SIZE / bs);
    /* Stock QEMU warns about CPUID features of the nested host. */
    if (!stock) {
        g_assert_cmpstr(r->err, ==, "");
    }
    gfio_assert_image(img, bs, REGION_SIZE, SEED);
}

static void test_verify(gconstpointer data)
{
    const VerifyCase *c = data;
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    VMRunDisk disk = {
        .image = img->path, .drive = c->drive, .iothread = c->iothread,
    };

    write_and_check(c->stock, &disk, img, c->rw, c->bs);
}

/*
 * After a write job with blocks of @bs, the host flips the byte at @pos;
 * a read job with verify=crc32c must fail (exit status 4).
 */
static VMRun *corrupt_and_read(const Image *img, uint64_t bs, uint64_t pos,
                               uint8_t *old, uint8_t *new)
{
    VMRunDisk disk = { .image = img->path, .drive = WRITEBACK };
    g_autoptr(GfioResult) res = NULL;
    VMRun *r;

    write_and_check(false, &disk, img, "write", bs);
    image_read(img, pos, old, 1);
    *new = (uint8_t)~*old;
    image_write(img, pos, new, 1);

    r = run_gfio(false, &disk, "read", bs, " verify=crc32c");
    res = gfio_assert_failed(r, GFIO_EXIT_VERIFY);
    g_assert_cmpint(json_object_get_int_member(
                        json_object_get_object_member(res->job, "write"),
                        "total_ios"), ==, 0);
    /* Exactly one failure reported. */
    g_assert_nonnull(strstr(r->out, "gfio: verify failed: "));
    g_assert_null(strstr(strstr(r->out, "gfio: verify failed: ") + 1,
                         "gfio: verify failed: "));
    return r;
}

/* A payload byte: the pattern check names the byte. */
static void test_corrupt_payload(void)
{
    const uint64_t bs = 4096, block = 37, at = 1000;
    const uint64_t pos = block * bs + at;
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    uint8_t old, new;
    g_autoptr(VMRun) r = corrupt_and_read(img, bs, pos, &old, &new);
    g_autofree char *line = g_strdup_printf(
        "\ngfio: verify failed: block at offset %" PRIu64 " (0x%" PRIx64 "): "
        "byte at offset %" PRIu64 " (0x%" PRIx64 ", block +%" PRIu64 "): "
        "expected 0x%02x, found 0x%02x\n", block * bs, block * bs, pos, pos,
        at, old, new);

    g_assert_cmpuint(old, ==, pattern_byte(SEED, pos));
    g_assert_nonnull(strstr(r->out, line));
}

/*
 * A byte of the header's reserved field, which only the CRC covers: the
 * message has the CRC computed (different) and the one in the block.
 */
static void test_corrupt_crc(void)
{
    const uint64_t bs = 65536, block = 5;
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    uint8_t old, new, stored[4];
    g_autoptr(VMRun) r = corrupt_and_read(img, bs,
                                          block * bs + GFIO_HDR_RESERVED,
                                          &old, &new);
    g_autofree char *prefix = g_strdup_printf(
        "\ngfio: verify failed: block at offset %" PRIu64 " (0x%" PRIx64 "): "
        "crc32c: expected 0x", block * bs, block * bs);
    g_autofree char *suffix = NULL;
    const char *line = strstr(r->out, prefix);
    char *end;
    uint64_t computed;

    g_assert_cmpuint(old, ==, 0);
    image_read(img, block * bs + GFIO_HDR_CRC, stored, sizeof(stored));
    suffix = g_strdup_printf(", found 0x%x\n", gfio_le32(stored));
    g_assert_nonnull(line);
    computed = g_ascii_strtoull(line + strlen(prefix), &end, 16);
    g_assert_true(g_str_has_prefix(end, suffix));
    g_assert_cmphex(computed, !=, gfio_le32(stored));
}

/*
 * A read-only drive: the device offers VIRTIO_BLK_F_RO and gfio refuses to
 * submit a write (exit status 3); the image is unchanged.
 */
static void test_readonly_write(void)
{
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, 99);
    VMRunDisk disk = { .image = img->path, .drive = ",readonly=on" };
    g_autofree uint8_t *before = NULL;
    g_autoptr(VMRun) r = NULL;
    g_autoptr(GfioResult) res = NULL;

    before = image_contents(img);
    r = run_gfio(false, &disk, "write", 4096, " verify=crc32c");
    res = gfio_assert_failed(r, GFIO_EXIT_IO_ERROR);
    g_assert_nonnull(strstr(r->out, "\ngfio: virtio-blk engine refused a "
                            "request at offset 0: EROFS\n"));
    g_assert_cmpint(json_object_get_int_member(
                        json_object_get_object_member(res->job, "write"),
                        "total_ios"), ==, 0);
    image_assert_contents(img, before);
}

/* A read job on a read-only drive checks what an earlier job wrote. */
static void test_readonly_read(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    VMRunDisk rw = { .image = img->path };
    VMRunDisk ro = { .image = img->path, .drive = ",readonly=on" };
    g_autofree uint8_t *before = NULL;
    g_autoptr(VMRun) r = NULL;
    g_autoptr(GfioResult) res = NULL;

    write_and_check(false, &rw, img, "randwrite", 4096);
    before = image_contents(img);
    r = run_gfio(false, &ro, "read", 4096, " verify=crc32c");
    res = gfio_assert_pass(r, "read", 4096, REGION_SIZE, true);
    gfio_assert_requests(res, "virtio-blk", REGION_SIZE / 4096);
    g_assert_cmpstr(r->err, ==, "");
    image_assert_contents(img, before);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(verify_cases); i++) {
        g_test_add_data_func(verify_cases[i].path, &verify_cases[i],
                             test_verify);
    }
    g_test_add_func("/gfio/ours/corrupt/payload", test_corrupt_payload);
    g_test_add_func("/gfio/ours/corrupt/crc", test_corrupt_crc);
    g_test_add_func("/gfio/ours/readonly/write", test_readonly_write);
    g_test_add_func("/gfio/ours/readonly/read", test_readonly_read);
    return g_test_run();
}
