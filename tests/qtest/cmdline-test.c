/*
 * Command-line errors: each makes qemu-system-x86_64 print exactly one line
 * in QEMU's style, "qemu-system-x86_64: [-option argument: ]message", and
 * exit with status 1.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libqtest.h"

#define PROG "qemu-system-x86_64: "

/* What every case runs with: no KVM needed, no display, no default device. */
#define BASE_ARGS "-accel qtest -display none -nodefaults "

typedef struct CmdlineCase {
    const char *path;
    const char *args;
    const char *expected;       /* all of stderr */
} CmdlineCase;

static const CmdlineCase cases[] = {
    { "/cmdline/option/unknown", "-foo", PROG "-foo: invalid option\n" },
    { "/cmdline/option/missing-argument", "-m",
      PROG "-m: requires an argument\n" },
    { "/cmdline/option/lone-argument", "disk.img",
      PROG "disk.img: only options are accepted; use -drive for disk "
      "images\n" },
    { "/cmdline/m/not-a-size", "-m foo",
      PROG "-m foo: Parameter 'size' expects a size\n" },
    { "/cmdline/m/too-small", "-m 1M",
      PROG "-m 1M: ram size too small (the minimum is 2M)\n" },
    /* Beyond the fixed host layout's room (docs/devel/memory.rst) */
    { "/cmdline/m/too-large", "-m 96T", PROG "ram size too large\n" },
    { "/cmdline/smp/zero", "-smp 0",
      PROG "-smp 0: Invalid CPU topology: CPU topology parameters must be "
      "greater than zero\n" },
    { "/cmdline/smp/zero-sockets", "-smp 2,sockets=0",
      PROG "-smp 2,sockets=0: Invalid CPU topology: CPU topology parameters "
      "must be greater than zero\n" },
    { "/cmdline/smp/not-a-number", "-smp foo",
      PROG "-smp foo: Parameter 'cpus' expects a number\n" },
    { "/cmdline/smp/too-many", "-smp 65",
      PROG "-smp 65: Invalid SMP CPUs 65. The max CPUs supported by machine "
      "'pvh' is 64\n" },
    /* As QEMU, with a hint on a line of its own. */
    { "/cmdline/machine/unknown", "-machine q35",
      PROG "-machine q35: unsupported machine type \"q35\" (-machine help "
      "lists the supported ones)\n" },
    { "/cmdline/machine/unknown-parameter", "-machine pvh,foo=1",
      PROG "-machine pvh,foo=1: Invalid parameter 'foo'\n" },
    { "/cmdline/accel/unknown", "-accel foo",
      PROG "-accel foo: invalid accelerator foo\n" },
    { "/cmdline/device/unknown", "-device foo",
      PROG "-device foo: 'foo' is not a valid device model name\n" },
    { "/cmdline/device/unknown-property", "-device isa-debug-exit,foo=1",
      PROG "-device isa-debug-exit,foo=1: Property 'isa-debug-exit.foo' not "
      "found\n" },
    { "/cmdline/object/unknown", "-object foo",
      PROG "-object foo: Parameter 'qom-type' does not accept value 'foo'\n" },
    /* QEMU's JSON syntax: nested objects are dotted keys, true is on. */
    { "/cmdline/json/device-unknown-property",
      "-device '{\"driver\":\"isa-debug-exit\",\"iobase\":244,"
      "\"x\":{\"y\":true}}'",
      PROG "-device {\"driver\":\"isa-debug-exit\",\"iobase\":244,"
      "\"x\":{\"y\":true}}: Property 'isa-debug-exit.x.y' not found\n" },
    { "/cmdline/json/device-bool", "-device '{\"driver\":\"isa-debug-exit\","
      "\"iosize\":false}'",
      PROG "-device {\"driver\":\"isa-debug-exit\",\"iosize\":false}: "
      "Parameter 'iosize' expects a number\n" },
    { "/cmdline/json/device-no-driver", "-device '{\"id\":\"x\"}'",
      PROG "-device {\"id\":\"x\"}: Parameter 'driver' is missing\n" },
    { "/cmdline/json/object-unknown", "-object '{\"qom-type\":\"foo\","
      "\"id\":\"x\"}'",
      PROG "-object {\"qom-type\":\"foo\",\"id\":\"x\"}: Parameter "
      "'qom-type' does not accept value 'foo'\n" },
    { "/cmdline/json/truncated", "-device '{\"driver\":'",
      PROG "-device {\"driver\":: JSON parse error at character 10, "
      "unexpected end of file, expected character `}'\n" },
    { "/cmdline/json/list", "-device '{\"driver\":[1]}'",
      PROG "-device {\"driver\":[1]}: Invalid parameter type for 'driver', "
      "expected: a string, number or boolean\n" },
    { "/cmdline/json/null", "-device '{\"driver\":null}'",
      PROG "-device {\"driver\":null}: Invalid parameter type for 'driver', "
      "expected: a string, number or boolean\n" },
    /* libvirt hands the VMM its files as -add-fd sets. */
    { "/cmdline/add-fd/no-fd", "-add-fd set=0",
      PROG "-add-fd set=0: Parameter 'fd' is missing\n" },
    { "/cmdline/add-fd/no-set", "-add-fd fd=5",
      PROG "-add-fd fd=5: Parameter 'set' is missing\n" },
    { "/cmdline/add-fd/stdio", "-add-fd set=0,fd=2",
      PROG "-add-fd set=0,fd=2: fd cannot be a standard I/O stream\n" },
    { "/cmdline/add-fd/not-open", "-add-fd set=0,fd=99",
      PROG "-add-fd set=0,fd=99: fd is not valid or already in use\n" },
    { "/cmdline/add-fd/no-such-set",
      "-chardev file,id=c0,path=/dev/fdset/3",
      PROG "-chardev file,id=c0,path=/dev/fdset/3: Could not open "
      "'/dev/fdset/3': No such file or directory\n" },
    /* libvirt passes its master key to every VM as -object secret. */
    { "/cmdline/object/secret-no-id", "-object secret,data=x",
      PROG "-object secret,data=x: Parameter 'id' is missing\n" },
    { "/cmdline/object/secret-no-data", "-object secret,id=s0",
      PROG "-object secret,id=s0: Either 'data' or 'file' must be given\n" },
    { "/cmdline/object/secret-both", "-object secret,id=s0,data=x,file=/f",
      PROG "-object secret,id=s0,data=x,file=/f: 'data' and 'file' cannot "
      "both be given\n" },
    { "/cmdline/object/secret-no-file",
      "-object secret,id=s0,file=/nonexistent",
      PROG "-object secret,id=s0,file=/nonexistent: Unable to read "
      "/nonexistent: No such file or directory\n" },
    { "/cmdline/object/secret-bad-base64",
      "-object secret,id=s0,data=!!!,format=base64",
      PROG "-object secret,id=s0,data=!!!,format=base64: Parameter 'data' "
      "is not valid base64\n" },
    { "/cmdline/object/secret-bad-format",
      "-object secret,id=s0,data=x,format=hex",
      PROG "-object secret,id=s0,data=x,format=hex: Parameter 'format' does "
      "not accept value 'hex'\n" },
    { "/cmdline/object/secret-duplicate",
      "-object iothread,id=s0 -object secret,id=s0,data=x",
      PROG "-object secret,id=s0,data=x: Duplicate ID 's0' for object\n" },
    { "/cmdline/serial/bad-backend", "-serial bogus:",
      PROG "-serial bogus:: 'bogus:' is not a valid char driver\n" },
    { "/cmdline/serial/two-stdio", "-serial stdio -serial stdio",
      PROG "-serial stdio: cannot use stdio by multiple character "
      "devices\n" },
    { "/cmdline/serial/stdio-with-debugcon", "-debugcon stdio -serial stdio",
      PROG "-serial stdio: cannot use stdio by multiple character "
      "devices\n" },
    { "/cmdline/serial/stdio-with-qtest", "-qtest stdio -serial stdio",
      PROG "-serial stdio: cannot use stdio by multiple character "
      "devices\n" },
    { "/cmdline/display/unavailable", "-display gtk",
      PROG "-display gtk: Display 'gtk' is not available (only 'none' "
      "is)\n" },
    { "/cmdline/kernel/missing", "-kernel /nonexistent",
      PROG "could not load kernel '/nonexistent': No such file or "
      "directory\n" },
    { "/cmdline/append/without-kernel", "-append console=ttyS0",
      PROG "-append only allowed with -kernel option\n" },
    { "/cmdline/qtest/needs-qtest-accel", "-accel kvm -qtest stdio",
      PROG "-qtest needs the qtest accelerator (-accel qtest)\n" },
    { "/cmdline/qtest/no-socket", "-qtest unix:/nonexistent",
      PROG "Failed to connect to '/nonexistent': No such file or "
      "directory\n" },
    { "/cmdline/qtest/no-input", "-qtest null",
      PROG "qtest needs a character device to talk to: unix:PATH or "
      "stdio\n" },
    { "/cmdline/qtest/bad-log", "-qtest stdio -qtest-log /nonexistent/log",
      PROG "Could not open qtest log '/nonexistent/log': No such file or "
      "directory\n" },
};

static void assert_vmm_error(const char *wrapper, const char *args,
                             const char *expected)
{
    g_autofree char *err = NULL;
    int status = qtest_run_vmm(wrapper, args, &err);

    g_assert_cmpstr(err, ==, expected);
    g_assert_cmpint(status, ==, 1);
}

static void test_case(gconstpointer data)
{
    const CmdlineCase *c = data;
    g_autofree char *args = g_strconcat(BASE_ARGS, c->args, NULL);

    assert_vmm_error(NULL, args, c->expected);
}

/* libvirt's master key: a raw file; and a base64 secret given inline. */
static void test_secret_accepted(void)
{
    g_autofree char *dir = g_dir_make_tmp("secret-XXXXXX", NULL);
    g_autofree char *key = g_build_filename(dir, "master-key.aes", NULL);
    g_autofree char *args = NULL;
    g_autoptr(QTestState) qts = NULL;
    g_autoptr(JsonObject) r = NULL;

    g_assert(g_file_set_contents(key, "0123456789abcdef0123456789abcdef",
                                 32, NULL));
    args = g_strdup_printf("-object secret,id=masterKey0,format=raw,file=%s "
                           "-object secret,id=s1,format=base64,data=aGVsbG8=",
                           key);
    qts = qtest_init(args);
    r = qtest_qmp(qts, "{'execute':'query-status'}");
    qmp_reply_return(r);
    qtest_quit(g_steal_pointer(&qts));
    g_unlink(key);
    g_rmdir(dir);
}

/*
 * libvirt's serial console: the file opened by libvirt, inherited as fd 5
 * and named /dev/fdset/0; the guest's output is appended to what it had.
 */
static void test_add_fd_console(void)
{
    g_autofree char *dir = g_dir_make_tmp("add-fd-XXXXXX", NULL);
    g_autofree char *log = g_build_filename(dir, "console", NULL);
    g_autofree char *wrapper = g_strdup_printf(
        "sh -c 'exec \"$0\" \"$@\" 5>>%s'", log);
    g_autofree char *args = g_strdup_printf(
        "-accel kvm -display none -nodefaults -kernel %s -append exit=0 "
        "-add-fd set=0,fd=5,opaque=serial0-source "
        "-chardev file,id=c0,path=/dev/fdset/0,append=on "
        "-device isa-serial,chardev=c0,index=0",
        g_getenv("QTEST_GUEST_KERNEL"));
    g_autofree char *err = NULL, *out = NULL;

    g_assert(g_file_set_contents(log, "before\n", -1, NULL));
    g_assert_cmpint(qtest_run_vmm(wrapper, args, &err), ==, 0);
    g_assert_cmpstr(err, ==, "");
    g_assert(g_file_get_contents(log, &out, NULL, NULL));
    g_assert(g_str_has_prefix(out, "before\n"));
    g_assert(strstr(out, "Hello from the guest!"));
    g_unlink(log);
    g_rmdir(dir);
}

static void test_kernel_not_elf(void)
{
    g_autofree char *path = NULL;
    g_autofree char *args = NULL;
    g_autofree char *expected = NULL;
    int fd = g_file_open_tmp("qtest-kernel-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "#!/bin/sh\n", 10), ==, 10);
    close(fd);
    args = g_strdup_printf(BASE_ARGS "-kernel %s", path);
    expected = g_strdup_printf(PROG "could not load kernel '%s': not an ELF "
                               "file (only ELF kernels with a PVH entry note "
                               "can be booted)\n", path);
    assert_vmm_error(NULL, args, expected);
    g_unlink(path);
}

/* RAM and swap of the host, from /proc/meminfo, in bytes. */
static uint64_t host_memory(void)
{
    g_autofree char *text = NULL;
    uint64_t total = 0;
    static const char *const keys[] = { "MemTotal:", "SwapTotal:" };

    g_assert_true(g_file_get_contents("/proc/meminfo", &text, NULL, NULL));
    for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *p = strstr(text, keys[i]);

        g_assert_nonnull(p);
        total += g_ascii_strtoull(p + strlen(keys[i]), NULL, 10) << 10;
    }
    return total;
}

/*
 * RAM the host cannot back (twice its RAM and swap) is refused at once,
 * with QEMU's words, unless the host's overcommit policy accepts anything
 * (vm.overcommit_memory = 1).
 */
static void test_ram_unbackable(void)
{
    g_autofree char *policy = NULL;
    g_autofree char *args = NULL;

    g_assert_true(g_file_get_contents("/proc/sys/vm/overcommit_memory",
                                      &policy, NULL, NULL));
    if (atoi(policy) == 1) {
        g_test_skip("this host's overcommit policy accepts any size");
        return;
    }
    args = g_strdup_printf(BASE_ARGS "-m %" G_GUINT64_FORMAT "M",
                           2 * host_memory() >> 20);
    assert_vmm_error(NULL, args, PROG "cannot set up guest memory 'pc.ram': "
                     "Cannot allocate memory\n");
}

/*
 * The KVM tests replace /dev by an empty tmpfs in a mount namespace of
 * their own, which takes root, util-linux's unshare and a shell.
 */
static bool can_replace_dev(void)
{
    g_autofree char *unshare = g_find_program_in_path("unshare");
    g_autofree char *mount = g_find_program_in_path("mount");

    if (geteuid() != 0) {
        g_test_skip("mounting a private /dev needs root");
        return false;
    }
    if (!unshare || !mount) {
        g_test_skip("needs unshare and mount (util-linux)");
        return false;
    }
    return true;
}

static char *kvm_args(void)
{
    const char *kernel = g_getenv("QTEST_GUEST_KERNEL");
    g_autofree char *quoted = NULL;

    g_assert_nonnull(kernel);
    quoted = g_shell_quote(kernel);
    return g_strdup_printf("-accel kvm -kernel %s -display none -nodefaults",
                           quoted);
}

static void test_kvm_missing(void)
{
    g_autofree char *args = NULL;

    if (!can_replace_dev()) {
        return;
    }
    args = kvm_args();
    assert_vmm_error("unshare --mount sh -c "
                     "'mount -t tmpfs -o mode=0755 tmpfs /dev && "
                     "exec \"$@\"' sh", args,
                     PROG "-accel kvm: Could not access KVM kernel module: "
                     "No such file or directory\n");
}

/*
 * A copy of the VMM binary in a directory that user nobody can reach (the
 * build tree may be below a private one, as in CI); freed with its path.
 */
static char *copy_binary_for_nobody(void)
{
    g_autofree char *dir = g_dir_make_tmp("qtest-nobody-XXXXXX", NULL);
    g_autofree char *contents = NULL;
    char *copy;
    gsize len;

    g_assert_nonnull(dir);
    copy = g_build_filename(dir, "qemu-system-x86_64", NULL);
    g_assert_true(g_file_get_contents(qtest_qemu_binary(), &contents, &len,
                                      NULL));
    g_assert_true(g_file_set_contents(copy, contents, len, NULL));
    g_assert_cmpint(g_chmod(copy, 0755), ==, 0);
    g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
    return copy;
}

/* /dev/kvm is there, readable and writable by root only; we are nobody. */
static void test_kvm_inaccessible(void)
{
    g_autofree char *setpriv = g_find_program_in_path("setpriv");
    g_autofree char *binary = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *saved_binary = NULL;
    g_autofree char *as_nobody = NULL;
    g_autofree char *probe = NULL;
    g_autofree char *wrapper = NULL;
    g_autofree char *args = NULL;
    struct passwd *pw = getpwnam("nobody");
    int status;

    if (!can_replace_dev()) {
        return;
    }
    if (!setpriv || !pw) {
        g_test_skip("needs setpriv (util-linux) and a user nobody");
        return;
    }
    binary = copy_binary_for_nobody();
    dir = g_path_get_dirname(binary);
    as_nobody = g_strdup_printf("setpriv --reuid=%u --regid=%u "
                                "--clear-groups", pw->pw_uid, pw->pw_gid);
    probe = g_strdup_printf("%s test -x %s", as_nobody, binary);
    if (!g_spawn_command_line_sync(probe, NULL, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        g_test_skip("user nobody cannot reach the temporary directory");
    } else {
        wrapper = g_strdup_printf("unshare --mount sh -c "
                                  "'mount -t tmpfs -o mode=0755 tmpfs /dev && "
                                  ": > /dev/kvm && chmod 0600 /dev/kvm && "
                                  "exec %s \"$@\"' sh", as_nobody);
        args = kvm_args();
        saved_binary = g_strdup(qtest_qemu_binary());
        g_setenv("QTEST_QEMU_BINARY", binary, TRUE);
        assert_vmm_error(wrapper, args,
                         PROG "-accel kvm: Could not access KVM kernel "
                         "module: Permission denied\n");
        g_setenv("QTEST_QEMU_BINARY", saved_binary, TRUE);
    }
    g_unlink(binary);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_add_data_func(cases[i].path, &cases[i], test_case);
    }
    g_test_add_func("/cmdline/object/secret-accepted", test_secret_accepted);
    g_test_add_func("/cmdline/add-fd/console", test_add_fd_console);
    g_test_add_func("/cmdline/kernel/not-elf", test_kernel_not_elf);
    g_test_add_func("/cmdline/m/unbackable", test_ram_unbackable);
    g_test_add_func("/cmdline/accel/kvm-missing", test_kvm_missing);
    g_test_add_func("/cmdline/accel/kvm-inaccessible", test_kvm_inaccessible);
    return g_test_run();
}
