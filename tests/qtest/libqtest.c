/*
 * libqtest: a test's side of the qtest protocol.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libqtest.h"

/* How long the VMM may take to connect, to answer, and to exit. */
#define QTEST_CONNECT_TIMEOUT_MS    30000
#define QTEST_REPLY_TIMEOUT_MS      60000
#define QTEST_EXIT_TIMEOUT_MS       10000

#define QTEST_NR_GSIS               256

struct QTestState {
    GPid pid;
    int fd;
    char *dir;                  /* holds the QMP socket */
    char *qmp_path;
    QmpTestClient *qmp;         /* connected on first use */
    GString *rx;                /* received, not yet consumed */
    int expected_status;
    bool irq_level[QTEST_NR_GSIS];
};

const char *qtest_qemu_binary(void)
{
    const char *path = g_getenv("QTEST_QEMU_BINARY");

    if (!path) {
        g_error("QTEST_QEMU_BINARY is not set: run the tests with "
                "'meson test', or set it to build/qemu-system-x86_64");
    }
    return path;
}

/*
 * In the child, before exec: die with the test, and keep stdout (the test's
 * TAP stream) clean by sending the VMM's output to stderr.
 */
static void vmm_child_setup(gpointer stdout_to_stderr)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (stdout_to_stderr) {
        dup2(STDERR_FILENO, STDOUT_FILENO);
    }
}

/* Append the words of str, split as by a shell, to argv. */
static void add_shell_words(GPtrArray *argv, const char *str)
{
    g_autoptr(GError) err = NULL;
    char **words;
    int n;

    if (!str || !*str) {
        return;
    }
    if (!g_shell_parse_argv(str, &n, &words, &err)) {
        g_error("cannot split '%s' into arguments: %s", str, err->message);
    }
    for (int i = 0; i < n; i++) {
        g_ptr_array_add(argv, words[i]);
    }
    g_free(words);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert(fd >= 0);
    g_assert(strlen(path) < sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, 1) < 0) {
        g_error("cannot listen on %s: %s", path, g_strerror(errno));
    }
    return fd;
}

/* Has the VMM exited?  Then *status is its wait status. */
static bool vmm_exited(GPid pid, int *status)
{
    pid_t ret;

    do {
        ret = waitpid(pid, status, WNOHANG);
    } while (ret < 0 && errno == EINTR);
    g_assert(ret >= 0);
    return ret == pid;
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFEXITED(status)) {
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    } else {
        snprintf(buf, len, "signal %d", WTERMSIG(status));
    }
}

/* Accept the VMM's connection, failing if it exits or never connects. */
static int accept_vmm(int listen_fd, GPid pid)
{
    gint64 deadline = g_get_monotonic_time() +
                      QTEST_CONNECT_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
    struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
    char how[64];
    int status;

    while (g_get_monotonic_time() < deadline) {
        if (poll(&pfd, 1, 100) > 0) {
            int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            g_assert(fd >= 0);
            return fd;
        }
        if (vmm_exited(pid, &status)) {
            describe_exit(status, how, sizeof(how));
            g_error("the VMM ended (%s) before connecting", how);
        }
    }
    kill(pid, SIGKILL);
    g_error("the VMM did not connect within %d s",
            QTEST_CONNECT_TIMEOUT_MS / 1000);
}

static QTestState *qtest_start(const char *extra_args, bool nodefaults)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("qtest-XXXXXX", &err);
    g_autofree char *sock = NULL;
    g_autofree char *chardev = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    QTestState *s = g_new0(QTestState, 1);
    int listen_fd;

    if (!dir) {
        g_error("cannot make a temporary directory: %s", err->message);
    }
    sock = g_build_filename(dir, "sock", NULL);
    chardev = g_strdup_printf("unix:%s", sock);
    listen_fd = listen_unix(sock);
    s->qmp_path = g_build_filename(dir, "qmp.sock", NULL);

    g_ptr_array_add(argv, g_strdup(qtest_qemu_binary()));
    g_ptr_array_add(argv, g_strdup("-accel"));
    g_ptr_array_add(argv, g_strdup("qtest"));
    g_ptr_array_add(argv, g_strdup("-qtest"));
    g_ptr_array_add(argv, g_strdup(chardev));
    /* Without -qtest-log, the VMM logs the protocol to stderr. */
    if (!g_getenv("QTEST_LOG")) {
        g_ptr_array_add(argv, g_strdup("-qtest-log"));
        g_ptr_array_add(argv, g_strdup("none"));
    }
    g_ptr_array_add(argv, g_strdup("-display"));
    g_ptr_array_add(argv, g_strdup("none"));
    g_ptr_array_add(argv, g_strdup("-qmp"));
    g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off",
                                          s->qmp_path));
    if (nodefaults) {
        g_ptr_array_add(argv, g_strdup("-nodefaults"));
    }
    add_shell_words(argv, extra_args);
    g_ptr_array_add(argv, NULL);

    if (!g_spawn_async(NULL, (char **)argv->pdata, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD |
                       G_SPAWN_STDIN_FROM_DEV_NULL,
                       vmm_child_setup, GINT_TO_POINTER(1), &s->pid, &err)) {
        g_error("cannot start %s: %s", qtest_qemu_binary(), err->message);
    }
    s->fd = accept_vmm(listen_fd, s->pid);
    close(listen_fd);
    unlink(sock);
    s->dir = g_steal_pointer(&dir);
    s->rx = g_string_new(NULL);
    return s;
}

QTestState *qtest_init(const char *extra_args)
{
    return qtest_start(extra_args, true);
}

QTestState *qtest_initf(const char *fmt, ...)
{
    g_autofree char *args = NULL;
    va_list ap;

    va_start(ap, fmt);
    args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return qtest_init(args);
}

QTestState *qtest_init_with_defaults(const char *extra_args)
{
    return qtest_start(extra_args, false);
}

GPid qtest_pid(QTestState *s)
{
    return s->pid;
}

void qtest_set_expected_status(QTestState *s, int status)
{
    s->expected_status = status;
}

/* Wait up to timeout_ms for the process to exit; false if it did not. */
static bool wait_exit(GPid pid, int timeout_ms, int *status)
{
    gint64 deadline = g_get_monotonic_time() +
                      timeout_ms * G_TIME_SPAN_MILLISECOND;

    while (!vmm_exited(pid, status)) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

static void qtest_free(QTestState *s)
{
    if (s->qmp) {
        qmp_client_close(s->qmp);
    }
    unlink(s->qmp_path);
    rmdir(s->dir);
    g_free(s->qmp_path);
    g_free(s->dir);
    g_string_free(s->rx, TRUE);
    g_free(s);
}

const char *qtest_qmp_socket(QTestState *s)
{
    return s->qmp_path;
}

QmpTestClient *qtest_qmp_client(QTestState *s)
{
    if (!s->qmp) {
        s->qmp = qmp_client_connect(s->qmp_path, false);
    }
    return s->qmp;
}

JsonObject *qtest_qmp(QTestState *s, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return qmp_client_cmd(qtest_qmp_client(s), "%s", cmd);
}

void qtest_quit(QTestState *s)
{
    char how[64];
    int status;

    if (s->qmp) {
        /* Events and replies still queued for us must not block the VMM. */
        qmp_client_close(g_steal_pointer(&s->qmp));
    }
    close(s->fd);
    if (!wait_exit(s->pid, QTEST_EXIT_TIMEOUT_MS, &status)) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        g_error("the VMM did not exit within %d s of the connection closing",
                QTEST_EXIT_TIMEOUT_MS / 1000);
    }
    g_spawn_close_pid(s->pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != s->expected_status) {
        describe_exit(status, how, sizeof(how));
        g_error("the VMM ended with %s, expected exit status %d", how,
                s->expected_status);
    }
    qtest_free(s);
}

void qtest_kill(QTestState *s)
{
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    g_spawn_close_pid(s->pid);
    close(s->fd);
    qtest_free(s);
}

int qtest_run_vmm(const char *wrapper, const char *args, char **err)
{
    return qtest_run_vmm_output(wrapper, args, NULL, err);
}

int qtest_run_vmm_output(const char *wrapper, const char *args, char **out,
                         char **err)
{
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    /* [0] collects stdout (if asked for), [1] stderr */
    GString *text[2] = { g_string_new(NULL), g_string_new(NULL) };
    gint64 deadline = g_get_monotonic_time() +
                      QTEST_EXIT_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
    struct pollfd pfd[2] = {
        { .fd = -1, .events = POLLIN }, { .fd = -1, .events = POLLIN },
    };
    char how[64];
    GPid pid;
    int status;

    add_shell_words(argv, wrapper);
    g_ptr_array_add(argv, g_strdup(qtest_qemu_binary()));
    add_shell_words(argv, args);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD |
                                  G_SPAWN_SEARCH_PATH |
                                  G_SPAWN_STDIN_FROM_DEV_NULL |
                                  (out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL),
                                  vmm_child_setup, NULL, &pid, NULL,
                                  out ? &pfd[0].fd : NULL, &pfd[1].fd,
                                  &gerr)) {
        g_error("cannot start %s: %s", qtest_qemu_binary(), gerr->message);
    }
    /* Collect both until the VMM closes them (exits). */
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        int timeout = (deadline - g_get_monotonic_time()) / 1000;

        if (timeout <= 0 || poll(pfd, 2, timeout) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            g_error("'%s %s' was still running after %d s",
                    qtest_qemu_binary(), args, QTEST_EXIT_TIMEOUT_MS / 1000);
        }
        for (unsigned i = 0; i < 2; i++) {
            char buf[4096];
            ssize_t n;

            if (pfd[i].fd < 0 || !pfd[i].revents) {
                continue;
            }
            n = read(pfd[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                continue;
            }
            g_string_append_len(text[i], buf, n);
        }
    }
    if (!wait_exit(pid, QTEST_EXIT_TIMEOUT_MS, &status)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        g_error("'%s' closed stdout and stderr but did not exit", args);
    }
    g_spawn_close_pid(pid);
    if (!WIFEXITED(status)) {
        describe_exit(status, how, sizeof(how));
        g_error("'%s %s' died of %s; stderr: %s", qtest_qemu_binary(), args,
                how, text[1]->str);
    }
    if (out) {
        *out = g_string_free(text[0], FALSE);
    } else {
        g_string_free(text[0], TRUE);
    }
    *err = g_string_free(text[1], FALSE);
    return WEXITSTATUS(status);
}

/* The protocol */

static void qtest_send_line(QTestState *s, const char *line)
{
    size_t len = strlen(line), done = 0;

    while (done < len) {
        ssize_t n = send(s->fd, line + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_error("qtest: cannot send '%s': %s (did the VMM die?)", line,
                    g_strerror(errno));
        }
        done += n;
    }
}

/* The next line from the VMM, without its newline. */
static char *qtest_recv_line(QTestState *s, const char *cmd)
{
    struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
    char *nl, *line;

    while (!(nl = memchr(s->rx->str, '\n', s->rx->len))) {
        char buf[4096];
        ssize_t n;
        int ret = poll(&pfd, 1, QTEST_REPLY_TIMEOUT_MS);

        if (ret < 0 && errno == EINTR) {
            continue;
        }
        if (ret == 0) {
            g_error("qtest: no reply to '%s' within %d s", cmd,
                    QTEST_REPLY_TIMEOUT_MS / 1000);
        }
        n = read(s->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_error("qtest: the VMM closed the connection before replying "
                    "to '%s'", cmd);
        }
        g_string_append_len(s->rx, buf, n);
    }
    line = g_strndup(s->rx->str, nl - s->rx->str);
    g_string_erase(s->rx, 0, nl - s->rx->str + 1);
    return line;
}

/* "IRQ raise N" / "IRQ lower N"; false if line is not one. */
static bool qtest_handle_irq_message(QTestState *s, const char *line)
{
    unsigned gsi;
    char what[8];

    if (sscanf(line, "IRQ %7s %u", what, &gsi) != 2) {
        return false;
    }
    g_assert_cmpuint(gsi, <, QTEST_NR_GSIS);
    if (!strcmp(what, "raise")) {
        s->irq_level[gsi] = true;
    } else {
        g_assert_cmpstr(what, ==, "lower");
        s->irq_level[gsi] = false;
    }
    return true;
}

/* Send cmd and return the reply that follows any IRQ messages. */
static char *qtest_exchange(QTestState *s, const char *cmd)
{
    g_autofree char *line = g_strconcat(cmd, "\n", NULL);
    char *reply;

    qtest_send_line(s, line);
    while (qtest_handle_irq_message(s, reply = qtest_recv_line(s, cmd))) {
        g_free(reply);
    }
    return reply;
}

char *qtest_raw_command(QTestState *s, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return qtest_exchange(s, cmd);
}

/*
 * Send a command whose reply must be "OK" or "OK VALUE"; returns VALUE (or
 * an empty string), to be freed.
 */
static char * G_GNUC_PRINTF(2, 3) qtest_command(QTestState *s,
                                                const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    g_autofree char *reply = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    reply = qtest_exchange(s, cmd);
    if (strcmp(reply, "OK") && !g_str_has_prefix(reply, "OK ")) {
        g_error("qtest: '%s' failed: %s", cmd, reply);
    }
    return g_strdup(reply[2] ? reply + 3 : "");
}

static uint64_t qtest_command_number(QTestState *s, const char *cmd)
{
    g_autofree char *value = qtest_command(s, "%s", cmd);
    char *end;
    uint64_t v;

    errno = 0;
    v = g_ascii_strtoull(value, &end, 0);
    if (errno || end == value || *end) {
        g_error("qtest: '%s' replied with '%s', not a number", cmd, value);
    }
    return v;
}

static void qtest_out(QTestState *s, const char *cmd, uint16_t addr,
                      uint32_t value)
{
    g_free(qtest_command(s, "%s 0x%x 0x%x", cmd, addr, value));
}

static uint32_t qtest_in(QTestState *s, const char *cmd, uint16_t addr)
{
    g_autofree char *line = g_strdup_printf("%s 0x%x", cmd, addr);

    return qtest_command_number(s, line);
}

void qtest_outb(QTestState *s, uint16_t addr, uint8_t value)
{
    qtest_out(s, "outb", addr, value);
}

void qtest_outw(QTestState *s, uint16_t addr, uint16_t value)
{
    qtest_out(s, "outw", addr, value);
}

void qtest_outl(QTestState *s, uint16_t addr, uint32_t value)
{
    qtest_out(s, "outl", addr, value);
}

uint8_t qtest_inb(QTestState *s, uint16_t addr)
{
    return qtest_in(s, "inb", addr);
}

uint16_t qtest_inw(QTestState *s, uint16_t addr)
{
    return qtest_in(s, "inw", addr);
}

uint32_t qtest_inl(QTestState *s, uint16_t addr)
{
    return qtest_in(s, "inl", addr);
}

static void qtest_write(QTestState *s, const char *cmd, uint64_t addr,
                        uint64_t value)
{
    g_free(qtest_command(s, "%s 0x%" PRIx64 " 0x%" PRIx64, cmd, addr, value));
}

static uint64_t qtest_read(QTestState *s, const char *cmd, uint64_t addr)
{
    g_autofree char *line = g_strdup_printf("%s 0x%" PRIx64, cmd, addr);

    return qtest_command_number(s, line);
}

void qtest_writeb(QTestState *s, uint64_t addr, uint8_t value)
{
    qtest_write(s, "writeb", addr, value);
}

void qtest_writew(QTestState *s, uint64_t addr, uint16_t value)
{
    qtest_write(s, "writew", addr, value);
}

void qtest_writel(QTestState *s, uint64_t addr, uint32_t value)
{
    qtest_write(s, "writel", addr, value);
}

void qtest_writeq(QTestState *s, uint64_t addr, uint64_t value)
{
    qtest_write(s, "writeq", addr, value);
}

uint8_t qtest_readb(QTestState *s, uint64_t addr)
{
    return qtest_read(s, "readb", addr);
}

uint16_t qtest_readw(QTestState *s, uint64_t addr)
{
    return qtest_read(s, "readw", addr);
}

uint32_t qtest_readl(QTestState *s, uint64_t addr)
{
    return qtest_read(s, "readl", addr);
}

uint64_t qtest_readq(QTestState *s, uint64_t addr)
{
    return qtest_read(s, "readq", addr);
}

void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size)
{
    g_autofree char *b64 = NULL;
    g_autofree uint8_t *decoded = NULL;
    gsize len;

    if (!size) {
        return;
    }
    b64 = qtest_command(s, "b64read 0x%" PRIx64 " 0x%zx", addr, size);
    decoded = g_base64_decode(b64, &len);
    if (len != size) {
        g_error("qtest: b64read of %zu bytes at 0x%" PRIx64 " returned %zu",
                size, addr, (size_t)len);
    }
    memcpy(data, decoded, size);
}

void qtest_memwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size)
{
    g_autofree char *b64 = NULL;

    if (!size) {
        return;
    }
    b64 = g_base64_encode(data, size);
    g_free(qtest_command(s, "b64write 0x%" PRIx64 " 0x%zx %s", addr, size,
                         b64));
}

void qtest_memread_hex(QTestState *s, uint64_t addr, void *data,
                       size_t size)
{
    g_autofree char *hex = NULL;
    uint8_t *bytes = data;

    if (!size) {
        return;
    }
    hex = qtest_command(s, "read 0x%" PRIx64 " 0x%zx", addr, size);
    if (strlen(hex) != 2 + 2 * size || strncmp(hex, "0x", 2)) {
        g_error("qtest: read of %zu bytes at 0x%" PRIx64 " returned '%s'",
                size, addr, hex);
    }
    for (size_t i = 0; i < size; i++) {
        int hi = g_ascii_xdigit_value(hex[2 + 2 * i]);
        int lo = g_ascii_xdigit_value(hex[3 + 2 * i]);

        g_assert(hi >= 0 && lo >= 0);
        bytes[i] = hi << 4 | lo;
    }
}

void qtest_memwrite_hex(QTestState *s, uint64_t addr, const void *data,
                        size_t size)
{
    g_autoptr(GString) hex = g_string_new("0x");
    const uint8_t *bytes = data;

    if (!size) {
        return;
    }
    for (size_t i = 0; i < size; i++) {
        g_string_append_printf(hex, "%02x", bytes[i]);
    }
    g_free(qtest_command(s, "write 0x%" PRIx64 " 0x%zx %s", addr, size,
                         hex->str));
}

void qtest_memset(QTestState *s, uint64_t addr, uint8_t value, size_t size)
{
    g_free(qtest_command(s, "memset 0x%" PRIx64 " 0x%zx 0x%02x", addr, size,
                         value));
}

int64_t qtest_clock_step(QTestState *s, int64_t ns)
{
    g_autofree char *line = g_strdup_printf("clock_step %" PRId64, ns);

    return qtest_command_number(s, line);
}

int64_t qtest_clock_set(QTestState *s, int64_t ns)
{
    g_autofree char *line = g_strdup_printf("clock_set %" PRId64, ns);

    return qtest_command_number(s, line);
}

void qtest_irq_intercept_in(QTestState *s, const char *qom_path)
{
    g_free(qtest_command(s, "irq_intercept_in %s", qom_path));
}

bool qtest_get_irq(QTestState *s, unsigned gsi)
{
    g_assert_cmpuint(gsi, <, QTEST_NR_GSIS);
    /* A round trip: IRQ messages sent before the reply are then read. */
    g_free(qtest_command(s, "endianness"));
    return s->irq_level[gsi];
}
