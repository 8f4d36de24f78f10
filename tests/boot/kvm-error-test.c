/*
 * The KVM accelerator at the edges: the tear-down of an interrupt route
 * that the guest left enabled.
 */
#include "image.h"
#include "vmrun.h"

#define TIMEOUT_S       60

static const char *disk_image;

/* Run the guest program with a virtio-blk disk. */
static VMRun *run(const char *guest, const char *append)
{
    g_autofree char *drive = g_strdup_printf("file=%s,if=none,id=d0,"
                                             "format=raw", disk_image);
    g_autofree char *kernel = vmrun_guest(guest);
    const char *argv[] = {
        vmrun_our_vmm(), "-accel", "kvm", "-m", "256M", "-nographic",
        "-drive", drive, "-device", "virtio-blk-pci,drive=d0",
        "-kernel", kernel, "-append", append, NULL,
    };

    return vmrun(argv, TIMEOUT_S);
}

/*
 * The guest exits with a vector routed: the route goes with its device,
 * before the VM (the VMM crashed here, freeing it after the VM).
 */
static void test_route_at_exit(void)
{
    g_autoptr(VMRun) r = run("msix", "");

    g_assert_cmpstr(r->err, ==, "");
    g_assert_cmpstr(r->out, ==, "msix: config vector 0\n");
    g_assert_cmpint(r->status, ==, 1);      /* (0 << 1) | 1 */
}

int main(int argc, char **argv)
{
    g_autoptr(Image) img = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    img = image_new(16 * 1024 * 1024);
    disk_image = img->path;
    g_test_add_func("/kvm-error/route-at-exit", test_route_at_exit);
    ret = g_test_run();
    return ret;
}
