/*
 * Command-line errors of the block layer (-drive) and of virtio-blk-pci:
 * each makes our VMM print exactly one line, "qemu-system-x86_64: <the
 * option and its argument>: <message>", and exit with status 1, before the
 * guest runs.  (The generic option errors are in tests/qtest/cmdline-test.c.)
 */
#include <string.h>

#include "image.h"
#include "vmrun.h"

#define PROG "qemu-system-x86_64: "

static char *hello;
static Image *img;

/*
 * Run our VMM with @args after a valid base (KVM and the hello guest, which
 * would power off with status 0); the error is about option @option (the
 * words before it in @args are fine).
 */
static void check_error(const char *args, const char *option,
                        const char *message)
{
    g_autofree char *expect = g_strdup_printf(PROG "%s: %s\n", option,
                                              message);
    g_autoptr(VMRun) r = vmrunf(30, "%s -accel kvm -display none -nodefaults "
                                "-kernel %s %s", vmrun_our_vmm(), hello,
                                args);

    g_assert_cmpstr(r->err, ==, expect);
    g_assert_cmpstr(r->out, ==, "");
    g_assert_cmpint(r->status, ==, 1);
}

static void test_drive_nonexistent(void)
{
    const char *drive = "-drive file=/nonexistent,if=none,id=d0,format=raw";

    check_error(drive, drive,
                "Could not open '/nonexistent': No such file or directory");
}

static void test_drive_qcow2(void)
{
    g_autofree char *drive = g_strdup_printf("-drive file=%s,if=none,id=d0,"
                                             "format=qcow2", img->path);

    check_error(drive, drive, "Image format 'qcow2' is not supported (only raw)");
}

static void test_device_no_drive(void)
{
    const char *device = "-device virtio-blk-pci,drive=x";

    check_error(device, device, "Drive 'x' not found");
}

/* A drive d0, then @device. */
static void check_device_error(const char *device, const char *message)
{
    g_autofree char *args = g_strdup_printf("-drive file=%s,if=none,id=d0,"
                                            "format=raw %s", img->path,
                                            device);

    check_error(args, device, message);
}

static void test_device_unknown_property(void)
{
    check_device_error("-device virtio-blk-pci,drive=d0,foo=1",
                       "Property 'virtio-blk-pci.foo' not found");
}

static void test_device_no_iothread(void)
{
    check_device_error("-device virtio-blk-pci,drive=d0,iothread=nope",
                       "IOThread 'nope' not found");
}

/* The second device on the drive is the one refused. */
static void test_device_drive_in_use(void)
{
    g_autofree char *args = g_strdup_printf("-drive file=%s,if=none,id=d0,"
                                            "format=raw -device virtio-blk-pci,"
                                            "drive=d0,serial=first -device "
                                            "virtio-blk-pci,drive=d0",
                                            img->path);

    check_error(args, "-device virtio-blk-pci,drive=d0",
                "Drive 'd0' is already in use by another device");
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    hello = vmrun_guest("hello");
    img = image_new(1024 * 1024);
    g_test_add_func("/drive-cmdline/drive/nonexistent",
                    test_drive_nonexistent);
    g_test_add_func("/drive-cmdline/drive/format-qcow2", test_drive_qcow2);
    g_test_add_func("/drive-cmdline/device/drive-not-found",
                    test_device_no_drive);
    g_test_add_func("/drive-cmdline/device/unknown-property",
                    test_device_unknown_property);
    g_test_add_func("/drive-cmdline/device/iothread-not-found",
                    test_device_no_iothread);
    g_test_add_func("/drive-cmdline/device/drive-in-use",
                    test_device_drive_in_use);
    ret = g_test_run();
    image_free(img);
    g_free(hello);
    return ret;
}
