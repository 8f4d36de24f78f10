/*
 * virtio-blk io_uring passthrough: the device side of
 * docs/specs/virtio-blk-uring.rst.
 *
 * The device has a ring per virtqueue, all made by one owner process
 * (virtio-blk-uring-owner.h) and served by one SQPOLL thread.  At realize,
 * the device's memory cgroup is made and probe rings check what the host
 * allows and fix the layout of shared memory region 0 (ring i's SQ/CQ
 * rings and SQEs at rings_offset(i)).  At FEATURES_OK the real rings are
 * created, disabled, each with the disk as fixed file 0, guest RAM as fixed
 * buffers, its completion eventfd and the restrictions, and mapped into
 * region 0.  DRIVER_OK enables them, and from then on a watch thread
 * (virtio-blk-uring-watch.h) looks for what would end them behind the
 * device's back: the guest letting completions overflow, the owner process
 * dying.  Either withdraws all the rings, as the guest's reset does: cut
 * the guest off, let the requests in flight finish, destroy the rings, and
 * the owner with its threads unless a uring-sqpoll object shares it.
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
#include "hw/block/uring-sqpoll.h"
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
#include "virtio_blk_uring_spec.h"

#define URING_BUF_SHIFT                 30      /* the kernel's 1 GiB limit */
#define URING_FILE_INDEX                0
#define URING_MAX_ENTRIES               4096

#define SQE_FLAGS_REQUIRED  IOSQE_FIXED_FILE
#define SQE_FLAGS_ALLOWED   (IOSQE_IO_LINK | IOSQE_IO_DRAIN)

/* Why the rings were withdrawn behind the driver's back. */
typedef enum WithdrawReason {
    WITHDRAW_NONE,
    WITHDRAW_OVERFLOW,          /* the driver let the CQ overflow */
    WITHDRAW_OWNER_EXITED,      /* the owner process (and SQPOLL) ended */
    WITHDRAW_DOORBELL,          /* the SQPOLL thread cannot be woken */
} WithdrawReason;

/* One ring: ring i goes with virtqueue index i. */
typedef struct UringRing {
    VirtIOBlkUring *u;
    unsigned index;
    /* fixed at realize */
    int doorbell_fd;
    int completion_fd;
    void *irqfd;
    uint16_t msix_vector;
    /* the live ring */
    int fd;
    off_t lock_offset;              /* see register_disk(); 0: none */
    void *rings;
    void *sqes;
    MemoryRegion rings_mr;
    MemoryRegion sqes_mr;
} UringRing;

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
    unsigned nr_rings;              /* one per virtqueue */
    UringRing *ring;
    UringWatchRing *watched;        /* the rings as the watch sees them */
    int *doorbell_fds;              /* the transport's view of them */
    MemoryCgroup *cgroup;           /* its own owner's, or NULL */
    UringSqpoll *sq;                /* the shared SQPOLL thread, or NULL */
    MemoryRegion shm;               /* region 0: a container */
    int withdraw_fd;                /* main loop: see withdraw_later() */
    uint16_t ring_select;
    /* the live rings */
    UringOwner own_owner;           /* without sq */
    UringSqpollOwner *shared;       /* with sq */
    UringOwner *owner;              /* the one of the two that made them */
    bool live;                      /* the owner made the rings */
    AioContext *ctx;                /* where the doorbells are served */
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
 * Change the live rings' file size limit: their owner's soft limit (its
 * hard limit is none, and it can no longer change either itself); with a
 * uring-sqpoll object, the caller made sure that it serves only this
 * device.  -errno.
 */
static int set_fsize_limit(VirtIOBlkUring *u, uint64_t size)
{
    struct rlimit rl = { .rlim_cur = size, .rlim_max = RLIM_INFINITY };

    if (!u->live || blk_is_block_device(u->s->conf.blk)) {
        return 0;
    }
    return prlimit(u->owner->pid, RLIMIT_FSIZE, &rl, NULL) < 0 ? -errno : 0;
}

static unsigned sq_idle_ms(VirtIOBlkUring *u)
{
    return u->sq ? uring_sqpoll_idle_ms(u->sq) : u->s->conf.uring_sq_idle_ms;
}

/* An owner for the rings: the shared thread's, or one of the device's own. */
static bool get_owner(VirtIOBlkUring *u, GError **errp)
{
    if (u->sq) {
        u->shared = uring_sqpoll_get_owner(u->sq, fsize_limit(u), errp);
        u->owner = u->shared ? &u->shared->owner : NULL;
    } else if (uring_owner_start(&u->own_owner, fsize_limit(u),
                                 u->s->conf.uring_sq_cpu, sq_idle_ms(u),
                                 u->cgroup, errp)) {
        u->owner = &u->own_owner;
    }
    return u->owner;
}

/* Its own owner ends; the shared one when no device needs it any more. */
static void put_owner(VirtIOBlkUring *u)
{
    if (u->shared) {
        uring_sqpoll_put_owner(u->shared);
        u->shared = NULL;
    } else {
        uring_owner_stop(&u->own_owner);
    }
    u->owner = NULL;
}

/* All the device's rings, on the owner's SQPOLL thread. */
static bool create_rings(VirtIOBlkUring *u, struct io_uring_params *p,
                         GError **errp)
{
    g_autofree int *fds = g_new(int, u->nr_rings);

    memset(p, 0, sizeof(*p));
    p->flags = u->setup_flags | IORING_SETUP_R_DISABLED;
    p->sq_thread_idle = sq_idle_ms(u);
    if (!get_owner(u, errp)) {
        return false;
    }
    if (!uring_owner_make_rings(u->owner, u->nr_rings, u->entries, p, fds,
                                errp)) {
        put_owner(u);
        return false;
    }
    for (unsigned i = 0; i < u->nr_rings; i++) {
        u->ring[i].fd = fds[i];
    }
    u->live = true;
    return true;
}

/*
 * Once the ring's descriptors are closed, the kernel tears it down in the
 * background: it cancels what it can, waits for the rest of the requests,
 * then lets go of the ring's files, the disk's descriptor that holds the
 * ring's lock among them (register_disk()).  Wait for that, with a warning
 * every URING_OWNER_TIMEOUT_MS, as uring_owner_stop() waits for an owner.
 */
static void wait_ring_released(UringRing *r)
{
    int drive_fd = blk_get_fd(r->u->s->conf.blk);
    gint64 start = g_get_monotonic_time();
    gint64 warn_at = start + URING_OWNER_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

    /* A ring without the disk (its set-up failed) had no request. */
    while (r->lock_offset) {
        struct flock fl = {
            .l_type = F_WRLCK, .l_whence = SEEK_SET,
            .l_start = r->lock_offset, .l_len = 1,
        };

        if (fcntl(drive_fd, F_OFD_GETLK, &fl) < 0 || fl.l_type == F_UNLCK) {
            r->lock_offset = 0;
            break;
        }
        if (g_get_monotonic_time() >= warn_at) {
            int secs = (g_get_monotonic_time() - start) / G_TIME_SPAN_SECOND;

            /* An OFD lock reports no pid: anything else is not the ring's. */
            if (fl.l_pid != -1) {
                warn_report("%s: uring-passthrough: cannot tell whether ring "
                            "%u has ended after %d s: process %d holds a "
                            "lock on the image over the ring's byte",
                            r->u->label, r->index, secs, (int)fl.l_pid);
            } else {
                warn_report("%s: uring-passthrough: ring %u has not ended "
                            "after %d s: the host kernel still holds "
                            "requests of it", r->u->label, r->index, secs);
            }
            warn_at += URING_OWNER_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
        }
        g_usleep(1000);
    }
}

/*
 * With an owner of its own, ending it ends the rings' SQPOLL thread, which
 * cancels or waits for every request first (uring_owner_stop() waits for
 * that).  A shared owner goes on serving other devices' rings: then each
 * ring ends by itself, once closed, and the device waits for that.
 */
static void destroy_rings(VirtIOBlkUring *u)
{
    for (unsigned i = 0; i < u->nr_rings; i++) {
        if (u->ring[i].fd >= 0) {
            close(u->ring[i].fd);
            u->ring[i].fd = -1;
            if (u->shared) {
                wait_ring_released(&u->ring[i]);
            }
        }
    }
    put_owner(u);
    u->live = false;
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

static int install_restrictions(VirtIOBlkUring *u, int ring_fd)
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
    return uring_register(ring_fd, IORING_REGISTER_RESTRICTIONS, r, n);
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
static int register_disk(UringRing *r)
{
    VirtIOBlkUring *u = r->u;
    int drive_fd = blk_get_fd(u->s->conf.blk);
    int flags = fcntl(drive_fd, F_GETFL);
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", drive_fd);
    int fd, ret;

    fd = open(path, (flags & (O_ACCMODE | O_DIRECT | O_DSYNC | O_SYNC)) |
                    O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    /*
     * On a shared SQPOLL thread, the ring ends by itself once closed, and
     * a lock that its descriptor of the disk holds tells when (the kernel
     * removes it with the last reference, the ring's): see
     * wait_ring_released().  A read lock on one byte far beyond anything
     * image locking uses, where this VMM's pid and a count keep it apart
     * from any other ring's.
     */
    if (u->sq) {
        static unsigned count;
        struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET,
                            .l_len = 1 };

        fl.l_start = (1LL << 62) | ((off_t)getpid() << 24) |
                     (count++ & 0xffffff);
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
            ret = -errno;
            close(fd);
            return ret;
        }
        r->lock_offset = fl.l_start;
    }
    ret = uring_register(r->fd, IORING_REGISTER_FILES, &fd, 1);
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
 * to RLIMIT_MEMLOCK, once for each of the nr_rings rings, unless the rings'
 * owner has CAP_IPC_LOCK.  Check that it fits (the kernel adds what the
 * VMM's user has pinned already, other passthrough devices included).
 */
static bool check_memlock(unsigned nr_rings, GError **errp)
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
    if (ram * nr_rings <= rl.rlim_cur) {
        return true;
    }
    g_autofree char *ram_text = size_to_str(ram);
    g_autofree char *limit_text = size_to_str(rl.rlim_cur);
    g_autofree char *times = nr_rings > 1 ?
        g_strdup_printf(" once for each of %u rings", nr_rings) : g_strdup("");
    error_setg(errp, "uring-passthrough: guest RAM (%s) must be pinned%s, "
               "but RLIMIT_MEMLOCK allows %s: raise it (ulimit -l) or give "
               "the VMM CAP_IPC_LOCK", ram_text, times, limit_text);
    return false;
}

/*
 * The drive, the ring's completion eventfd, guest RAM (if with_ram) and the
 * restrictions, for ring r; err's code is the failing call's errno.
 */
static bool register_resources(UringRing *r, bool with_ram, GError **errp)
{
    VirtIOBlkUring *u = r->u;
    g_autofree struct iovec *bufs = NULL;
    int ret;

    ret = register_disk(r);
    if (ret < 0) {
        g_set_error(errp, QEMU_ERROR, -ret, "cannot register the drive: %s",
                    g_strerror(-ret));
        return false;
    }
    ret = uring_register(r->fd, IORING_REGISTER_EVENTFD, &r->completion_fd,
                         1);
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
        ret = uring_register(r->fd, IORING_REGISTER_BUFFERS, bufs,
                             u->nr_bufs);
        if (ret < 0) {
            g_set_error(errp, QEMU_ERROR, -ret, "cannot pin guest RAM as "
                        "fixed buffers: %s%s", g_strerror(-ret),
                        ret == -ENOMEM && !vmm_can_lock_memory() ?
                        " (RLIMIT_MEMLOCK too small?)" : "");
            return false;
        }
    }
    ret = install_restrictions(u, r->fd);
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

/* Where ring i's SQ/CQ rings are in region 0; its SQEs follow them. */
static uint64_t rings_offset(VirtIOBlkUring *u, unsigned i)
{
    return i * (u->rings_size + u->sqes_size);
}

static bool map_ring(UringRing *r, GError **errp)
{
    VirtIOBlkUring *u = r->u;
    uint64_t offset = rings_offset(u, r->index);

    r->rings = mmap(NULL, u->rings_size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    if (r->rings == MAP_FAILED) {
        r->rings = NULL;
        error_setg_errno(errp, errno, "cannot map the io_uring rings");
        return false;
    }
    r->sqes = mmap(NULL, u->sqes_size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) {
        r->sqes = NULL;
        error_setg_errno(errp, errno, "cannot map the io_uring SQEs");
        return false;
    }
    memory_region_init_ram_ptr(&r->rings_mr, "uring-rings", u->rings_size,
                               r->rings);
    memory_region_init_ram_ptr(&r->sqes_mr, "uring-sqes", u->sqes_size,
                               r->sqes);
    memory_region_add_subregion(&u->shm, offset, &r->rings_mr);
    memory_region_add_subregion(&u->shm, offset + u->rings_size,
                                &r->sqes_mr);
    return true;
}

static void unmap_ring(UringRing *r)
{
    VirtIOBlkUring *u = r->u;

    if (r->rings_mr.name) {
        memory_region_del_subregion(&u->shm, &r->rings_mr);
        memory_region_destroy(&r->rings_mr);
    }
    if (r->sqes_mr.name) {
        memory_region_del_subregion(&u->shm, &r->sqes_mr);
        memory_region_destroy(&r->sqes_mr);
    }
    if (r->rings) {
        munmap(r->rings, u->rings_size);
        r->rings = NULL;
    }
    if (r->sqes) {
        munmap(r->sqes, u->sqes_size);
        r->sqes = NULL;
    }
}

/*
 * The probe: the same rings as the real ones, made and destroyed at
 * realize, so that a host that cannot run the passthrough says so at
 * start, and so that region 0 can be sized.  It registers all the real
 * ones do but guest RAM, which would pin it all: RLIMIT_MEMLOCK is checked
 * instead.
 */
static bool probe_host(VirtIOBlkUring *u, GError **errp)
{
    g_autoptr(GError) err = NULL;
    struct io_uring_params p;

    if (!create_rings(u, &p, &err)) {
        explain_setup_error(errp, err, "cannot create an SQPOLL io_uring");
        return false;
    }
    if (!(p.features & IORING_FEAT_SINGLE_MMAP) ||
        !(p.features & IORING_FEAT_NODROP)) {
        destroy_rings(u);
        error_setg(errp, "uring-passthrough: the host kernel is too old "
                   "(io_uring lacks SINGLE_MMAP or NODROP)");
        return false;
    }
    for (unsigned i = 0; i < u->nr_rings; i++) {
        if (!register_resources(&u->ring[i], false, &err)) {
            destroy_rings(u);
            explain_setup_error(errp, err, NULL);
            return false;
        }
    }
    if (!uring_overflow_watchable(u->ring[0].fd, &err)) {
        destroy_rings(u);
        error_setg(errp, "uring-passthrough: cannot watch the io_uring for "
                   "overflowed completions: %s", err->message);
        return false;
    }
    destroy_rings(u);
    if (!check_memlock(u->nr_rings, errp)) {
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
        c->uring_sqpoll ? "uring-sqpoll" :
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
    if (c->uring_sqpoll && (c->uring_sq_cpu != VIRTIO_BLK_URING_SQ_CPU_ANY ||
                            c->uring_sq_idle_ms !=
                            VIRTIO_BLK_URING_SQ_IDLE_MS_DEFAULT)) {
        error_setg(errp, "uring-sq-cpu and uring-sq-idle do not go with "
                   "uring-sqpoll: set cpu= and idle= on the uring-sqpoll "
                   "object '%s'", uring_sqpoll_id(c->uring_sqpoll));
        return NULL;
    }
    u = g_new0(VirtIOBlkUring, 1);
    u->s = s;
    u->label = g_strdup_printf("virtio-blk: drive '%s'", blk_name(c->blk));
    u->withdraw_fd = -1;
    u->nr_rings = c->num_queues;
    u->ring = g_new0(UringRing, u->nr_rings);
    u->watched = g_new0(UringWatchRing, u->nr_rings);
    for (unsigned i = 0; i < u->nr_rings; i++) {
        UringRing *r = &u->ring[i];

        r->u = u;
        r->index = i;
        r->fd = -1;
        r->doorbell_fd = -1;
        r->msix_vector = VIRTIO_NO_VECTOR;
        /* The probe registers the eventfd. */
        r->completion_fd = eventfd_new();
    }
    u->entries = c->uring_entries;
    u->sq = c->uring_sqpoll;
    u->setup_flags = IORING_SETUP_SQPOLL |
                     (c->uring_sq_cpu >= 0 ||
                      (u->sq && uring_sqpoll_cpu(u->sq) >= 0) ?
                      IORING_SETUP_SQ_AFF : 0);
    u->allowed_ops = choose_allowed_ops(u);
    u->nr_bufs = (guest_ram_top() + (1ULL << URING_BUF_SHIFT) - 1) >>
                 URING_BUF_SHIFT;
    if (u->sq) {
        /* The object's owner is in the object's cgroup. */
        if (!uring_sqpoll_join(u->sq, blk_name(c->blk), fsize_limit(u),
                               c->uring_owner_memory, errp)) {
            virtio_blk_uring_free(u);
            return NULL;
        }
    } else {
        create_cgroup(u);
    }
    if (!choose_iopoll(u, errp) || !probe_host(u, errp)) {
        virtio_blk_uring_free(u);
        return NULL;
    }
    return u;
}

void virtio_blk_uring_realize(VirtIOBlkUring *u)
{
    VirtIODevice *vdev = &u->s->vdev;
    uint64_t size = rings_offset(u, u->nr_rings);

    /* A BAR is a power of two in size. */
    size = 1ULL << (64 - __builtin_clzll(size - 1));
    memory_region_init_container(&u->shm, "uring-shm", size);
    u->doorbell_fds = g_new(int, u->nr_rings);
    for (unsigned i = 0; i < u->nr_rings; i++) {
        u->ring[i].doorbell_fd = eventfd_new();
        u->doorbell_fds[i] = u->ring[i].doorbell_fd;
    }
    u->withdraw_fd = eventfd_new();
    aio_set_fd_handler(qemu_get_aio_context(), u->withdraw_fd, withdraw_read,
                       NULL, NULL, u);
    u->watch = uring_watch_new(u->label, watch_event, u);
    vdev->shm.id = VIRTIO_BLK_URING_SHM_ID;
    vdev->shm.mr = &u->shm;
    vdev->doorbell_fds = u->doorbell_fds;
    vdev->nr_doorbells = u->nr_rings;
    vdev->extra_vectors = u->nr_rings;
}

void virtio_blk_uring_unrealize(VirtIOBlkUring *u)
{
    virtio_blk_uring_reset(u);
    uring_watch_free(u->watch);
    u->watch = NULL;
    aio_set_fd_handler(qemu_get_aio_context(), u->withdraw_fd, NULL, NULL,
                       NULL, NULL);
    for (unsigned i = 0; i < u->nr_rings; i++) {
        if (u->ring[i].irqfd) {
            u->s->vdev.transport->irqfd_free(u->ring[i].irqfd);
            u->ring[i].irqfd = NULL;
        }
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
    for (unsigned i = 0; i < u->nr_rings; i++) {
        close_fd(u->ring[i].doorbell_fd);
        close_fd(u->ring[i].completion_fd);
    }
    close_fd(u->withdraw_fd);
    g_free(u->ring);
    g_free(u->watched);
    g_free(u->doorbell_fds);
    g_free(u->label);
    g_free(u);
}

size_t virtio_blk_uring_config_size(void)
{
    return VIRTIO_BLK_URING_CONFIG_END;
}

uint64_t virtio_blk_uring_features(VirtIOBlkUring *u)
{
    return 1ULL << VIRTIO_BLK_F_URING_PASSTHROUGH;
}

/* The ring ring_select names, or NULL. */
static UringRing *selected_ring(VirtIOBlkUring *u)
{
    return u->ring_select < u->nr_rings ? &u->ring[u->ring_select] : NULL;
}

void virtio_blk_uring_get_config(VirtIOBlkUring *u, uint8_t *config)
{
    struct virtio_blk_uring_config c;
    const struct io_uring_params *p = &u->layout;
    UringRing *r = selected_ring(u);

    memset(&c, 0, sizeof(c));
    c.num_rings = htole16(u->nr_rings);
    c.ring_select = htole16(u->ring_select);
    c.msix_vector = htole16(r ? r->msix_vector : VIRTIO_NO_VECTOR);
    if (u->live && r) {
        c.rings_offset = htole64(rings_offset(u, r->index));
        c.sqes_offset = htole64(rings_offset(u, r->index) + u->rings_size);
        c.doorbell_notify_off = htole16(u->s->vdev.num_queues + r->index);
    }
    if (u->live) {
        c.sq_entries = htole32(p->sq_entries);
        c.cq_entries = htole32(p->cq_entries);
        c.setup_flags = htole32(u->setup_flags);
        c.features = htole32(p->features);
        c.sq_off.head = htole32(p->sq_off.head);
        c.sq_off.tail = htole32(p->sq_off.tail);
        c.sq_off.ring_mask = htole32(p->sq_off.ring_mask);
        c.sq_off.ring_entries = htole32(p->sq_off.ring_entries);
        c.sq_off.flags = htole32(p->sq_off.flags);
        c.sq_off.dropped = htole32(p->sq_off.dropped);
        c.sq_off.array = htole32(p->sq_off.array);
        c.cq_off.head = htole32(p->cq_off.head);
        c.cq_off.tail = htole32(p->cq_off.tail);
        c.cq_off.ring_mask = htole32(p->cq_off.ring_mask);
        c.cq_off.ring_entries = htole32(p->cq_off.ring_entries);
        c.cq_off.overflow = htole32(p->cq_off.overflow);
        c.cq_off.cqes = htole32(p->cq_off.cqes);
        c.cq_off.flags = htole32(p->cq_off.flags);
        c.rings_size = htole64(u->rings_size);
        c.sqes_size = htole64(u->sqes_size);
        c.ram_host_base = htole64(GUEST_RAM_HOST_BASE);
        c.disk_size = htole64(blk_getlength(u->s->conf.blk));
        c.allowed_ops = htole64(u->allowed_ops);
        c.buf_shift = htole32(URING_BUF_SHIFT);
        c.nr_bufs = htole32(u->nr_bufs);
        c.file_index = htole32(URING_FILE_INDEX);
        c.dma_alignment = htole32(blk_get_request_alignment(u->s->conf.blk));
        c.sqe_flags_required = SQE_FLAGS_REQUIRED;
        c.sqe_flags_allowed = SQE_FLAGS_ALLOWED;
    }
    memcpy(config + VIRTIO_BLK_URING_CONFIG_OFFSET, &c, sizeof(c));
}

/*
 * The selected ring's completion vector, which the driver may write at any
 * time: like the transport's vectors, one the device does not have reads
 * back as VIRTIO_NO_VECTOR (and raises nothing).  The buffer holds what
 * get_config() gave with one field written, so the vector applies to the
 * ring selected before, and ring_select takes effect after it.
 */
void virtio_blk_uring_set_config(VirtIOBlkUring *u, const uint8_t *config)
{
    struct virtio_blk_uring_config c;
    VirtIODevice *vdev = &u->s->vdev;
    UringRing *r = selected_ring(u);
    uint16_t vector;

    memcpy(&c, config + VIRTIO_BLK_URING_CONFIG_OFFSET, sizeof(c));
    vector = vdev->transport->check_vector(vdev, le16toh(c.msix_vector));
    u->ring_select = le16toh(c.ring_select);
    if (!r || vector == r->msix_vector) {
        return;
    }
    if (!r->irqfd) {
        r->irqfd = vdev->transport->irqfd_new(vdev, r->completion_fd);
    }
    vdev->transport->irqfd_set_vector(r->irqfd, vector);
    r->msix_vector = vector;
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
    if (!create_rings(u, &p, &err)) {
        goto fail;
    }
    for (unsigned i = 0; i < u->nr_rings; i++) {
        if (!register_resources(&u->ring[i], true, &err) ||
            !map_ring(&u->ring[i], &err)) {
            goto fail;
        }
    }
    return true;

fail:
    error_report("%s: uring-passthrough set-up failed: %s",
                 u->s->vdev.name, err->message);
    for (unsigned i = 0; i < u->nr_rings; i++) {
        unmap_ring(&u->ring[i]);
    }
    destroy_rings(u);
    set_withdrawn(u, "setup-failed");
    return false;
}

bool virtio_blk_uring_resize_prepare(VirtIOBlkUring *u, uint64_t new_size,
                                     GError **errp)
{
    BlockBackend *blk = u->s->conf.blk;
    int ret;

    /* One process, one limit: it cannot follow two images. */
    if (u->sq && uring_sqpoll_is_shared(u->sq)) {
        error_setg(errp, "Cannot resize '%s': its rings share uring-sqpoll "
                   "'%s' with other devices", drive_name(u),
                   uring_sqpoll_id(u->sq));
        return false;
    }
    if (new_size >= blk_getlength(blk) || !u->live) {
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

    if (u->sq && !blk_is_block_device(u->s->conf.blk)) {
        uring_sqpoll_resized(u->sq, size);
    }

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
        how = uring_owner_exit_reason(u->owner);
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

/*
 * Ring r's doorbell, in the device's AioContext; a spurious call finds
 * nothing to do.  The rings share their SQPOLL thread, which this wakes.
 */
static void doorbell_read(void *opaque)
{
    UringRing *r = opaque;
    VirtIOBlkUring *u = r->u;
    long ret;

    if (!eventfd_consume(r->doorbell_fd)) {
        return;
    }
    do {
        ret = syscall(__NR_io_uring_enter, r->fd, 0, 0,
                      IORING_ENTER_SQ_WAKEUP, NULL, 0);
    } while (ret < 0 && errno == EINTR);
    /* EOWNERDEAD: the SQPOLL thread ended with its owner: the watch tells. */
    if (ret < 0 && errno != EOWNERDEAD) {
        g_atomic_int_set(&u->doorbell_errno, errno);
        withdraw_later(u, WITHDRAW_DOORBELL);
    }
}

/* In the device's AioContext. */
static void doorbells_attach(void *opaque)
{
    VirtIOBlkUring *u = opaque;

    for (unsigned i = 0; i < u->nr_rings; i++) {
        aio_set_fd_handler(u->ctx, u->ring[i].doorbell_fd, doorbell_read,
                           NULL, NULL, &u->ring[i]);
    }
}

/* In the device's AioContext. */
static void doorbells_detach(void *opaque)
{
    VirtIOBlkUring *u = opaque;

    for (unsigned i = 0; i < u->nr_rings; i++) {
        aio_set_fd_handler(u->ctx, u->ring[i].doorbell_fd, NULL, NULL, NULL,
                           NULL);
    }
}

void virtio_blk_uring_start(VirtIOBlkUring *u)
{
    int ret;

    if (!u->live) {
        return;
    }
    for (unsigned i = 0; i < u->nr_rings; i++) {
        ret = uring_register(u->ring[i].fd, IORING_REGISTER_ENABLE_RINGS,
                             NULL, 0);
        if (ret < 0) {
            virtio_error(&u->s->vdev, "cannot enable the io_uring: %s",
                         g_strerror(-ret));
            return;
        }
        u->watched[i] = (UringWatchRing){
            .ring_fd = u->ring[i].fd, .rings = u->ring[i].rings,
        };
    }
    u->ctx = u->s->ctx;
    aio_run_sync(u->ctx, doorbells_attach, u);
    uring_watch_start(u->watch, &(UringWatchConfig){
        .ring = u->watched, .nr_rings = u->nr_rings, .params = &u->layout,
        .owner_pid = u->owner->pid, .owner_pidfd = u->owner->pidfd,
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
        aio_run_sync(u->ctx, doorbells_detach, u);
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
    u->ring_select = 0;
    if (!u->live) {
        return;
    }
    /* The guest no longer sees any ring; only the VMM touches them. */
    for (unsigned i = 0; i < u->nr_rings; i++) {
        unmap_ring(&u->ring[i]);
    }
    destroy_rings(u);
    for (unsigned i = 0; i < u->nr_rings; i++) {
        UringRing *r = &u->ring[i];

        eventfd_consume(r->completion_fd);
        r->msix_vector = VIRTIO_NO_VECTOR;
        if (r->irqfd) {
            u->s->vdev.transport->irqfd_set_vector(r->irqfd,
                                                   VIRTIO_NO_VECTOR);
        }
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

    if (!u || ring >= u->nr_rings) {
        return false;
    }
    *out = (VirtioBlkUringQuery){
        .negotiated = u->live,
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
    uring_ring_state_read(u->ring[ring].rings, &u->layout, st);
    uring_ring_state_read_owner(u->owner->pid, st);
    out->overflowed = (st->sq_flags & IORING_SQ_CQ_OVERFLOW) ||
                      st->cq_overflow;
    uring_watch_totals(u->watch, ring, &out->submitted, &out->completed);
    return true;
}
