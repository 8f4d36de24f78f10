/*
 * The machine and system options libvirt passes (issue 12's command line):
 * each is taken with QEMU's meaning, checked where it shows (guest RAM
 * from a memory back-end and its file, core-dump and mlock flags, thread
 * and process names, the parent watch, -machine none), or refused with
 * exactly one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libqtest.h"

#define PROG "qemu-system-x86_64: "
#define BASE_ARGS "-accel qtest -display none -nodefaults "
#define GUEST_RAM_HOST_BASE 0x200000000000ULL

typedef struct ErrorCase {
    const char *path;
    const char *args;
    const char *expected;       /* all of stderr */
} ErrorCase;

static const ErrorCase error_cases[] = {
    { "/machine-opts/error/cpu-model", "-cpu qemu64",
      PROG "-cpu qemu64: CPU model 'qemu64' is not supported: the guest gets "
      "the host's CPU (-cpu host or -cpu max)\n" },
    { "/machine-opts/error/cpu-features", "-cpu host,+avx",
      PROG "-cpu host,+avx: CPU features cannot be changed: '+avx'\n" },
    { "/machine-opts/error/usb", "-machine pvh,usb=on",
      PROG "-machine pvh,usb=on: usb=on is not supported (the machine has no "
      "USB controller)\n" },
    { "/machine-opts/error/dump-guest-core", "-machine dump-guest-core=maybe",
      PROG "-machine dump-guest-core=maybe: Parameter 'dump-guest-core' "
      "expects 'on' or 'off'\n" },
    { "/machine-opts/error/backend-missing", "-machine memory-backend=nope",
      PROG "Memory backend 'nope' not found\n" },
    { "/machine-opts/error/backend-size",
      "-machine memory-backend=m -object memory-backend-ram,id=m,size=64M "
      "-m 128M",
      PROG "Machine memory size does not match the size of the memory "
      "backend\n" },
    { "/machine-opts/error/backend-no-size", "-object memory-backend-ram,id=m",
      PROG "-object memory-backend-ram,id=m: Parameter 'size' is missing\n" },
    { "/machine-opts/error/backend-no-id", "-object memory-backend-ram,size=1M",
      PROG "-object memory-backend-ram,size=1M: Parameter 'id' is missing\n" },
    { "/machine-opts/error/backend-duplicate",
      "-object memory-backend-ram,id=m,size=1M "
      "-object memory-backend-ram,id=m,size=1M",
      PROG "-object memory-backend-ram,id=m,size=1M: Duplicate ID 'm' for "
      "object\n" },
    { "/machine-opts/error/backend-no-path",
      "-object memory-backend-file,id=m,size=1M",
      PROG "-object memory-backend-file,id=m,size=1M: Parameter 'mem-path' is "
      "missing\n" },
    { "/machine-opts/error/backend-bad-path",
      "-object memory-backend-file,id=m,size=1M,mem-path=/nonexistent/x",
      PROG "-object memory-backend-file,id=m,size=1M,mem-path=/nonexistent/x: "
      "can't open backing store /nonexistent/x for guest RAM: No such file "
      "or directory\n" },
    { "/machine-opts/error/backend-share",
      "-object memory-backend-ram,id=m,size=1M,share=maybe",
      PROG "-object memory-backend-ram,id=m,size=1M,share=maybe: Parameter "
      "'share' expects 'on' or 'off'\n" },
    { "/machine-opts/error/none-device", "-machine none -device isa-debug-exit",
      PROG "-device isa-debug-exit: No bus to plug devices into with -machine "
      "none\n" },
    { "/machine-opts/error/overcommit", "-overcommit mem-lock=maybe",
      PROG "-overcommit mem-lock=maybe: Parameter 'mem-lock' expects 'on' or "
      "'off'\n" },
    { "/machine-opts/error/overcommit-cpu-pm", "-overcommit cpu-pm=on",
      PROG "-overcommit cpu-pm=on: cpu-pm=on is not supported (the guest's "
      "idle vCPUs exit to the VMM)\n" },
    { "/machine-opts/error/rtc", "-rtc base=localtime",
      PROG "-rtc base=localtime: base=localtime is not supported: the machine "
      "has no RTC, only base=utc is accepted\n" },
    { "/machine-opts/error/rtc-clock", "-rtc base=utc,clock=foo",
      PROG "-rtc base=utc,clock=foo: Parameter 'clock' does not accept value "
      "'foo'\n" },
    { "/machine-opts/error/boot", "-boot strict=maybe",
      PROG "-boot strict=maybe: Parameter 'boot.strict' expects 'on' or "
      "'off'\n" },
    { "/machine-opts/error/boot-order", "-boot order=c",
      PROG "-boot order=c: Invalid parameter 'order'\n" },
    { "/machine-opts/error/uuid", "-uuid 1234",
      PROG "-uuid 1234: failed to parse UUID string: wrong format\n" },
    { "/machine-opts/error/uuid-trailing",
      "-uuid 12345678-1234-1234-1234-1234567890abc",
      PROG "-uuid 12345678-1234-1234-1234-1234567890abc: failed to parse UUID "
      "string: wrong format\n" },
    { "/machine-opts/error/msg", "-msg timestamp=maybe",
      PROG "-msg timestamp=maybe: Parameter 'timestamp' expects 'on' or "
      "'off'\n" },
    { "/machine-opts/error/audiodev-driver", "-audiodev pa,id=a",
      PROG "-audiodev pa,id=a: Parameter 'driver' does not accept value "
      "'pa'\n" },
    { "/machine-opts/error/audiodev-id", "-audiodev none",
      PROG "-audiodev none: Parameter 'id' is missing\n" },
    { "/machine-opts/error/audio-model", "-audio none,model=hda",
      PROG "-audio none,model=hda: Parameter 'model' does not accept value "
      "'hda' (there are no sound devices)\n" },
    /* No seccomp filter: "on" is refused, never accepted and ignored. */
    { "/machine-opts/error/sandbox",
      "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
      "resourcecontrol=deny",
      PROG "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
      "resourcecontrol=deny: seccomp sandboxing is not supported by this VMM "
      "(-sandbox off runs without it)\n" },
    { "/machine-opts/error/sandbox-value", "-sandbox maybe",
      PROG "-sandbox maybe: Parameter 'enable' expects 'on' or 'off'\n" },
    { "/machine-opts/error/run-with", "-run-with exit-with-parent=maybe",
      PROG "-run-with exit-with-parent=maybe: Parameter 'exit-with-parent' "
      "expects 'on' or 'off'\n" },
    { "/machine-opts/error/name", "-name guest=a,debug-threads=maybe",
      PROG "-name guest=a,debug-threads=maybe: Parameter 'debug-threads' "
      "expects 'on' or 'off'\n" },
};

static void test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autofree char *args = g_strconcat(BASE_ARGS, c->args, NULL);
    g_autofree char *err = NULL;
    int status = qtest_run_vmm(NULL, args, &err);

    g_assert_cmpstr(err, ==, c->expected);
    g_assert_cmpint(status, ==, 1);
}

/* -msg timestamp=on: "2026-12-03T13:08:33.743362Z qemu-system-x86_64: ..." */
static void test_msg_timestamp(void)
{
    g_autofree char *err = NULL;
    int status = qtest_run_vmm(NULL, BASE_ARGS "-msg timestamp=on -m 1M",
                               &err);

    g_assert_cmpint(status, ==, 1);
    g_assert_true(g_regex_match_simple(
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "
        PROG "-m 1M: ram size too small \\(the minimum is 2M\\)\n$",
        err, 0, 0));
}

/* The /proc/PID/smaps entry of the mapping that starts at addr. */
static char *smaps_entry(QTestState *qts, uint64_t addr)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/smaps",
                                            (int)qtest_pid(qts));
    g_autofree char *contents = NULL;
    g_autofree char *text = NULL;
    g_autofree char *start = g_strdup_printf("\n%" G_GINT64_MODIFIER "x-",
                                             addr);
    const char *p, *end;

    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    /* Every entry after a newline, the first one included. */
    text = g_strconcat("\n", contents, NULL);
    p = strstr(text, start);
    if (!p) {
        return NULL;
    }
    p++;
    end = strstr(p, "VmFlags:");
    g_assert_nonnull(end);
    end = strchr(end, '\n');
    return g_strndup(p, end - p);
}

static uint64_t smaps_kb(const char *entry, const char *key)
{
    const char *p = strstr(entry, key);

    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen(key), NULL, 10);
}

static bool smaps_flag(const char *entry, const char *flag)
{
    g_auto(GStrv) flags = g_strsplit(strstr(entry, "VmFlags:") + 8, " ", -1);

    return g_strv_contains((const char *const *)flags, flag);
}

/*
 * issue 12's options, together, -audiodev in JSON as libvirt writes it:
 * accepted, and guest RAM is the back-end.
 */
static void test_libvirt_line(void)
{
    g_autoptr(QTestState) qts = qtest_init(
        "-name guest=pt1,debug-threads=on "
        "-machine pvh,usb=off,dump-guest-core=off,memory-backend=pc.ram "
        "-cpu host -object memory-backend-ram,id=pc.ram,size=268435456 "
        "-overcommit mem-lock=off -smp 1,sockets=1,cores=1,threads=1 "
        "-uuid 6e2b3a4f-64f0-4cbe-9e1a-3c2f55d6b0a1 -no-user-config "
        "-rtc base=utc -no-acpi -boot strict=on "
        "-audiodev '{\"id\":\"audio1\",\"driver\":\"none\"}' "
        "-sandbox off -msg timestamp=on");
    g_autofree char *ram = smaps_entry(qts, GUEST_RAM_HOST_BASE);

    /* -m follows the back-end: 256 MiB, all of it RAM. */
    qtest_writel(qts, (256 << 20) - 4, 0xfeedf00d);
    g_assert_cmphex(qtest_readl(qts, (256 << 20) - 4), ==, 0xfeedf00d);
    g_assert_nonnull(ram);
    g_assert_cmpuint(smaps_kb(ram, "\nSize:"), ==, 256 << 10);
    /* dump-guest-core=off: out of core dumps ("dd"). */
    g_assert_true(smaps_flag(ram, "dd"));
}

static void test_dump_guest_core_default(void)
{
    g_autoptr(QTestState) qts = qtest_init("-m 64M");
    g_autofree char *ram = smaps_entry(qts, GUEST_RAM_HOST_BASE);

    g_assert_nonnull(ram);
    g_assert_false(smaps_flag(ram, "dd"));
}

/* The guest's RAM in a file, low RAM then RAM above 4 GiB. */
static void test_backend_file(gconstpointer data)
{
    bool share = GPOINTER_TO_INT(data);
    g_autofree char *dir = g_dir_make_tmp("machine-opts-test-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "ram", NULL);
    const uint64_t size = (2048ULL + 64) << 20;
    uint32_t low = 0, high = 0;
    int fd;

    {
        g_autoptr(QTestState) qts = qtest_initf(
            "-machine memory-backend=r -object memory-backend-file,id=r,"
            "size=%" G_GUINT64_FORMAT ",mem-path=%s,share=%s",
            size, path, share ? "on" : "off");

        qtest_writel(qts, 0x1000, 0x10203040);
        qtest_writel(qts, 0x100000000ULL + 0x2000, 0x50607080);
        g_assert_cmphex(qtest_readl(qts, 0x1000), ==, 0x10203040);
        g_assert_cmphex(qtest_readl(qts, 0x100000000ULL + 0x2000), ==,
                        0x50607080);
    }
    fd = open(path, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(lseek(fd, 0, SEEK_END), ==, size);
    g_assert_cmpint(pread(fd, &low, 4, 0x1000), ==, 4);
    g_assert_cmpint(pread(fd, &high, 4, (2048ULL << 20) + 0x2000), ==, 4);
    close(fd);
    /* share=on: the writes are in the file; share=off: they are not. */
    g_assert_cmphex(low, ==, share ? 0x10203040 : 0);
    g_assert_cmphex(high, ==, share ? 0x50607080 : 0);
    g_unlink(path);
    g_rmdir(dir);
}

/* A directory (as a hugetlbfs mount would be): an unlinked file in it. */
static void test_backend_dir_prealloc(void)
{
    g_autofree char *dir = g_dir_make_tmp("machine-opts-test-XXXXXX", NULL);
    g_autoptr(QTestState) qts = qtest_initf(
        "-machine memory-backend=r -object memory-backend-file,id=r,"
        "size=64M,mem-path=%s,share=on,prealloc=on", dir);
    g_autofree char *ram = smaps_entry(qts, GUEST_RAM_HOST_BASE);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);

    g_assert_nonnull(ram);
    /* prealloc=on: every page is there from the start. */
    g_assert_cmpuint(smaps_kb(ram, "\nRss:"), ==, 64 << 10);
    g_assert_null(g_dir_read_name(d));
    qtest_writeb(qts, 0x123, 0x5a);
    g_assert_cmphex(qtest_readb(qts, 0x123), ==, 0x5a);
    g_rmdir(dir);
}

static uint64_t proc_status_kb(QTestState *qts, const char *key)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status",
                                            (int)qtest_pid(qts));
    g_autofree char *text = NULL;
    const char *p;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    p = strstr(text, key);
    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen(key), NULL, 10);
}

/* mem-lock=on locks guest RAM (and the rest) in memory, as QEMU does. */
static void test_mem_lock(void)
{
    g_autoptr(QTestState) qts = NULL;

    /* It would lock AddressSanitizer's terabytes of shadow memory too. */
    if (g_getenv("ASAN_OPTIONS")) {
        g_test_skip("not with AddressSanitizer (make check-asan)");
        return;
    }
    qts = qtest_init("-m 64M -overcommit mem-lock=on");
    g_assert_cmpuint(proc_status_kb(qts, "VmLck:"), >=, 64 << 10);
}

/* Thread names as QEMU gives them with debug-threads=on; process=. */
static void test_thread_names(void)
{
    g_autoptr(QTestState) qts = qtest_init(
        "-name guest=vm1,process=qemu-vm1,debug-threads=on "
        "-object iothread,id=iothread1");
    g_autofree char *dir = g_strdup_printf("/proc/%d/task",
                                           (int)qtest_pid(qts));
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *tid;

    while ((tid = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, tid, "comm", NULL);
        char *comm = NULL;

        g_assert_true(g_file_get_contents(path, &comm, NULL, NULL));
        g_ptr_array_add(names, g_strchomp(comm));
    }
    g_ptr_array_add(names, NULL);
    g_assert_true(g_strv_contains((const char *const *)names->pdata,
                                  "IO iothread1"));
    g_assert_true(g_strv_contains((const char *const *)names->pdata,
                                  "qemu-vm1"));
}

/* -machine none: the VMM runs with no guest RAM and no device. */
static void test_machine_none(void)
{
    g_autoptr(QTestState) qts = qtest_init("-machine none -m 64M");
    g_autofree char *ram = smaps_entry(qts, GUEST_RAM_HOST_BASE);

    g_assert_null(ram);
    /* No UART, no isa-debug-exit: the ports read as nothing. */
    g_assert_cmphex(qtest_inb(qts, 0x3fd), ==, 0xff);
}

static bool kvm_vm_made(GPid pid)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *link = g_build_filename(dir, name, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);

        if (target && !strcmp(target, "anon_inode:kvm-vm")) {
            return true;
        }
    }
    return false;
}

/*
 * libvirt's probe, -machine none,accel=kvm:tcg: KVM's VM is made, but no
 * vCPU thread and no RAM; SIGTERM ends it as QEMU's.
 */
static void test_machine_none_kvm(void)
{
    const char *argv[] = {
        qtest_qemu_binary(), "-machine", "none,accel=kvm:tcg", "-nodefaults",
        "-display", "none", "-no-user-config", NULL,
    };
    g_autofree char *task_dir = NULL;
    g_autoptr(GDir) d = NULL;
    const char *tid;
    GPid pid;
    int status;

    if (access("/dev/kvm", R_OK | W_OK)) {
        g_test_skip("needs /dev/kvm");
        return;
    }
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDIN_FROM_DEV_NULL |
                                G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pid,
                                NULL));
    while (!kvm_vm_made(pid)) {
        g_assert_cmpint(waitpid(pid, &status, WNOHANG), ==, 0);
        g_usleep(10000);
    }
    task_dir = g_strdup_printf("/proc/%d/task", (int)pid);
    d = g_dir_open(task_dir, 0, NULL);
    while ((tid = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(task_dir, tid, "comm", NULL);
        g_autofree char *comm = NULL;

        g_assert_true(g_file_get_contents(path, &comm, NULL, NULL));
        g_assert_false(g_str_has_prefix(comm, "CPU "));
    }
    kill(pid, SIGTERM);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_spawn_close_pid(pid);
}

/* Is pid (not our child) running, neither gone nor a zombie? */
static bool running(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    const char *state;

    if (!g_file_get_contents(path, &stat, NULL, NULL)) {
        return false;
    }
    state = strrchr(stat, ')');
    return state && state[1] == ' ' && state[2] != 'Z';
}

/*
 * -run-with exit-with-parent=on: the VMM's parent dies, the VMM shuts
 * down (as on SIGTERM).  The test is the subreaper that then reaps it.
 */
static void test_exit_with_parent(void)
{
    g_autofree char *dir = g_dir_make_tmp("machine-opts-test-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "ready", NULL);
    g_autofree char *chardev = g_strdup_printf("socket,id=r,path=%s,"
                                               "server=on,wait=off", sock);
    const char *argv[] = {
        qtest_qemu_binary(), "-accel", "qtest", "-machine", "none",
        "-display", "none", "-nodefaults", "-run-with",
        "exit-with-parent=on", "-chardev", chardev, NULL,
    };
    int pipefd[2];
    pid_t parent, vmm;
    int status;

    g_assert_cmpint(prctl(PR_SET_CHILD_SUBREAPER, 1), ==, 0);
    g_assert_cmpint(pipe(pipefd), ==, 0);
    parent = fork();
    g_assert_cmpint(parent, >=, 0);
    if (parent == 0) {
        /* Should the test fail, this process and so the VMM go with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        vmm = fork();
        if (vmm == 0) {
            execv(argv[0], (char **)argv);
            _exit(127);
        }
        if (write(pipefd[1], &vmm, sizeof(vmm)) != sizeof(vmm)) {
            _exit(1);
        }
        for (;;) {
            pause();
        }
    }
    close(pipefd[1]);
    g_assert_cmpint(read(pipefd[0], &vmm, sizeof(vmm)), ==, sizeof(vmm));
    close(pipefd[0]);
    /* The chardev is made after the parent watch is in place. */
    while (!g_file_test(sock, G_FILE_TEST_EXISTS)) {
        g_assert_true(running(vmm));
        g_usleep(10000);
    }
    kill(parent, SIGKILL);
    g_assert_cmpint(waitpid(parent, &status, 0), ==, parent);
    g_assert_cmpint(waitpid(vmm, &status, 0), ==, vmm);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    /* It shut down in order: its socket file is gone. */
    g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
    g_rmdir(dir);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_test_add_data_func(error_cases[i].path, &error_cases[i],
                             test_error);
    }
    g_test_add_func("/machine-opts/msg-timestamp", test_msg_timestamp);
    g_test_add_func("/machine-opts/libvirt-line", test_libvirt_line);
    g_test_add_func("/machine-opts/dump-guest-core-default",
                    test_dump_guest_core_default);
    g_test_add_data_func("/machine-opts/backend-file/shared",
                         GINT_TO_POINTER(true), test_backend_file);
    g_test_add_data_func("/machine-opts/backend-file/private",
                         GINT_TO_POINTER(false), test_backend_file);
    g_test_add_func("/machine-opts/backend-file/dir-prealloc",
                    test_backend_dir_prealloc);
    g_test_add_func("/machine-opts/mem-lock", test_mem_lock);
    g_test_add_func("/machine-opts/thread-names", test_thread_names);
    g_test_add_func("/machine-opts/none", test_machine_none);
    g_test_add_func("/machine-opts/none-kvm", test_machine_none_kvm);
    g_test_add_func("/machine-opts/exit-with-parent", test_exit_with_parent);
    return g_test_run();
}
