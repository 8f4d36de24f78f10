/*
 * Boot tests: the hello guest under our VMM with KVM, and the same image
 * under stock QEMU, with the expected output and exit statuses.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "vmrun.h"

#define GREETING "Hello from the guest!\n"

static char *hello;

static void assert_hello(VMRun *r, unsigned cpus, const char *args)
{
    g_autofree char *expect = g_strdup_printf(GREETING "cpus: %u\nargs: %s\n",
                                              cpus, args);

    g_assert_cmpstr(r->out, ==, expect);
}

static void test_ours(void)
{
    g_autoptr(VMRun) r = vmrunf(30, "%s -accel kvm -nographic -kernel %s "
                                "-append 'a b=c'", vmrun_our_vmm(), hello);

    assert_hello(r, 1, "a b=c");
    g_assert_cmpstr(r->err, ==, "");
    g_assert_cmpint(r->status, ==, 1);      /* (0 << 1) | 1 */
}

static void test_ours_smp(void)
{
    g_autoptr(VMRun) r = vmrunf(30, "%s -accel kvm -smp 2 -m 256M -nographic "
                                "-kernel %s", vmrun_our_vmm(), hello);

    assert_hello(r, 2, "");
    g_assert_cmpint(r->status, ==, 1);
}

static void test_ours_exit_status(void)
{
    g_autoptr(VMRun) r = vmrunf(30, "%s -nographic -kernel %s -append exit=3",
                                vmrun_our_vmm(), hello);

    g_assert_cmpint(r->status, ==, 7);      /* (3 << 1) | 1 */
}

/* The console devices: debugcon only when asked, COM1 to a file. */
static void test_ours_consoles(void)
{
    g_autofree char *dir = g_dir_make_tmp("boot-test-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "serial.log", NULL);
    g_autofree char *log = NULL;
    g_autoptr(VMRun) r = vmrunf(30, "%s -display none -debugcon stdio "
                                "-serial file:%s -kernel %s", vmrun_our_vmm(),
                                file, hello);

    assert_hello(r, 1, "");
    g_assert_true(g_file_get_contents(file, &log, NULL, NULL));
    g_assert_cmpstr(log, ==, "Hello from the guest!\r\ncpus: 1\r\nargs: \r\n");
    g_unlink(file);
    g_rmdir(dir);
}

/* Without isa-debug-exit the guest powers off through ACPI: status 0. */
static void test_ours_poweroff(void)
{
    g_autoptr(VMRun) r = vmrunf(30, "%s -nodefaults -serial stdio -kernel %s",
                                vmrun_our_vmm(), hello);

    assert_hello(r, 1, "");
    g_assert_cmpint(r->status, ==, 0);
}

/* A triple fault resets the machine; with -no-reboot it ends the VMM. */
static void test_ours_triple_fault(void)
{
    g_autoptr(VMRun) once = vmrunf(30, "%s -nographic -no-reboot -kernel %s "
                                   "-append triple=1", vmrun_our_vmm(), hello);
    g_autoptr(VMRun) loop = vmrunf(3, "%s -nographic -kernel %s "
                                   "-append triple=1", vmrun_our_vmm(), hello);
    g_auto(GStrv) boots = g_strsplit(loop->out, GREETING, -1);

    assert_hello(once, 1, "triple=1");
    g_assert_cmpint(once->status, ==, 0);
    /* Rebooted at least once more before the test stopped it. */
    g_assert_cmpint(loop->status, ==, -1);
    g_assert_cmpuint(g_strv_length(boots), >=, 3);
}

/* A CPU exception in the guest is reported by the guest itself. */
static void test_ours_exception(void)
{
    g_autoptr(VMRun) r = vmrunf(30, "%s -nographic -kernel %s -append fault=1",
                                vmrun_our_vmm(), hello);

    g_assert_nonnull(strstr(r->out, "guest: exception 6 #UD"));
    g_assert_cmpint(r->status, ==, (0x7e << 1) | 1);
}

static void test_stock_qemu(void)
{
    g_autoptr(VMRun) r = vmrunf(60, "%s -accel kvm -m 128 -display none "
                                "-debugcon stdio -device isa-debug-exit,"
                                "iobase=0xf4,iosize=4 -kernel %s -append a",
                                vmrun_stock_qemu(), hello);

    assert_hello(r, 1, "a");
    g_assert_cmpint(r->status, ==, 1);
}

static void test_stock_qemu_smp(void)
{
    g_autoptr(VMRun) r = vmrunf(60, "%s -accel kvm -m 128 -smp 2 -display "
                                "none -debugcon stdio -device isa-debug-exit,"
                                "iobase=0xf4,iosize=4 -kernel %s -append "
                                "exit=3", vmrun_stock_qemu(), hello);

    assert_hello(r, 2, "exit=3");
    g_assert_cmpint(r->status, ==, 7);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    hello = vmrun_guest("hello");
    g_test_add_func("/boot/ours/hello", test_ours);
    g_test_add_func("/boot/ours/smp", test_ours_smp);
    g_test_add_func("/boot/ours/exit-status", test_ours_exit_status);
    g_test_add_func("/boot/ours/consoles", test_ours_consoles);
    g_test_add_func("/boot/ours/poweroff", test_ours_poweroff);
    g_test_add_func("/boot/ours/triple-fault", test_ours_triple_fault);
    g_test_add_func("/boot/ours/exception", test_ours_exception);
    g_test_add_func("/boot/stock-qemu/hello", test_stock_qemu);
    g_test_add_func("/boot/stock-qemu/smp", test_stock_qemu_smp);
    return g_test_run();
}
