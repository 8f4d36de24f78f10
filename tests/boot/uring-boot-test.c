/*
 * The io_uring passthrough with real guests: gfio and blkcheck with
 * uring=on submit to the ring the device maps (-device virtio-blk-pci,
 * uring-passthrough=on) instead of its virtqueues.  gfio's verify=crc32c
 * passes, data goes both ways between the guest and the image file byte for
 * byte, blocks written through the ring read back through virtqueues in a
 * second VMM run, and on a read-only drive writes fail (the image unchanged)
 * while reads work.
 */
#include <inttypes.h>
#include <string.h>

#include "gfio-result.h"
#include "image.h"
#include "pattern.h"
#include "vmrun.h"

#define IMAGE_SIZE      (16 * 1024 * 1024)
#define REGION_SIZE     (8 * 1024 * 1024)   /* gfio's size= */
#define SEED            777                 /* gfio's random_seed= */
#define BACKGROUND      1000                /* host fill for blkcheck */

/* blkcheck's exit status for data that differs from the pattern */
#define BLKCHECK_MISMATCH   5

/* No iopoll on a regular file: off, so that nothing is printed. */
#define URING_DEVICE    ",uring-passthrough=on,uring-iopoll=off"
#define DRIVE           ",cache=none"
/* blkcheck's first line with uring=on: the ring it took over (the default
 * uring-entries=128). */
#define BLKCHECK_URING  "blkcheck: reads and writes through the uring " \
                        "passthrough (sq 128, cq 256)\n"

static VMRun *run_gfio(const Image *img, const char *drive, bool uring,
                       const char *rw, uint64_t bs, const char *extra)
{
    VMRunDisk disk = {
        .image = img->path, .drive = drive,
        .device = uring ? URING_DEVICE : NULL,
    };
    g_autofree char *append = g_strdup_printf(
        "rw=%s bs=%" PRIu64 " iodepth=8 size=%u random_seed=%u%s%s", rw, bs,
        REGION_SIZE, SEED, extra ? extra : "", uring ? " uring=on" : "");

    return vmrun_disk(false, &disk, "gfio", append);
}

/*
 * A verify=crc32c write job of blocks of @bs went through the ring: each
 * block written, then read back.
 */
static void assert_used_ring(const VMRun *r, const GfioResult *res,
                             uint64_t bs)
{
    g_assert_cmpstr(json_object_get_string_member(
                        json_object_get_object_member(res->job, "job options"),
                        "uring"), ==, "on");
    gfio_assert_requests(res, "uring", 2 * REGION_SIZE / bs);
    g_assert_cmpstr(r->err, ==, "");
}

static void check_verify(const char *rw, uint64_t bs)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autoptr(VMRun) r = run_gfio(img, DRIVE, true, rw, bs, " verify=crc32c");
    g_autoptr(GfioResult) res = gfio_assert_pass(r, rw, bs, REGION_SIZE, true);

    assert_used_ring(r, res, bs);
    gfio_assert_image(img, bs, REGION_SIZE, SEED);
}

static void test_verify_randwrite(void)
{
    check_verify("randwrite", 4096);
}

static void test_verify_write(void)
{
    check_verify("write", 65536);
}

/* Written through the ring, read and verified through virtqueues. */
static void test_ring_then_virtqueues(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autoptr(VMRun) w = run_gfio(img, DRIVE, true, "randwrite", 4096,
                                  " verify=crc32c");
    g_autoptr(GfioResult) wres = gfio_assert_pass(w, "randwrite", 4096,
                                                  REGION_SIZE, true);
    g_autoptr(VMRun) r = NULL;
    g_autoptr(GfioResult) rres = NULL;

    assert_used_ring(w, wres, 4096);
    /* Right after the first VMM exits, the image is free to use again. */
    r = run_gfio(img, DRIVE, false, "read", 4096, " verify=crc32c");
    g_assert_cmpstr(r->err, ==, "");
    rres = gfio_assert_pass(r, "read", 4096, REGION_SIZE, true);
    gfio_assert_requests(rres, "virtio-blk", REGION_SIZE / 4096);
    gfio_assert_image(img, 4096, REGION_SIZE, SEED);
}

/*
 * gfio's driver knows one ring (it never writes ring_select): on a device
 * with two, with two vCPUs, it uses ring 0 as on a one-ring device, and the
 * data reaches the image.
 */
static void test_one_ring_driver(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    VMRunDisk disk = {
        .image = img->path, .drive = DRIVE,
        .device = URING_DEVICE ",num-queues=2",
        .cpus = 2,
    };
    g_autofree char *append = g_strdup_printf(
        "rw=randwrite bs=4096 iodepth=8 size=%u random_seed=%u "
        "verify=crc32c uring=on", REGION_SIZE, SEED);
    g_autoptr(VMRun) r = vmrun_disk(false, &disk, "gfio", append);
    g_autoptr(GfioResult) res = gfio_assert_pass(r, "randwrite", 4096,
                                                 REGION_SIZE, true);

    assert_used_ring(r, res, 4096);
    gfio_assert_image(img, 4096, REGION_SIZE, SEED);
}

static VMRun *run_blkcheck(const Image *img, const char *drive,
                           const char *append)
{
    VMRunDisk disk = { .image = img->path, .drive = drive,
                       .device = URING_DEVICE };
    g_autofree char *args = g_strconcat("uring=on ", append, NULL);
    VMRun *r = vmrun_disk(false, &disk, "blkcheck", args);

    g_assert_cmpstr(r->err, ==, "");
    return r;
}

/*
 * On a device with two rings, blkcheck writes through each ring and reads
 * the data back through the other: the rings are one disk, and the file
 * holds what was written, nothing else.
 */
static void test_blkcheck_across_rings(void)
{
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    const uint64_t mib = 1024 * 1024;
    VMRunDisk disk = { .image = img->path, .drive = DRIVE,
                       .device = URING_DEVICE ",num-queues=2" };
    g_autoptr(VMRun) r = vmrun_disk(
        false, &disk, "blkcheck",
        "uring=on op=write ring=1 offset=1m len=1m seed=11 op=read ring=0 "
        "op=write ring=0 offset=4m len=64k seed=12 op=read ring=1");

    g_assert_cmpstr(r->err, ==, "");
    g_assert_cmpstr(r->out, ==, BLKCHECK_URING "blkcheck: rings 0 to 1\n"
                    "blkcheck: write offset=1048576 len=1048576 seed=11: OK\n"
                    "blkcheck: read offset=1048576 len=1048576 seed=11: OK\n"
                    "blkcheck: write offset=4194304 len=65536 seed=12: OK\n"
                    "blkcheck: read offset=4194304 len=65536 seed=12: OK\n");
    g_assert_cmpint(r->status, ==, 1);
    image_assert_pattern(img, 0, mib, BACKGROUND);
    image_assert_pattern(img, mib, mib, 11);
    image_assert_pattern(img, 2 * mib, 2 * mib, BACKGROUND);
    image_assert_pattern(img, 4 * mib, 64 * 1024, 12);
    image_assert_pattern(img, 4 * mib + 64 * 1024,
                         IMAGE_SIZE - 4 * mib - 64 * 1024, BACKGROUND);
}

/* blkcheck writes two ranges through the ring: in the file, nothing else. */
static void test_blkcheck_guest_write(void)
{
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    const uint64_t o1 = 4096 + 512, l1 = 3 * 512, o2 = 3 * 1024 * 1024;
    const uint64_t l2 = 1024 * 1024 + 64 * 1024;
    g_autofree char *append = g_strdup_printf(
        "op=write offset=%" PRIu64 " len=%" PRIu64 " seed=5 op=write offset=%"
        PRIu64 " len=%" PRIu64 " seed=6", o1, l1, o2, l2);
    g_autofree char *expect = g_strdup_printf(
        BLKCHECK_URING
        "blkcheck: write offset=%" PRIu64 " len=%" PRIu64 " seed=5: OK\n"
        "blkcheck: write offset=%" PRIu64 " len=%" PRIu64 " seed=6: OK\n",
        o1, l1, o2, l2);
    g_autoptr(VMRun) r = run_blkcheck(img, DRIVE, append);

    g_assert_cmpstr(r->out, ==, expect);
    g_assert_cmpint(r->status, ==, 1);
    image_assert_pattern(img, 0, o1, BACKGROUND);
    image_assert_pattern(img, o1, l1, 5);
    image_assert_pattern(img, o1 + l1, o2 - o1 - l1, BACKGROUND);
    image_assert_pattern(img, o2, l2, 6);
    image_assert_pattern(img, o2 + l2, IMAGE_SIZE - o2 - l2, BACKGROUND);
}

/*
 * What the host wrote, blkcheck reads through the ring; the same read with
 * a wrong seed fails at the first byte that differs.
 */
static void test_blkcheck_guest_read(void)
{
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    const uint64_t off = 8192 + 1024, len = 1024 * 1024 + 4096;
    const uint64_t seed = 31, wrong = 32;
    g_autofree char *append = g_strdup_printf(
        "op=read offset=%" PRIu64 " len=%" PRIu64 " seed=%" PRIu64
        " op=read seed=%" PRIu64, off, len, seed, wrong);
    g_autofree char *expect = NULL;
    g_autoptr(VMRun) r = NULL;
    uint64_t at = off;

    while (pattern_byte(seed, at) == pattern_byte(wrong, at)) {
        at++;
    }
    expect = g_strdup_printf(
        BLKCHECK_URING
        "blkcheck: read offset=%" PRIu64 " len=%" PRIu64 " seed=%" PRIu64
        ": OK\n"
        "blkcheck: read: mismatch at offset %" PRIu64 " (0x%" PRIx64 "): "
        "expected 0x%02x, found 0x%02x\n"
        "blkcheck: read offset=%" PRIu64 " len=%" PRIu64 " seed=%" PRIu64
        ": FAILED\n", off, len, seed, at, at, pattern_byte(wrong, at),
        pattern_byte(seed, at), off, len, wrong);

    image_write_pattern(img, off, len, seed);
    r = run_blkcheck(img, DRIVE, append);
    g_assert_cmpstr(r->out, ==, expect);
    g_assert_cmpint(r->status, ==, (BLKCHECK_MISMATCH << 1) | 1);
}

/*
 * A read-only drive: the ring refuses writes (gfio fails with exit status 3
 * and the image is unchanged) and serves reads.
 */
static void test_readonly(void)
{
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    g_autofree uint8_t *before = image_contents(img);
    g_autoptr(VMRun) w = run_gfio(img, DRIVE ",readonly=on", true, "write",
                                  4096, NULL);
    g_autoptr(GfioResult) res = gfio_assert_failed(w, GFIO_EXIT_IO_ERROR);
    g_autoptr(VMRun) r = NULL;

    /* The drive's ring does not allow WRITE_FIXED: gfio does not submit. */
    g_assert_nonnull(strstr(w->out, "\ngfio: uring engine refused a request "
                            "at offset 0: EROFS\n"));
    g_assert_cmpint(json_object_get_int_member(
                        json_object_get_object_member(res->job, "write"),
                        "total_ios"), ==, 0);
    image_assert_contents(img, before);

    r = run_blkcheck(img, DRIVE ",readonly=on",
                     "op=read offset=0 len=1m seed=1000");
    g_assert_cmpstr(r->out, ==, BLKCHECK_URING "blkcheck: read offset=0 "
                    "len=1048576 seed=1000: OK\n");
    g_assert_cmpint(r->status, ==, 1);
    image_assert_contents(img, before);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/uring-boot/readonly", test_readonly);
    g_test_add_func("/uring-boot/blkcheck/guest-write",
                    test_blkcheck_guest_write);
    g_test_add_func("/uring-boot/blkcheck/guest-read",
                    test_blkcheck_guest_read);
    g_test_add_func("/uring-boot/blkcheck/across-rings",
                    test_blkcheck_across_rings);
    g_test_add_func("/uring-boot/gfio/verify-randwrite-4k",
                    test_verify_randwrite);
    g_test_add_func("/uring-boot/gfio/verify-write-64k", test_verify_write);
    g_test_add_func("/uring-boot/gfio/ring-then-virtqueues",
                    test_ring_then_virtqueues);
    g_test_add_func("/uring-boot/gfio/one-ring-driver-two-rings",
                    test_one_ring_driver);
    return g_test_run();
}
