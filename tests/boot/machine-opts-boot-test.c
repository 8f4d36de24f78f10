/*
 * The hello guest under KVM with the machine, memory and console options of
 * libvirt's command line (issue 12): guest RAM from a memory back-end, the
 * console on an isa-serial whose chardev is a file.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "vmrun.h"

#define CONSOLE "Hello from the guest!\r\ncpus: 1\r\nargs: a b=c\r\n"

static void boot_with_backend(const char *backend)
{
    g_autofree char *hello = vmrun_guest("hello");
    g_autofree char *dir = g_dir_make_tmp("machine-opts-boot-XXXXXX", NULL);
    g_autofree char *console = g_build_filename(dir, "console.log", NULL);
    g_autofree char *log = NULL;
    g_autofree char *object = g_strdup_printf(backend, dir);
    g_autoptr(VMRun) r = vmrunf(60,
        "%s -name guest=pt1,debug-threads=on "
        "-machine pvh,usb=off,dump-guest-core=off,memory-backend=pc.ram "
        "-accel kvm -cpu host -m 256 -object '%s' "
        "-overcommit mem-lock=off -smp 1,sockets=1,cores=1,threads=1 "
        "-uuid 6e2b3a4f-64f0-4cbe-9e1a-3c2f55d6b0a1 -display none "
        "-no-user-config -nodefaults -rtc base=utc -no-acpi -boot strict=on "
        "-kernel %s -append 'a b=c' "
        "-chardev file,id=charserial0,path=%s "
        "-device isa-serial,chardev=charserial0,id=serial0,index=0 "
        "-audiodev none,id=audio1 -sandbox off -msg timestamp=on",
        vmrun_our_vmm(), object, hello, console);

    g_assert_cmpstr(r->err, ==, "");
    /* No isa-debug-exit (-nodefaults): the guest powers off, status 0. */
    g_assert_cmpint(r->status, ==, 0);
    g_assert_true(g_file_get_contents(console, &log, NULL, NULL));
    g_assert_cmpstr(log, ==, CONSOLE);
    g_unlink(console);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_backend_ram(void)
{
    boot_with_backend("memory-backend-ram,id=pc.ram,size=268435456");
}

/* A shared file in a directory, every page faulted in at start. */
static void test_backend_file(void)
{
    boot_with_backend("memory-backend-file,id=pc.ram,size=268435456,"
                      "mem-path=%s,share=on,prealloc=on");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/machine-opts-boot/backend-ram", test_backend_ram);
    g_test_add_func("/machine-opts-boot/backend-file", test_backend_file);
    return g_test_run();
}
