/*
 * The qtest accelerator: no vCPU runs.  A test program plays the guest over
 * QEMU's qtest line protocol on a character device, reading and writing
 * guest memory and ports, moving a virtual clock and watching interrupts.
 *
 * Every request line gets exactly one reply line, "OK [VALUE]" or
 * "FAIL REASON".  Numbers are C literals (decimal, 0x hexadecimal, 0 octal).
 * Once interrupts are intercepted, "IRQ raise N" and "IRQ lower N" lines
 * report GSI level changes as they happen, between replies.  Where QEMU's
 * server asserts on a malformed request (a missing argument, a bad number),
 * this one replies FAIL and keeps serving.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include "chardev/char.h"
#include "exec/memory.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "sysemu/accel.h"
#include "sysemu/qtest.h"
#include "sysemu/runstate.h"

#define QTEST_NR_GSIS       256
/* The most bytes one read, write or memset request may cover. */
#define QTEST_MAX_ACCESS    (64ULL << 20)

typedef struct QTestServer {
    Chardev *chr;
    GString *inbuf;             /* input up to the next newline */
    FILE *log;                  /* NULL: no log */
    GTimer *timer;              /* log timestamps, from the connection */
    bool intercepting;          /* irq_intercept_in/out was requested */
    bool gsi_level[QTEST_NR_GSIS];
} QTestServer;

static QTestServer server;
static int64_t clock_ns;        /* written by the main thread only */

static const AccelOps qtest_accel_ops;

bool qtest_enabled(void)
{
    return current_accel == &qtest_accel_ops;
}

int64_t qtest_clock_ns(void)
{
    return __atomic_load_n(&clock_ns, __ATOMIC_RELAXED);
}

/* Replies and asynchronous messages; line is sent with a newline added. */
static void G_GNUC_PRINTF(1, 2) qtest_send(const char *fmt, ...)
{
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (server.log) {
        fprintf(server.log, "[S +%.06f] %s\n",
                g_timer_elapsed(server.timer, NULL), line);
    }
    qemu_chr_write(server.chr, line, strlen(line));
    qemu_chr_write(server.chr, "\n", 1);
}

/* Interrupts */

static void qtest_set_gsi(unsigned gsi, bool level)
{
    if (gsi >= QTEST_NR_GSIS || server.gsi_level[gsi] == level) {
        return;
    }
    server.gsi_level[gsi] = level;
    if (server.intercepting) {
        qtest_send("IRQ %s %u", level ? "raise" : "lower", gsi);
    }
}

/* An MSI is the 4-byte memory write it stands for, as on real hardware. */
static void qtest_write_msi(uint64_t addr, uint32_t data)
{
    address_space_stn(&address_space_memory, addr, 4, data);
}

/*
 * Devices may raise interrupts from I/O threads, without the BQL; the
 * memory write or the message then waits for the main loop, which holds it.
 */
typedef struct DeferredInterrupt {
    bool is_msi;
    unsigned gsi;
    bool level;
    uint64_t addr;
    uint32_t data;
} DeferredInterrupt;

static GMutex deferred_lock;
static GArray *deferred;        /* of DeferredInterrupt, or NULL if none */

/*
 * Send what I/O threads deferred, in the order they raised it.  Called
 * with the BQL held: from the idle source, and before the main thread sends
 * an interrupt of its own, which must not overtake an earlier one (a line
 * an I/O thread raised just before a vCPU's write lowered it ends low).
 */
static void flush_deferred(void)
{
    g_autoptr(GArray) batch = NULL;

    g_mutex_lock(&deferred_lock);
    batch = g_steal_pointer(&deferred);
    g_mutex_unlock(&deferred_lock);
    if (!batch) {
        return;                 /* flushed before this idle source ran */
    }
    for (guint i = 0; i < batch->len; i++) {
        const DeferredInterrupt *d = &g_array_index(batch, DeferredInterrupt, i);
        if (d->is_msi) {
            qtest_write_msi(d->addr, d->data);
        } else {
            qtest_set_gsi(d->gsi, d->level);
        }
    }
}

static gboolean deliver_deferred(gpointer opaque)
{
    flush_deferred();
    return G_SOURCE_REMOVE;
}

static void defer_interrupt(const DeferredInterrupt *d)
{
    g_mutex_lock(&deferred_lock);
    if (!deferred) {
        GSource *idle = g_idle_source_new();

        deferred = g_array_new(FALSE, FALSE, sizeof(DeferredInterrupt));
        /* As urgent as the chardev, so that busy traffic cannot starve it. */
        g_source_set_priority(idle, G_PRIORITY_DEFAULT);
        g_source_set_callback(idle, deliver_deferred, NULL, NULL);
        g_source_attach(idle, NULL);
        g_source_unref(idle);
    }
    g_array_append_val(deferred, *d);
    g_mutex_unlock(&deferred_lock);
}

static void qtest_accel_set_irq(unsigned gsi, bool level)
{
    if (bql_locked()) {
        flush_deferred();
        qtest_set_gsi(gsi, level);
    } else {
        defer_interrupt(&(DeferredInterrupt){ .gsi = gsi, .level = level });
    }
}

static void qtest_accel_send_msi(uint64_t addr, uint32_t data)
{
    if (bql_locked()) {
        flush_deferred();
        qtest_write_msi(addr, data);
    } else {
        defer_interrupt(&(DeferredInterrupt){
            .is_msi = true, .addr = addr, .data = data,
        });
    }
}

/*
 * MSI routes, as KVM's irqfds: while a route is enabled, the main loop
 * watches its eventfd and turns each signal into the route's message.  A
 * disabled route is not watched, so its signals stay counted in the eventfd
 * until it is enabled again.
 */
struct MSIRoute {
    int fd;
    uint64_t addr;
    uint32_t data;
    guint watch;                /* while enabled */
};

static gboolean msi_route_signalled(gint fd, GIOCondition cond,
                                    gpointer opaque)
{
    MSIRoute *r = opaque;
    uint64_t count;

    if (cond & (G_IO_ERR | G_IO_NVAL)) {
        r->watch = 0;
        return G_SOURCE_REMOVE;
    }
    if (read(fd, &count, sizeof(count)) == sizeof(count)) {
        qtest_write_msi(r->addr, r->data);
    }
    return G_SOURCE_CONTINUE;
}

static MSIRoute *qtest_msi_route_new(int eventfd)
{
    MSIRoute *r = g_new0(MSIRoute, 1);

    r->fd = eventfd;
    return r;
}

static void qtest_msi_route_update(MSIRoute *r, uint64_t addr, uint32_t data,
                                   bool enabled)
{
    r->addr = addr;
    r->data = data;
    if (enabled && !r->watch) {
        r->watch = g_unix_fd_add(r->fd, G_IO_IN | G_IO_ERR,
                                 msi_route_signalled, r);
    } else if (!enabled && r->watch) {
        g_source_remove(r->watch);
        r->watch = 0;
    }
}

static void qtest_msi_route_free(MSIRoute *r)
{
    if (r->watch) {
        g_source_remove(r->watch);
    }
    g_free(r);
}

/* Arguments */

/* A number no larger than max; otherwise reply FAIL and return false. */
static bool get_number(const char *arg, uint64_t max, uint64_t *out)
{
    if (!parse_uint64(arg, out)) {
        qtest_send("FAIL invalid number '%s'", arg);
        return false;
    }
    if (*out > max) {
        qtest_send("FAIL %s is out of range (at most 0x%" PRIx64 ")", arg,
                   max);
        return false;
    }
    return true;
}

/* A signed number of nanoseconds (clock_step, clock_set). */
static bool get_nanoseconds(const char *arg, int64_t *out)
{
    bool negative = arg[0] == '-';
    uint64_t v;

    if (!parse_uint64(arg + negative, &v) || v > INT64_MAX) {
        qtest_send("FAIL invalid number '%s'", arg);
        return false;
    }
    *out = negative ? -(int64_t)v : (int64_t)v;
    return true;
}

/* ADDR and SIZE of a memory access, which must not wrap around. */
static bool get_memory_range(char **args, uint64_t *addr, uint64_t *size)
{
    if (!get_number(args[0], UINT64_MAX, addr) ||
        !get_number(args[1], QTEST_MAX_ACCESS, size)) {
        return false;
    }
    if (*size && *addr + (*size - 1) < *addr) {
        qtest_send("FAIL %s + %s is beyond the address space", args[0],
                   args[1]);
        return false;
    }
    return true;
}

/* The access size that ends a command name: outb, readw, writeq... */
static unsigned access_size(const char *name)
{
    switch (name[strlen(name) - 1]) {
    case 'b': return 1;
    case 'w': return 2;
    case 'l': return 4;
    default: return 8;
    }
}

static uint64_t size_mask(unsigned size)
{
    return size == 8 ? UINT64_MAX : (1ULL << (size * 8)) - 1;
}

/* Commands; args holds the words after the command name. */

static void cmd_out(const char *name, char **args)
{
    unsigned size = access_size(name);
    uint64_t addr, value;

    if (get_number(args[0], 0xffff, &addr) &&
        get_number(args[1], size_mask(size), &value)) {
        address_space_stn(&address_space_io, addr, size, value);
        qtest_send("OK");
    }
}

static void cmd_in(const char *name, char **args)
{
    uint64_t addr;

    if (get_number(args[0], 0xffff, &addr)) {
        qtest_send("OK 0x%04" PRIx64,
                   address_space_ldn(&address_space_io, addr,
                                     access_size(name)));
    }
}

static void cmd_write(const char *name, char **args)
{
    unsigned size = access_size(name);
    uint64_t addr, value;

    if (get_number(args[0], UINT64_MAX - (size - 1), &addr) &&
        get_number(args[1], size_mask(size), &value)) {
        address_space_stn(&address_space_memory, addr, size, value);
        qtest_send("OK");
    }
}

static void cmd_read(const char *name, char **args)
{
    unsigned size = access_size(name);
    uint64_t addr;

    if (get_number(args[0], UINT64_MAX - (size - 1), &addr)) {
        qtest_send("OK 0x%016" PRIx64,
                   address_space_ldn(&address_space_memory, addr, size));
    }
}

static void cmd_read_hex(const char *name, char **args)
{
    g_autofree uint8_t *data = NULL;
    g_autoptr(GString) hex = NULL;
    uint64_t addr, size;

    if (!get_memory_range(args, &addr, &size)) {
        return;
    }
    if (!size) {
        qtest_send("FAIL size must not be 0");
        return;
    }
    data = g_malloc(size);
    address_space_read(&address_space_memory, addr, data, size);
    hex = g_string_sized_new(2 * size + 2);
    g_string_append(hex, "0x");
    for (uint64_t i = 0; i < size; i++) {
        g_string_append_printf(hex, "%02x", data[i]);
    }
    qtest_send("OK %s", hex->str);
}

/* DATA is 0x and pairs of hex digits; missing bytes are zeroes. */
static void cmd_write_hex(const char *name, char **args)
{
    g_autofree uint8_t *data = NULL;
    const char *digits;
    size_t ndigits;
    uint64_t addr, size;

    if (!get_memory_range(args, &addr, &size)) {
        return;
    }
    if (!g_str_has_prefix(args[2], "0x")) {
        qtest_send("FAIL invalid hex data '%s'", args[2]);
        return;
    }
    digits = args[2] + 2;
    ndigits = strlen(digits);
    if (ndigits % 2 || strspn(digits, "0123456789abcdefABCDEF") != ndigits) {
        qtest_send("FAIL invalid hex data '%s'", args[2]);
        return;
    }
    data = g_malloc0(size);
    for (uint64_t i = 0; i < size && 2 * i < ndigits; i++) {
        data[i] = g_ascii_xdigit_value(digits[2 * i]) << 4 |
                  g_ascii_xdigit_value(digits[2 * i + 1]);
    }
    address_space_write(&address_space_memory, addr, data, size);
    qtest_send("OK");
}

static void cmd_memset(const char *name, char **args)
{
    uint8_t chunk[4096];
    uint64_t addr, size, value;

    if (!get_memory_range(args, &addr, &size) ||
        !get_number(args[2], 0xff, &value)) {
        return;
    }
    memset(chunk, value, sizeof(chunk));
    for (uint64_t done = 0; done < size; done += sizeof(chunk)) {
        address_space_write(&address_space_memory, addr + done, chunk,
                            MIN(sizeof(chunk), size - done));
    }
    qtest_send("OK");
}

static void cmd_b64read(const char *name, char **args)
{
    g_autofree uint8_t *data = NULL;
    g_autofree char *b64 = NULL;
    uint64_t addr, size;

    if (!get_memory_range(args, &addr, &size)) {
        return;
    }
    data = g_malloc(size);
    address_space_read(&address_space_memory, addr, data, size);
    b64 = g_base64_encode(data, size);
    qtest_send("OK %s", b64);
}

/* SIZE bytes are written: the decoded data, cut or padded with zeroes. */
static void cmd_b64write(const char *name, char **args)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    g_autofree uint8_t *decoded = NULL;
    g_autofree uint8_t *data = NULL;
    uint64_t addr, size;
    gsize len;

    if (!get_memory_range(args, &addr, &size)) {
        return;
    }
    if (strspn(args[2], alphabet) != strlen(args[2])) {
        qtest_send("FAIL invalid base64 data '%s'", args[2]);
        return;
    }
    decoded = g_base64_decode(args[2], &len);
    data = g_malloc0(size);
    memcpy(data, decoded, MIN(len, size));
    address_space_write(&address_space_memory, addr, data, size);
    qtest_send("OK");
}

static void cmd_clock_step(const char *name, char **args)
{
    int64_t now = qtest_clock_ns(), ns;

    if (!args[0]) {
        /* Nothing here sets timers on the virtual clock. */
        qtest_send("FAIL cannot advance clock to the next deadline because "
                   "there is no pending deadline");
        return;
    }
    if (!get_nanoseconds(args[0], &ns)) {
        return;
    }
    if (ns <= 0 || now > INT64_MAX - ns) {
        qtest_send("FAIL could not advance time");
        return;
    }
    __atomic_store_n(&clock_ns, now + ns, __ATOMIC_RELAXED);
    qtest_send("OK %" PRId64, now + ns);
}

/* The clock only goes forward: FAIL with the time if it is already past. */
static void cmd_clock_set(const char *name, char **args)
{
    int64_t ns;

    if (!get_nanoseconds(args[0], &ns)) {
        return;
    }
    if (ns > qtest_clock_ns()) {
        __atomic_store_n(&clock_ns, ns, __ATOMIC_RELAXED);
    }
    qtest_send("%s %" PRId64, qtest_clock_ns() == ns ? "OK" : "FAIL",
               qtest_clock_ns());
}

/*
 * There is one interrupt controller, so any QOM path ("ioapic" on a PC)
 * intercepts the GSIs.  Lines already high are reported at once, so that
 * the client's view starts right.
 */
static void cmd_irq_intercept(const char *name, char **args)
{
    if (!server.intercepting) {
        server.intercepting = true;
        for (unsigned gsi = 0; gsi < QTEST_NR_GSIS; gsi++) {
            if (server.gsi_level[gsi]) {
                qtest_send("IRQ raise %u", gsi);
            }
        }
    }
    qtest_send("OK");
}

static void cmd_endianness(const char *name, char **args)
{
    qtest_send("OK little");
}

typedef struct QTestCommand {
    const char *name;
    void (*fn)(const char *name, char **args);
    unsigned min_args, max_args;
    const char *usage;
} QTestCommand;

static const QTestCommand commands[] = {
    { "outb", cmd_out, 2, 2, "ADDR VALUE" },
    { "outw", cmd_out, 2, 2, "ADDR VALUE" },
    { "outl", cmd_out, 2, 2, "ADDR VALUE" },
    { "inb", cmd_in, 1, 1, "ADDR" },
    { "inw", cmd_in, 1, 1, "ADDR" },
    { "inl", cmd_in, 1, 1, "ADDR" },
    { "writeb", cmd_write, 2, 2, "ADDR VALUE" },
    { "writew", cmd_write, 2, 2, "ADDR VALUE" },
    { "writel", cmd_write, 2, 2, "ADDR VALUE" },
    { "writeq", cmd_write, 2, 2, "ADDR VALUE" },
    { "readb", cmd_read, 1, 1, "ADDR" },
    { "readw", cmd_read, 1, 1, "ADDR" },
    { "readl", cmd_read, 1, 1, "ADDR" },
    { "readq", cmd_read, 1, 1, "ADDR" },
    { "read", cmd_read_hex, 2, 2, "ADDR SIZE" },
    { "write", cmd_write_hex, 3, 3, "ADDR SIZE DATA" },
    { "memset", cmd_memset, 3, 3, "ADDR SIZE VALUE" },
    { "b64read", cmd_b64read, 2, 2, "ADDR SIZE" },
    { "b64write", cmd_b64write, 3, 3, "ADDR SIZE B64_DATA" },
    { "clock_step", cmd_clock_step, 0, 1, "[NS]" },
    { "clock_set", cmd_clock_set, 1, 1, "NS" },
    { "irq_intercept_in", cmd_irq_intercept, 1, 1, "QOM-PATH" },
    { "irq_intercept_out", cmd_irq_intercept, 1, 2, "QOM-PATH [NAME]" },
    { "endianness", cmd_endianness, 0, 0, "" },
};

static void qtest_process_line(char *line)
{
    g_auto(GStrv) split = NULL;
    g_autoptr(GPtrArray) words = g_ptr_array_new();
    const char *name;
    unsigned nargs;

    g_strchomp(line);
    split = g_strsplit(line, " ", -1);
    for (char **w = split; *w; w++) {
        if (**w) {
            g_ptr_array_add(words, *w);
        }
    }
    g_ptr_array_add(words, NULL);
    name = words->len > 1 ? g_ptr_array_index(words, 0) : "";
    nargs = words->len > 1 ? words->len - 2 : 0;
    if (server.log) {
        fprintf(server.log, "[R +%.06f] %s\n",
                g_timer_elapsed(server.timer, NULL), line);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(commands); i++) {
        const QTestCommand *c = &commands[i];

        if (strcmp(c->name, name)) {
            continue;
        }
        if (nargs < c->min_args || nargs > c->max_args) {
            qtest_send("FAIL %s (usage: %s %s)",
                       nargs < c->min_args ? "missing argument"
                                           : "too many arguments",
                       c->name, c->usage);
            return;
        }
        c->fn(name, (char **)words->pdata + 1);
        return;
    }
    qtest_send("FAIL Unknown command '%s'", name);
}

static void qtest_receive(void *opaque, const uint8_t *buf, size_t len)
{
    const char *nl;

    g_string_append_len(server.inbuf, (const char *)buf, len);
    while ((nl = memchr(server.inbuf->str, '\n', server.inbuf->len))) {
        g_autofree char *line = g_strndup(server.inbuf->str,
                                          nl - server.inbuf->str);

        g_string_erase(server.inbuf, 0, nl - server.inbuf->str + 1);
        qtest_process_line(line);
    }
}

/* The test is done with the machine. */
static void qtest_closed(void *opaque)
{
    if (server.log) {
        fprintf(server.log, "[I +%.06f] CLOSED\n",
                g_timer_elapsed(server.timer, NULL));
    }
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QTEST, 0);
}

bool qtest_server_init(const char *spec, const char *logfile, GError **errp)
{
    if (strcmp(spec, "stdio") && !g_str_has_prefix(spec, "unix:")) {
        error_setg(errp, "qtest needs a character device to talk to: "
                   "unix:PATH or stdio");
        return false;
    }
    if (!logfile) {
        server.log = stderr;
    } else if (strcmp(logfile, "none")) {
        server.log = fopen(logfile, "w");
        if (!server.log) {
            error_setg_errno(errp, errno, "Could not open qtest log '%s'",
                             logfile);
            return false;
        }
        setvbuf(server.log, NULL, _IOLBF, 0);
    }
    server.chr = qemu_chr_new(spec, errp);
    if (!server.chr) {
        if (server.log && server.log != stderr) {
            fclose(server.log);
        }
        server.log = NULL;
        return false;
    }
    server.inbuf = g_string_new(NULL);
    server.timer = g_timer_new();
    if (server.log) {
        fprintf(server.log, "[I %.06f] OPENED\n", 0.0);
    }
    qemu_chr_set_handlers(server.chr, qtest_receive, qtest_closed, NULL);
    return true;
}

/* AccelOps: there are no vCPUs to create, run, stop or reset. */

static bool qtest_accel_init(MachineState *ms, GError **errp)
{
    return true;
}

static bool qtest_accel_start(MachineState *ms, GError **errp)
{
    return true;
}

static void qtest_accel_pause_resume(void)
{
}

/* The qtest protocol, which stands in for the vCPUs, runs in this thread. */
static int qtest_accel_vcpu_thread_id(unsigned index)
{
    return getpid();
}

static void qtest_accel_cleanup(void)
{
    qemu_chr_free(g_steal_pointer(&server.chr));
    if (server.log && server.log != stderr) {
        fclose(server.log);
    }
    server.log = NULL;
    g_clear_pointer(&server.timer, g_timer_destroy);
    if (server.inbuf) {
        g_string_free(g_steal_pointer(&server.inbuf), TRUE);
    }
}

static const AccelOps qtest_accel_ops = {
    .name = "qtest",
    .init = qtest_accel_init,
    .start = qtest_accel_start,
    .pause = qtest_accel_pause_resume,
    .resume = qtest_accel_pause_resume,
    .vcpu_thread_id = qtest_accel_vcpu_thread_id,
    .cleanup = qtest_accel_cleanup,
    .set_irq = qtest_accel_set_irq,
    .send_msi = qtest_accel_send_msi,
    .msi_route_new = qtest_msi_route_new,
    .msi_route_update = qtest_msi_route_update,
    .msi_route_free = qtest_msi_route_free,
};
ACCEL_REGISTER(qtest_accel_ops)
