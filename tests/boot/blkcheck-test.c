/*
 * The data path between guest and host image, under KVM: what the guest
 * program blkcheck writes is in the image file byte for byte (and nothing
 * else changed), and what the host writes to the file is what blkcheck
 * reads; a wrong seed or a flipped byte makes the read fail and name the
 * first byte that differs.  The test generates blkcheck's documented pattern
 * itself (pattern.c).  On our VMM with an I/O thread (cache=none,
 * aio=io_uring) and in the main loop (cache=writeback, aio=threads), and in
 * one stock QEMU boot; also GET_ID.
 */
#include <inttypes.h>
#include <string.h>

#include "image.h"
#include "pattern.h"
#include "vmrun.h"

#define IMAGE_SIZE      (16 * 1024 * 1024)
#define BACKGROUND      1000    /* seed of what the host fills images with */

/* blkcheck's exit status for data that differs from the pattern */
#define BLKCHECK_MISMATCH   5

typedef struct Config {
    const char *name;
    bool stock;
    bool iothread;
    const char *drive;
} Config;

static const Config configs[] = {
    { "ours/iothread", false, true, ",cache=none,aio=io_uring" },
    { "ours/main-loop", false, false, ",cache=writeback,aio=threads" },
};

/* The guest writes two ranges: 512-byte aligned, and over 1 MiB chunks. */
typedef struct Range {
    uint64_t offset, len, seed;
} Range;

static const Range guest_ranges[] = {
    { 1536, 5632, 7 },
    { 2 * 1024 * 1024 + 3 * 512, 2 * 1024 * 1024 + 512, 8 },
};

/* What the host writes for the guest to read. */
static const Range host_range = { 12800, 307200, 21 };

static VMRun *run_blkcheck(const Config *c, const Image *img,
                           const char *device, const char *append)
{
    VMRunDisk disk = {
        .image = img->path, .drive = c->drive, .device = device,
        .iothread = c->iothread,
    };

    VMRun *r = vmrun_disk(c->stock, &disk, "blkcheck", append);

    /* Stock QEMU warns about CPUID features of the nested host. */
    if (!c->stock) {
        g_assert_cmpstr(r->err, ==, "");
    }
    return r;
}

static char *range_line(const char *op, const Range *r, const char *result)
{
    return g_strdup_printf("blkcheck: %s offset=%" PRIu64 " len=%" PRIu64
                           " seed=%" PRIu64 ": %s\n", op, r->offset, r->len,
                           r->seed, result);
}

static char *range_args(const char *op, const Range *r)
{
    return g_strdup_printf("op=%s offset=%" PRIu64 " len=%" PRIu64
                           " seed=%" PRIu64, op, r->offset, r->len, r->seed);
}

/*
 * The image holds @n ranges written with their seeds and the background
 * elsewhere.  The ranges are sorted and disjoint.
 */
static void assert_image(const Image *img, const Range *ranges, unsigned n)
{
    uint64_t pos = 0;

    for (unsigned i = 0; i < n; i++) {
        image_assert_pattern(img, pos, ranges[i].offset - pos, BACKGROUND);
        image_assert_pattern(img, ranges[i].offset, ranges[i].len,
                             ranges[i].seed);
        pos = ranges[i].offset + ranges[i].len;
    }
    image_assert_pattern(img, pos, IMAGE_SIZE - pos, BACKGROUND);
}

/* The first byte of @r that reads differently with seed @seed. */
static uint64_t first_difference(const Range *r, uint64_t seed)
{
    for (uint64_t o = r->offset; o < r->offset + r->len; o++) {
        if (pattern_byte(seed, o) != pattern_byte(r->seed, o)) {
            return o;
        }
    }
    g_assert_not_reached();
}

static char *mismatch_line(uint64_t at, uint8_t expected, uint8_t found)
{
    return g_strdup_printf("blkcheck: read: mismatch at offset %" PRIu64
                           " (0x%" PRIx64 "): expected 0x%02x, found 0x%02x\n",
                           at, at, expected, found);
}

/* Guest writes land in the file, and nowhere else. */
static void test_guest_write(gconstpointer data)
{
    const Config *c = data;
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    g_autofree char *a0 = range_args("write", &guest_ranges[0]);
    g_autofree char *a1 = range_args("write", &guest_ranges[1]);
    g_autofree char *append = g_strdup_printf("%s %s", a0, a1);
    g_autofree char *l0 = range_line("write", &guest_ranges[0], "OK");
    g_autofree char *l1 = range_line("write", &guest_ranges[1], "OK");
    g_autofree char *expect = g_strconcat(l0, l1, NULL);
    g_autoptr(VMRun) r = run_blkcheck(c, img, NULL, append);

    g_assert_cmpstr(r->out, ==, expect);
    g_assert_cmpint(r->status, ==, 1);
    assert_image(img, guest_ranges, G_N_ELEMENTS(guest_ranges));
}

/* Host writes are what the guest reads. */
static void test_guest_read(gconstpointer data)
{
    const Config *c = data;
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    g_autofree char *append = range_args("read", &host_range);
    g_autofree char *expect = range_line("read", &host_range, "OK");
    g_autoptr(VMRun) r = NULL;

    image_write_pattern(img, host_range.offset, host_range.len,
                        host_range.seed);
    r = run_blkcheck(c, img, NULL, append);
    g_assert_cmpstr(r->out, ==, expect);
    g_assert_cmpint(r->status, ==, 1);
    assert_image(img, &host_range, 1);
}

/*
 * host_range read with the next seed (@wrong): what blkcheck prints, the
 * first byte that differs and the failed read.
 */
static char *wrong_seed_lines(Range *wrong)
{
    g_autofree char *mismatch = NULL, *failed = NULL;
    uint64_t at;

    *wrong = host_range;
    wrong->seed = host_range.seed + 1;
    at = first_difference(&host_range, wrong->seed);
    mismatch = mismatch_line(at, pattern_byte(wrong->seed, at),
                             pattern_byte(host_range.seed, at));
    failed = range_line("read", wrong, "FAILED");
    return g_strconcat(mismatch, failed, NULL);
}

/* Reading with the wrong seed fails at the first byte that differs. */
static void test_guest_read_wrong_seed(gconstpointer data)
{
    const Config *c = data;
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    Range wrong;
    g_autofree char *expect = wrong_seed_lines(&wrong);
    g_autofree char *append = range_args("read", &wrong);
    g_autoptr(VMRun) r = NULL;

    image_write_pattern(img, host_range.offset, host_range.len,
                        host_range.seed);
    r = run_blkcheck(c, img, NULL, append);
    g_assert_cmpstr(r->out, ==, expect);
    g_assert_cmpint(r->status, ==, (BLKCHECK_MISMATCH << 1) | 1);
}

/* One byte flipped by the host, past the first 1 MiB chunk: named. */
static void test_guest_read_flipped(gconstpointer data)
{
    const Config *c = data;
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    Range range = { 1024 * 1024 - 4096, 2 * 1024 * 1024, 33 };
    const uint64_t at = range.offset + 1024 * 1024 + 12345;
    const uint8_t flipped = pattern_byte(range.seed, at) ^ 0x10;
    g_autofree char *append = range_args("read", &range);
    g_autofree char *mismatch = mismatch_line(at, pattern_byte(range.seed, at),
                                              flipped);
    g_autofree char *failed = range_line("read", &range, "FAILED");
    g_autofree char *expect = g_strconcat(mismatch, failed, NULL);
    g_autoptr(VMRun) r = NULL;

    image_write_pattern(img, range.offset, range.len, range.seed);
    image_write(img, at, &flipped, 1);
    r = run_blkcheck(c, img, NULL, append);
    g_assert_cmpstr(r->out, ==, expect);
    g_assert_cmpint(r->status, ==, (BLKCHECK_MISMATCH << 1) | 1);
}

/* GET_ID returns serial= of -device, up to its 20 bytes, or nothing. */
static void check_getid(const char *device, const char *serial)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autofree char *expect = g_strdup_printf("serial=%s\nblkcheck: getid: "
                                              "OK\n", serial);
    g_autoptr(VMRun) r = run_blkcheck(&configs[0], img, device, "op=getid");

    g_assert_cmpstr(r->out, ==, expect);
    g_assert_cmpint(r->status, ==, 1);
}

static void test_getid(void)
{
    check_getid(",serial=bt-0042", "bt-0042");
}

static void test_getid_20_bytes(void)
{
    check_getid(",serial=ABCDEFGHIJ0123456789", "ABCDEFGHIJ0123456789");
}

static void test_getid_none(void)
{
    check_getid(NULL, "");
}

/*
 * Stock QEMU, in one boot: GET_ID, a guest write, a read of host data, and
 * the same read with a wrong seed.
 */
static void test_stock_qemu(void)
{
    const Config stock = {
        "stock-qemu", true, true, ",cache=none,aio=io_uring",
    };
    g_autoptr(Image) img = image_new_pattern(IMAGE_SIZE, BACKGROUND);
    const Range *w = &guest_ranges[0];
    Range wrong;
    g_autofree char *aw = range_args("write", w);
    g_autofree char *ar = range_args("read", &host_range);
    g_autofree char *append = NULL, *expect = NULL;
    g_autofree char *lw = range_line("write", w, "OK");
    g_autofree char *lr = range_line("read", &host_range, "OK");
    g_autofree char *wrong_read = wrong_seed_lines(&wrong);
    g_autoptr(VMRun) r = NULL;
    const Range written[] = { *w, host_range };

    /* The last read: the same range, only the seed given. */
    append = g_strdup_printf("op=getid %s %s op=read seed=%" PRIu64, aw, ar,
                             wrong.seed);
    expect = g_strconcat("serial=stock-7\nblkcheck: getid: OK\n", lw, lr,
                         wrong_read, NULL);

    image_write_pattern(img, host_range.offset, host_range.len,
                        host_range.seed);
    r = run_blkcheck(&stock, img, ",serial=stock-7", append);
    g_assert_cmpstr(r->out, ==, expect);
    g_assert_cmpint(r->status, ==, (BLKCHECK_MISMATCH << 1) | 1);
    assert_image(img, written, G_N_ELEMENTS(written));
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        GTestDataFunc fn;
    } tests[] = {
        { "guest-write", test_guest_write },
        { "guest-read", test_guest_read },
        { "guest-read-wrong-seed", test_guest_read_wrong_seed },
        { "guest-read-flipped-byte", test_guest_read_flipped },
    };

    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(configs); i++) {
        for (unsigned j = 0; j < G_N_ELEMENTS(tests); j++) {
            g_autofree char *path = g_strdup_printf("/blkcheck/%s/%s",
                                                    configs[i].name,
                                                    tests[j].name);

            g_test_add_data_func(path, &configs[i], tests[j].fn);
        }
    }
    g_test_add_func("/blkcheck/ours/getid", test_getid);
    g_test_add_func("/blkcheck/ours/getid-20-bytes", test_getid_20_bytes);
    g_test_add_func("/blkcheck/ours/getid-none", test_getid_none);
    g_test_add_func("/blkcheck/stock-qemu/data-path", test_stock_qemu);
    return g_test_run();
}
