/*
 * libvirt runs this VMM (docs/system/libvirt.rst): one virsh session on
 * libvirt's embedded QEMU driver, fed on its standard input, defines the
 * documented domain (pvh, a raw virtio disk with cache='none' on an I/O
 * thread, the passthrough through <qemu:override>, gfio writing with
 * verify=crc32c and uring=on, its console in a file), starts it, lists it,
 * reads its block statistics and the passthrough's state, suspends and
 * resumes it and shuts it down; the guest honours the power button, gfio's
 * result is in the console file and its data is on the image.  Then the
 * domain is started again and destroyed with requests in flight: its
 * ring's owner process and SQPOLL thread are gone and the image can be
 * locked again.  libvirt must be installed (scripts/install-deps.sh): the
 * test fails without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gfio-result.h"
#include "image.h"
#include "vmrun.h"

#define IMAGE_SIZE      (16 * 1024 * 1024)
#define REGION_SIZE     (1024 * 1024)       /* gfio's size= */
#define BS              4096
#define SEED            777                 /* gfio's random_seed= */
#define END_MARK        "@@virsh-done@@"
#define WAIT_TRIES      120                 /* bounded waits, 0.5 s apart */

typedef struct Virsh {
    GSubprocess *proc;
    GOutputStream *in;
    GDataInputStream *out;
} Virsh;

typedef struct Domain {
    char *dir;                  /* everything libvirt keeps, and ours */
    char *xml, *console;
    Image *img;
    Virsh virsh;
} Domain;

static void virsh_open(Virsh *v, const char *root)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *uri = g_strdup_printf("qemu:///embed?root=%s", root);
    g_autofree char *path = g_find_program_in_path("virsh");

    if (!path) {
        g_error("virsh is not installed: run scripts/install-deps.sh");
    }
    v->proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_MERGE, &err,
                               path, "-c", uri, NULL);
    g_assert_no_error(err);
    v->in = g_subprocess_get_stdin_pipe(v->proc);
    v->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(v->proc));
}

/*
 * Run one command in the session and return what it printed.  An "echo"
 * after it marks the end of its output (virsh echoes each command after
 * its prompt, so only the echo's own output is the mark alone on a line).
 */
static char *virsh(Virsh *v, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static char *virsh(Virsh *v, const char *fmt, ...)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *cmd = NULL, *line = NULL;
    GString *out = g_string_new(NULL);
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    line = g_strdup_printf("%s\necho %s\n", cmd, END_MARK);
    g_assert_true(g_output_stream_write_all(v->in, line, strlen(line), NULL,
                                            NULL, &err));
    g_assert_no_error(err);
    for (;;) {
        g_autofree char *l = g_data_input_stream_read_line_utf8(v->out, NULL,
                                                                NULL, &err);

        g_assert_no_error(err);
        if (!l) {
            g_error("virsh ended during '%s'; it printed:\n%s", cmd,
                    out->str);
        }
        if (!strcmp(l, END_MARK)) {
            break;
        }
        /* libvirt's own warnings (tainting, file ownership) go to stderr */
        if (!strstr(l, ": warning : ")) {
            g_string_append_printf(out, "%s\n", l);
        }
    }
    g_test_message("virsh %s:\n%s", cmd, out->str);
    return g_string_free(out, FALSE);
}

/* Run a command that must succeed and print @expect. */
static void virsh_ok(Virsh *v, const char *cmd, const char *expect)
{
    g_autofree char *out = virsh(v, "%s", cmd);

    g_assert_null(strstr(out, "error:"));
    g_assert_nonnull(strstr(out, expect));
}

static void virsh_close(Virsh *v)
{
    g_autoptr(GError) err = NULL;

    g_output_stream_write_all(v->in, "quit\n", 5, NULL, NULL, NULL);
    g_output_stream_close(v->in, NULL, NULL);
    g_assert_true(g_subprocess_wait_check(v->proc, NULL, &err));
    g_assert_no_error(err);
    g_object_unref(v->out);
    g_object_unref(v->proc);
}

static void write_file(const char *path, const char *text)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(g_file_set_contents(path, text, -1, &err));
    g_assert_no_error(err);
}

/*
 * The image under /var/tmp (O_DIRECT needs a real file system) by a plain
 * path, as a domain's <source file=> names it.
 */
static Image *image_at(const char *path)
{
    Image *img = g_new0(Image, 1);

    img->path = g_strdup(path);
    img->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    g_assert_cmpint(img->fd, >=, 0);
    g_assert_cmpint(ftruncate(img->fd, IMAGE_SIZE), ==, 0);
    img->size = IMAGE_SIZE;
    return img;
}

static Domain *domain_new(void)
{
    Domain *d = g_new0(Domain, 1);
    g_autofree char *etc = NULL, *conf = NULL, *xml = NULL, *img = NULL;
    g_autofree char *kernel = vmrun_guest("gfio");

    d->dir = g_strdup("/var/tmp/libvirt-test.XXXXXX");
    g_assert_nonnull(g_mkdtemp(d->dir));
    etc = g_build_filename(d->dir, "etc", NULL);
    g_assert_cmpint(g_mkdir(etc, 0700), ==, 0);
    conf = g_build_filename(etc, "qemu.conf", NULL);
    /* The configuration docs/system/libvirt.rst gives. */
    write_file(conf,
               "user = \"root\"\n"
               "group = \"root\"\n"
               "security_driver = \"none\"\n"
               "stdio_handler = \"file\"\n"
               "seccomp_sandbox = 0\n"
               "remember_owner = 0\n");
    img = g_build_filename(d->dir, "pt1.img", NULL);
    d->img = image_at(img);
    d->console = g_build_filename(d->dir, "pt1.console", NULL);
    d->xml = g_build_filename(d->dir, "pt1.xml", NULL);
    xml = g_strdup_printf(
        "<domain type='kvm' "
        "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
        "  <name>pt1</name>\n"
        "  <memory unit='MiB'>256</memory>\n"
        "  <vcpu>1</vcpu>\n"
        "  <iothreads>1</iothreads>\n"
        "  <os>\n"
        "    <type arch='x86_64' machine='pvh'>hvm</type>\n"
        "    <kernel>%s</kernel>\n"
        /* sequential writes over the region, again and again, until the
         * power button */
        "    <cmdline>rw=write bs=%u iodepth=4 size=%u runtime=300 "
        "random_seed=%u verify=crc32c uring=on</cmdline>\n"
        "  </os>\n"
        "  <cpu mode='host-passthrough'/>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <on_reboot>destroy</on_reboot>\n"
        "  <on_crash>destroy</on_crash>\n"
        "  <devices>\n"
        "    <emulator>%s</emulator>\n"
        "    <controller type='pci' index='0' model='pci-root'/>\n"
        "    <controller type='usb' model='none'/>\n"
        "    <disk type='file' device='disk'>\n"
        "      <driver name='qemu' type='raw' cache='none' iothread='1'/>\n"
        "      <source file='%s'/>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
        "    <serial type='file'>\n"
        "      <source path='%s'/>\n"
        "      <target port='0'/>\n"
        "    </serial>\n"
        "    <memballoon model='none'/>\n"
        "  </devices>\n"
        "  <qemu:override>\n"
        "    <qemu:device alias='virtio-disk0'>\n"
        "      <qemu:frontend>\n"
        "        <qemu:property name='uring-passthrough' type='bool' "
        "value='true'/>\n"
        "      </qemu:frontend>\n"
        "    </qemu:device>\n"
        "  </qemu:override>\n"
        "</domain>\n",
        kernel, BS, REGION_SIZE, SEED, vmrun_our_vmm(), img, d->console);
    write_file(d->xml, xml);
    virsh_open(&d->virsh, d->dir);
    return d;
}

static void domain_free(Domain *d)
{
    const char *const rm[] = { "rm", "-rf", d->dir, NULL };

    virsh_close(&d->virsh);
    image_free(d->img);
    g_assert_true(g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH,
                               NULL, NULL, NULL, NULL, NULL, NULL));
    g_free(d->dir);
    g_free(d->xml);
    g_free(d->console);
    g_free(d);
}

/* The "return" of a QMP command sent with qemu-monitor-command. */
static JsonNode *monitor_cmd(Domain *d, const char *cmd)
{
    g_autofree char *out = virsh(&d->virsh, "qemu-monitor-command pt1 '%s'",
                                 cmd);
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    const char *json = strstr(out, "\n{");
    JsonObject *reply;

    g_assert_null(strstr(out, "error:"));
    g_assert_nonnull(json);
    json_parser_load_from_data(p, json + 1, strcspn(json + 1, "\n"), &err);
    g_assert_no_error(err);
    reply = json_node_get_object(json_parser_get_root(p));
    g_assert_true(json_object_has_member(reply, "return"));
    return json_node_copy(json_object_get_member(reply, "return"));
}

/* The passthrough ring's state, as x-query-virtio-blk-uring reports it. */
static void ring_owner(Domain *d, pid_t *owner, pid_t *sqpoll)
{
    g_autoptr(JsonNode) ret = monitor_cmd(d,
        "{\"execute\":\"x-query-virtio-blk-uring\"}");
    JsonArray *devs = json_node_get_array(ret);
    JsonObject *dev, *ring;

    g_assert_cmpuint(json_array_get_length(devs), ==, 1);
    dev = json_array_get_object_element(devs, 0);
    g_assert_cmpstr(json_object_get_string_member(dev, "device"), ==,
                    "virtio-disk0");
    g_assert_true(json_object_get_boolean_member(dev, "active"));
    ring = json_array_get_object_element(
        json_object_get_array_member(dev, "rings"), 0);
    *owner = json_object_get_int_member(ring, "owner-pid");
    *sqpoll = json_object_get_int_member(ring, "sqpoll-thread-id");
    g_assert_cmpint(*owner, >, 0);
    g_assert_cmpint(*sqpoll, >, 0);
}

/* Requests the passthrough has completed (query-blockstats). */
static gint64 uring_completed(Domain *d)
{
    g_autoptr(JsonNode) ret = monitor_cmd(d,
        "{\"execute\":\"query-blockstats\"}");
    JsonObject *b = json_array_get_object_element(json_node_get_array(ret),
                                                  0);

    g_assert_cmpstr(json_object_get_string_member(b, "qdev"), ==,
                    "/machine/peripheral/virtio-disk0/virtio-backend");
    if (!json_object_has_member(b, "x-uring-passthrough")) {
        return 0;
    }
    return json_object_get_int_member(
        json_object_get_object_member(b, "x-uring-passthrough"), "completed");
}

/* Wait (bounded) until gfio has written the whole region at least once. */
static void wait_region_written(Domain *d)
{
    for (int i = 0; i < WAIT_TRIES; i++) {
        if (uring_completed(d) >= 2 * REGION_SIZE / BS) {
            return;
        }
        g_usleep(G_USEC_PER_SEC / 2);
    }
    g_error("gfio's writes did not complete through the passthrough");
}

static void wait_state(Domain *d, const char *state)
{
    g_autofree char *re = g_strdup_printf("^%s$", state);

    for (int i = 0; i < WAIT_TRIES; i++) {
        g_autofree char *out = virsh(&d->virsh, "domstate pt1");

        if (g_regex_match_simple(re, out, G_REGEX_MULTILINE, 0)) {
            return;
        }
        g_usleep(G_USEC_PER_SEC / 2);
    }
    g_error("domain pt1 did not become %s", state);
}

/* A process or thread id that no longer exists (bounded wait). */
static void assert_gone(pid_t id)
{
    g_autofree char *path = g_strdup_printf("/proc/%d", id);

    for (int i = 0; i < WAIT_TRIES && g_file_test(path, G_FILE_TEST_EXISTS);
         i++) {
        g_usleep(G_USEC_PER_SEC / 2);
    }
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

/* Nobody holds a lock on the image: a write lock over all of it is free. */
static void assert_unlocked(const Image *img)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

    g_assert_cmpint(fcntl(img->fd, F_OFD_GETLK, &fl), ==, 0);
    g_assert_cmpint(fl.l_type, ==, F_UNLCK);
}

static char *console_contents(Domain *d)
{
    g_autofree char *raw = NULL;
    g_auto(GStrv) parts = NULL;

    g_assert_true(g_file_get_contents(d->console, &raw, NULL, NULL));
    parts = g_strsplit(raw, "\r", -1);
    return g_strjoinv("", parts);
}

static void test_lifecycle(void)
{
    Domain *d = domain_new();
    g_autoptr(GfioResult) res = NULL;
    g_autofree char *console = NULL, *list = NULL, *stats = NULL;
    g_autofree char *after = NULL;
    g_autofree char *define = g_strdup_printf("define %s", d->xml);
    pid_t owner, sqpoll;

    virsh_ok(&d->virsh, define, "Domain 'pt1' defined");
    virsh_ok(&d->virsh, "start pt1", "Domain 'pt1' started");
    list = virsh(&d->virsh, "list");
    g_assert_true(g_regex_match_simple("^ *[0-9]+ +pt1 +running *$", list,
                                       G_REGEX_MULTILINE, 0));
    wait_region_written(d);
    ring_owner(d, &owner, &sqpoll);
    /* The passthrough's requests bypass the block layer's counters. */
    stats = virsh(&d->virsh, "domblkstat pt1 vda");
    g_assert_null(strstr(stats, "error:"));
    g_assert_nonnull(strstr(stats, "vda wr_req "));
    g_assert_nonnull(strstr(stats, "vda rd_req "));

    virsh_ok(&d->virsh, "suspend pt1", "Domain 'pt1' suspended");
    wait_state(d, "paused");
    virsh_ok(&d->virsh, "resume pt1", "Domain 'pt1' resumed");
    wait_state(d, "running");

    virsh_ok(&d->virsh, "shutdown pt1", "Domain 'pt1' is being shutdown");
    wait_state(d, "shut off");
    assert_gone(owner);
    assert_gone(sqpoll);
    assert_unlocked(d->img);

    /* gfio stopped at the power button, and every block it wrote checks. */
    console = console_contents(d);
    g_assert_nonnull(strstr(console, "gfio: power button pressed: "
                                     "stopping"));
    res = gfio_result_parse(console);
    g_assert_cmpint(json_object_get_int_member(res->job, "error"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(res->job, "write"), "total_ios"), >=,
        REGION_SIZE / BS);
    g_assert_nonnull(strstr(res->summary, "uring=["));
    gfio_assert_image(d->img, BS, REGION_SIZE, SEED);

    /* Again, and pulled from under gfio's requests. */
    virsh_ok(&d->virsh, "start pt1", "Domain 'pt1' started");
    wait_region_written(d);
    ring_owner(d, &owner, &sqpoll);
    virsh_ok(&d->virsh, "destroy pt1", "Domain 'pt1' destroyed");
    wait_state(d, "shut off");
    assert_gone(owner);
    assert_gone(sqpoll);
    assert_unlocked(d->img);

    virsh_ok(&d->virsh, "undefine pt1", "Domain 'pt1' has been undefined");
    after = virsh(&d->virsh, "list --all");
    g_assert_null(strstr(after, "pt1"));
    domain_free(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvirt/lifecycle", test_lifecycle);
    return g_test_run();
}
