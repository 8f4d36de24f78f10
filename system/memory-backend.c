/*
 * Memory back-ends (-object memory-backend-ram, memory-backend-file).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "sysemu/hostmem.h"

#define HUGETLBFS_MAGIC 0x958458f6

struct HostMemoryBackend {
    char *id;
    uint64_t size;
    int fd;                     /* memory-backend-file's; -1 for RAM */
    bool share;
    bool prealloc;
};

static GPtrArray *backends;

bool memory_backend_type(const char *type)
{
    return !strcmp(type, "memory-backend-ram") ||
           !strcmp(type, "memory-backend-file");
}

HostMemoryBackend *memory_backend_find(const char *id)
{
    for (guint i = 0; backends && i < backends->len; i++) {
        HostMemoryBackend *be = g_ptr_array_index(backends, i);
        if (!strcmp(be->id, id)) {
            return be;
        }
    }
    return NULL;
}

/*
 * mem-path is a file (made if missing, grown to size), or a directory
 * (a hugetlbfs mount, say) in which an unlinked file is made.
 */
static int open_mem_path(const char *path, uint64_t size, GError **errp)
{
    struct statfs fs;
    struct stat st;
    int fd;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        g_autofree char *tmpl = g_build_filename(path, "qemu_back_mem.XXXXXX",
                                                 NULL);
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd >= 0) {
            unlink(tmpl);
        }
    } else {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
        error_setg_errno(errp, errno, "can't open backing store %s for guest "
                         "RAM", path);
        return -1;
    }
    /* Huge pages come whole: the size must be a multiple of theirs. */
    if (fstatfs(fd, &fs) == 0 && fs.f_type == HUGETLBFS_MAGIC &&
        size % fs.f_bsize) {
        g_autofree char *page = size_to_str(fs.f_bsize);
        error_setg(errp, "backing store %s: size must be a multiple of its "
                   "page size (%s)", path, page);
        close(fd);
        return -1;
    }
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < size &&
        ftruncate(fd, size) < 0) {
        error_setg_errno(errp, errno, "can't grow backing store %s to the "
                         "guest's RAM size", path);
        close(fd);
        return -1;
    }
    return fd;
}

bool memory_backend_create(QemuOpts *opts, GError **errp)
{
    const char *type = qemu_opt_get(opts, "qom-type");
    const char *id = qemu_opt_get(opts, "id");
    bool is_file = !strcmp(type, "memory-backend-file");
    const char *path = is_file ? qemu_opt_get(opts, "mem-path") : NULL;
    HostMemoryBackend *be;
    uint64_t size;
    bool share, prealloc, merge, dump;

    if (!qemu_opt_get_size(opts, "size", 0, &size, errp) ||
        !qemu_opt_get_bool(opts, "share", false, &share, errp) ||
        !qemu_opt_get_bool(opts, "prealloc", false, &prealloc, errp) ||
        /* QEMU's defaults, which are what this VMM does anyway */
        !qemu_opt_get_bool(opts, "merge", true, &merge, errp) ||
        !qemu_opt_get_bool(opts, "dump", true, &dump, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if (!qemu_opt_get(opts, "size")) {
        error_setg(errp, "Parameter 'size' is missing");
        return false;
    }
    if (is_file && !path) {
        error_setg(errp, "Parameter 'mem-path' is missing");
        return false;
    }
    if (!merge || !dump) {
        error_setg(errp, "memory back-ends support only merge=on and "
                   "dump=on (use -machine dump-guest-core=off)");
        return false;
    }
    if (!size || size % 4096) {
        error_setg(errp, "property 'size' of %s doesn't take value '%s'",
                   type, qemu_opt_get(opts, "size"));
        return false;
    }
    if (memory_backend_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for object", id);
        return false;
    }
    be = g_new0(HostMemoryBackend, 1);
    be->fd = -1;
    if (path) {
        be->fd = open_mem_path(path, size, errp);
        if (be->fd < 0) {
            g_free(be);
            return false;
        }
    }
    be->id = g_strdup(id);
    be->size = size;
    be->share = share;
    be->prealloc = prealloc;
    if (!backends) {
        backends = g_ptr_array_new();
    }
    g_ptr_array_add(backends, be);
    return true;
}

uint64_t memory_backend_size(HostMemoryBackend *be)
{
    return be->size;
}

GuestRAMBacking memory_backend_backing(HostMemoryBackend *be, bool dump)
{
    return (GuestRAMBacking){
        .fd = be->fd,
        .shared = be->share,
        .prealloc = be->prealloc,
        .dump = dump,
    };
}

void memory_backend_cleanup_all(void)
{
    for (guint i = 0; backends && i < backends->len; i++) {
        HostMemoryBackend *be = g_ptr_array_index(backends, i);

        if (be->fd >= 0) {
            close(be->fd);
        }
        g_free(be->id);
        g_free(be);
    }
    g_clear_pointer(&backends, g_ptr_array_unref);
}
