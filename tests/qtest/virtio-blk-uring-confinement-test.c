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
 * the VMM, the anchor ring); it has no capability but CAP_IPC_LOCK (for pinning guest RAM
 * as the VMM would), cannot gain any, and runs under a seccomp filter.
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk-uring/confinement/pointers", test_pointers);
    g_test_add_func("/virtio-blk-uring/confinement/ioprio", test_ioprio);
    g_test_add_func("/virtio-blk-uring/confinement/owner-process",
                    test_owner_process);
    return g_test_run();
}
