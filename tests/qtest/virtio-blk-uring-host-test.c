/*
 * The passthrough on a host that lacks something: the VMM must say so at
 * start, in one line, and exit with status 1.  deny-syscall plays the host
 * kernel, failing one io_uring call.  The drive uses aio=threads and
 * uring-iopoll=off, so that the passthrough is the only io_uring user.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "libqos/blk-image.h"
#include "libqtest.h"

#define PROG "qemu-system-x86_64: "
#define DEVICE "virtio-blk-pci,drive=d0,uring-passthrough=on,uring-iopoll=off"

typedef struct HostCase {
    const char *deny;           /* deny-syscall's first two arguments */
    const char *message;        /* after "-device ...: " */
} HostCase;

static void test_host(gconstpointer data)
{
    const HostCase *c = data;
    BlkImage *img = blk_image_new(1 << 20);
    g_autofree char *wrapper = g_strdup_printf("%s %s",
                                               g_getenv("DENY_SYSCALL"),
                                               c->deny);
    g_autofree char *args = g_strdup_printf(
        "-accel qtest -display none -nodefaults "
        "-drive if=none,id=d0,format=raw,aio=threads,file=%s -device " DEVICE,
        img->path);
    g_autofree char *expect = g_strdup_printf(PROG "-device " DEVICE ": %s\n",
                                              c->message);
    g_autofree char *err = NULL;

    g_assert_cmpint(qtest_run_vmm(wrapper, args, &err), ==, 1);
    g_assert_cmpstr(err, ==, expect);
    blk_image_free(img);
}

static const HostCase cases[] = {
    { "io_uring_setup " G_STRINGIFY(EPERM),
      "uring-passthrough: cannot create an SQPOLL io_uring: Operation not "
      "permitted (io_uring is disabled for this user: see "
      "/proc/sys/kernel/io_uring_disabled; SQPOLL needs Linux 5.11 or "
      "CAP_SYS_ADMIN)" },
    { "io_uring_setup " G_STRINGIFY(ENOSYS),
      "uring-passthrough: cannot create an SQPOLL io_uring: Function not "
      "implemented (the host kernel has no io_uring)" },
    /* IORING_REGISTER_RESTRICTIONS is opcode 11. */
    { "io_uring_register:11 " G_STRINGIFY(EINVAL),
      "uring-passthrough: cannot restrict the io_uring: Invalid argument "
      "(the host kernel is too old: Linux 5.10 or later is needed)" },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/virtio-blk-uring/host/no-sqpoll", &cases[0],
                         test_host);
    g_test_add_data_func("/virtio-blk-uring/host/no-io-uring", &cases[1],
                         test_host);
    g_test_add_data_func("/virtio-blk-uring/host/no-restrictions", &cases[2],
                         test_host);
    return g_test_run();
}
