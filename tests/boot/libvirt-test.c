/*
 * libvirt runs this VMM (docs/system/libvirt.rst): one virsh session on
 * libvirt's embedded QEMU driver, fed on its standard input, defines the
 * documented domain (pvh, a raw virtio disk with cache='none'
 * io='io_uring' on an I/O thread, which the VMM is given as aio=io_uring,
 * the passthrough through <qemu:override>, gfio writing with
 * verify=crc32c and uring=on, its console in a file), starts it, lists it,
 * reads its block statistics and the passthrough's state, suspends and
 * resumes it and shuts it down; the guest honours the power button, gfio's
 * result is in the console file and its data is on the image.  Then the
 * domain is started again and destroyed with requests in flight: its
 * ring's owner process and SQPOLL thread are gone and the image can be
 * locked again.  And two such domains at once, one destroyed while both
 * write: the other keeps running.  libvirt must be installed
 * (scripts/install-deps.sh): the test fails without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
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

/* libvirt's embedded driver: all its state, and ours, under dir */
typedef struct Session {
    char *dir;
    Virsh virsh;
} Session;

typedef struct Domain {
    Session *s;
    char *name;
    char *xml, *console;
    Image *img;
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

static Session *session_new(void)
{
    Session *s = g_new0(Session, 1);
    g_autofree char *etc = NULL, *conf = NULL;

    s->dir = g_strdup("/var/tmp/libvirt-test.XXXXXX");
    g_assert_nonnull(g_mkdtemp(s->dir));
    etc = g_build_filename(s->dir, "etc", NULL);
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
    virsh_open(&s->virsh, s->dir);
    return s;
}

static void session_free(Session *s)
{
    const char *const rm[] = { "rm", "-rf", s->dir, NULL };

    virsh_close(&s->virsh);
    g_assert_true(g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH,
                               NULL, NULL, NULL, NULL, NULL, NULL));
    g_free(s->dir);
    g_free(s);
}

/* The documented domain, with its own image and console, defined. */
static Domain *domain_define(Session *s, const char *name)
{
    Domain *d = g_new0(Domain, 1);
    g_autofree char *xml = NULL, *img = NULL, *file = NULL, *out = NULL;
    g_autofree char *kernel = vmrun_guest("gfio");
    g_autofree char *defined = g_strdup_printf("Domain '%s' defined", name);

    d->s = s;
    d->name = g_strdup(name);
    file = g_strdup_printf("%s.img", name);
    img = g_build_filename(s->dir, file, NULL);
    d->img = image_at(img);
    g_free(file);
    file = g_strdup_printf("%s.console", name);
    d->console = g_build_filename(s->dir, file, NULL);
    g_free(file);
    file = g_strdup_printf("%s.xml", name);
    d->xml = g_build_filename(s->dir, file, NULL);
    xml = g_strdup_printf(
        "<domain type='kvm' "
        "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
        "  <name>%s</name>\n"
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
        "      <driver name='qemu' type='raw' cache='none' io='io_uring' "
        "iothread='1'/>\n"
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
        name, kernel, BS, REGION_SIZE, SEED, vmrun_our_vmm(), img,
        d->console);
    write_file(d->xml, xml);
    out = virsh(&s->virsh, "define %s", d->xml);
    g_assert_null(strstr(out, "error:"));
    g_assert_nonnull(strstr(out, defined));
    return d;
}

/* Undefine the domain, which is not running. */
static void domain_undefine(Domain *d)
{
    g_autofree char *out = virsh(&d->s->virsh, "undefine %s", d->name);
    g_autofree char *list = virsh(&d->s->virsh, "list --all");
    g_autofree char *undefined = g_strdup_printf(
        "Domain '%s' has been undefined", d->name);

    g_assert_null(strstr(out, "error:"));
    g_assert_nonnull(strstr(out, undefined));
    g_assert_null(strstr(list, d->name));
    image_free(d->img);
    g_free(d->name);
    g_free(d->xml);
    g_free(d->console);
    g_free(d);
}

/*
 * The file node's options as the running VMM got them: the -blockdev in
 * its command line (/proc) whose driver is "file".
 */
static JsonObject *storage_node_options(Domain *d)
{
    g_autofree char *pidfile = g_strdup_printf("%s/run/qemu/%s.pid",
                                               d->s->dir, d->name);
    g_autofree char *pid = NULL, *cmdline_path = NULL, *cmdline = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(pidfile, &pid, NULL, NULL));
    cmdline_path = g_strdup_printf("/proc/%d/cmdline", atoi(pid));
    g_assert_true(g_file_get_contents(cmdline_path, &cmdline, &len, NULL));
    for (gsize i = 0; i + 1 < len; i += strlen(cmdline + i) + 1) {
        g_autoptr(JsonParser) p = json_parser_new();
        const char *arg = cmdline + i + strlen(cmdline + i) + 1;
        JsonObject *o;

        if (strcmp(cmdline + i, "-blockdev") || arg >= cmdline + len ||
            !json_parser_load_from_data(p, arg, -1, NULL)) {
            continue;
        }
        o = json_node_get_object(json_parser_get_root(p));
        if (!g_strcmp0(json_object_get_string_member_with_default(
                o, "driver", NULL), "file")) {
            return json_object_ref(o);
        }
    }
    g_error("%s: no file node in the VMM's command line", d->name);
}

/* Run "CMD NAME", which must succeed and print "Domain 'NAME' WHAT". */
static void domain_cmd(Domain *d, const char *cmd, const char *what)
{
    g_autofree char *out = virsh(&d->s->virsh, "%s %s", cmd, d->name);
    g_autofree char *expect = g_strdup_printf("Domain '%s' %s", d->name,
                                              what);

    g_assert_null(strstr(out, "error:"));
    g_assert_nonnull(strstr(out, expect));
}

/* The "return" of a QMP command sent with qemu-monitor-command. */
static JsonNode *monitor_cmd(Domain *d, const char *cmd)
{
    g_autofree char *out = virsh(&d->s->virsh, "qemu-monitor-command %s '%s'",
                                 d->name, cmd);
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
    g_error("%s: gfio's writes did not complete through the passthrough",
            d->name);
}

static void wait_state(Domain *d, const char *state)
{
    g_autofree char *re = g_strdup_printf("^%s$", state);

    for (int i = 0; i < WAIT_TRIES; i++) {
        g_autofree char *out = virsh(&d->s->virsh, "domstate %s", d->name);

        if (g_regex_match_simple(re, out, G_REGEX_MULTILINE, 0)) {
            return;
        }
        g_usleep(G_USEC_PER_SEC / 2);
    }
    g_error("domain %s did not become %s", d->name, state);
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

static void assert_running(Domain *d)
{
    g_autofree char *list = virsh(&d->s->virsh, "list");
    g_autofree char *re = g_strdup_printf("^ *[0-9]+ +%s +running *$",
                                          d->name);

    g_assert_true(g_regex_match_simple(re, list, G_REGEX_MULTILINE, 0));
}

/* Shut the domain down; gfio stops at the power button, its data checks. */
static void shutdown_and_check(Domain *d, pid_t owner, pid_t sqpoll)
{
    g_autoptr(GfioResult) res = NULL;
    g_autofree char *console = NULL;

    domain_cmd(d, "shutdown", "is being shutdown");
    wait_state(d, "shut off");
    assert_gone(owner);
    assert_gone(sqpoll);
    assert_unlocked(d->img);
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
}

/* Start the domain and wait until gfio has written its region once. */
static void start_writing(Domain *d, pid_t *owner, pid_t *sqpoll)
{
    domain_cmd(d, "start", "started");
    assert_running(d);
    wait_region_written(d);
    ring_owner(d, owner, sqpoll);
}

/* Pull the domain from under gfio's requests: nothing of it is left. */
static void destroy_writing(Domain *d, pid_t owner, pid_t sqpoll)
{
    domain_cmd(d, "destroy", "destroyed");
    wait_state(d, "shut off");
    assert_gone(owner);
    assert_gone(sqpoll);
    assert_unlocked(d->img);
}

static void test_lifecycle(void)
{
    Session *s = session_new();
    Domain *d = domain_define(s, "pt1");
    g_autofree char *stats = NULL;
    pid_t owner, sqpoll;

    start_writing(d, &owner, &sqpoll);
    /* io='io_uring': the image is opened with the VMM's io_uring engine. */
    {
        g_autoptr(JsonObject) file = storage_node_options(d);

        g_assert_cmpstr(json_object_get_string_member(file, "aio"), ==,
                        "io_uring");
        g_assert_true(json_object_get_boolean_member(
            json_object_get_object_member(file, "cache"), "direct"));
    }
    /* The passthrough's requests bypass the block layer's counters. */
    stats = virsh(&s->virsh, "domblkstat pt1 vda");
    g_assert_null(strstr(stats, "error:"));
    g_assert_nonnull(strstr(stats, "vda wr_req "));
    g_assert_nonnull(strstr(stats, "vda rd_req "));

    domain_cmd(d, "suspend", "suspended");
    wait_state(d, "paused");
    domain_cmd(d, "resume", "resumed");
    wait_state(d, "running");
    shutdown_and_check(d, owner, sqpoll);

    /* Again, and pulled from under gfio's requests. */
    start_writing(d, &owner, &sqpoll);
    destroy_writing(d, owner, sqpoll);
    domain_undefine(d);
    session_free(s);
}

/*
 * Two domains, each with its own passthrough disk: destroying one with
 * requests in flight leaves the other running and writing, and it then
 * shuts down with its data intact.
 */
static void test_two_domains(void)
{
    Session *s = session_new();
    Domain *a = domain_define(s, "pta");
    Domain *b = domain_define(s, "ptb");
    pid_t a_owner, a_sqpoll, b_owner, b_sqpoll;
    gint64 before;

    start_writing(a, &a_owner, &a_sqpoll);
    start_writing(b, &b_owner, &b_sqpoll);
    g_assert_cmpint(a_owner, !=, b_owner);

    destroy_writing(a, a_owner, a_sqpoll);
    assert_running(b);
    before = uring_completed(b);
    for (int i = 0; i < WAIT_TRIES && uring_completed(b) == before; i++) {
        g_usleep(G_USEC_PER_SEC / 2);
    }
    g_assert_cmpint(uring_completed(b), >, before);
    shutdown_and_check(b, b_owner, b_sqpoll);

    domain_undefine(a);
    domain_undefine(b);
    session_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvirt/lifecycle", test_lifecycle);
    g_test_add_func("/libvirt/two-domains", test_two_domains);
    return g_test_run();
}
