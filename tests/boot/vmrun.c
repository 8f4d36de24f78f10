/*
 * Running a VMM with a guest program to completion.
 */
#include <gio/gio.h>
#include <string.h>

#include "vmrun.h"

const char *vmrun_our_vmm(void)
{
    const char *p = g_getenv("QTEST_QEMU_BINARY");

    g_assert_nonnull(p);
    return p;
}

const char *vmrun_stock_qemu(void)
{
    static char *path;

    if (!path) {
        path = g_find_program_in_path("qemu-system-x86_64");
        if (!path || strstr(path, "/build")) {
            g_error("stock QEMU (qemu-system-x86_64, Debian package "
                    "qemu-system-x86) is not installed: run "
                    "scripts/install-deps.sh");
        }
    }
    return path;
}

char *vmrun_guest(const char *name)
{
    const char *dir = g_getenv("GUEST_PROGRAM_DIR");

    g_assert_nonnull(dir);
    return g_strdup_printf("%s/%s.elf", dir, name);
}

static char *without_cr(GBytes *b)
{
    gsize len;
    const char *p = b ? g_bytes_get_data(b, &len) : "";
    GString *s = g_string_new(NULL);

    for (gsize i = 0; b && i < len; i++) {
        if (p[i] != '\r') {
            g_string_append_c(s, p[i]);
        }
    }
    return g_string_free(s, FALSE);
}

VMRun *vmrun(const char *const *argv, unsigned timeout_s)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) out = NULL, errb = NULL;
    g_autoptr(GSubprocess) p = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    VMRun *r = g_new0(VMRun, 1);

    /* timeout(1) kills the VMM, whatever its threads are doing. */
    g_ptr_array_add(args, g_strdup("timeout"));
    g_ptr_array_add(args, g_strdup("-s"));
    g_ptr_array_add(args, g_strdup("KILL"));
    g_ptr_array_add(args, g_strdup_printf("%u", timeout_s));
    for (unsigned i = 0; argv[i]; i++) {
        g_ptr_array_add(args, g_strdup(argv[i]));
    }
    g_ptr_array_add(args, NULL);
    p = g_subprocess_newv((const char *const *)args->pdata,
                          G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                          G_SUBPROCESS_FLAGS_STDERR_PIPE, &err);
    g_assert_no_error(err);
    g_subprocess_communicate(p, NULL, NULL, &out, &errb, &err);
    g_assert_no_error(err);
    /* timeout(1) passes a SIGKILL on to itself. */
    r->status = g_subprocess_get_if_exited(p) ?
                g_subprocess_get_exit_status(p) : -1;
    r->out = without_cr(out);
    r->err = without_cr(errb);
    if (g_test_verbose()) {
        g_test_message("status %d\nstdout:\n%s\nstderr:\n%s", r->status,
                       r->out, r->err);
    }
    return r;
}

VMRun *vmrunf(unsigned timeout_s, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    g_auto(GStrv) argv = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    return vmrun((const char *const *)argv, timeout_s);
}

VMRun *vmrun_disk(bool stock, const VMRunDisk *disk, const char *guest,
                  const char *append)
{
    g_autofree char *kernel = vmrun_guest(guest);
    g_autofree char *drive = g_strdup_printf("file=%s,if=none,id=d0,"
                                             "format=raw%s", disk->image,
                                             disk->drive ? disk->drive : "");
    g_autofree char *device = g_strdup_printf("virtio-blk-pci,drive=d0%s%s%s",
                                              stock ? ",disable-legacy=on" : "",
                                              disk->iothread ? ",iothread=io1"
                                                             : "",
                                              disk->device ? disk->device : "");
    g_autofree char *cpus = g_strdup_printf("%u", disk->cpus);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();

    if (stock) {
        const char *const base[] = {
            vmrun_stock_qemu(), "-accel", "kvm", "-m", "256",
            "-display", "none", "-debugcon", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        };

        for (unsigned i = 0; i < G_N_ELEMENTS(base); i++) {
            g_ptr_array_add(argv, (char *)base[i]);
        }
    } else {
        const char *const base[] = {
            vmrun_our_vmm(), "-accel", "kvm", "-m", "256M", "-nographic",
        };

        for (unsigned i = 0; i < G_N_ELEMENTS(base); i++) {
            g_ptr_array_add(argv, (char *)base[i]);
        }
    }
    if (disk->cpus) {
        g_ptr_array_add(argv, "-smp");
        g_ptr_array_add(argv, cpus);
    }
    if (disk->iothread) {
        g_ptr_array_add(argv, "-object");
        g_ptr_array_add(argv, "iothread,id=io1");
    }
    g_ptr_array_add(argv, "-drive");
    g_ptr_array_add(argv, drive);
    g_ptr_array_add(argv, "-device");
    g_ptr_array_add(argv, device);
    g_ptr_array_add(argv, "-kernel");
    g_ptr_array_add(argv, kernel);
    g_ptr_array_add(argv, "-append");
    g_ptr_array_add(argv, (char *)append);
    g_ptr_array_add(argv, NULL);
    if (g_test_verbose()) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv->pdata);

        g_test_message("%s", cmd);
    }
    /* Stock QEMU's emulated firmware takes seconds to boot. */
    return vmrun((const char *const *)argv->pdata, stock ? 120 : 60);
}

void vmrun_free(VMRun *r)
{
    g_free(r->out);
    g_free(r->err);
    g_free(r);
}
