/*
 * The passthrough on a host that lacks something, or refuses a step of
 * starting the ring's owner process: the VMM must say so at start, in one
 * line, and exit with status 1 (never hang).  deny-syscall plays the host
 * kernel, failing one system call (in the owner too: it inherits the
 * filter).  The drive uses aio=threads and uring-iopoll=off, so that the
 * passthrough is the only io_uring user.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "libqos/blk-image.h"
#include "virtio-blk-uring-fixture.h"

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
      "/proc/sys/kernel/io_uring_disabled and io_uring_group; or the kernel "
      "is older than Linux 5.11)" },
    { "io_uring_setup " G_STRINGIFY(ENOSYS),
      "uring-passthrough: cannot create an SQPOLL io_uring: Function not "
      "implemented (the host kernel has no io_uring)" },
    /* IORING_REGISTER_RESTRICTIONS is opcode 11. */
    { "io_uring_register:11 " G_STRINGIFY(EINVAL),
      "uring-passthrough: cannot restrict the io_uring: Invalid argument "
      "(the host kernel is too old: Linux 5.11 or later is needed)" },
    /* The owner cannot be executed: its child answers for it. */
    { "execveat " G_STRINGIFY(EACCES),
      "uring-passthrough: cannot create an SQPOLL io_uring: cannot execute "
      "the io_uring owner: Permission denied" },
    /* It answers that a step failed. */
    { "capset " G_STRINGIFY(EPERM),
      "uring-passthrough: cannot create an SQPOLL io_uring: cannot drop "
      "capabilities: Operation not permitted" },
    /* It exits without answering. */
    { "readv " G_STRINGIFY(EIO),
      "uring-passthrough: cannot create an SQPOLL io_uring: the io_uring "
      "owner process exited with status 2" },
    /* The VMM cannot take the ring from it. */
    { "pidfd_getfd " G_STRINGIFY(EPERM),
      "uring-passthrough: cannot create an SQPOLL io_uring: cannot take "
      "the io_uring from its owner process: Operation not permitted" },
};

/*
 * Without CAP_IPC_LOCK (dropped from the bounding set, which a root VMM
 * would otherwise get back at exec), pinning guest RAM is charged to
 * RLIMIT_MEMLOCK.
 */
#define NO_IPC_LOCK     "setpriv --bounding-set=-ipc_lock"
#define MEMLOCK_SMALL   "1048576"       /* 1 MiB */

static bool can_drop_ipc_lock(void)
{
    g_autofree char *setpriv = g_find_program_in_path("setpriv");
    g_autofree char *prlimit = g_find_program_in_path("prlimit");

    if (geteuid() != 0) {
        g_test_skip("dropping a capability from the bounding set needs "
                    "root");
        return false;
    }
    if (!setpriv || !prlimit) {
        g_test_skip("needs setpriv and prlimit (util-linux)");
        return false;
    }
    return true;
}

/* A limit too small for guest RAM is refused at start, naming it. */
static void test_memlock_too_small(void)
{
    BlkImage *img;
    g_autofree char *args = NULL;
    g_autofree char *err = NULL;

    if (!can_drop_ipc_lock()) {
        return;
    }
    img = blk_image_new(1 << 20);
    args = g_strdup_printf("-accel qtest -display none -nodefaults -m %uM "
                           "-drive if=none,id=d0,format=raw,aio=threads,"
                           "file=%s -device " DEVICE, RAM_MB, img->path);
    g_assert_cmpint(qtest_run_vmm("prlimit --memlock=" MEMLOCK_SMALL " "
                                  NO_IPC_LOCK, args, &err), ==, 1);
    g_assert_cmpstr(err, ==, PROG "-device " DEVICE ": uring-passthrough: "
                    "guest RAM (64 MiB) must be pinned, but "
                    "RLIMIT_MEMLOCK allows 1 MiB: raise it (ulimit -l) or "
                    "give the VMM CAP_IPC_LOCK\n");
    blk_image_free(img);
}

/*
 * A limit that guest RAM fits in is enough: the ring works, with RAM
 * pinned and charged to the limit (the current one: raising it would need
 * CAP_SYS_RESOURCE, which a VMM under a container's root may lack).  The
 * VMM runs through a wrapper script, which QTEST_QEMU_BINARY names for the
 * while.
 */
#define SMALL_RAM_MB    4

static void test_memlock_enough(void)
{
    g_autofree char *saved = NULL;
    g_autofree char *script = NULL;
    g_autofree char *text = NULL;
    struct rlimit rl;
    Fixture f;
    int fd;

    if (!can_drop_ipc_lock()) {
        return;
    }
    g_assert_cmpint(getrlimit(RLIMIT_MEMLOCK, &rl), ==, 0);
    if (rl.rlim_cur < (SMALL_RAM_MB + 1) << 20) {
        g_test_skip("RLIMIT_MEMLOCK is too small for any guest");
        return;
    }
    saved = g_strdup(qtest_qemu_binary());
    fd = g_file_open_tmp("qtest-uring-memlock-XXXXXX", &script, NULL);
    g_assert_cmpint(fd, >=, 0);
    text = g_strdup_printf("#!/bin/sh\nexec " NO_IPC_LOCK " %s \"$@\"\n",
                           saved);
    g_assert_cmpint(write(fd, text, strlen(text)), ==, strlen(text));
    close(fd);
    g_assert_cmpint(g_chmod(script, 0700), ==, 0);
    g_setenv("QTEST_QEMU_BINARY", script, TRUE);

    fixture_init(&f, SMALL_RAM_MB, "", URING ",uring-iopoll=off");
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 0, 4096, 1);
    check_image(&f);
    fixture_cleanup(&f);

    g_setenv("QTEST_QEMU_BINARY", saved, TRUE);
    g_unlink(script);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/virtio-blk-uring/host/no-sqpoll", &cases[0],
                         test_host);
    g_test_add_data_func("/virtio-blk-uring/host/no-io-uring", &cases[1],
                         test_host);
    g_test_add_data_func("/virtio-blk-uring/host/no-restrictions", &cases[2],
                         test_host);
    g_test_add_data_func("/virtio-blk-uring/host/owner-not-executable",
                         &cases[3], test_host);
    g_test_add_data_func("/virtio-blk-uring/host/owner-step-fails",
                         &cases[4], test_host);
    g_test_add_data_func("/virtio-blk-uring/host/owner-exits", &cases[5],
                         test_host);
    g_test_add_data_func("/virtio-blk-uring/host/owner-ring-not-taken",
                         &cases[6], test_host);
    g_test_add_func("/virtio-blk-uring/host/memlock-too-small",
                    test_memlock_too_small);
    g_test_add_func("/virtio-blk-uring/host/memlock-enough",
                    test_memlock_enough);
    return g_test_run();
}
