/*
 * The disk as libvirt 9.0 gives it, under KVM: two -blockdev nodes (a file
 * node with cache.direct, aio=io_uring, auto-read-only and discard=unmap,
 * a raw node over it) and a virtio-blk-pci device at bus=pci.0,addr=0x2
 * with bootindex=1 and write-cache=on, all in QEMU's JSON syntax.  gfio
 * writes with verify=crc32c, reads back, and the host checks the image;
 * once through the virtqueue, once through the io_uring passthrough (what
 * libvirt's <qemu:override> adds to the device).  And gfio on a null-co
 * node, the benchmark's vq-null disk.
 */
#include <inttypes.h>
#include <string.h>

#include "gfio-result.h"
#include "image.h"
#include "vmrun.h"

#define IMAGE_SIZE      (16 * 1024 * 1024)
#define REGION_SIZE     (8 * 1024 * 1024)   /* gfio's size= */
#define SEED            777                 /* gfio's random_seed= */
#define BS              4096

static VMRun *run_libvirt_disk(const Image *img, bool uring)
{
    g_autofree char *kernel = vmrun_guest("gfio");
    g_autofree char *storage = g_strdup_printf(
        "{\"driver\":\"file\",\"filename\":\"%s\",\"aio\":\"io_uring\","
        "\"node-name\":\"libvirt-1-storage\",\"cache\":{\"direct\":true,"
        "\"no-flush\":false},\"auto-read-only\":true,\"discard\":\"unmap\"}",
        img->path);
    g_autofree char *device = g_strdup_printf(
        "{\"driver\":\"virtio-blk-pci\",\"bus\":\"pci.0\",\"addr\":\"0x2\","
        "\"drive\":\"libvirt-1-format\",\"id\":\"virtio-disk0\","
        "\"bootindex\":1,\"write-cache\":\"on\"%s}",
        /* iopoll=off: no warning where the disk has no poll queues */
        uring ? ",\"uring-passthrough\":true,\"uring-iopoll\":\"off\""
              : "");
    g_autofree char *append = g_strdup_printf(
        "rw=randwrite bs=%u iodepth=8 size=%u random_seed=%u verify=crc32c%s",
        BS, REGION_SIZE, SEED, uring ? " uring=on" : "");
    const char *const argv[] = {
        vmrun_our_vmm(), "-accel", "kvm", "-m", "256M", "-nographic",
        "-blockdev", storage,
        "-blockdev", "{\"node-name\":\"libvirt-1-format\","
        "\"read-only\":false,\"cache\":{\"direct\":true,\"no-flush\":false},"
        "\"driver\":\"raw\",\"file\":\"libvirt-1-storage\"}",
        "-device", device,
        "-kernel", kernel, "-append", append, NULL,
    };

    return vmrun(argv, 60);
}

static void check_libvirt_disk(bool uring)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autoptr(VMRun) r = run_libvirt_disk(img, uring);
    g_autoptr(GfioResult) res = gfio_assert_pass(r, "randwrite", BS,
                                                 REGION_SIZE, true);

    /* Each block written, then read back. */
    gfio_assert_requests(res, uring ? "uring" : "virtio-blk",
                         2 * REGION_SIZE / BS);
    g_assert_cmpstr(r->err, ==, "");
    gfio_assert_image(img, BS, REGION_SIZE, SEED);
}

static void test_libvirt_virtqueue(void)
{
    check_libvirt_disk(false);
}

static void test_libvirt_passthrough(void)
{
    check_libvirt_disk(true);
}

/* A read job on null-co, as scripts/bench's vq-null row runs it. */
static void test_null_co(void)
{
    g_autofree char *kernel = vmrun_guest("gfio");
    g_autofree char *append = g_strdup_printf(
        "rw=randread bs=%u iodepth=8 size=%u", BS, REGION_SIZE);
    const char *const argv[] = {
        vmrun_our_vmm(), "-accel", "kvm", "-m", "256M", "-nographic",
        "-drive", "file=null-co://,if=none,id=d0,format=raw,"
        "file.read-zeroes=on,size=16M",
        "-device", "virtio-blk-pci,drive=d0",
        "-kernel", kernel, "-append", append, NULL,
    };
    g_autoptr(VMRun) r = vmrun(argv, 60);
    g_autoptr(GfioResult) res = gfio_assert_pass(r, "randread", BS,
                                                 REGION_SIZE, false);

    gfio_assert_requests(res, "virtio-blk", REGION_SIZE / BS);
    g_assert_cmpstr(r->err, ==, "");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/blockdev-boot/libvirt/virtqueue",
                    test_libvirt_virtqueue);
    g_test_add_func("/blockdev-boot/libvirt/passthrough",
                    test_libvirt_passthrough);
    g_test_add_func("/blockdev-boot/null-co", test_null_co);
    return g_test_run();
}
