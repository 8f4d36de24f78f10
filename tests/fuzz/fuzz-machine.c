/*
 * The fuzz targets' machine and its invariants (see fuzz-machine.h).
 *
 * Called with the BQL held, in the VMM's main thread (the fuzzer's).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block-backend.h"
#include "exec/guest-ram.h"
#include "fuzz-machine.h"
#include "hw/boards.h"
#include "hw/qdev.h"
#include "inproc-qtest.h"
#include "qemu/main-loop.h"
#include "qemu/option.h"
#include "sysemu/accel.h"
#include "sysemu/iothread.h"

/* Guard areas on each side of guest RAM, filled with GUARD_BYTE. */
#define GUARD_SIZE          (64 * 1024)
#define GUARD_BYTE          0xa5
#define CANARY_SIZE         4096
/* The targets put rings and buffers from 1 MiB up to this. */
#define CLEARED_RAM_SIZE    (8ULL << 20)

typedef struct Baseline {
    unsigned threads, fds, children;
} Baseline;

static MachineState machine;
static char *dir;
static char *image_paths[FUZZ_MAX_IMAGES];
static unsigned nr_images;
static char *canary_path;
static uint8_t canary[CANARY_SIZE];
static uint8_t *guards[2];
static Baseline baseline;
static bool have_baseline;

void fuzz_violation(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz invariant violated: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

/*
 * g_error() (libqos's timeouts, for one) ends with SIGTRAP, which libFuzzer
 * does not catch: make it abort, so that the input is saved as a crash.
 */
static void log_handler(const gchar *domain, GLogLevelFlags level,
                        const gchar *message, gpointer opaque)
{
    g_log_default_handler(domain, level, message, opaque);
    if (level & G_LOG_LEVEL_ERROR) {
        abort();
    }
}

static G_NORETURN void setup_failed(const char *what, GError *err)
{
    fprintf(stderr, "fuzz set-up: %s: %s\n", what,
            err ? err->message : g_strerror(errno));
    exit(1);
}

static void write_file(const char *path, const uint8_t *data, size_t len,
                       size_t repeat)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0) {
        setup_failed(path, NULL);
    }
    for (size_t i = 0; i < repeat; i++) {
        if (write(fd, data, len) != (ssize_t)len) {
            setup_failed(path, NULL);
        }
    }
    close(fd);
}

#define FILES_DIR       "/var/tmp"
#define FILES_PREFIX    "qemu-uring-fuzz-"

static void remove_dir(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *file = g_build_filename(path, name, NULL);
        unlink(file);
    }
    rmdir(path);
}

/*
 * A target that crashed or was killed could not remove its files: remove
 * those of processes that are gone (the directories are named after the
 * process ID).
 */
static void remove_stale_files(void)
{
    g_autoptr(GDir) d = g_dir_open(FILES_DIR, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        long pid;
        char *end;

        if (!g_str_has_prefix(name, FILES_PREFIX)) {
            continue;
        }
        pid = strtol(name + strlen(FILES_PREFIX), &end, 10);
        if (pid > 0 && *end == '-' && kill(pid, 0) < 0 && errno == ESRCH) {
            g_autofree char *path = g_build_filename(FILES_DIR, name, NULL);
            remove_dir(path);
        }
    }
}

/*
 * Images and the canary go in a directory of /var/tmp (/tmp may be a tmpfs
 * without O_DIRECT, which cache=none needs), removed at exit.
 */
static void make_files(unsigned n)
{
    uint8_t sector[512];

    remove_stale_files();
    dir = g_strdup_printf(FILES_DIR "/" FILES_PREFIX "%d-XXXXXX", getpid());
    if (!g_mkdtemp(dir)) {
        setup_failed(dir, NULL);
    }
    for (unsigned i = 0; i < n; i++) {
        memset(sector, 0x10 + i, sizeof(sector));
        image_paths[i] = g_strdup_printf("%s/disk%u.img", dir, i);
        write_file(image_paths[i], sector, sizeof(sector),
                   FUZZ_IMAGE_SIZE / sizeof(sector));
    }
    nr_images = n;
    for (size_t i = 0; i < sizeof(canary); i++) {
        canary[i] = i * 7 + 3;
    }
    canary_path = g_strdup_printf("%s/canary", dir);
    write_file(canary_path, canary, sizeof(canary), 1);
}

static void remove_files(void)
{
    remove_dir(dir);
}

/* Map a guard area at host address addr (nothing may be there yet). */
static uint8_t *map_guard(uintptr_t addr)
{
    void *p = mmap((void *)addr, GUARD_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

    if (p != (void *)addr) {
        setup_failed("guard area next to guest RAM", NULL);
    }
    memset(p, GUARD_BYTE, GUARD_SIZE);
    return p;
}

static GDir *open_dir(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);

    if (!d) {
        setup_failed(path, NULL);
    }
    return d;
}

static unsigned count_dir(const char *path)
{
    GDir *d = open_dir(path);
    unsigned n = 0;

    while (g_dir_read_name(d)) {
        n++;
    }
    g_dir_close(d);
    return n;
}

/* A file of /proc/self/task/TID, or NULL if the thread has just exited. */
static char *read_task_file(const char *tid, const char *name)
{
    g_autofree char *path = g_strdup_printf("/proc/self/task/%s/%s",
                                            tid, name);
    char *text = NULL;

    g_file_get_contents(path, &text, NULL, NULL);
    return text;
}

/*
 * The VMM's threads.  Not the kernel's io_uring workers (iou-wrk-*, and
 * iou-sqp-* for SQPOLL rings): they are listed as threads of the process
 * that submitted, but the kernel ends them on its own, seconds after they
 * fall idle.
 */
static unsigned count_threads(void)
{
    GDir *d = open_dir("/proc/self/task");
    const char *tid;
    unsigned n = 0;

    while ((tid = g_dir_read_name(d))) {
        g_autofree char *comm = read_task_file(tid, "comm");

        n += !(comm && g_str_has_prefix(comm, "iou-"));
    }
    g_dir_close(d);
    return n;
}

/* Children of every thread of the process (the rings' owners). */
static unsigned count_children(void)
{
    GDir *d = open_dir("/proc/self/task");
    const char *tid;
    unsigned n = 0;

    while ((tid = g_dir_read_name(d))) {
        g_autofree char *text = read_task_file(tid, "children");
        g_auto(GStrv) pids = g_strsplit(text ? g_strstrip(text) : "", " ", -1);

        for (char **p = pids; *p; p++) {
            n += **p != '\0';
        }
    }
    g_dir_close(d);
    return n;
}

static Baseline measure(void)
{
    /* The directory stream of /proc/self/fd is one fd itself. */
    return (Baseline){
        .threads = count_threads(),
        .fds = count_dir("/proc/self/fd") - 1,
        .children = count_children(),
    };
}

static QemuOpts *parse(const char *arg, const char *implied)
{
    GError *err = NULL;
    QemuOpts *opts = qemu_opts_parse(arg, implied, &err);

    if (!opts) {
        setup_failed(arg, err);
    }
    return opts;
}

static void create_backends_and_devices(const FuzzMachineConfig *c)
{
    GError *err = NULL;

    for (unsigned i = 0; c->objects && c->objects[i]; i++) {
        g_autoptr(QemuOpts) opts = parse(c->objects[i], "qom-type");

        /* Only iothreads here; reading the type marks it as used. */
        g_assert_cmpstr(qemu_opt_get(opts, "qom-type"), ==, "iothread");
        if (!iothread_create(opts, &err)) {
            setup_failed(c->objects[i], err);
        }
    }
    for (unsigned i = 0; i < nr_images; i++) {
        g_autofree char *arg = g_strdup_printf("file=%s,format=raw,%s",
                                               image_paths[i], c->drives[i]);
        g_autoptr(QemuOpts) opts = parse(arg, NULL);

        if (!drive_new(opts, NULL, &err)) {
            setup_failed(arg, err);
        }
    }
    for (unsigned i = 0; c->devices[i]; i++) {
        g_autoptr(QemuOpts) opts = parse(c->devices[i], "driver");

        if (!qdev_device_add(opts, &err)) {
            setup_failed(c->devices[i], err);
        }
    }
}

void fuzz_machine_init(const FuzzMachineConfig *config,
                       void (*warm_up)(void))
{
    GError *err = NULL;
    unsigned n = 0;

    while (config->drives[n]) {
        n++;
    }
    g_assert(n <= FUZZ_MAX_IMAGES);
    make_files(n);
    atexit(remove_files);
    g_log_set_default_handler(log_handler, NULL);

    main_loop_init();
    bql_lock();
    current_accel = accel_find("qtest");
    machine.ram_size = FUZZ_RAM_SIZE;
    machine.smp_cpus = 1;
    current_machine = &machine;
    guards[0] = map_guard(GUEST_RAM_HOST_BASE - GUARD_SIZE);
    guards[1] = map_guard(GUEST_RAM_HOST_BASE + FUZZ_RAM_SIZE);
    if (!current_accel->init(&machine, &err) ||
        !pvh_machine_init(&machine, &err)) {
        setup_failed("machine", err);
    }
    create_backends_and_devices(config);
    pvh_machine_reset(&machine);
    if (!current_accel->start(&machine, &err)) {
        setup_failed("machine", err);
    }
    if (warm_up) {
        warm_up();
    }
    fuzz_machine_reset();
}

/*
 * The baseline is taken as the first input starts: libFuzzer starts its
 * own threads after LLVMFuzzerInitialize().
 */
void fuzz_machine_begin_input(void)
{
    if (!have_baseline) {
        baseline = measure();
        have_baseline = true;
    }
}

void fuzz_machine_reset(void)
{
    current_accel->pause();
    pvh_machine_reset(&machine);
    current_accel->resume();
    inproc_qtest_poll();
}

static void check_files(void)
{
    uint8_t now[CANARY_SIZE];
    struct stat st;
    int fd;

    for (unsigned i = 0; i < nr_images; i++) {
        if (stat(image_paths[i], &st) < 0 ||
            (uint64_t)st.st_size != FUZZ_IMAGE_SIZE) {
            fuzz_violation("image %u is %lld bytes, not %llu", i,
                           (long long)st.st_size, FUZZ_IMAGE_SIZE);
        }
    }
    fd = open(canary_path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size != CANARY_SIZE ||
        pread(fd, now, sizeof(now), 0) != sizeof(now) ||
        memcmp(now, canary, sizeof(now))) {
        fuzz_violation("the canary file beside the images changed");
    }
    close(fd);
}

static void check_guards(void)
{
    for (unsigned g = 0; g < 2; g++) {
        for (size_t i = 0; i < GUARD_SIZE; i++) {
            if (guards[g][i] != GUARD_BYTE) {
                fuzz_violation("host memory %s guest RAM was written, "
                               "%zu bytes %s it", g ? "after" : "before",
                               g ? i : GUARD_SIZE - i,
                               g ? "past the end of" : "before");
            }
        }
    }
}

/*
 * Threads and descriptors may take a moment to go (an owner process being
 * reaped, a thread's exit): the counts must come back within a bounded
 * number of main loop rounds.
 */
static void check_resources(void)
{
    Baseline now = measure();

    for (unsigned i = 0; i < 200 && memcmp(&now, &baseline, sizeof(now));
         i++) {
        g_usleep(1000);
        inproc_qtest_poll();
        now = measure();
    }
    if (memcmp(&now, &baseline, sizeof(now))) {
        fuzz_violation("after reset: %u threads, %u fds, %u child processes "
                       "(baseline %u, %u, %u)", now.threads, now.fds,
                       now.children, baseline.threads, baseline.fds,
                       baseline.children);
    }
}

void fuzz_machine_end_input(void)
{
    fuzz_machine_reset();
    check_files();
    check_guards();
    check_resources();
    memset(guest_ram_host_addr(0), 0, CLEARED_RAM_SIZE);
}
