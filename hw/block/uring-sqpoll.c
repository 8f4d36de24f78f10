/*
 * The uring-sqpoll object (include/hw/block/uring-sqpoll.h).
 */
#include <assert.h>
#include <string.h>
#include <unistd.h>

#include "hw/block/uring-sqpoll.h"
#include "hw/block/virtio-blk-uring.h"
#include "qemu/error-report.h"
#include "qemu/memory-cgroup.h"

struct UringSqpoll {
    char *id;
    int cpu;                    /* -1: any */
    unsigned idle_ms;
    /* Of the devices that joined */
    unsigned nr_devices;
    char *first_drive;
    uint64_t fsize_limit;
    uint64_t owner_memory;
    /* The owner new rings go to, or NULL */
    UringSqpollOwner *current;
    MemoryCgroup *cgroup;       /* made with the first owner, or NULL */
    bool cgroup_tried;
};

static GPtrArray *sqpolls;

UringSqpoll *uring_sqpoll_create(QemuOpts *opts, GError **errp)
{
    const char *id = qemu_opt_get(opts, "id");
    long host_cpus = sysconf(_SC_NPROCESSORS_CONF);
    uint64_t cpu, idle;
    UringSqpoll *sq;

    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return NULL;
    }
    if (uring_sqpoll_by_id(id)) {
        error_setg(errp, "Duplicate ID '%s' for object", id);
        return NULL;
    }
    if (!qemu_opt_get_number(opts, "cpu", UINT64_MAX, &cpu, errp) ||
        !qemu_opt_get_number(opts, "idle", VIRTIO_BLK_URING_SQ_IDLE_MS_DEFAULT,
                             &idle, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return NULL;
    }
    if (cpu != UINT64_MAX && cpu >= (uint64_t)host_cpus) {
        error_setg(errp, "uring-sqpoll '%s': cpu=%" G_GUINT64_FORMAT
                   ": no such host CPU (0 to %ld)", id, cpu, host_cpus - 1);
        return NULL;
    }
    if (idle > UINT32_MAX) {
        error_setg(errp, "uring-sqpoll '%s': idle=%" G_GUINT64_FORMAT
                   ": too long (at most %u ms)", id, idle, UINT32_MAX);
        return NULL;
    }
    sq = g_new0(UringSqpoll, 1);
    sq->id = g_strdup(id);
    sq->cpu = cpu == UINT64_MAX ? -1 : (int)cpu;
    sq->idle_ms = idle;
    if (!sqpolls) {
        sqpolls = g_ptr_array_new();
    }
    g_ptr_array_add(sqpolls, sq);
    return sq;
}

UringSqpoll *uring_sqpoll_by_id(const char *id)
{
    for (guint i = 0; sqpolls && i < sqpolls->len; i++) {
        UringSqpoll *sq = g_ptr_array_index(sqpolls, i);

        if (!strcmp(sq->id, id)) {
            return sq;
        }
    }
    return NULL;
}

const char *uring_sqpoll_id(const UringSqpoll *sq)
{
    return sq->id;
}

int uring_sqpoll_cpu(const UringSqpoll *sq)
{
    return sq->cpu;
}

unsigned uring_sqpoll_idle_ms(const UringSqpoll *sq)
{
    return sq->idle_ms;
}

static char *describe_limit(uint64_t limit)
{
    return limit == UINT64_MAX ? g_strdup("no file size limit (a block "
                                          "device)")
                               : g_strdup_printf("a file size limit of %"
                                                 G_GUINT64_FORMAT " bytes",
                                                 limit);
}

bool uring_sqpoll_join(UringSqpoll *sq, const char *drive,
                       uint64_t fsize_limit, uint64_t owner_memory,
                       GError **errp)
{
    if (sq->nr_devices && fsize_limit != sq->fsize_limit) {
        g_autofree char *mine = describe_limit(fsize_limit);
        g_autofree char *theirs = describe_limit(sq->fsize_limit);

        error_setg(errp, "uring-sqpoll=%s: drive '%s' needs %s, drive '%s' "
                   "%s: the rings of one SQPOLL thread share one limit "
                   "(give them images of the same size)", sq->id, drive,
                   mine, sq->first_drive, theirs);
        return false;
    }
    if (!sq->nr_devices++) {
        sq->first_drive = g_strdup(drive);
        sq->fsize_limit = fsize_limit;
    }
    sq->owner_memory += owner_memory;
    return true;
}

bool uring_sqpoll_is_shared(const UringSqpoll *sq)
{
    return sq->nr_devices > 1;
}

void uring_sqpoll_resized(UringSqpoll *sq, uint64_t fsize_limit)
{
    assert(sq->nr_devices == 1);
    sq->fsize_limit = fsize_limit;
    if (sq->current) {
        sq->current->fsize_limit = fsize_limit;
    }
}

/*
 * The memory cgroup of the object's owners, made once, limited to the sum
 * of its devices' limits (none if they all have none).
 */
static void create_cgroup(UringSqpoll *sq)
{
    static unsigned count;
    g_autofree char *name = NULL;
    g_autoptr(GError) err = NULL;

    if (sq->cgroup_tried || !sq->owner_memory) {
        return;
    }
    sq->cgroup_tried = true;
    name = g_strdup_printf("uring-sqpoll-%u", count++);
    sq->cgroup = memory_cgroup_new(name, sq->owner_memory, &err);
    if (!sq->cgroup) {
        warn_report("uring-sqpoll '%s': no memory cgroup for the io_uring "
                    "owner (%s): completions the guests do not consume are "
                    "bounded only by the periodic check", sq->id,
                    err->message);
    }
}

UringSqpollOwner *uring_sqpoll_get_owner(UringSqpoll *sq,
                                         uint64_t fsize_limit,
                                         GError **errp)
{
    UringSqpollOwner *so = sq->current;
    g_autofree char *gone = so ? uring_owner_exit_reason(&so->owner) : NULL;

    /* One that died stays with the devices that still hold it. */
    if (gone) {
        sq->current = so = NULL;
    }
    if (!so) {
        so = g_new0(UringSqpollOwner, 1);
        so->sq = sq;
        so->fsize_limit = fsize_limit;
        create_cgroup(sq);
        if (!uring_owner_start(&so->owner, fsize_limit, sq->cpu, sq->idle_ms,
                               sq->cgroup, errp)) {
            g_free(so);
            return NULL;
        }
        sq->current = so;
    } else if (so->fsize_limit != fsize_limit) {
        g_autofree char *mine = describe_limit(fsize_limit);
        g_autofree char *theirs = describe_limit(so->fsize_limit);

        error_setg(errp, "the SQPOLL thread of uring-sqpoll '%s' has %s, "
                   "this drive needs %s now", sq->id, theirs, mine);
        return NULL;
    }
    so->refs++;
    return so;
}

void uring_sqpoll_put_owner(UringSqpollOwner *so)
{
    assert(so->refs > 0);
    if (--so->refs) {
        return;
    }
    if (so->sq->current == so) {
        so->sq->current = NULL;
    }
    uring_owner_stop(&so->owner);
    g_free(so);
}

void uring_sqpoll_destroy_all(void)
{
    for (guint i = 0; sqpolls && i < sqpolls->len; i++) {
        UringSqpoll *sq = g_ptr_array_index(sqpolls, i);

        /* The devices, gone before, have put their owners. */
        assert(!sq->current);
        if (sq->cgroup) {
            memory_cgroup_free(sq->cgroup);
        }
        g_free(sq->first_drive);
        g_free(sq->id);
        g_free(sq);
    }
    g_clear_pointer(&sqpolls, g_ptr_array_unref);
}
