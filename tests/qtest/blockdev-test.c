/*
 * -blockdev (file, raw and null-co nodes), null-co:// drives, and the
 * virtio-blk-pci options management tools pass (bus=, addr=, bootindex=,
 * write-cache=), in QEMU's JSON syntax and in key=value: data written by
 * the device is read back and found in the image, read-only nodes refuse
 * writes, and each error is QEMU's one line.
 */
#include <glib.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>

#include "libqtest.h"
#include "libqos/blk-image.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk.h"

#define PROG            "qemu-system-x86_64: "
#define RAM_SIZE        (128ULL << 20)
#define IMAGE_SIZE      (1ULL << 20)
#define SECTOR          VIRTIO_BLK_SECTOR_SIZE

typedef struct Fixture {
    BlkImage *image;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlk *blk;
    bool immutable;             /* image made immutable until the VMM runs */
} Fixture;

#define WANTED_FEATURES (VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | \
                         VIRTIO_BIT(VIRTIO_BLK_F_CONFIG_WCE) | \
                         VIRTIO_BIT(VIRTIO_BLK_F_RO) | \
                         VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | \
                         VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES))

/*
 * Make the image immutable (no one, root included, may open it for
 * writing) or not; false if its file system cannot.
 */
static bool set_immutable(BlkImage *img, bool on)
{
    int flags;

    if (ioctl(img->fd, FS_IOC_GETFLAGS, &flags) < 0) {
        return false;
    }
    flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
    return ioctl(img->fd, FS_IOC_SETFLAGS, &flags) == 0;
}

/*
 * Start the VMM with args, in which %s is the image's path (if the fixture
 * has an image), and set the device up.
 */
static void start(Fixture *f, const char *args)
{
    g_autofree char *cmdline = g_strdup_printf(
        args, f->image ? f->image->path : "");

    f->qts = qtest_init(cmdline);
    if (f->immutable) {
        g_assert_true(set_immutable(f->image, false));
    }
    if (f->image) {
        blk_image_detach(f->image);
    }
    f->alloc = guest_alloc_new_for_ram(RAM_SIZE);
    f->blk = qvirtio_blk_pci_init(f->qts, f->alloc, WANTED_FEATURES, true);
}

static void stop(Fixture *f)
{
    qvirtio_blk_pci_free(f->blk);
    guest_alloc_destroy(f->alloc);
    qtest_quit(f->qts);
    if (f->image) {
        blk_image_free(f->image);
    }
}

/* Sector 3 holds the image's pattern; write sector 7, read it back. */
static void check_read_write(Fixture *f)
{
    uint8_t buf[2 * SECTOR], data[2 * SECTOR], on_disk[2 * SECTOR];

    g_assert_cmpuint(qvirtio_blk_read(f->blk->vq, 3, buf, SECTOR), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < SECTOR; i++) {
        g_assert_cmphex(buf[i], ==, blk_image_sector_byte(3));
    }
    for (unsigned i = 0; i < sizeof(data); i++) {
        data[i] = i * 7 + 1;
    }
    g_assert_cmpuint(qvirtio_blk_write(f->blk->vq, 7, data, sizeof(data)),
                     ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_flush(f->blk->vq), ==, VIRTIO_BLK_S_OK);
    memset(buf, 0, sizeof(buf));
    g_assert_cmpuint(qvirtio_blk_read(f->blk->vq, 7, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(buf, sizeof(buf), data, sizeof(data));
    blk_image_pread(f->image, 7 * SECTOR, on_disk, sizeof(on_disk));
    g_assert_cmpmem(on_disk, sizeof(on_disk), data, sizeof(data));
}

/* libvirt's two nodes and its device, exactly as libvirt 9.0 writes them. */
static void test_libvirt_json(void)
{
    Fixture f = { .image = blk_image_new(IMAGE_SIZE) };

    start(&f, "-blockdev '{\"driver\":\"file\",\"filename\":\"%s\","
          "\"aio\":\"io_uring\",\"node-name\":\"libvirt-1-storage\","
          "\"cache\":{\"direct\":true,\"no-flush\":false},"
          "\"auto-read-only\":true,\"discard\":\"unmap\"}' "
          "-blockdev '{\"node-name\":\"libvirt-1-format\",\"read-only\":false,"
          "\"cache\":{\"direct\":true,\"no-flush\":false},\"driver\":\"raw\","
          "\"file\":\"libvirt-1-storage\"}' "
          "-device '{\"driver\":\"virtio-blk-pci\",\"bus\":\"pci.0\","
          "\"addr\":\"0x2\",\"drive\":\"libvirt-1-format\","
          "\"id\":\"virtio-disk0\",\"bootindex\":1,\"write-cache\":\"on\"}'");
    g_assert_cmpuint(f.blk->pdev->devfn, ==, 2 << 3);
    g_assert_cmpuint(f.blk->capacity, ==, IMAGE_SIZE / SECTOR);
    g_assert_false(f.blk->vdev.features & VIRTIO_BIT(VIRTIO_BLK_F_RO));
    g_assert_cmpuint(qvirtio_pci_config_readb(&f.blk->vdev,
                                              VIRTIO_BLK_CFG_WRITEBACK), ==, 1);
    check_read_write(&f);
    stop(&f);
}

static void check_node(JsonArray *nodes, const char *name, const char *drv,
                       const char *file, bool ro, bool direct, bool no_flush,
                       gint64 size)
{
    JsonObject *n = qmp_find_by(nodes, "node-name", name);
    JsonObject *image, *cache;

    g_assert_nonnull(n);
    image = json_object_get_object_member(n, "image");
    cache = json_object_get_object_member(n, "cache");
    g_assert_cmpstr(json_object_get_string_member(n, "drv"), ==, drv);
    g_assert_cmpstr(json_object_get_string_member(n, "file"), ==, file);
    g_assert_cmpint(json_object_get_boolean_member(n, "ro"), ==, ro);
    g_assert_cmpstr(json_object_get_string_member(image, "format"), ==, drv);
    g_assert_cmpstr(json_object_get_string_member(image, "filename"), ==,
                    file);
    g_assert_cmpint(json_object_get_int_member(image, "virtual-size"), ==,
                    size);
    g_assert_cmpint(json_object_get_boolean_member(cache, "direct"), ==,
                    direct);
    g_assert_cmpint(json_object_get_boolean_member(cache, "no-flush"), ==,
                    no_flush);
}

/*
 * query-named-block-nodes lists the -blockdev nodes, each with its driver
 * and what its back-end does; -drive makes no named node.  With no
 * backing files, flat=true changes nothing.
 */
static void test_named_block_nodes(void)
{
    BlkImage *image = blk_image_new(IMAGE_SIZE);
    BlkImage *drive = blk_image_new(IMAGE_SIZE);
    QTestState *qts = qtest_initf(
        "-blockdev driver=file,filename=%s,node-name=f0,cache.direct=on,"
        "cache.no-flush=on "
        "-blockdev driver=raw,file=f0,node-name=r0,read-only=on "
        "-blockdev driver=null-co,node-name=n0,size=2097152 "
        "-drive file=%s,format=raw,if=none,id=d0",
        image->path, drive->path);
    static const char *const cmds[] = {
        "{'execute':'query-named-block-nodes'}",
        "{'execute':'query-named-block-nodes','arguments':{'flat':false}}",
        "{'execute':'query-named-block-nodes','arguments':{'flat':true}}",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        g_autoptr(JsonObject) r = qtest_qmp(qts, cmds[i]);
        JsonArray *nodes = json_node_get_array(qmp_reply_return(r));

        g_assert_cmpuint(json_array_get_length(nodes), ==, 3);
        check_node(nodes, "f0", "file", image->path, true, true, true,
                   IMAGE_SIZE);
        check_node(nodes, "r0", "raw", image->path, true, true, true,
                   IMAGE_SIZE);
        check_node(nodes, "n0", "null-co", "null-co://", false, false, false,
                   2097152);
    }
    qtest_quit(qts);
    blk_image_free(image);
    blk_image_free(drive);
}

/*
 * The same in key=value, a device on the file node itself, and a JSON
 * -object for the device's I/O thread.
 */
static void test_keyval(void)
{
    static const char *const args[] = {
        "-blockdev driver=file,filename=%s,node-name=f0,cache.direct=on,"
        "aio=threads,locking=on "
        "-blockdev driver=raw,file=f0,node-name=r0 "
        "-device virtio-blk-pci,drive=r0",
        "-blockdev driver=file,filename=%s,node-name=f0,discard=unmap,"
        "auto-read-only=off,read-only=off,cache.no-flush=on "
        "-device virtio-blk-pci,drive=f0",
        /* libvirt's <iothreads>: the I/O thread in JSON too */
        "-object '{\"qom-type\":\"iothread\",\"id\":\"iothread1\"}' "
        "-blockdev '{\"driver\":\"file\",\"filename\":\"%s\","
        "\"node-name\":\"f0\",\"aio\":\"native\","
        "\"cache\":{\"direct\":true}}' "
        "-device '{\"driver\":\"virtio-blk-pci\",\"drive\":\"f0\","
        "\"iothread\":\"iothread1\",\"num-queues\":2}'",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(args); i++) {
        Fixture f = { .image = blk_image_new(IMAGE_SIZE) };

        start(&f, args[i]);
        check_read_write(&f);
        stop(&f);
    }
}

/* A read-only raw node over a writable file node: the guest cannot write. */
static void test_read_only(void)
{
    static const char *const args[] = {
        "-blockdev driver=file,filename=%s,node-name=f0 "
        "-blockdev driver=raw,file=f0,node-name=r0,read-only=on "
        "-device virtio-blk-pci,drive=r0",
        "-blockdev driver=file,filename=%s,node-name=f0,read-only=on "
        "-blockdev driver=raw,file=f0,node-name=r0,read-only=on "
        "-device virtio-blk-pci,drive=r0",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(args); i++) {
        Fixture f = { .image = blk_image_new(IMAGE_SIZE) };
        uint8_t buf[SECTOR] = { 0x42 }, on_disk[SECTOR];

        start(&f, args[i]);
        g_assert_true(f.blk->vdev.features & VIRTIO_BIT(VIRTIO_BLK_F_RO));
        g_assert_cmpuint(qvirtio_blk_write(f.blk->vq, 1, buf, SECTOR), ==,
                         VIRTIO_BLK_S_IOERR);
        blk_image_pread(f.image, SECTOR, on_disk, SECTOR);
        g_assert_cmphex(on_disk[0], ==, blk_image_sector_byte(1));
        stop(&f);
    }
}

/*
 * auto-read-only=on: an image that cannot be written is opened read-only,
 * and the guest sees a read-only disk; without it, or under a raw node
 * that wants to write, the VMM refuses to start.
 */
static void test_auto_read_only(void)
{
    static const char *const args[] = {
        "-drive file=%s,if=none,id=d0,format=raw,auto-read-only=on "
        "-device virtio-blk-pci,drive=d0",
        "-blockdev driver=file,filename=%s,node-name=f0,auto-read-only=on "
        "-blockdev driver=raw,file=f0,node-name=r0,read-only=on "
        "-device virtio-blk-pci,drive=r0",
        "-blockdev driver=file,filename=%s,node-name=f0,auto-read-only=on "
        "-blockdev driver=raw,file=f0,node-name=r0,auto-read-only=on "
        "-device virtio-blk-pci,drive=r0",
    };
    static const struct { const char *args, *option, *message; } errors[] = {
        { "-drive file=%s,if=none,id=d0,format=raw",
          "-drive file=%s,if=none,id=d0,format=raw",
          "Could not open '%s': Operation not permitted" },
        { "-blockdev driver=file,filename=%s,node-name=f0,auto-read-only=on "
          "-blockdev driver=raw,file=f0,node-name=r0",
          "-blockdev driver=raw,file=f0,node-name=r0",
          "Block node is read-only" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(args); i++) {
        Fixture f = { .image = blk_image_new(IMAGE_SIZE), .immutable = true };
        uint8_t buf[SECTOR] = { 0x42 };

        if (!set_immutable(f.image, true)) {
            g_test_skip("the image's file system has no immutable files");
            blk_image_free(f.image);
            return;
        }
        start(&f, args[i]);
        g_assert_true(f.blk->vdev.features & VIRTIO_BIT(VIRTIO_BLK_F_RO));
        g_assert_cmpuint(qvirtio_blk_write(f.blk->vq, 1, buf, SECTOR), ==,
                         VIRTIO_BLK_S_IOERR);
        g_assert_cmpuint(qvirtio_blk_read(f.blk->vq, 1, buf, SECTOR), ==,
                         VIRTIO_BLK_S_OK);
        g_assert_cmphex(buf[0], ==, blk_image_sector_byte(1));
        stop(&f);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(errors); i++) {
        BlkImage *img = blk_image_new(IMAGE_SIZE);
        g_autofree char *args = g_strdup_printf(errors[i].args, img->path);
        g_autofree char *option = g_strdup_printf(errors[i].option, img->path);
        g_autofree char *message = g_strdup_printf(errors[i].message,
                                                   img->path);
        g_autofree char *expected = g_strdup_printf(PROG "%s: %s\n", option,
                                                    message);
        g_autofree char *cmdline = g_strconcat("-accel qtest -display none "
                                               "-nodefaults ", args, NULL);
        g_autofree char *err = NULL;
        int status;

        g_assert_true(set_immutable(img, true));
        status = qtest_run_vmm(NULL, cmdline, &err);
        g_assert_true(set_immutable(img, false));
        g_assert_cmpstr(err, ==, expected);
        g_assert_cmpint(status, ==, 1);
        blk_image_free(img);
    }
}

/* null-co reads zeroes (with read-zeroes=on) and takes any write. */
static void check_null(const char *args, uint64_t size)
{
    Fixture f = { 0 };
    uint8_t buf[4 * SECTOR];

    start(&f, args);
    g_assert_cmpuint(f.blk->capacity, ==, size / SECTOR);
    memset(buf, 0x5a, sizeof(buf));
    g_assert_cmpuint(qvirtio_blk_write(f.blk->vq, 0, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_flush(f.blk->vq), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(qvirtio_blk_read(f.blk->vq, 0, buf, sizeof(buf)), ==,
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        g_assert_cmphex(buf[i], ==, 0);
    }
    /* The end is where size says. */
    g_assert_cmpuint(qvirtio_blk_read(f.blk->vq, size / SECTOR - 1, buf,
                                      2 * SECTOR), ==, VIRTIO_BLK_S_IOERR);
    stop(&f);
}

static void test_null_co(void)
{
    check_null("-drive file=null-co://,if=none,id=n0,format=raw,"
               "file.read-zeroes=on,size=4M -device virtio-blk-pci,drive=n0",
               4 << 20);
    /* null-co's own default size: 1 GiB */
    check_null("-drive file=null-co://,if=none,id=n0,format=raw,"
               "file.read-zeroes=on -device virtio-blk-pci,drive=n0",
               1 << 30);
    check_null("-blockdev driver=null-co,node-name=n0,size=2097152,"
               "read-zeroes=on -device virtio-blk-pci,drive=n0", 2 << 20);
    check_null("-blockdev '{\"driver\":\"null-co\",\"node-name\":\"n0\","
               "\"size\":8388608,\"read-zeroes\":true}' "
               "-blockdev '{\"driver\":\"raw\",\"node-name\":\"r0\","
               "\"file\":\"n0\"}' -device virtio-blk-pci,drive=r0", 8 << 20);
}

/*
 * write-cache=: what the guest sees in the WCE field, and whether it is
 * offered FLUSH at all without config-wce (QEMU offers it only with a
 * write cache to flush).
 */
static void test_write_cache(void)
{
    static const struct {
        const char *cache, *device;
        uint8_t wce;
        bool flush;
    } cases[] = {
        { "writeback", "", 1, true },
        { "writethrough", "", 0, true },
        { "writeback", ",write-cache=off", 0, true },
        { "writethrough", ",write-cache=on", 1, true },
        { "writeback", ",write-cache=off,config-wce=off", 0, false },
        { "writeback", ",write-cache=auto,config-wce=off", 1, true },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        Fixture f = { .image = blk_image_new(IMAGE_SIZE) };
        g_autofree char *args = g_strdup_printf(
            "-drive file=%%s,if=none,id=d0,format=raw,cache=%s "
            "-device virtio-blk-pci,drive=d0%s", cases[i].cache,
            cases[i].device);

        start(&f, args);
        g_assert_cmpuint(!!(qvirtio_pci_device_features(&f.blk->vdev) &
                            VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)), ==,
                         cases[i].flush);
        g_assert_cmpuint(qvirtio_pci_config_readb(&f.blk->vdev,
                                                  VIRTIO_BLK_CFG_WRITEBACK),
                         ==, cases[i].wce);
        check_read_write(&f);
        stop(&f);
    }
}

/* Devices placed by addr= where they asked, others around them. */
static void test_addr(void)
{
    Fixture f = { .image = blk_image_new(IMAGE_SIZE) };

    start(&f, "-blockdev driver=file,filename=%s,node-name=f0 "
          "-device virtio-blk-pci,drive=f0,bus=pci.0,addr=0x1f.0");
    g_assert_cmpuint(f.blk->pdev->devfn, ==, 0x1f << 3);
    check_read_write(&f);
    stop(&f);
}

typedef struct ErrorCase {
    const char *path;
    const char *args;           /* %s: an image's path */
    const char *option;         /* the option the error is about */
    const char *message;
} ErrorCase;

static const ErrorCase error_cases[] = {
    { "/blockdev/error/no-driver", "-blockdev node-name=a", NULL,
      "Parameter 'driver' is missing" },
    { "/blockdev/error/unknown-driver", "-blockdev driver=qcow3,node-name=a",
      NULL, "Parameter 'driver' does not accept value 'qcow3'" },
    { "/blockdev/error/no-filename", "-blockdev driver=file,node-name=a",
      NULL, "Parameter 'filename' is missing" },
    { "/blockdev/error/no-node-name", "-blockdev driver=file,filename=%s",
      NULL, "'node-name' must be specified for the root node" },
    { "/blockdev/error/bad-node-name",
      "-blockdev driver=file,filename=%s,node-name=1a", NULL,
      "Invalid node-name: '1a'" },
    { "/blockdev/error/nonexistent",
      "-blockdev driver=file,filename=/nonexistent,node-name=a", NULL,
      "Could not open '/nonexistent': No such file or directory" },
    { "/blockdev/error/unexpected",
      "-blockdev driver=file,filename=%s,node-name=a,foo=1", NULL,
      "Parameter 'foo' is unexpected" },
    { "/blockdev/error/aio",
      "-blockdev driver=file,filename=%s,node-name=a,aio=foo", NULL,
      "Parameter 'aio' does not accept value 'foo'" },
    { "/blockdev/error/aio-native-cached",
      "-blockdev driver=file,filename=%s,node-name=a,aio=native", NULL,
      "aio=native was specified, but it requires cache.direct=on, which "
      "was not specified." },
    { "/blockdev/error/discard",
      "-blockdev driver=file,filename=%s,node-name=a,discard=foo", NULL,
      "Parameter 'discard' does not accept value 'foo'" },
    { "/blockdev/error/locking",
      "-blockdev driver=file,filename=%s,node-name=a,locking=foo", NULL,
      "Parameter 'locking' does not accept value 'foo'" },
    { "/blockdev/error/cache-direct",
      "-blockdev driver=file,filename=%s,node-name=a,cache.direct=foo", NULL,
      "Parameter 'cache.direct' expects 'on' or 'off'" },
    { "/blockdev/error/duplicate",
      "-blockdev driver=file,filename=%s,node-name=a "
      "-blockdev driver=null-co,node-name=a",
      "-blockdev driver=null-co,node-name=a",
      "Duplicate nodes with node-name='a'" },
    { "/blockdev/error/raw-no-file", "-blockdev driver=raw,node-name=b",
      NULL, "Parameter 'file' is missing" },
    { "/blockdev/error/raw-file-not-found",
      "-blockdev driver=raw,node-name=b,file=zz", NULL,
      "Cannot find device='zz' nor node-name='zz'" },
    { "/blockdev/error/null-size",
      "-blockdev driver=null-co,node-name=n,size=foo", NULL,
      "Parameter 'size' expects integer" },
    { "/blockdev/error/null-read-zeroes",
      "-blockdev driver=null-co,node-name=n,read-zeroes=foo", NULL,
      "Parameter 'read-zeroes' expects 'on' or 'off'" },
    { "/blockdev/error/json-type",
      "-blockdev '{\"driver\":\"file\",\"filename\":\"%s\","
      "\"node-name\":\"a\",\"zz\":1}'",
      "-blockdev {\"driver\":\"file\",\"filename\":\"%s\","
      "\"node-name\":\"a\",\"zz\":1}",
      "Parameter 'zz' is unexpected" },
    { "/blockdev/error/null-co-filename",
      "-drive file=null-co://foo,if=none,id=n,format=raw", NULL,
      "The only allowed filename for this driver is 'null-co://'" },
    { "/blockdev/error/drive-size",
      "-drive file=null-co://,if=none,id=n,format=raw,size=foo", NULL,
      "Parameter 'size' expects a size" },
    { "/blockdev/error/drive-auto-read-only",
      "-drive file=%s,if=none,id=n,format=raw,auto-read-only=foo", NULL,
      "Parameter 'auto-read-only' expects 'on' or 'off'" },
    { "/blockdev/error/drive-not-found",
      "-blockdev driver=file,filename=%s,node-name=a "
      "-device virtio-blk-pci,drive=b", "-device virtio-blk-pci,drive=b",
      "Drive 'b' not found" },
    { "/blockdev/error/bus",
      "-blockdev driver=file,filename=%s,node-name=a "
      "-device virtio-blk-pci,drive=a,bus=pci.1",
      "-device virtio-blk-pci,drive=a,bus=pci.1", "Bus 'pci.1' not found" },
    { "/blockdev/error/addr",
      "-blockdev driver=file,filename=%s,node-name=a "
      "-device virtio-blk-pci,drive=a,addr=0x20",
      "-device virtio-blk-pci,drive=a,addr=0x20",
      "Property 'virtio-blk-pci.addr' doesn't take value '0x20'" },
    { "/blockdev/error/bootindex",
      "-blockdev driver=file,filename=%s,node-name=a "
      "-device virtio-blk-pci,drive=a,bootindex=foo",
      "-device virtio-blk-pci,drive=a,bootindex=foo",
      "Parameter 'bootindex' expects an integer" },
    { "/blockdev/error/bootindex-used",
      "-blockdev driver=file,filename=%s,node-name=a,locking=off "
      "-blockdev driver=null-co,node-name=b "
      "-device virtio-blk-pci,drive=a,bootindex=1 "
      "-device virtio-blk-pci,drive=b,bootindex=1",
      "-device virtio-blk-pci,drive=b,bootindex=1",
      "The bootindex 1 has already been used" },
    { "/blockdev/error/write-cache",
      "-blockdev driver=file,filename=%s,node-name=a "
      "-device virtio-blk-pci,drive=a,write-cache=foo",
      "-device virtio-blk-pci,drive=a,write-cache=foo",
      "Parameter 'write-cache' does not accept value 'foo'" },
    { "/blockdev/error/passthrough-null",
      "-blockdev driver=null-co,node-name=n "
      "-device virtio-blk-pci,drive=n,uring-passthrough=on",
      "-device virtio-blk-pci,drive=n,uring-passthrough=on",
      "uring-passthrough=on needs a drive on an image file or a block "
      "device, not null-co" },
};

/*
 * One line, "qemu-system-x86_64: OPTION ARGUMENT: MESSAGE", exit status 1;
 * the option is the last one of the case unless it names another.
 */
static void test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autofree char *args = g_strdup_printf(c->args, img->path);
    g_autofree char *option = g_strdup_printf(c->option ? c->option : c->args,
                                              img->path);
    g_autofree char *expected = g_strdup_printf(PROG "%s: %s\n", option,
                                                c->message);
    g_autofree char *cmdline = g_strconcat("-accel qtest -display none "
                                           "-nodefaults ", args, NULL);
    g_autofree char *err = NULL;
    int status = qtest_run_vmm(NULL, cmdline, &err);

    g_assert_cmpstr(err, ==, expected);
    g_assert_cmpint(status, ==, 1);
    blk_image_free(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/blockdev/libvirt-json", test_libvirt_json);
    g_test_add_func("/blockdev/keyval", test_keyval);
    g_test_add_func("/blockdev/query-named-block-nodes",
                    test_named_block_nodes);
    g_test_add_func("/blockdev/read-only", test_read_only);
    g_test_add_func("/blockdev/auto-read-only", test_auto_read_only);
    g_test_add_func("/blockdev/null-co", test_null_co);
    g_test_add_func("/blockdev/write-cache", test_write_cache);
    g_test_add_func("/blockdev/addr", test_addr);
    for (size_t i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_test_add_data_func(error_cases[i].path, &error_cases[i],
                             test_error);
    }
    return g_test_run();
}
