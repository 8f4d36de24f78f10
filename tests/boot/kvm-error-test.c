/*
 * What the VMM does when KVM refuses something, at start and while the
 * guest runs: with ioctl-fault (LD_PRELOAD) making one kind of ioctl fail
 * the way a host out of memory or at a limit would, the VMM prints one
 * error line and exits with status 1, and a VM that fails while it runs
 * stops there (the guest gets no further).  Also the tear-down of an
 * interrupt route that the guest left enabled.
 */
#include <string.h>

#include "image.h"
#include "vmrun.h"

#define PROG            "qemu-system-x86_64: "
#define HELLO           "Hello from the guest!\n"
#define TIMEOUT_S       60

static const char *disk_image;

static void assert_one_line(const char *s)
{
    const char *nl = strchr(s, '\n');

    g_assert_nonnull(nl);
    g_assert_cmpstr(nl + 1, ==, "");
}

/*
 * Run the guest program with IOCTL_FAULT=fault (NULL: none) and a
 * virtio-blk disk (with device options).
 */
static VMRun *run(const char *fault, const char *device, const char *guest,
                  const char *append)
{
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s",
                                               g_getenv("IOCTL_FAULT_LIB"));
    g_autofree char *fault_env = g_strdup_printf("IOCTL_FAULT=%s",
                                                 fault ? fault : "");
    /* The library comes before ASan's runtime in an ASan build. */
    g_autofree char *asan = g_strdup_printf("ASAN_OPTIONS=%s%s"
                                            "verify_asan_link_order=0",
                                            g_getenv("ASAN_OPTIONS") ?: "",
                                            g_getenv("ASAN_OPTIONS") ? ":"
                                                                     : "");
    g_autofree char *drive = g_strdup_printf("file=%s,if=none,id=d0,"
                                             "format=raw", disk_image);
    g_autofree char *devopt = g_strdup_printf("virtio-blk-pci,drive=d0%s",
                                              device);
    g_autofree char *kernel = vmrun_guest(guest);
    const char *argv[] = {
        "env", fault ? preload : "-u", fault ? fault_env : "IOCTL_FAULT",
        asan, vmrun_our_vmm(), "-accel", "kvm", "-m", "256M", "-nographic",
        "-drive", drive, "-device", devopt, "-kernel", kernel,
        "-append", append, NULL,
    };

    return vmrun(argv, TIMEOUT_S);
}

/* RAM that KVM cannot map: one line at start, and the guest never runs. */
static void test_memslot_at_start(void)
{
    g_autoptr(VMRun) r = run("memslot-add:12", "", "hello", "");

    g_assert_cmpstr(r->err, ==, PROG "kvm: cannot map ram at 0x0, "
                    "0x10000000 bytes: Cannot allocate memory\n");
    g_assert_cmpstr(r->out, ==, "");
    g_assert_cmpint(r->status, ==, 1);
}

/*
 * The passthrough's rings, mapped when the guest negotiates the feature,
 * after the one RAM slot: the VM stops with the error, and blkcheck gets
 * no further than its first line.
 */
static void test_memslot_while_running(void)
{
    g_autoptr(VMRun) r = run("memslot-add:12:1",
                             ",uring-passthrough=on,uring-iopoll=off",
                             "blkcheck", "uring=on op=read len=4k seed=0");
    const char *expect = PROG "kvm: cannot map uring-";

    g_assert_cmpstr(r->out, ==, "");
    g_assert_true(g_str_has_prefix(r->err, expect));
    g_assert_true(g_str_has_suffix(r->err, ": Cannot allocate memory\n"));
    assert_one_line(r->err);
    g_assert_cmpint(r->status, ==, 1);
}

static void test_vcpu_mmap_size(void)
{
    g_autoptr(VMRun) r = run("KVM_GET_VCPU_MMAP_SIZE:22", "", "hello", "");

    g_assert_cmpstr(r->err, ==, PROG "-accel kvm: KVM_GET_VCPU_MMAP_SIZE "
                    "failed: Invalid argument\n");
    g_assert_cmpstr(r->out, ==, "");
    g_assert_cmpint(r->status, ==, 1);
}

static void test_vcpu_reset_at_start(void)
{
    g_autoptr(VMRun) r = run("KVM_SET_FPU:22", "", "hello", "");

    g_assert_cmpstr(r->err, ==, PROG "kvm: cannot reset vCPU 0: KVM_SET_FPU: "
                    "Invalid argument\n");
    g_assert_cmpstr(r->out, ==, "");
    g_assert_cmpint(r->status, ==, 1);
}

/*
 * The system reset after hello's triple fault: the vCPU is set up twice
 * at start (the machine's reset, then kvm_vcpus_start()), so the third
 * KVM_SET_SREGS is the reset's.  Without the check the guest booted again
 * and again with what the failed call left behind.
 */
static void test_vcpu_reset_while_running(void)
{
    g_autoptr(VMRun) r = run("KVM_SET_SREGS:22:2", "", "hello", "triple=1");

    g_assert_cmpstr(r->err, ==, PROG "kvm: cannot reset vCPU 0: "
                    "KVM_SET_SREGS: Invalid argument\n");
    g_assert_cmpstr(r->out, ==, HELLO "cpus: 1\nargs: triple=1\n");
    g_assert_cmpint(r->status, ==, 1);
}

/*
 * An MSI-X vector whose route KVM refuses would never interrupt the guest:
 * the VM stops at the guest's write that enabled it.
 */
static void test_irqfd(void)
{
    g_autoptr(VMRun) r = run("irqfd-assign:12", "", "msix", "");

    g_assert_cmpstr(r->err, ==, PROG "kvm: cannot route an MSI-X vector "
                    "(KVM_IRQFD): Cannot allocate memory\n");
    g_assert_cmpstr(r->out, ==, "");
    g_assert_cmpint(r->status, ==, 1);
}

static void test_gsi_routing(void)
{
    g_autoptr(VMRun) r = run("KVM_SET_GSI_ROUTING:12", "", "msix", "");

    g_assert_cmpstr(r->err, ==, PROG "kvm: cannot set the interrupt routes: "
                    "Cannot allocate memory\n");
    g_assert_cmpstr(r->out, ==, "");
    g_assert_cmpint(r->status, ==, 1);
}

/*
 * The guest exits with a vector routed: the route goes with its device,
 * before the VM (the VMM crashed here, freeing it after the VM).
 */
static void test_route_at_exit(void)
{
    g_autoptr(VMRun) r = run(NULL, "", "msix", "");

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
    g_test_add_func("/kvm-error/memslot/at-start", test_memslot_at_start);
    g_test_add_func("/kvm-error/memslot/while-running",
                    test_memslot_while_running);
    g_test_add_func("/kvm-error/vcpu-mmap-size", test_vcpu_mmap_size);
    g_test_add_func("/kvm-error/vcpu-reset/at-start",
                    test_vcpu_reset_at_start);
    g_test_add_func("/kvm-error/vcpu-reset/while-running",
                    test_vcpu_reset_while_running);
    g_test_add_func("/kvm-error/irqfd", test_irqfd);
    g_test_add_func("/kvm-error/gsi-routing", test_gsi_routing);
    g_test_add_func("/kvm-error/route-at-exit", test_route_at_exit);
    ret = g_test_run();
    return ret;
}
