/*
 * virtio-blk io_uring passthrough: the device side of
 * docs/specs/virtio-blk-uring.rst.
 *
 * At realize, a probe ring checks what the host allows and fixes the layout
 * of shared memory region 0.  At FEATURES_OK the real ring is created (by
 * its owner process, see virtio-blk-uring-owner.c), disabled, with the disk
 * as fixed file 0, guest RAM as fixed buffers, the completion eventfd and
 * the restrictions; its rings are mapped into region 0.  DRIVER_OK enables
 * it, and from then on a main-loop timer checks that the guest does not let
 * completions overflow (virtio-blk-uring-overflow.h).  Reset cuts the guest
 * off, lets the requests in flight finish, and destroys ring, threads and
 * owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/virtio_blk.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/guest-ram.h"
#include "exec/memory.h"
#include "hw/block/virtio-blk-uring-overflow.h"
#include "hw/block/virtio-blk-uring-owner.h"
#include "hw/block/virtio-blk-uring.h"
#include "hw/virtio/virtio-blk.h"
#include "qemu/error-report.h"
#include "qemu/eventfd.h"

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

struct VirtIOBlkUring {
    VirtIOBlock *s;
    /* fixed at realize */
    unsigned entries;
    uint32_t setup_flags;
    uint64_t allowed_ops;
    struct io_uring_params layout;  /* offsets, as the probe ring had them */
    uint64_t rings_size;
    uint64_t sqes_size;
    unsigned nr_bufs;
    MemoryRegion shm;               /* region 0: a container */
    int doorbell_fd;
    int completion_fd;
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
    guint overflow_watch;           /* main-loop timer, while started */
};

static int uring_register(int fd, unsigned op, const void *arg, unsigned nr)
{
    int ret = syscall(__NR_io_uring_register, fd, op, arg, nr);
    return ret < 0 ? -errno : ret;
}

static const char *drive_name(VirtIOBlkUring *u)
{
    return blk_name(u->s->conf.blk);
}

/*
 * Can the drive complete polled I/O?  A one-block read on an IOPOLL ring
 * says: EOPNOTSUPP when the file or its queue cannot poll.
 */
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

static uint64_t fsize_limit(VirtIOBlkUring *u)
{
    /* Block devices cannot grow; RLIMIT_FSIZE does not apply to them. */
    return blk_is_block_device(u->s->conf.blk) ? RLIM_INFINITY
                                                : blk_getlength(u->s->conf.blk);
}

static int create_ring(VirtIOBlkUring *u, struct io_uring_params *p,
                       GError **errp)
{
    VirtIOBlkConf *c = &u->s->conf;

    memset(p, 0, sizeof(*p));
    p->flags = u->setup_flags | IORING_SETUP_R_DISABLED;
    p->sq_thread_idle = c->uring_sq_idle_ms;
    p->sq_thread_cpu = c->uring_sq_cpu >= 0 ? c->uring_sq_cpu : 0;
    return uring_owner_start(&u->owner, u->entries, p, fsize_limit(u), errp);
}

static void destroy_ring(VirtIOBlkUring *u)
{
    if (u->ring_fd >= 0) {
        close(u->ring_fd);
        u->ring_fd = -1;
    }
    uring_owner_stop(&u->owner);
}

/* Explain a set-up failure in terms of what the host lacks. */
static void explain_setup_error(VirtIOBlkUring *u, GError **errp, int err,
                                const char *what)
{
    const char *why = "";

    if (err == EPERM) {
        why = " (io_uring is disabled for this user: see "
              "/proc/sys/kernel/io_uring_disabled; SQPOLL needs Linux 5.11 "
              "or CAP_SYS_ADMIN)";
    } else if (err == ENOSYS) {
        why = " (the host kernel has no io_uring)";
    } else if (err == EINVAL) {
        why = " (the host kernel is too old: Linux 5.10 or later is needed)";
    }
    error_setg(errp, "uring-passthrough: %s: %s%s", what, g_strerror(err),
               why);
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

static int register_resources(VirtIOBlkUring *u)
{
    g_autofree struct iovec *bufs = g_new(struct iovec, u->nr_bufs);
    int ret;

    ret = register_disk(u);
    if (ret < 0) {
        return ret;
    }
    for (unsigned i = 0; i < u->nr_bufs; i++) {
        bufs[i] = ram_window(i);
    }
    ret = uring_register(u->ring_fd, IORING_REGISTER_BUFFERS, bufs,
                         u->nr_bufs);
    if (ret < 0) {
        return ret;
    }
    ret = uring_register(u->ring_fd, IORING_REGISTER_EVENTFD,
                         &u->completion_fd, 1);
    if (ret < 0) {
        return ret;
    }
    return install_restrictions(u);
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
 * that region 0 can be sized.
 */
static bool probe_host(VirtIOBlkUring *u, GError **errp)
{
    g_autoptr(GError) err = NULL;
    struct io_uring_params p;
    int ret;

    u->ring_fd = create_ring(u, &p, &err);
    if (u->ring_fd < 0) {
        explain_setup_error(u, errp, err->code, "cannot create an SQPOLL "
                            "io_uring");
        return false;
    }
    if (!(p.features & IORING_FEAT_SINGLE_MMAP) ||
        !(p.features & IORING_FEAT_NODROP)) {
        destroy_ring(u);
        error_setg(errp, "uring-passthrough: the host kernel is too old "
                   "(io_uring lacks SINGLE_MMAP or NODROP)");
        return false;
    }
    ret = install_restrictions(u);
    if (ret < 0) {
        destroy_ring(u);
        explain_setup_error(u, errp, -ret, "cannot restrict the io_uring");
        return false;
    }
    if (!uring_overflow_watchable(u->ring_fd, &err)) {
        destroy_ring(u);
        error_setg(errp, "uring-passthrough: cannot watch the io_uring for "
                   "overflowed completions: %s", err->message);
        return false;
    }
    u->layout = p;
    ring_sizes(&p, &u->rings_size, &u->sqes_size);
    destroy_ring(u);
    return true;
}

static bool choose_iopoll(VirtIOBlkUring *u, GError **errp)
{
    OnOffAuto want = u->s->conf.uring_iopoll;
    int ret;

    if (want == ON_OFF_AUTO_OFF) {
        return true;
    }
    ret = probe_iopoll(u);
    if (ret == 0) {
        u->setup_flags |= IORING_SETUP_IOPOLL;
        return true;
    }
    if (want == ON_OFF_AUTO_ON) {
        error_setg(errp, "uring-iopoll=on: drive '%s' does not support "
                   "polled I/O: %s", drive_name(u), g_strerror(-ret));
        return false;
    }
    warn_report("uring-iopoll=auto: drive '%s' does not support polled I/O "
                "(%s); completions are not polled", drive_name(u),
                g_strerror(-ret));
    return true;
}

bool virtio_blk_uring_check_unused(const VirtIOBlkConf *c, GError **errp)
{
    const char *set = c->uring_iopoll != ON_OFF_AUTO_AUTO ? "uring-iopoll" :
        c->uring_sq_cpu != VIRTIO_BLK_URING_SQ_CPU_ANY ? "uring-sq-cpu" :
        c->uring_sq_idle_ms != VIRTIO_BLK_URING_SQ_IDLE_MS_DEFAULT ?
            "uring-sq-idle" :
        c->uring_entries != VIRTIO_BLK_URING_ENTRIES_DEFAULT ?
            "uring-entries" : NULL;

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
    u->ring_fd = -1;
    u->doorbell_fd = -1;
    u->completion_fd = -1;
    u->msix_vector = VIRTIO_NO_VECTOR;
    u->entries = c->uring_entries;
    u->setup_flags = IORING_SETUP_SQPOLL |
                     (c->uring_sq_cpu >= 0 ? IORING_SETUP_SQ_AFF : 0);
    u->allowed_ops = choose_allowed_ops(u);
    u->nr_bufs = (guest_ram_top() + (1ULL << URING_BUF_SHIFT) - 1) >>
                 URING_BUF_SHIFT;
    if (!choose_iopoll(u, errp) || !probe_host(u, errp)) {
        g_free(u);
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
    u->completion_fd = eventfd_new();
    vdev->shm.id = 0;
    vdev->shm.mr = &u->shm;
    vdev->doorbell_fd = u->doorbell_fd;
    vdev->extra_vectors = 1;
}

void virtio_blk_uring_unrealize(VirtIOBlkUring *u)
{
    virtio_blk_uring_reset(u);
    if (u->irqfd) {
        u->s->vdev.transport->irqfd_free(u->irqfd);
        u->irqfd = NULL;
    }
}

void virtio_blk_uring_free(VirtIOBlkUring *u)
{
    memory_region_destroy(&u->shm);
    close(u->doorbell_fd);
    close(u->completion_fd);
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

void virtio_blk_uring_set_config(VirtIOBlkUring *u, const uint8_t *config)
{
    const VirtIOBlkUringConfig *c =
        (const void *)(config + URING_CONFIG_OFFSET);
    VirtIODevice *vdev = &u->s->vdev;
    uint16_t vector = le16toh(c->msix_vector);

    if (vector == u->msix_vector) {
        return;
    }
    if (!u->irqfd) {
        u->irqfd = vdev->transport->irqfd_new(vdev, u->completion_fd);
    }
    vdev->transport->irqfd_set_vector(u->irqfd, vector);
    u->msix_vector = vector;
}

bool virtio_blk_uring_validate_features(VirtIOBlkUring *u)
{
    g_autoptr(GError) err = NULL;
    struct io_uring_params p;
    int ret;

    if (!virtio_vdev_has_feature(&u->s->vdev,
                                 VIRTIO_BLK_F_URING_PASSTHROUGH)) {
        return true;
    }
    u->ring_fd = create_ring(u, &p, &err);
    if (u->ring_fd < 0) {
        goto fail;
    }
    ret = register_resources(u);
    if (ret < 0) {
        error_setg(&err, "cannot register the drive, guest RAM and "
                   "restrictions: %s", g_strerror(-ret));
        goto fail;
    }
    if (!map_rings(u, &err)) {
        goto fail;
    }
    return true;

fail:
    error_report("%s: uring-passthrough set-up failed: %s", u->s->vdev.name,
                 err->message);
    unmap_rings(u);
    destroy_ring(u);
    return false;
}

static void doorbell_read(void *opaque)
{
    VirtIOBlkUring *u = opaque;

    eventfd_consume(u->doorbell_fd);
    syscall(__NR_io_uring_enter, u->ring_fd, 0, 0, IORING_ENTER_SQ_WAKEUP,
            NULL, 0);
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

/*
 * A driver that lets the completion queue overflow (it may have at most
 * cq_entries requests unconsumed) loses the rings: left alone, the kernel's
 * overflow list would grow without bound (virtio-blk-uring-overflow.h).
 */
static gboolean overflow_check(gpointer opaque)
{
    VirtIOBlkUring *u = opaque;

    if (!uring_cq_overflowed(u->ring_fd, (const uint32_t *)
                             ((uint8_t *)u->rings + u->layout.sq_off.flags))) {
        return G_SOURCE_CONTINUE;
    }
    u->overflow_watch = 0;
    virtio_blk_uring_reset(u);
    virtio_error(&u->s->vdev, "uring-passthrough: the driver let the "
                 "completion queue overflow; rings withdrawn until reset");
    return G_SOURCE_REMOVE;
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
    u->overflow_watch = g_timeout_add(URING_OVERFLOW_CHECK_MS, overflow_check,
                                      u);
}

void virtio_blk_uring_stop(VirtIOBlkUring *u)
{
    if (u->overflow_watch) {
        g_source_remove(u->overflow_watch);
        u->overflow_watch = 0;
    }
    if (u->ctx) {
        aio_run_sync(u->ctx, doorbell_detach, u);
        u->ctx = NULL;
    }
}

/*
 * Stopping the ring is destroying it.  Closing the VMM's descriptor (the
 * mappings are gone by then) kills the ring's context, after which the
 * SQPOLL thread submits nothing more; ending the owner ends that thread,
 * which before it exits cancels or waits for every request it submitted,
 * and uring_owner_stop() waits for it.  So the SQEs the guest queued but the
 * kernel had not taken are never submitted ("stops further submission"),
 * and once destroy_ring() returns no request touches guest RAM or the disk.
 */
void virtio_blk_uring_reset(VirtIOBlkUring *u)
{
    virtio_blk_uring_stop(u);
    if (u->ring_fd < 0) {
        return;
    }
    /* The guest no longer sees the rings; only the VMM touches them. */
    if (u->rings_mr.name) {
        memory_region_del_subregion(&u->shm, &u->rings_mr);
        memory_region_del_subregion(&u->shm, &u->sqes_mr);
        memory_region_destroy(&u->rings_mr);
        memory_region_destroy(&u->sqes_mr);
    }
    unmap_rings(u);
    destroy_ring(u);
    eventfd_consume(u->completion_fd);
    u->msix_vector = VIRTIO_NO_VECTOR;
    if (u->irqfd) {
        u->s->vdev.transport->irqfd_set_vector(u->irqfd, VIRTIO_NO_VECTOR);
    }
}
