/*
 * Confinement of the io_uring passthrough beyond the ring's restrictions,
 * which look at an SQE's opcode and flags only
 * (docs/specs/virtio-blk-uring.rst, "Confinement and security model"):
 *
 * - pointers: the kernel resolves a pointer that an SQE carries (attr_ptr
 *   with any attr_type_mask bit, addr3, addr2, addr) in the address space
 *   of the process that owns the ring.  Whatever the kernel makes of such a
 *   pointer, an address where the VMM has a mapping (its binary, heap,
 *   stack, libraries, anonymous memory, vDSO) must complete exactly as an
 *   address where nothing is mapped, or the completions would map the
 *   VMM's address space for the guest;
 * - credentials: the ring acts with the owner's credentials, which must
 *   carry no capability the guest's I/O does not need (a real-time I/O
 *   priority class needs one);
 * - the owner process itself: no mapping of the VMM's, no descriptor but
 *   its channel to the VMM, no capability but CAP_IPC_LOCK, no new
 *   privileges, a seccomp filter.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <linux/ioprio.h>
#include <stdio.h>
#include <string.h>

#include "virtio-blk-uring-fixture.h"

#define BLOCK           4096
#define BATCH           64      /* SQEs in flight at once (<= sq_entries) */
#define CAP_IPC_LOCK    14
#define USER_TOP        (1ULL << 47)
#define BUF_SHIFT       30
#define GIB             (1ULL << 30)
#define OP_BIT(op)      (1ULL << (op))

/*
 * A running ring, and a guest buffer holding the image's first block, so
 * that writes from it put back what is there.
 */
static uint64_t start(Fixture *f)
{
    uint64_t buf;

    fixture_init(f, RAM_MB, "", URING ",uring-iopoll=off");
    qvirtio_blk_uring_start(f->u);
    buf = guest_alloc(f->alloc, BLOCK);
    g_assert_cmpint(uring_rw(f, IORING_OP_READ_FIXED, buf, BLOCK, 0), ==,
                    BLOCK);
    return buf;
}

static void finish(Fixture *f, uint64_t buf)
{
    guest_free(f->alloc, buf);
    check_image(f);
    fixture_cleanup(f);
}

/* The contents of /proc/PID/FILE. */
static char *proc_file(int pid, const char *file)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/%s", pid, file);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/*
 * Pointers
 */

typedef struct Probe {
    const char *what;
    uint64_t addr;
} Probe;

/*
 * An address in each kind of mapping the VMM has, the middle of the first
 * readable one of its kind.
 */
static GArray *vmm_mappings(Fixture *f)
{
    g_autofree char *exe_path = g_strdup_printf("/proc/%d/exe",
                                                qtest_pid(f->qts));
    g_autofree char *exe = g_file_read_link(exe_path, NULL);
    g_autofree char *text = proc_file(qtest_pid(f->qts), "maps");
    g_auto(GStrv) lines = NULL;
    GArray *probes = g_array_new(FALSE, FALSE, sizeof(Probe));
    static const char *const kinds[] = {
        "binary", "heap", "stack", "library", "anonymous", "vdso",
    };
    bool found[G_N_ELEMENTS(kinds)] = { false };

    g_assert_nonnull(exe);
    lines = g_strsplit(text, "\n", -1);
    for (unsigned i = 0; lines[i] && *lines[i]; i++) {
        uint64_t start, end;
        char perms[5] = "";
        int name_at = 0;
        const char *name;
        int kind;

        g_assert_cmpint(sscanf(lines[i], "%" SCNx64 "-%" SCNx64 " %4s "
                               "%*s %*s %*s%n", &start, &end, perms,
                               &name_at), >=, 3);
        name = g_strchug(lines[i] + name_at);
        if (perms[0] != 'r') {
            continue;
        }
        if (start >= f->u->cfg.ram_host_base &&
            start < f->u->cfg.ram_host_base + ((uint64_t)RAM_MB << 20)) {
            continue;               /* guest RAM: the guest's own */
        }
        if (!strcmp(name, exe)) {
            kind = 0;
        } else if (!strcmp(name, "[heap]")) {
            kind = 1;
        } else if (!strcmp(name, "[stack]")) {
            kind = 2;
        } else if (strstr(name, ".so")) {
            kind = 3;
        } else if (!*name) {
            kind = 4;
        } else if (!strcmp(name, "[vdso]")) {
            kind = 5;
        } else {
            continue;
        }
        if (!found[kind]) {
            Probe p = { kinds[kind], start + (end - start) / 2 };
            found[kind] = true;
            g_array_append_val(probes, p);
        }
    }
    for (unsigned k = 0; k < G_N_ELEMENTS(kinds); k++) {
        if (!found[k]) {
            g_test_message("the VMM has no readable %s mapping", kinds[k]);
        }
    }
    /*
     * The binary, stack and libraries are always there (a heap is not:
     * AddressSanitizer's allocator does without one).
     */
    g_assert_true(found[0] && found[2] && found[3]);
    return probes;
}

/*
 * Where nothing is mapped in the VMM: the middle of the largest gap between
 * its mappings, above 4 GiB and below the top of user space, that is
 * outside guest RAM's span.
 */
static uint64_t vmm_hole(Fixture *f)
{
    g_autofree char *text = proc_file(qtest_pid(f->qts), "maps");
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    uint64_t prev_end = 1ULL << 32, best = 0, best_len = 0;

    for (unsigned i = 0; lines[i] && *lines[i]; i++) {
        uint64_t start, end;

        g_assert_cmpint(sscanf(lines[i], "%" SCNx64 "-%" SCNx64, &start,
                               &end), ==, 2);
        /* User space ends at 128 TiB ([vsyscall] is the kernel's). */
        start = MIN(start, USER_TOP);
        if (start > prev_end && start - prev_end > best_len &&
            (prev_end >= f->u->cfg.ram_host_base + (1ULL << 40) ||
             start <= f->u->cfg.ram_host_base)) {
            best = prev_end;
            best_len = start - prev_end;
        }
        prev_end = MAX(prev_end, end);
    }
    g_assert_cmpuint(best_len, >=, 1ULL << 30);
    return (best + best_len / 2) & ~0xfffULL;
}

/* How an SQE carries the address under test. */
typedef struct Carrier {
    char *what;
    QUringSqe sqe;              /* with the address field zero */
    uint64_t *field;            /* in sqe */
} Carrier;

static void carrier_add(GPtrArray *carriers, const QUringSqe *sqe,
                        size_t field_off, char *what)
{
    Carrier *c = g_new0(Carrier, 1);

    c->what = what;
    c->sqe = *sqe;
    c->field = (uint64_t *)((uint8_t *)&c->sqe + field_off);
    g_ptr_array_add(carriers, c);
}

static void carrier_free(gpointer p)
{
    Carrier *c = p;

    g_free(c->what);
    g_free(c);
}

static GPtrArray *carriers_new(Fixture *f, uint64_t buf)
{
    static const struct {
        uint8_t opcode;
        const char *name;
    } ops[] = {
        { IORING_OP_READ_FIXED, "READ_FIXED" },
        { IORING_OP_WRITE_FIXED, "WRITE_FIXED" },
        { IORING_OP_NOP, "NOP" },
        { IORING_OP_FSYNC, "FSYNC" },
    };
    GPtrArray *carriers = g_ptr_array_new_with_free_func(carrier_free);

    for (unsigned i = 0; i < G_N_ELEMENTS(ops); i++) {
        QUringSqe sqe;

        /* A valid request; a write puts back the block that is there. */
        qvirtio_blk_uring_prep(f->u, &sqe, ops[i].opcode, buf, BLOCK, 0,
                               0);
        if (ops[i].opcode == IORING_OP_NOP ||
            ops[i].opcode == IORING_OP_FSYNC) {
            sqe.addr = sqe.len = sqe.buf_index = 0;
        }
        /* attr_ptr (addr3) with each attr_type_mask bit, and none. */
        for (int bit = -1; bit < 64; bit++) {
            QUringSqe s = sqe;

            s.pad = bit < 0 ? 0 : 1ULL << bit;
            carrier_add(carriers, &s, offsetof(QUringSqe, addr3),
                        bit < 0 ? g_strdup_printf("%s addr3", ops[i].name)
                                : g_strdup_printf("%s attr_ptr, "
                                                  "attr_type_mask bit %d",
                                                  ops[i].name, bit));
        }
        /* addr2 (off), and addr where the opcode does not use it. */
        carrier_add(carriers, &sqe, offsetof(QUringSqe, off),
                    g_strdup_printf("%s addr2", ops[i].name));
        carrier_add(carriers, &sqe, offsetof(QUringSqe, addr),
                    g_strdup_printf("%s addr", ops[i].name));
    }
    return carriers;
}

/* Submit every carrier with address addr (+ the page offset of each). */
static void run_carriers(Fixture *f, GPtrArray *carriers, uint64_t addr,
                         int32_t *res)
{
    QVirtioBlkUring *u = f->u;
    unsigned batch = MIN(BATCH, u->cfg.sq_entries);

    for (unsigned first = 0; first < carriers->len; first += batch) {
        unsigned n = MIN(batch, carriers->len - first);

        for (unsigned i = first; i < first + n; i++) {
            Carrier *c = g_ptr_array_index(carriers, i);
            QUringSqe sqe;

            *c->field = addr;
            sqe = c->sqe;
            *c->field = 0;
            sqe.user_data = i;
            qvirtio_blk_uring_queue(u, &sqe);
        }
        qvirtio_blk_uring_kick(u);
        for (unsigned i = 0; i < n; i++) {
            QUringCqe cqe;

            qvirtio_blk_uring_wait_cqe(u, &cqe);
            g_assert_cmpuint(cqe.user_data, >=, first);
            g_assert_cmpuint(cqe.user_data, <, first + n);
            res[cqe.user_data] = cqe.res;
        }
    }
}

/*
 * Every pointer-carrying field, pointing into each kind of mapping of the
 * VMM's, completes as when it points where nothing is mapped (at the same
 * offset in a page, so that alignment checks cannot tell them apart).
 */
static void test_pointers(void)
{
    Fixture f;
    uint64_t buf = start(&f);
    g_autoptr(GArray) probes = NULL;
    g_autoptr(GPtrArray) carriers = NULL;
    g_autofree int32_t *res = NULL;
    g_autofree int32_t *unmapped = NULL;
    g_autofree int32_t *ram = NULL;
    uint64_t hole;
    unsigned told_apart = 0;

    probes = vmm_mappings(&f);
    hole = vmm_hole(&f);
    carriers = carriers_new(&f, buf);
    res = g_new(int32_t, carriers->len);
    unmapped = g_new(int32_t, carriers->len);
    ram = g_new(int32_t, carriers->len);

    /* Guest RAM, for the record: whether this kernel looks at all. */
    run_carriers(&f, carriers, f.u->cfg.ram_host_base + buf, ram);
    run_carriers(&f, carriers, hole + (buf & 0xfff), unmapped);
    for (unsigned i = 0; i < carriers->len; i++) {
        told_apart += ram[i] != unmapped[i];
    }
    g_test_message("%u of %u pointer fields complete differently for guest "
                   "RAM and for an unmapped address on this kernel",
                   told_apart, carriers->len);

    for (unsigned p = 0; p < probes->len; p++) {
        const Probe *probe = &g_array_index(probes, Probe, p);

        run_carriers(&f, carriers, probe->addr, res);
        run_carriers(&f, carriers, hole + (probe->addr & 0xfff), unmapped);
        for (unsigned i = 0; i < carriers->len; i++) {
            const Carrier *c = g_ptr_array_index(carriers, i);

            if (res[i] != unmapped[i]) {
                g_error("%s = 0x%" PRIx64 " (the VMM's %s) completed with "
                        "%d, but with %d where nothing is mapped: the guest "
                        "can map the VMM's address space", c->what,
                        probe->addr, probe->what, res[i], unmapped[i]);
            }
        }
    }
    finish(&f, buf);
}

/*
 * Credentials
 */

/* A read into buf with I/O priority ioprio. */
static int32_t read_with_ioprio(Fixture *f, uint64_t buf, uint16_t ioprio)
{
    QUringSqe sqe;

    qvirtio_blk_uring_prep(f->u, &sqe, IORING_OP_READ_FIXED, buf, BLOCK,
                           0, ioprio);
    sqe.ioprio = ioprio;
    return qvirtio_blk_uring_submit_wait(f->u, &sqe);
}

/*
 * The real-time class needs CAP_SYS_ADMIN or CAP_SYS_NICE, which a VMM run
 * as root has; the ring must not.  Best effort and idle need nothing.
 */
static void test_ioprio(void)
{
    Fixture f;
    uint64_t buf = start(&f);

    g_assert_cmpint(read_with_ioprio(&f, buf, IOPRIO_PRIO_VALUE(
                                         IOPRIO_CLASS_BE, 4)), ==, BLOCK);
    g_assert_cmpint(read_with_ioprio(&f, buf, IOPRIO_PRIO_VALUE(
                                         IOPRIO_CLASS_IDLE, 0)), ==, BLOCK);
    g_assert_cmpint(read_with_ioprio(&f, buf, IOPRIO_PRIO_VALUE(
                                         IOPRIO_CLASS_RT, 0)), ==, -EPERM);
    g_assert_cmpint(read_with_ioprio(&f, buf, IOPRIO_PRIO_VALUE(
                                         IOPRIO_CLASS_RT, 7)), ==, -EPERM);
    finish(&f, buf);
}

/*
 * The owner process
 */

static uint64_t status_field(const char *status, const char *name)
{
    g_autofree char *key = g_strdup_printf("\n%s:", name);
    const char *p = strstr(status, key);

    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen(key), NULL,
                            g_str_has_prefix(name, "Cap") ? 16 : 10);
}

/*
 * Its descriptors: its channel to the VMM and the anchor ring (whose
 * SQPOLL thread the device's rings share), nothing else, not the disk nor
 * the device's rings.
 */
static void check_owner_fds(int owner)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", owner);
    g_autofree char *channel = g_strdup_printf("%s/3", dir);
    g_autofree char *target = g_file_read_link(channel, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    unsigned rings = 0;

    g_assert_cmpuint(count_dir(dir), ==, 2);
    g_assert_nonnull(target);
    g_assert_true(g_str_has_prefix(target, "socket:"));
    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
        g_autofree char *what = g_file_read_link(path, NULL);

        rings += what && !strcmp(what, "anon_inode:[io_uring]");
    }
    g_dir_close(d);
    g_assert_cmpuint(rings, ==, 1);
}

/*
 * It maps nothing of the VMM's; it holds two descriptors (its channel to
 * the VMM, the anchor ring); it has no capability but CAP_IPC_LOCK (for
 * pinning guest RAM as the VMM would), cannot gain any, and runs under a
 * seccomp filter.
 */
static void test_owner_process(void)
{
    static const char *const vmm_kinds[] = {
        ".so", "[heap]", "[stack]", "[vdso]", "[vvar",
    };
    Fixture f;
    uint64_t buf = start(&f);
    int owner = ring_owner(&f);
    g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe",
                                                qtest_pid(f.qts));
    g_autofree char *exe = g_file_read_link(exe_link, NULL);
    g_autofree char *maps = proc_file(owner, "maps");
    g_autofree char *status = proc_file(owner, "status");
    g_auto(GStrv) lines = g_strsplit(maps, "\n", -1);

    g_assert_nonnull(exe);
    for (unsigned i = 0; lines[i] && *lines[i]; i++) {
        bool vmm = strstr(lines[i], exe);

        for (unsigned k = 0; k < G_N_ELEMENTS(vmm_kinds); k++) {
            vmm = vmm || strstr(lines[i], vmm_kinds[k]);
        }
        if (vmm) {
            g_error("the ring owner maps '%s'", lines[i]);
        }
    }
    check_owner_fds(owner);
    g_assert_cmphex(status_field(status, "CapEff") &
                    ~(1ULL << CAP_IPC_LOCK), ==, 0);
    g_assert_cmphex(status_field(status, "CapPrm") &
                    ~(1ULL << CAP_IPC_LOCK), ==, 0);
    g_assert_cmphex(status_field(status, "CapInh"), ==, 0);
    g_assert_cmphex(status_field(status, "CapAmb"), ==, 0);
    g_assert_cmpuint(status_field(status, "NoNewPrivs"), ==, 1);
    g_assert_cmpuint(status_field(status, "Seccomp"), ==, 2);
    finish(&f, buf);
}

/*
 * A hostile guest
 */

static void test_bad_opcodes(void)
{
    static const uint8_t ops[] = {
        IORING_OP_READ, IORING_OP_WRITE, IORING_OP_READV, IORING_OP_WRITEV,
        IORING_OP_OPENAT, IORING_OP_OPENAT2, IORING_OP_FALLOCATE,
        IORING_OP_CLOSE, IORING_OP_FILES_UPDATE, IORING_OP_STATX,
        IORING_OP_SYNC_FILE_RANGE, IORING_OP_PROVIDE_BUFFERS,
        IORING_OP_MSG_RING, IORING_OP_URING_CMD, IORING_OP_SPLICE,
        IORING_OP_FADVISE, IORING_OP_MADVISE, IORING_OP_UNLINKAT,
        IORING_OP_POLL_ADD, IORING_OP_TIMEOUT, IORING_OP_ASYNC_CANCEL,
    };
    Fixture f;
    Target t;
    QUringSqe sqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    t = target_new(&f, 20);
    for (unsigned i = 0; i < G_N_ELEMENTS(ops); i++) {
        g_autofree char *what = g_strdup_printf("opcode %u", ops[i]);

        g_assert_cmphex(f.u->cfg.allowed_ops & OP_BIT(ops[i]), ==, 0);
        qvirtio_blk_uring_prep(f.u, &sqe, ops[i], t.gpa, TARGET_LEN, 0, i);
        expect_refused(&f, &sqe, -EACCES, what);
    }
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    target_check(&f, &t);
    round_trip(&f, 0, 4096, 21);
    fixture_cleanup(&f);
}

static void test_bad_flags(void)
{
    static const uint8_t bad[] = {
        IOSQE_ASYNC, IOSQE_BUFFER_SELECT, IOSQE_IO_HARDLINK,
        IOSQE_CQE_SKIP_SUCCESS,
    };
    Fixture f;
    Target t;
    QUringSqe sqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    t = target_new(&f, 22);

    /* Without IOSQE_FIXED_FILE; fd 0 is some file of the owner process. */
    for (int fd = 0; fd < 3; fd++) {
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                               TARGET_LEN, 0, 1);
        sqe.flags = 0;
        sqe.fd = fd;
        expect_refused(&f, &sqe, -EACCES, "WRITE_FIXED without fixed file");
        sqe.opcode = IORING_OP_READ_FIXED;
        expect_refused(&f, &sqe, -EACCES, "READ_FIXED without fixed file");
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *what = g_strdup_printf("SQE flag 0x%x", bad[i]);
        /*
         * io_uring checks IOSQE_BUFFER_SELECT against the opcode before
         * the restrictions: READ/WRITE_FIXED cannot select buffers.
         */
        int32_t res = bad[i] == IOSQE_BUFFER_SELECT ? -EOPNOTSUPP : -EACCES;

        g_assert_cmphex(f.u->cfg.sqe_flags_allowed & bad[i], ==, 0);
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ_FIXED, t.gpa,
                               TARGET_LEN, 0, 2);
        sqe.flags |= bad[i];
        expect_refused(&f, &sqe, res, what);
        sqe.opcode = IORING_OP_WRITE_FIXED;
        expect_refused(&f, &sqe, res, what);
    }
    /* An opcode that can select buffers: the restrictions refuse it. */
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ, t.gpa, TARGET_LEN, 0, 3);
    sqe.flags |= IOSQE_BUFFER_SELECT;
    expect_refused(&f, &sqe, -EACCES, "READ with IOSQE_BUFFER_SELECT");
    /* A flag io_uring does not know */
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_READ_FIXED, t.gpa, TARGET_LEN,
                           0, 4);
    sqe.flags |= 0x80;
    expect_refused(&f, &sqe, -EINVAL, "SQE flag 0x80");
    target_check(&f, &t);
    round_trip(&f, 0, 4096, 23);
    fixture_cleanup(&f);
}

static void test_bad_file_index(void)
{
    static const int32_t fds[] = { 1, 2, 1000, INT32_MAX, -1 };
    Fixture f;
    Target t;
    QUringSqe sqe;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    t = target_new(&f, 24);
    for (unsigned i = 0; i < G_N_ELEMENTS(fds); i++) {
        g_autofree char *what = g_strdup_printf("fixed file %d", fds[i]);

        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                               TARGET_LEN, 0, i);
        sqe.fd = fds[i];
        expect_refused(&f, &sqe, -EBADF, what);
        sqe.opcode = IORING_OP_READ_FIXED;
        expect_refused(&f, &sqe, -EBADF, what);
        sqe.opcode = IORING_OP_FSYNC;
        sqe.addr = sqe.len = sqe.buf_index = 0;
        expect_refused(&f, &sqe, -EBADF, what);
    }
    target_check(&f, &t);
    fixture_cleanup(&f);
}

/* Both directions, with addr and buf_index as given: -EFAULT. */
static void expect_efault(Fixture *f, uint64_t addr, uint32_t len,
                          uint16_t buf_index, const char *what)
{
    QUringSqe sqe;

    qvirtio_blk_uring_prep(f->u, &sqe, IORING_OP_READ_FIXED, 0, len, 4096, 1);
    sqe.addr = addr;
    sqe.buf_index = buf_index;
    expect_refused(f, &sqe, -EFAULT, what);
    sqe.opcode = IORING_OP_WRITE_FIXED;
    expect_refused(f, &sqe, -EFAULT, what);
}

static void test_bad_buffers(void)
{
    Fixture f;
    Target t;
    Canary top;
    uint64_t base, ram = (uint64_t)RAM_MB << 20;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    base = f.u->cfg.ram_host_base;
    t = target_new(&f, 25);
    /* The last 64 KiB of RAM (the allocator works from the bottom). */
    top = canary_set(&f, ram - CANARY_LEN, CANARY_LEN, 26);

    /* Outside guest RAM */
    expect_efault(&f, base - 4096, 4096, 0, "below ram_host_base");
    expect_efault(&f, base - 4096, 8192, 0, "straddling ram_host_base");
    expect_efault(&f, 0, 4096, 0, "host address 0");
    expect_efault(&f, 0x400000, 4096, 0, "a low host address");
    expect_efault(&f, base + 0xc0000000, 4096, 0, "the PCI MMIO window");
    expect_efault(&f, base + 0xc0000000, 4096, 0xc0000000 >> BUF_SHIFT,
                  "the PCI MMIO window, its own window");
    expect_efault(&f, base + 0xfee00000, 4096, 3, "the local APIC");
    expect_efault(&f, base + ram, 4096, 0, "just past the end of RAM");
    expect_efault(&f, base + 4 * GIB, 4096, 4, "above 4 GiB without RAM");
    /* Straddling the end of RAM (also the end of window 0 here) */
    expect_efault(&f, base + ram - 4096, 8192, 0, "straddling the end of RAM");
    expect_efault(&f, base + ram - 1, 2, 0, "the last byte of RAM and one");
    /* buf_index out of range, with a buffer in RAM */
    expect_efault(&f, base + t.gpa, 4096, f.u->cfg.nr_bufs,
                  "buf_index nr_bufs");
    expect_efault(&f, base + t.gpa, 4096, 1000, "buf_index 1000");
    expect_efault(&f, base + t.gpa, 4096, 0xffff, "buf_index 0xffff");
    /* Lengths that overflow or run off the buffer */
    expect_efault(&f, UINT64_MAX - 4095, 8192, 0, "addr + len wrapping");
    expect_efault(&f, base + t.gpa, UINT32_MAX, 0, "len 4 GiB - 1");
    expect_efault(&f, base + t.gpa, (uint32_t)ram, 0, "len = RAM size");
    expect_efault(&f, base + 0x100000, 0x80000000u, 0, "len 2 GiB");

    canary_check(&f, &top);
    target_check(&f, &t);
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    round_trip(&f, 0, 4096, 27);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * With RAM above 4 GiB: five 1 GiB windows (two of them empty, one holding
 * the PCI hole); addresses must stay in their own window.
 */
#define BIG_RAM_MB      (2048 + 256)

/* MemAvailable of the host, in bytes. */
static uint64_t mem_available(void)
{
    g_autofree char *text = NULL;
    const char *p;

    g_assert_true(g_file_get_contents("/proc/meminfo", &text, NULL, NULL));
    p = strstr(text, "MemAvailable:");
    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen("MemAvailable:"), NULL, 10) << 10;
}

static void test_windows(void)
{
    const uint64_t high_end = 4 * GIB + (256ULL << 20);
    Fixture f;
    uint64_t base;
    Canary c[4];

    /* FEATURES_OK pins all of guest RAM. */
    if (mem_available() < 2 * ((uint64_t)BIG_RAM_MB << 20)) {
        g_test_skip("needs twice the guest RAM available on the host");
        return;
    }
    fixture_init(&f, BIG_RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    base = f.u->cfg.ram_host_base;
    g_assert_cmpuint(f.u->cfg.nr_bufs, ==, 5);

    /* Requests in windows 1 and 4 work (buf_index 1 and 4). */
    {
        uint8_t pattern[4096];
        uint64_t gpas[] = { GIB + 0x100000, 4 * GIB + 0x100000 };

        for (unsigned i = 0; i < G_N_ELEMENTS(gpas); i++) {
            fill_pattern(pattern, sizeof(pattern), 30 + i);
            qtest_memwrite(f.qts, gpas[i], pattern, sizeof(pattern));
            g_assert_cmpint(uring_rw(&f, IORING_OP_WRITE_FIXED, gpas[i],
                                     4096, 8192 * (i + 1)), ==, 4096);
            memcpy(f.expected + 8192 * (i + 1), pattern, 4096);
            qtest_memset(f.qts, gpas[i], 0, 4096);
            g_assert_cmpint(uring_rw(&f, IORING_OP_READ_FIXED, gpas[i],
                                     4096, 8192 * (i + 1)), ==, 4096);
            guest_expect(&f, gpas[i], pattern, sizeof(pattern));
        }
    }

    c[0] = canary_set(&f, GIB - CANARY_LEN / 2, CANARY_LEN, 31);
    c[1] = canary_set(&f, 2 * GIB - CANARY_LEN, CANARY_LEN, 32);
    c[2] = canary_set(&f, 4 * GIB, CANARY_LEN, 33);
    c[3] = canary_set(&f, high_end - CANARY_LEN, CANARY_LEN, 34);

    expect_efault(&f, base + GIB - 4096, 8192, 0,
                  "straddling windows 0 and 1, as 0");
    expect_efault(&f, base + GIB - 4096, 8192, 1,
                  "straddling windows 0 and 1, as 1");
    expect_efault(&f, base + GIB - 4096, 4096, 1,
                  "window 0 named as window 1");
    expect_efault(&f, base + GIB, 4096, 0, "window 1 named as window 0");
    expect_efault(&f, base + 2 * GIB - 4096, 8192, 1,
                  "straddling the end of low RAM");
    expect_efault(&f, base + 2 * GIB, 4096, 2, "the empty window 2");
    expect_efault(&f, base + 2 * GIB, 4096, 1, "past low RAM, as window 1");
    expect_efault(&f, base + 0xc0000000, 4096, 3, "the PCI MMIO window");
    expect_efault(&f, base + 0xfee00000, 4096, 3, "the local APIC");
    expect_efault(&f, base + 4 * GIB - 4096, 8192, 4,
                  "straddling the start of high RAM");
    expect_efault(&f, base + 4 * GIB, 4096, 3, "high RAM named as window 3");
    expect_efault(&f, base + high_end - 4096, 8192, 4,
                  "straddling the end of high RAM");
    expect_efault(&f, base + high_end, 4096, 4, "past the end of high RAM");
    expect_efault(&f, base + high_end, 4096, 5, "window 5");

    for (unsigned i = 0; i < G_N_ELEMENTS(c); i++) {
        canary_check(&f, &c[i]);
    }
    check_image(&f);
    fixture_cleanup(&f);
}

/* Entries of the SQ array that name no SQE are dropped and counted. */
static void test_bad_sq_array(void)
{
    static const uint32_t garbage[] = { 0, 1, 0x10000, UINT32_MAX };
    Fixture f;
    QUringSqe sqe;
    QVirtioBlkUring *u;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=16");
    qvirtio_blk_uring_start(f.u);
    u = f.u;
    for (unsigned i = 0; i < G_N_ELEMENTS(garbage); i++) {
        const uint32_t dropped_off = u->cfg.sq_off.dropped;
        uint32_t slot = u->sq_tail & (u->cfg.sq_entries - 1);
        uint32_t dropped = qvirtio_blk_uring_ring_readl(u, dropped_off);
        uint32_t bad = garbage[i] < 2 ? u->cfg.sq_entries + garbage[i]
                                      : garbage[i];
        gint64 deadline = g_get_monotonic_time() + WAIT_US;

        qvirtio_blk_uring_prep(u, &sqe, IORING_OP_NOP, 0, 0, 0, 50 + i);
        qvirtio_blk_uring_queue(u, &sqe);
        qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.array + 4 * slot, bad);
        qvirtio_blk_uring_kick(u);
        while (qvirtio_blk_uring_ring_readl(u, dropped_off) == dropped) {
            if (g_get_monotonic_time() >= deadline) {
                g_error("SQ array entry %u was not dropped", bad);
            }
            g_usleep(1000);
        }
        g_assert_cmpuint(qvirtio_blk_uring_ring_readl(u, dropped_off), ==,
                         dropped + 1);
        g_assert_cmpuint(qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.head),
                         ==, u->sq_tail);
        expect_no_cqe(&f, "for a dropped SQ entry");
        qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.array + 4 * slot, slot);
        g_assert_cmpint(uring_rw(&f, IORING_OP_NOP, 0, 0, 0), ==, 0);
    }
    round_trip(&f, 0, 4096, 40);
    check_image(&f);
    fixture_cleanup(&f);
}

/* Wait for a 32-bit ring field to leave value; false on timeout. */
static bool wait_ring_change(Fixture *f, uint32_t off, uint32_t value)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    while (qvirtio_blk_uring_ring_readl(f->u, off) == value) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

/* Garbage ring indices: the VMM carries on, and a reset recovers. */
static void test_bad_ring_indices(void)
{
    Fixture f;
    QVirtioBlkUring *u;
    QUringSqe sqe;
    QUringCqe cqe;
    uint32_t head;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=16");
    qvirtio_blk_uring_start(f.u);
    u = f.u;

    /* SQ tail far ahead of the head, over a ring full of NOPs */
    for (uint32_t i = 0; i < u->cfg.sq_entries; i++) {
        qvirtio_blk_uring_prep(u, &sqe, IORING_OP_NOP, 0, 0, 0, i);
        qvirtio_blk_uring_queue(u, &sqe);
    }
    head = qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.head);
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.tail, head + 0x40000000);
    qvirtio_blk_uring_doorbell(u);
    g_assert_true(wait_ring_change(&f, u->cfg.sq_off.head, head));
    /* The kernel works through them; the VMM keeps answering. */
    g_usleep(20 * 1000);
    check_vmm_alive(&f);
    g_assert_cmphex(qvirtio_pci_get_status(&u->vdev) &
                    VIRTIO_CONFIG_S_DRIVER_OK, !=, 0);
    qvirtio_blk_uring_reset(u);
    check_config_zero(&f);
    qvirtio_blk_uring_start(u);
    round_trip(&f, 0, 4096, 41);

    /* SQ head, ring_mask and ring_entries are the kernel's: writes to them
     * change nothing it does. */
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.head, 0x12345678);
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.ring_mask, 0xffffffff);
    qvirtio_blk_uring_ring_writel(u, u->cfg.sq_off.ring_entries, 0xffffffff);
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.ring_mask, 0xffffffff);
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.tail, 0x7777);
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.tail, u->cq_head);
    round_trip(&f, 4096, 4096, 42);

    /* CQ head far ahead of the tail: the CQ looks full, CQEs overflow */
    qvirtio_blk_uring_ring_writel(u, u->cfg.cq_off.head,
                                  u->cq_head + 0x80000000);
    qvirtio_blk_uring_prep(u, &sqe, IORING_OP_NOP, 0, 0, 0, 77);
    qvirtio_blk_uring_queue(u, &sqe);
    qvirtio_blk_uring_kick(u);
    g_assert_true(wait_ring_change(&f, u->cfg.sq_off.head, u->sq_tail - 1));
    g_usleep(20 * 1000);
    check_vmm_alive(&f);
    qvirtio_blk_uring_reset(u);
    qvirtio_blk_uring_start(u);
    round_trip(&f, 8192, 4096, 43);
    g_assert_false(qvirtio_blk_uring_pop_cqe(u, &cqe));
    check_image(&f);
    fixture_cleanup(&f);
}

/* Writes at or past the end of the disk never grow the image. */
static void test_past_end(void)
{
    static const uint64_t offs[] = {
        IMAGE_SIZE, IMAGE_SIZE + 1, IMAGE_SIZE + (1 << 20), 1ULL << 40,
        (1ULL << 62),
    };
    Fixture f;
    Target t;
    QUringSqe sqe;
    uint8_t pattern[TARGET_LEN];
    int32_t res;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpuint(f.u->cfg.disk_size, ==, IMAGE_SIZE);
    t = target_new(&f, 50);

    for (unsigned i = 0; i < G_N_ELEMENTS(offs); i++) {
        g_autofree char *what = g_strdup_printf("write at 0x%" PRIx64,
                                                offs[i]);

        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                               TARGET_LEN, offs[i], i);
        expect_refused(&f, &sqe, -EFBIG, what);
        g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
        /* Reads there find nothing and leave the buffer alone. */
        sqe.opcode = IORING_OP_READ_FIXED;
        g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, 0);
    }
    /* RWF_APPEND writes at the end, whatever off says. */
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                           TARGET_LEN, 0, 8);
    sqe.rw_flags = RWF_APPEND;
    expect_refused(&f, &sqe, -EFBIG, "write with RWF_APPEND");
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    target_check(&f, &t);

    /* Straddling the end: a short write of what fits, or an error. */
    t = target_new(&f, 51);
    qtest_memread(f.qts, t.gpa, pattern, sizeof(pattern));
    qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                           TARGET_LEN, IMAGE_SIZE - 1024, 9);
    res = qvirtio_blk_uring_submit_wait(f.u, &sqe);
    g_test_message("a write straddling the end completed with %d", res);
    if (res != -EFBIG) {
        g_assert_cmpint(res, ==, 1024);
        memcpy(f.expected + IMAGE_SIZE - 1024, pattern, 1024);
    }
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    /* A read straddling the end is short. */
    sqe.opcode = IORING_OP_READ_FIXED;
    sqe.addr = f.u->cfg.ram_host_base + t.canary.gpa;
    g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, 1024);
    memcpy(t.canary.data, f.expected + IMAGE_SIZE - 1024, 1024);
    target_check(&f, &t);
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    round_trip(&f, IMAGE_SIZE - 4096, 4096, 52);
    check_image(&f);
    fixture_cleanup(&f);
}

/* An empty image file must stay empty too. */
static void test_empty_image(void)
{
    Fixture f;
    Target t;
    QUringSqe sqe;

    fixture_init_image(&f, 0, false, RAM_MB, "", URING, false);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpuint(f.u->cfg.disk_size, ==, 0);
    t = target_new(&f, 53);
    for (uint64_t off = 0; off <= 8192; off += 4096) {
        qvirtio_blk_uring_prep(f.u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                               TARGET_LEN, off, off);
        expect_refused(&f, &sqe, -EFBIG, "write to an empty image");
        g_assert_cmpuint(file_size(f.image), ==, 0);
        sqe.opcode = IORING_OP_READ_FIXED;
        g_assert_cmpint(qvirtio_blk_uring_submit_wait(f.u, &sqe), ==, 0);
    }
    target_check(&f, &t);
    fixture_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk-uring/confinement/pointers", test_pointers);
    g_test_add_func("/virtio-blk-uring/confinement/ioprio", test_ioprio);
    g_test_add_func("/virtio-blk-uring/confinement/owner-process",
                    test_owner_process);
    g_test_add_func("/virtio-blk-uring/hostile/opcodes", test_bad_opcodes);
    g_test_add_func("/virtio-blk-uring/hostile/flags", test_bad_flags);
    g_test_add_func("/virtio-blk-uring/hostile/file-index",
                    test_bad_file_index);
    g_test_add_func("/virtio-blk-uring/hostile/buffers", test_bad_buffers);
    g_test_add_func("/virtio-blk-uring/hostile/windows", test_windows);
    g_test_add_func("/virtio-blk-uring/hostile/sq-array", test_bad_sq_array);
    g_test_add_func("/virtio-blk-uring/hostile/ring-indices",
                    test_bad_ring_indices);
    g_test_add_func("/virtio-blk-uring/hostile/past-end", test_past_end);
    g_test_add_func("/virtio-blk-uring/hostile/empty-image", test_empty_image);
    return g_test_run();
}
