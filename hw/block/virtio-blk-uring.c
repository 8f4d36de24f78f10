/*
 * virtio-blk io_uring passthrough: the device side of
 * docs/specs/virtio-blk-uring.rst.
 *
 * At realize, the device's memory cgroup is made and a probe ring checks
 * what the host allows and fixes the layout of shared memory region 0.  At
 * FEATURES_OK the real ring is created (by its owner process, see
 * virtio-blk-uring-owner.h), disabled, with the disk as fixed file 0,
 * guest RAM as fixed buffers, the completion eventfd and the restrictions;
 * its rings are mapped into region 0.  DRIVER_OK enables it, and from then
 * on a watch thread (virtio-blk-uring-watch.h) looks for what would end it
 * behind the device's back: the guest letting completions overflow, the
 * owner process dying.  Either withdraws the rings, as the guest's reset
 * does: cut the guest off, let the requests in flight finish, destroy ring,
 * threads and owner.
 *
 * Threads: everything here runs with the BQL held (device realize,
 * register writes from vCPUs or qtest, the main loop's withdraw handler),
 * except the doorbell, which runs in the device's AioContext (an iothread
 * or the main loop), and the watch thread's callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/capability.h>
#include <linux/virtio_blk.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/guest-ram.h"
#include "exec/memory.h"
#include "hw/block/virtio-blk-uring-overflow.h"
#include "hw/block/virtio-blk-uring-owner.h"
#include "hw/block/virtio-blk-uring-query.h"
#include "hw/block/virtio-blk-uring-watch.h"
#include "hw/block/virtio-blk-uring.h"
#include "hw/virtio/virtio-blk.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/eventfd.h"
#include "qemu/memory-cgroup.h"

#define VIRTIO_BLK_F_URING_PASSTHROUGH  23
#define URING_CONFIG_OFFSET             0x100
#define URING_BUF_SHIFT                 30      /* the kernel's 1 GiB limit */
#define URING_FILE_INDEX                0
#define URING_MAX_ENTRIES               4096

/* The extension's configuration fields (the spec's table). */
typedef struct __attribute__((packed)) VirtIOBlkUringConfig {
    uint32_t sq_entries;
    uint32_t cq_entries;
    uint32_t setup_flags;
    uint32_t features;
    uint32_t sq_off[7];
    uint32_t cq_off[7];
    uint64_t rings_offset;
    uint64_t rings_size;
    uint64_t sqes_offset;
    uint64_t sqes_size;
    uint64_t ram_host_base;
    uint64_t disk_size;
    uint64_t allowed_ops;
    uint32_t buf_shift;
    uint32_t nr_bufs;
    uint32_t file_index;
    uint32_t dma_alignment;
    uint16_t msix_vector;
    uint16_t doorbell_notify_off;
    uint8_t sqe_flags_required;
    uint8_t sqe_flags_allowed;
    uint16_t reserved;
} VirtIOBlkUringConfig;

G_STATIC_ASSERT(sizeof(VirtIOBlkUringConfig) == 0x98);

#define SQE_FLAGS_REQUIRED  IOSQE_FIXED_FILE
#define SQE_FLAGS_ALLOWED   (IOSQE_IO_LINK | IOSQE_IO_DRAIN)

/* Why the rings were withdrawn behind the driver's back. */
typedef enum WithdrawReason {
    WITHDRAW_NONE,
    WITHDRAW_OVERFLOW,          /* the driver let the CQ overflow */
    WITHDRAW_OWNER_EXITED,      /* the owner process (and SQPOLL) ended */
    WITHDRAW_DOORBELL,          /* the SQPOLL thread cannot be woken */
} WithdrawReason;

struct VirtIOBlkUring {
    VirtIOBlock *s;
    /* fixed at realize */
    char *label;                    /* "virtio-blk: drive 'd0'" */
    unsigned entries;
    uint32_t setup_flags;
    uint64_t allowed_ops;
    struct io_uring_params layout;  /* offsets, as the probe ring had them */
    uint64_t rings_size;
    uint64_t sqes_size;
    unsigned nr_bufs;
    MemoryCgroup *cgroup;           /* the owners', or NULL */
    MemoryRegion shm;               /* region 0: a container */
    int doorbell_fd;
    int completion_fd;
    int withdraw_fd;                /* main loop: see withdraw_later() */
    void *irqfd;
    uint16_t msix_vector;
    /* the live ring */
    UringOwner owner;
    int ring_fd;
    void *rings;
    void *sqes;
    MemoryRegion rings_mr;
    MemoryRegion sqes_mr;
    AioContext *ctx;                /* where the doorbell is served */
    UringWatch *watch;              /* the device's watch thread */
    gint withdraw_reason;           /* WithdrawReason: the first one seen */
    gint doorbell_errno;
    /* Withdrawn from the guest until the device is reset: why (the
     * query's reason), or NULL */
    const char *withdrawn;
};

static void (*withdraw_notifier)(const char *dev_id, const char *reason);

static int uring_register(int fd, unsigned op, const void *arg, unsigned nr)
{
    int ret = syscall(__NR_io_uring_register, fd, op, arg, nr);
    return ret < 0 ? -errno : ret;
}

static const char *drive_name(VirtIOBlkUring *u)
{
    return blk_name(u->s->conf.blk);
}

/* A one-block read on an IOPOLL ring: EOPNOTSUPP if it cannot poll. */
static int probe_iopoll(VirtIOBlkUring *u)
{
    BlockBackend *blk = u->s->conf.blk;
    size_t len = MAX(blk_get_request_alignment(blk), 4096);
    struct io_uring ring;
    struct io_uring_cqe *cqe;
    void *buf = NULL;
    int ret;

    ret = io_uring_queue_init(2, &ring, IORING_SETUP_IOPOLL);
    if (ret < 0) {
        return ret;
    }
    if (posix_memalign(&buf, len, len)) {
        io_uring_queue_exit(&ring);
        return -ENOMEM;
    }
    io_uring_prep_read(io_uring_get_sqe(&ring), blk_get_fd(blk), buf, len, 0);
    ret = io_uring_submit_and_wait(&ring, 1);
    if (ret >= 0) {
        ret = io_uring_wait_cqe(&ring, &cqe);
        if (ret == 0) {
            ret = cqe->res < 0 ? cqe->res : 0;
            io_uring_cqe_seen(&ring, cqe);
        }
    }
    io_uring_queue_exit(&ring);
    free(buf);
    return ret;
}

/* Whether the block queue of device dev polls: 1, 0, or -1 if unknown. */
static int queue_polls(dev_t dev)
{
    /* A partition's queue is its disk's, one directory up. */
    static const char *const paths[] = {
        "/sys/dev/block/%u:%u/queue/io_poll",
        "/sys/dev/block/%u:%u/../queue/io_poll",
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(paths); i++) {
        g_autofree char *path = g_strdup_printf(paths[i], major(dev),
                                                minor(dev));
        g_autofree char *value = NULL;

        if (g_file_get_contents(path, &value, NULL, NULL)) {
            return atoi(value) > 0;
        }
    }
    return -1;
}

/*
 * Can the drive complete polled I/O?  Only with O_DIRECT, on a block
 * device queue that has poll queues (its queue/io_poll is 1): a read of
 * the file alone cannot tell, since one that finds a hole in a sparse
 * image never reaches the disk.  A read on an IOPOLL ring then confirms
 * that the file system polls too.  NULL if it can, else why not.
 */
static char *why_no_iopoll(VirtIOBlkUring *u)
{
    int fd = blk_get_fd(u->s->conf.blk);
    struct stat st;
    dev_t dev;
    int ret;

    if (!(fcntl(fd, F_GETFL) & O_DIRECT)) {
        return g_strdup("it is not opened with O_DIRECT (cache=none or "
                        "cache=directsync)");
    }
    if (fstat(fd, &st) < 0) {
        return g_strdup_printf("fstat: %s", g_strerror(errno));
    }
    dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
    ret = major(dev) ? queue_polls(dev) : -1;
    if (ret < 0) {
        return g_strdup_printf("no block device queue found for device "
                               "%u:%u", major(dev), minor(dev));
    }
    if (!ret) {
        return g_strdup_printf("its block device %u:%u has no poll queues "
                               "(queue/io_poll is 0)", major(dev),
                               minor(dev));
    }
    ret = probe_iopoll(u);
    return ret < 0 ? g_strdup(g_strerror(-ret)) : NULL;
}

static uint64_t fsize_limit(VirtIOBlkUring *u)
{
    /* Block devices cannot grow; RLIMIT_FSIZE does not apply to them. */
    return blk_is_block_device(u->s->conf.blk) ? UINT64_MAX
                                                : blk_getlength(u->s->conf.blk);
}

/*
 * Change the running ring's file size limit: its owner's soft limit (its
 * hard limit is none, and it can no longer change either itself).  -errno.
 */
static int set_fsize_limit(VirtIOBlkUring *u, uint64_t size)
{
    struct rlimit rl = { .rlim_cur = size, .rlim_max = RLIM_INFINITY };

    if (u->owner.pid <= 0 || blk_is_block_device(u->s->conf.blk)) {
        return 0;
    }
    return prlimit(u->owner.pid, RLIMIT_FSIZE, &rl, NULL) < 0 ? -errno : 0;
}

static int create_ring(VirtIOBlkUring *u, struct io_uring_params *p,
                       GError **errp)
{
    VirtIOBlkConf *c = &u->s->conf;

    memset(p, 0, sizeof(*p));
    p->flags = u->setup_flags | IORING_SETUP_R_DISABLED;
    p->sq_thread_idle = c->uring_sq_idle_ms;
    p->sq_thread_cpu = c->uring_sq_cpu >= 0 ? c->uring_sq_cpu : 0;
    return uring_owner_start(&u->owner, u->entries, p, fsize_limit(u),
                             u->cgroup, errp);
}

static void destroy_ring(VirtIOBlkUring *u)
{
    if (u->ring_fd >= 0) {
        close(u->ring_fd);
        u->ring_fd = -1;
    }
    uring_owner_stop(&u->owner);
}

/*
 * Explain a set-up failure (of what, if err does not say) in terms of what
 * the host lacks: err's code is the errno of io_uring_setup() or
 * io_uring_register(), or 0.
 */
static void explain_setup_error(GError **errp, const GError *err,
                                const char *what)
{
    const char *why = "";

    if (err->code == EPERM) {
        why = " (io_uring is disabled for this user: see "
              "/proc/sys/kernel/io_uring_disabled and io_uring_group; or "
              "the kernel is older than Linux 5.11)";
    } else if (err->code == ENOSYS) {
        why = " (the host kernel has no io_uring)";
    } else if (err->code == EINVAL) {
        why = " (the host kernel is too old: Linux 5.11 or later is needed)";
    }
    if (what) {
        error_setg(errp, "uring-passthrough: %s: %s%s", what, err->message,
                   why);
    } else {
        error_setg(errp, "uring-passthrough: %s%s", err->message, why);
    }
}

/* What the ring allows: see "Confinement" in the spec. */
static uint64_t choose_allowed_ops(VirtIOBlkUring *u)
{
    BlockBackend *blk = u->s->conf.blk;
    uint64_t ops = (1ULL << IORING_OP_NOP) | (1ULL << IORING_OP_READ_FIXED);

    if (!blk_is_read_only(blk)) {
        ops |= 1ULL << IORING_OP_WRITE_FIXED;
    }
    if (blk_enable_write_cache(blk)) {
        ops |= 1ULL << IORING_OP_FSYNC;
    }
    return ops;
}

static int install_restrictions(VirtIOBlkUring *u)
{
    struct io_uring_restriction r[64 + 2];
    unsigned n = 0;

    memset(r, 0, sizeof(r));
    for (unsigned op = 0; op < 64; op++) {
        if (u->allowed_ops & (1ULL << op)) {
            r[n].opcode = IORING_RESTRICTION_SQE_OP;
            r[n++].sqe_op = op;
        }
    }
    r[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
    r[n++].sqe_flags = SQE_FLAGS_REQUIRED;
    r[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
    r[n++].sqe_flags = SQE_FLAGS_ALLOWED;
    /* No IORING_RESTRICTION_REGISTER_OP: no register op once enabled. */
    return uring_register(u->ring_fd, IORING_REGISTER_RESTRICTIONS, r, n);
}

/* Window n of guest physical memory, as a fixed buffer (empty: a hole). */
static struct iovec ram_window(unsigned n)
{
    uint64_t start = (uint64_t)n << URING_BUF_SHIFT;
    uint64_t end = start + (1ULL << URING_BUF_SHIFT);

    for (unsigned i = 0; i < guest_ram_nr_ranges(); i++) {
        const GuestRAMRange *r = guest_ram_range(i);
        uint64_t lo = MAX(start, r->gpa), hi = MIN(end, r->gpa + r->size);
        if (lo < hi) {
            return (struct iovec){ guest_ram_host_addr(lo), hi - lo };
        }
    }
    return (struct iovec){ NULL, 0 };
}

/*
 * The ring gets a descriptor of its own for the disk.  The drive's holds the
 * image's locks, and the kernel lets go of a ring's files only when the
 * ring's asynchronous teardown ends, which may be after the VMM exited: the
 * image would stay locked for a moment.
 */
static int register_disk(VirtIOBlkUring *u)
{
    int drive_fd = blk_get_fd(u->s->conf.blk);
    int flags = fcntl(drive_fd, F_GETFL);
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", drive_fd);
    int fd, ret;

    fd = open(path, (flags & (O_ACCMODE | O_DIRECT | O_DSYNC | O_SYNC)) |
                    O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    ret = uring_register(u->ring_fd, IORING_REGISTER_FILES, &fd, 1);
    close(fd);
    return ret;
}

/* Does the VMM have CAP_IPC_LOCK (which its ring owners keep)? */
static bool vmm_can_lock_memory(void)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];

    return syscall(SYS_capget, &hdr, caps) == 0 &&
           (caps[0].permitted & (1U << CAP_IPC_LOCK));
}

/*
 * Registering guest RAM as fixed buffers pins it, which the kernel charges
 * to RLIMIT_MEMLOCK unless the ring's owner has CAP_IPC_LOCK.  Check that
 * the RAM fits (the kernel adds what the VMM's user has pinned already,
 * other passthrough devices included).
 */
static bool check_memlock(GError **errp)
{
    struct rlimit rl;
    uint64_t ram = 0;

    if (vmm_can_lock_memory() || getrlimit(RLIMIT_MEMLOCK, &rl) < 0 ||
        rl.rlim_cur == RLIM_INFINITY) {
        return true;
    }
    for (unsigned i = 0; i < guest_ram_nr_ranges(); i++) {
        ram += guest_ram_range(i)->size;
    }
    if (ram <= rl.rlim_cur) {
        return true;
    }
    g_autofree char *ram_text = size_to_str(ram);
    g_autofree char *limit_text = size_to_str(rl.rlim_cur);
    error_setg(errp, "uring-passthrough: guest RAM (%s) must be pinned, but "
               "RLIMIT_MEMLOCK allows %s: raise it (ulimit -l) or give the "
               "VMM CAP_IPC_LOCK", ram_text, limit_text);
    return false;
}

/*
 * The drive, the completion eventfd, guest RAM (if with_ram) and the
 * restrictions; err's code is the failing call's errno.
 */
static bool register_resources(VirtIOBlkUring *u, bool with_ram,
                               GError **errp)
{
    g_autofree struct iovec *bufs = NULL;
    int ret;

    ret = register_disk(u);
    if (ret < 0) {
        g_set_error(errp, QEMU_ERROR, -ret, "cannot register the drive: %s",
                    g_strerror(-ret));
        return false;
    }
    ret = uring_register(u->ring_fd, IORING_REGISTER_EVENTFD,
                         &u->completion_fd, 1);
    if (ret < 0) {
        g_set_error(errp, QEMU_ERROR, -ret, "cannot register the completion "
                    "eventfd: %s", g_strerror(-ret));
        return false;
    }
    if (with_ram) {
        bufs = g_new(struct iovec, u->nr_bufs);
        for (unsigned i = 0; i < u->nr_bufs; i++) {
            bufs[i] = ram_window(i);
        }
        ret = uring_register(u->ring_fd, IORING_REGISTER_BUFFERS, bufs,
                             u->nr_bufs);
        if (ret < 0) {
            g_set_error(errp, QEMU_ERROR, -ret, "cannot pin guest RAM as "
                        "fixed buffers: %s%s", g_strerror(-ret),
                        ret == -ENOMEM && !vmm_can_lock_memory() ?
                        " (RLIMIT_MEMLOCK too small?)" : "");
            return false;
        }
    }
    ret = install_restrictions(u);
    if (ret < 0) {
        g_set_error(errp, QEMU_ERROR, -ret, "cannot restrict the io_uring: "
                    "%s", g_strerror(-ret));
        return false;
    }
    return true;
}

static uint64_t page_align(uint64_t size)
{
    uint64_t page = sysconf(_SC_PAGESIZE);

    return (size + page - 1) & ~(page - 1);
}

/* The ring's mappings, as sized by its parameters (io_uring_setup(2)). */
static void ring_sizes(const struct io_uring_params *p, uint64_t *rings,
                       uint64_t *sqes)
{
    uint64_t sq = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
    uint64_t cq = p->cq_off.cqes +
                  p->cq_entries * sizeof(struct io_uring_cqe);

    *rings = page_align(MAX(sq, cq));
    *sqes = page_align(p->sq_entries * sizeof(struct io_uring_sqe));
}

static bool map_rings(VirtIOBlkUring *u, GError **errp)
{
    u->rings = mmap(NULL, u->rings_size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, u->ring_fd, IORING_OFF_SQ_RING);
    if (u->rings == MAP_FAILED) {
        u->rings = NULL;
        error_setg_errno(errp, errno, "cannot map the io_uring rings");
        return false;
    }
    u->sqes = mmap(NULL, u->sqes_size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, u->ring_fd, IORING_OFF_SQES);
    if (u->sqes == MAP_FAILED) {
        u->sqes = NULL;
        error_setg_errno(errp, errno, "cannot map the io_uring SQEs");
        return false;
    }
    memory_region_init_ram_ptr(&u->rings_mr, "uring-rings", u->rings_size,
                               u->rings);
    memory_region_init_ram_ptr(&u->sqes_mr, "uring-sqes", u->sqes_size,
                               u->sqes);
    memory_region_add_subregion(&u->shm, 0, &u->rings_mr);
    memory_region_add_subregion(&u->shm, u->rings_size, &u->sqes_mr);
    return true;
}

static void unmap_rings(VirtIOBlkUring *u)
{
    if (u->rings_mr.name) {
        memory_region_del_subregion(&u->shm, &u->rings_mr);
        memory_region_destroy(&u->rings_mr);
    }
    if (u->sqes_mr.name) {
        memory_region_del_subregion(&u->shm, &u->sqes_mr);
        memory_region_destroy(&u->sqes_mr);
    }
    if (u->rings) {
        munmap(u->rings, u->rings_size);
        u->rings = NULL;
    }
    if (u->sqes) {
        munmap(u->sqes, u->sqes_size);
        u->sqes = NULL;
    }
}

/*
 * The probe: the same ring as the real one, made and destroyed at realize,
 * so that a host that cannot run the passthrough says so at start, and so
 * that region 0 can be sized.  It registers all the real one does but
 * guest RAM, which would pin it all: RLIMIT_MEMLOCK is checked instead.
 */
static bool probe_host(VirtIOBlkUring *u, GError **errp)
{
    g_autoptr(GError) err = NULL;
    struct io_uring_params p;

    u->ring_fd = create_ring(u, &p, &err);
    if (u->ring_fd < 0) {
        explain_setup_error(errp, err, "cannot create an SQPOLL io_uring");
        return false;
    }
    if (!(p.features & IORING_FEAT_SINGLE_MMAP) ||
        !(p.features & IORING_FEAT_NODROP)) {
        destroy_ring(u);
        error_setg(errp, "uring-passthrough: the host kernel is too old "
                   "(io_uring lacks SINGLE_MMAP or NODROP)");
        return false;
    }
    if (!register_resources(u, false, &err)) {
        destroy_ring(u);
        explain_setup_error(errp, err, NULL);
        return false;
    }
    if (!uring_overflow_watchable(u->ring_fd, &err)) {
        destroy_ring(u);
        error_setg(errp, "uring-passthrough: cannot watch the io_uring for "
                   "overflowed completions: %s", err->message);
        return false;
    }
    destroy_ring(u);
    if (!check_memlock(errp)) {
        return false;
    }
    u->layout = p;
    ring_sizes(&p, &u->rings_size, &u->sqes_size);
    return true;
}

static bool choose_iopoll(VirtIOBlkUring *u, GError **errp)
{
    OnOffAuto want = u->s->conf.uring_iopoll;
    g_autofree char *why = NULL;

    if (want == ON_OFF_AUTO_OFF) {
        return true;
    }
    why = why_no_iopoll(u);
    if (!why) {
        u->setup_flags |= IORING_SETUP_IOPOLL;
        return true;
    }
    if (want == ON_OFF_AUTO_ON) {
        error_setg(errp, "uring-iopoll=on: drive '%s' does not support "
                   "polled I/O: %s", drive_name(u), why);
        return false;
    }
    warn_report("uring-iopoll=auto: drive '%s' does not support polled I/O "
                "(%s); completions are not polled", drive_name(u), why);
    return true;
}

/*
 * The owners' memory cgroup bounds what the ring's threads allocate, the
 * completions the guest leaves unconsumed above all; without it only the
 * watch thread bounds those, by noticing them.
 */
static void create_cgroup(VirtIOBlkUring *u)
{
    static unsigned count;
    g_autofree char *name = NULL;
    g_autoptr(GError) err = NULL;

    if (!u->s->conf.uring_owner_memory) {
        return;
    }
    name = g_strdup_printf("uring-owner-%u", count++);
    u->cgroup = memory_cgroup_new(name, u->s->conf.uring_owner_memory, &err);
    if (!u->cgroup) {
        warn_report("uring-passthrough: no memory cgroup for the io_uring "
                    "owner (%s): completions the guest does not consume are "
                    "bounded only by the periodic check", err->message);
    }
}

static void withdraw_read(void *opaque);
static void watch_event(void *opaque, UringWatchEvent event);
static void tear_down(VirtIOBlkUring *u);

bool virtio_blk_uring_check_unused(const VirtIOBlkConf *c, GError **errp)
{
    const char *set = c->uring_iopoll != ON_OFF_AUTO_AUTO ? "uring-iopoll" :
        c->uring_sq_cpu != VIRTIO_BLK_URING_SQ_CPU_ANY ? "uring-sq-cpu" :
        c->uring_sq_idle_ms != VIRTIO_BLK_URING_SQ_IDLE_MS_DEFAULT ?
            "uring-sq-idle" :
        c->uring_entries != VIRTIO_BLK_URING_ENTRIES_DEFAULT ?
            "uring-entries" :
        c->uring_owner_memory != VIRTIO_BLK_URING_OWNER_MEMORY_DEFAULT ?
            "uring-owner-memory" :
        !c->uring_overflow_check ? "x-uring-overflow-check" :
        c->uring_stall_warn_ms != VIRTIO_BLK_URING_STALL_WARN_MS_DEFAULT ?
            "x-uring-stall-warn" : NULL;

    if (set) {
        error_setg(errp, "%s needs uring-passthrough=on", set);
        return false;
    }
    return true;
}

VirtIOBlkUring *virtio_blk_uring_new(VirtIOBlock *s, GError **errp)
{
    VirtIOBlkConf *c = &s->conf;
    long host_cpus = sysconf(_SC_NPROCESSORS_CONF);
    VirtIOBlkUring *u;

    /* The kernel serves the guest's ring from a file: null-co has none. */
    if (blk_get_fd(c->blk) < 0) {
        error_setg(errp, "uring-passthrough=on needs a drive on an image "
                   "file or a block device, not null-co");
        return NULL;
    }
    if (c->uring_entries == 0 || c->uring_entries > URING_MAX_ENTRIES) {
        error_setg(errp, "uring-entries must be between 1 and %d",
                   URING_MAX_ENTRIES);
        return NULL;
    }
    if (c->uring_sq_cpu < -1 || c->uring_sq_cpu >= host_cpus) {
        error_setg(errp, "uring-sq-cpu=%d: no such host CPU (0 to %ld)",
                   c->uring_sq_cpu, host_cpus - 1);
        return NULL;
    }
    u = g_new0(VirtIOBlkUring, 1);
    u->s = s;
    u->label = g_strdup_printf("virtio-blk: drive '%s'", blk_name(c->blk));
    u->ring_fd = -1;
    u->doorbell_fd = -1;
    u->completion_fd = -1;
    u->withdraw_fd = -1;
    u->msix_vector = VIRTIO_NO_VECTOR;
    u->entries = c->uring_entries;
    u->setup_flags = IORING_SETUP_SQPOLL |
                     (c->uring_sq_cpu >= 0 ? IORING_SETUP_SQ_AFF : 0);
    u->allowed_ops = choose_allowed_ops(u);
    u->nr_bufs = (guest_ram_top() + (1ULL << URING_BUF_SHIFT) - 1) >>
                 URING_BUF_SHIFT;
    /* The probe registers the eventfd. */
    u->completion_fd = eventfd_new();
    create_cgroup(u);
    if (!choose_iopoll(u, errp) || !probe_host(u, errp)) {
        virtio_blk_uring_free(u);
        return NULL;
    }
    return u;
}

void virtio_blk_uring_realize(VirtIOBlkUring *u)
{
    VirtIODevice *vdev = &u->s->vdev;
    uint64_t size = u->rings_size + u->sqes_size;

    /* A BAR is a power of two in size. */
    size = 1ULL << (64 - __builtin_clzll(size - 1));
    memory_region_init_container(&u->shm, "uring-shm", size);
    u->doorbell_fd = eventfd_new();
    u->withdraw_fd = eventfd_new();
    aio_set_fd_handler(qemu_get_aio_context(), u->withdraw_fd, withdraw_read,
                       NULL, NULL, u);
    u->watch = uring_watch_new(u->label, watch_event, u);
    vdev->shm.id = 0;
    vdev->shm.mr = &u->shm;
    vdev->doorbell_fd = u->doorbell_fd;
    vdev->extra_vectors = 1;
}

void virtio_blk_uring_unrealize(VirtIOBlkUring *u)
{
    virtio_blk_uring_reset(u);
    uring_watch_free(u->watch);
    u->watch = NULL;
    aio_set_fd_handler(qemu_get_aio_context(), u->withdraw_fd, NULL, NULL,
                       NULL, NULL);
    if (u->irqfd) {
        u->s->vdev.transport->irqfd_free(u->irqfd);
        u->irqfd = NULL;
    }
}

static void close_fd(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}

void virtio_blk_uring_free(VirtIOBlkUring *u)
{
    if (u->shm.name) {
        memory_region_destroy(&u->shm);
    }
    if (u->cgroup) {
        memory_cgroup_free(u->cgroup);
    }
    close_fd(u->doorbell_fd);
    close_fd(u->completion_fd);
    close_fd(u->withdraw_fd);
    g_free(u->label);
    g_free(u);
}

size_t virtio_blk_uring_config_size(void)
{
    return URING_CONFIG_OFFSET + sizeof(VirtIOBlkUringConfig);
}

uint64_t virtio_blk_uring_features(VirtIOBlkUring *u)
{
    return 1ULL << VIRTIO_BLK_F_URING_PASSTHROUGH;
}

void virtio_blk_uring_get_config(VirtIOBlkUring *u, uint8_t *config)
{
    VirtIOBlkUringConfig c;
    const struct io_uring_params *p = &u->layout;

    memset(&c, 0, sizeof(c));
    c.msix_vector = htole16(u->msix_vector);
    if (u->ring_fd >= 0) {
        c.sq_entries = htole32(p->sq_entries);
        c.cq_entries = htole32(p->cq_entries);
        c.setup_flags = htole32(u->setup_flags);
        c.features = htole32(p->features);
        c.sq_off[0] = htole32(p->sq_off.head);
        c.sq_off[1] = htole32(p->sq_off.tail);
        c.sq_off[2] = htole32(p->sq_off.ring_mask);
        c.sq_off[3] = htole32(p->sq_off.ring_entries);
        c.sq_off[4] = htole32(p->sq_off.flags);
        c.sq_off[5] = htole32(p->sq_off.dropped);
        c.sq_off[6] = htole32(p->sq_off.array);
        c.cq_off[0] = htole32(p->cq_off.head);
        c.cq_off[1] = htole32(p->cq_off.tail);
        c.cq_off[2] = htole32(p->cq_off.ring_mask);
        c.cq_off[3] = htole32(p->cq_off.ring_entries);
        c.cq_off[4] = htole32(p->cq_off.overflow);
        c.cq_off[5] = htole32(p->cq_off.cqes);
        c.cq_off[6] = htole32(p->cq_off.flags);
        c.rings_offset = 0;
        c.rings_size = htole64(u->rings_size);
        c.sqes_offset = htole64(u->rings_size);
        c.sqes_size = htole64(u->sqes_size);
        c.ram_host_base = htole64(GUEST_RAM_HOST_BASE);
        c.disk_size = htole64(blk_getlength(u->s->conf.blk));
        c.allowed_ops = htole64(u->allowed_ops);
        c.buf_shift = htole32(URING_BUF_SHIFT);
        c.nr_bufs = htole32(u->nr_bufs);
        c.file_index = htole32(URING_FILE_INDEX);
        c.dma_alignment = htole32(blk_get_request_alignment(u->s->conf.blk));
        c.doorbell_notify_off = htole16(u->s->vdev.num_queues);
        c.sqe_flags_required = SQE_FLAGS_REQUIRED;
        c.sqe_flags_allowed = SQE_FLAGS_ALLOWED;
    }
    memcpy(config + URING_CONFIG_OFFSET, &c, sizeof(c));
}

/*
 * The completion vector, which the driver may write at any time: like the
 * transport's vectors, one the device does not have reads back as
 * VIRTIO_NO_VECTOR (and raises nothing).
 */
void virtio_blk_uring_set_config(VirtIOBlkUring *u, const uint8_t *config)
{
    const VirtIOBlkUringConfig *c =
        (const void *)(config + URING_CONFIG_OFFSET);
    VirtIODevice *vdev = &u->s->vdev;
    uint16_t vector = vdev->transport->check_vector(vdev,
                                                    le16toh(c->msix_vector));

    if (vector == u->msix_vector) {
        return;
    }
    if (!u->irqfd) {
        u->irqfd = vdev->transport->irqfd_new(vdev, u->completion_fd);
    }
    vdev->transport->irqfd_set_vector(u->irqfd, vector);
    u->msix_vector = vector;
}

void virtio_blk_uring_set_withdraw_notifier(void (*fn)(const char *dev_id,
                                                       const char *reason))
{
    withdraw_notifier = fn;
}

/* The passthrough is taken from the guest.  Called with the BQL held. */
static void set_withdrawn(VirtIOBlkUring *u, const char *reason)
{
    DeviceState *dev = blk_get_attached_dev(u->s->conf.blk);

    u->withdrawn = reason;
    if (withdraw_notifier) {
        withdraw_notifier(dev ? dev->id : NULL, reason);
    }
}

bool virtio_blk_uring_validate_features(VirtIOBlkUring *u)
{
    g_autoptr(GError) err = NULL;
    struct io_uring_params p;

    if (!virtio_vdev_has_feature(&u->s->vdev,
                                 VIRTIO_BLK_F_URING_PASSTHROUGH)) {
        return true;
    }
    u->ring_fd = create_ring(u, &p, &err);
    if (u->ring_fd < 0 || !register_resources(u, true, &err) ||
        !map_rings(u, &err)) {
        error_report("%s: uring-passthrough set-up failed: %s",
                     u->s->vdev.name, err->message);
        unmap_rings(u);
        destroy_ring(u);
        set_withdrawn(u, "setup-failed");
        return false;
    }
    return true;
}

bool virtio_blk_uring_resize_prepare(VirtIOBlkUring *u, uint64_t new_size,
                                     GError **errp)
{
    BlockBackend *blk = u->s->conf.blk;
    int ret;

    if (new_size >= blk_getlength(blk) || u->ring_fd < 0) {
        return true;
    }
    if (blk_is_block_device(blk)) {
        error_setg(errp, "uring-passthrough: the guest's io_uring reaches "
                   "all of the block device: it cannot shrink while the "
                   "driver uses the passthrough");
        return false;
    }
    ret = set_fsize_limit(u, new_size);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "uring-passthrough: cannot lower the "
                         "io_uring's file size limit");
        return false;
    }
    return true;
}

void virtio_blk_uring_resized(VirtIOBlkUring *u, uint64_t size)
{
    int ret = set_fsize_limit(u, size);

    /* A ring made later takes the image's size from the start. */
    if (ret < 0) {
        warn_report("%s: uring-passthrough: cannot set the io_uring's file "
                    "size limit to the new size: %s", u->label,
                    g_strerror(-ret));
    }
}

/* Ask the main loop to withdraw the rings.  Any thread. */
static void withdraw_later(VirtIOBlkUring *u, WithdrawReason why)
{
    if (g_atomic_int_compare_and_exchange(&u->withdraw_reason, WITHDRAW_NONE,
                                          why)) {
        eventfd_signal(u->withdraw_fd);
    }
}

/* In the watch thread. */
static void watch_event(void *opaque, UringWatchEvent event)
{
    withdraw_later(opaque, event == URING_WATCH_OVERFLOW
                           ? WITHDRAW_OVERFLOW : WITHDRAW_OWNER_EXITED);
}

/*
 * The rings end behind the driver's back, as if it had reset the device,
 * and it is told to reset (NEEDS_RESET).  A driver that lets completions
 * overflow (it may have at most cq_entries unconsumed) would otherwise make
 * the kernel keep the excess (virtio-blk-uring-overflow.h); a ring whose
 * owner ended, or whose SQPOLL thread cannot be woken, does nothing more.
 * In the main loop, with the BQL held.
 */
static void withdraw_read(void *opaque)
{
    VirtIOBlkUring *u = opaque;
    g_autofree char *how = NULL;
    g_autofree char *why = NULL;
    const char *reason;

    eventfd_consume(u->withdraw_fd);
    switch (g_atomic_int_get(&u->withdraw_reason)) {
    case WITHDRAW_NONE:
        return;                 /* a reset came first */
    case WITHDRAW_OVERFLOW:
        why = g_strdup("the driver let the completion queue overflow");
        reason = "overflow";
        break;
    case WITHDRAW_OWNER_EXITED:
        how = uring_owner_exit_reason(&u->owner);
        why = g_strdup_printf("the io_uring owner process %s",
                              how ? how : "ended");
        reason = "owner-exited";
        break;
    default:
        why = g_strdup_printf("cannot wake the SQPOLL thread: %s",
                              g_strerror(g_atomic_int_get(
                                             &u->doorbell_errno)));
        reason = "doorbell-failed";
        break;
    }
    tear_down(u);
    virtio_error(&u->s->vdev, "uring-passthrough: %s; rings withdrawn until "
                 "reset", why);
    set_withdrawn(u, reason);
}

/* In the device's AioContext; a spurious call finds nothing to do. */
static void doorbell_read(void *opaque)
{
    VirtIOBlkUring *u = opaque;
    long ret;

    if (!eventfd_consume(u->doorbell_fd)) {
        return;
    }
    do {
        ret = syscall(__NR_io_uring_enter, u->ring_fd, 0, 0,
                      IORING_ENTER_SQ_WAKEUP, NULL, 0);
    } while (ret < 0 && errno == EINTR);
    /* EOWNERDEAD: the SQPOLL thread ended with its owner: the watch tells. */
    if (ret < 0 && errno != EOWNERDEAD) {
        g_atomic_int_set(&u->doorbell_errno, errno);
        withdraw_later(u, WITHDRAW_DOORBELL);
    }
}

static void doorbell_attach(void *opaque)
{
    VirtIOBlkUring *u = opaque;

    aio_set_fd_handler(u->ctx, u->doorbell_fd, doorbell_read, NULL, NULL, u);
}

static void doorbell_detach(void *opaque)
{
    VirtIOBlkUring *u = opaque;

    aio_set_fd_handler(u->ctx, u->doorbell_fd, NULL, NULL, NULL, NULL);
}

void virtio_blk_uring_start(VirtIOBlkUring *u)
{
    int ret;

    if (u->ring_fd < 0) {
        return;
    }
    ret = uring_register(u->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    if (ret < 0) {
        virtio_error(&u->s->vdev, "cannot enable the io_uring: %s",
                     g_strerror(-ret));
        return;
    }
    u->ctx = u->s->ctx;
    aio_run_sync(u->ctx, doorbell_attach, u);
    uring_watch_start(u->watch, &(UringWatchConfig){
        .ring_fd = u->ring_fd, .rings = u->rings, .params = &u->layout,
        .owner_pid = u->owner.pid, .owner_pidfd = u->owner.pidfd,
        .check_overflow = u->s->conf.uring_overflow_check,
        .stall_ms = u->s->conf.uring_stall_warn_ms,
    });
}

void virtio_blk_uring_stop(VirtIOBlkUring *u)
{
    /* Nothing to stop if it was not started, or ended by itself. */
    if (u->watch) {
        uring_watch_stop(u->watch);
    }
    if (u->ctx) {
        aio_run_sync(u->ctx, doorbell_detach, u);
        u->ctx = NULL;
    }
}

/*
 * Stopping the ring is destroying it.  Closing the VMM's descriptor (the
 * mappings are gone by then, and the owner closed its own) kills the
 * ring's context, after which the SQPOLL thread submits nothing more;
 * ending the owner ends that thread, which before it exits cancels or
 * waits for every request it submitted, and uring_owner_stop() waits for
 * it.  So the SQEs the guest queued but the kernel had not taken are never
 * submitted ("stops further submission"), and once destroy_ring() returns
 * no request touches guest RAM or the disk.
 */
static void tear_down(VirtIOBlkUring *u)
{
    virtio_blk_uring_stop(u);
    /* Nothing that could ask for a withdrawal runs any more. */
    g_atomic_int_set(&u->withdraw_reason, WITHDRAW_NONE);
    if (u->ring_fd < 0) {
        return;
    }
    /* The guest no longer sees the rings; only the VMM touches them. */
    unmap_rings(u);
    destroy_ring(u);
    eventfd_consume(u->completion_fd);
    u->msix_vector = VIRTIO_NO_VECTOR;
    if (u->irqfd) {
        u->s->vdev.transport->irqfd_set_vector(u->irqfd, VIRTIO_NO_VECTOR);
    }
}

void virtio_blk_uring_reset(VirtIOBlkUring *u)
{
    tear_down(u);
    u->withdrawn = NULL;
}

bool virtio_blk_uring_query(DeviceState *dev, unsigned ring,
                            VirtioBlkUringQuery *out)
{
    VirtIOBlock *s = virtio_blk_pci_get_block(dev);
    VirtIOBlkUring *u = s ? s->uring : NULL;
    UringRingState *st = &out->state;

    if (!u || ring != 0) {
        return false;
    }
    *out = (VirtioBlkUringQuery){
        .negotiated = u->ring_fd >= 0,
        .active = u->ctx != NULL,
        .withdrawn = u->withdrawn != NULL,
        .iopoll = u->setup_flags & IORING_SETUP_IOPOLL,
        .overflow_check = s->conf.uring_overflow_check,
        .overflow_cgroup = u->cgroup != NULL,
    };
    g_strlcpy(out->reason, u->withdrawn ? u->withdrawn : "",
              sizeof(out->reason));
    if (!out->negotiated) {
        return true;
    }
    out->sq_entries = u->layout.sq_entries;
    out->cq_entries = u->layout.cq_entries;
    uring_ring_state_read(u->rings, &u->layout, st);
    uring_ring_state_read_owner(u->owner.pid, st);
    out->overflowed = (st->sq_flags & IORING_SQ_CQ_OVERFLOW) ||
                      st->cq_overflow;
    uring_watch_totals(u->watch, &out->submitted, &out->completed);
    return true;
}
