/*
 * Raw images in regular files and host block devices: opening them for a
 * cache mode, locking, size and O_DIRECT alignment, and which syscall
 * discard and write-zeroes become.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block-internal.h"
#include "qemu/error-report.h"

/*
 * Image locking, in QEMU's protocol (docs/system/image-locking.rst): shared
 * open file description (OFD) locks on single bytes of the image.  A user
 * locks byte LOCK_PERM_BASE + n while it holds permission n and byte
 * LOCK_SHARED_BASE + n while it does not let others have it.  Taking a
 * permission checks that no one else locks its "not shared" byte; not
 * sharing one checks that no one else locks its "held" byte.
 *
 * OFD locks belong to the open file description: other descriptions of the
 * image in this process (the io_uring passthrough opens one through
 * /proc/self/fd and closes it) neither conflict with them nor, when closed,
 * release them, as POSIX (per-process) locks would.
 */
#define LOCK_PERM_BASE      100
#define LOCK_SHARED_BASE    200

/* The permissions by bit number (BLK_PERM_*), as QEMU's messages name them. */
static const char *const perm_names[] = {
    "consistent read", "write", "write unchanged", "resize",
};

G_STATIC_ASSERT(G_N_ELEMENTS(perm_names) == BLK_PERM_BITS);

/* The bytes locked for perm and shared, as a mask (bit n: byte BASE + n). */
typedef struct LockBytes {
    uint64_t perm;              /* LOCK_PERM_BASE + n */
    uint64_t unshared;          /* LOCK_SHARED_BASE + n */
} LockBytes;

static LockBytes lock_bytes_for(uint64_t perm, uint64_t shared)
{
    return (LockBytes){ .perm = perm, .unshared = BLK_PERM_ALL & ~shared };
}

/* Lock (F_RDLCK) or unlock (F_UNLCK) one byte; 0 or -1 (errno). */
static int file_lock_byte(int fd, off_t byte, short type)
{
    struct flock fl = {
        .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
    };

    return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Does another open file description lock byte?  1, 0 or a negative errno. */
static int file_byte_locked_elsewhere(int fd, off_t byte)
{
    /* An exclusive lock would conflict with any lock but our own. */
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
    };

    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        return -errno;
    }
    return fl.l_type != F_UNLCK;
}

/*
 * Lock (or unlock) the bytes of which that are not in except.  Stops at
 * the first failure and returns its byte; -1 if there was none.
 */
static int file_change_lock_bytes(int fd, const LockBytes *which,
                                  const LockBytes *except, bool lock)
{
    uint64_t perm = which->perm & ~except->perm;
    uint64_t unshared = which->unshared & ~except->unshared;

    for (int n = 0; n < BLK_PERM_BITS; n++) {
        const struct {
            bool change;
            int byte;
        } b[] = {
            { perm >> n & 1, LOCK_PERM_BASE + n },
            { unshared >> n & 1, LOCK_SHARED_BASE + n },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(b); i++) {
            if (b[i].change &&
                file_lock_byte(fd, b[i].byte, lock ? F_RDLCK : F_UNLCK)) {
                return b[i].byte;
            }
        }
    }
    return -1;
}

static void file_lock_error(const BlockFile *f, GError **errp,
                            const char *shared, int n)
{
    error_setg(errp, "Failed to get %s\"%s\" lock (is another process using "
               "the image [%s]?)", shared, perm_names[n], f->filename);
}

/*
 * Does anyone else lock against the permissions in check, or against our
 * not sharing those in check's unshared?
 */
static bool file_check_lock_bytes(const BlockFile *f, const LockBytes *check,
                                  GError **errp)
{
    for (int pass = 0; pass < 2; pass++) {
        /* Taking a permission, then not sharing one. */
        uint64_t bits = pass ? check->unshared : check->perm;
        int base = pass ? LOCK_PERM_BASE : LOCK_SHARED_BASE;
        const char *shared = pass ? "shared " : "";

        for (int n = 0; n < BLK_PERM_BITS; n++) {
            int ret;

            if (!(bits >> n & 1)) {
                continue;
            }
            ret = file_byte_locked_elsewhere(f->fd, base + n);
            if (ret < 0) {
                error_setg_errno(errp, -ret, "Failed to get %s\"%s\" lock",
                                 shared, perm_names[n]);
                return false;
            }
            if (ret) {
                file_lock_error(f, errp, shared, n);
                return false;
            }
        }
    }
    return true;
}

bool file_set_perm(BlockFile *f, uint64_t perm, uint64_t shared,
                   GError **errp)
{
    LockBytes held = lock_bytes_for(f->perm, f->shared);
    LockBytes want = lock_bytes_for(perm, shared);
    LockBytes both = { held.perm | want.perm,
                       held.unshared | want.unshared };
    /* What was held was checked when it was taken. */
    LockBytes added = { want.perm & ~held.perm,
                        want.unshared & ~held.unshared };
    int byte;

    g_assert(!(perm & ~BLK_PERM_ALL) && !(shared & ~BLK_PERM_ALL));
    g_assert(!(perm & BLK_PERM_WRITE) || !f->read_only);
    if (f->locking) {
        /*
         * Lock first, check then: of two users starting at once, one at
         * least sees the other.  The old bytes stay locked until the new
         * ones are known to be ours, so that a failure changes nothing;
         * giving permissions up locks and checks nothing, and cannot fail.
         */
        byte = file_change_lock_bytes(f->fd, &want, &held, true);
        if (byte >= 0) {
            /* Someone's exclusive lock, or a file system without locks. */
            error_setg(errp, "Failed to lock byte %d", byte);
        }
        if (byte >= 0 || !file_check_lock_bytes(f, &added, errp)) {
            file_change_lock_bytes(f->fd, &both, &held, false);
            return false;
        }
        file_change_lock_bytes(f->fd, &both, &want, false);
    }
    f->perm = perm;
    f->shared = shared;
    return true;
}

static int file_open_flags(BlockCacheMode cache, bool read_only)
{
    int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;

    switch (cache) {
    case BLOCK_CACHE_WRITEBACK:
        break;
    case BLOCK_CACHE_NONE:
        flags |= O_DIRECT;
        break;
    case BLOCK_CACHE_DIRECTSYNC:
        flags |= O_DIRECT | O_DSYNC;
        break;
    case BLOCK_CACHE_WRITETHROUGH:
        flags |= O_DSYNC;
        break;
    }
    return flags;
}

/* Without an answer from statx: try 512, then assume 4096. */
static uint32_t file_probe_dio_alignment(int fd)
{
    static const uint32_t sizes[] = { 512, 4096 };
    uint32_t align = 4096;
    char *buf;

    if (posix_memalign((void **)&buf, 4096, 2 * 4096)) {
        return align;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        /* buf + size is aligned to size and, for 512, to nothing more. */
        if (pread(fd, buf + sizes[i], sizes[i], 0) >= 0) {
            align = sizes[i];
            break;
        }
    }
    free(buf);
    return align;
}

/* Offset, length and memory alignment of O_DIRECT requests. */
static uint32_t file_dio_alignment(BlockFile *f)
{
    struct statx stx;

    if (statx(f->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
        return MAX(stx.stx_dio_offset_align, stx.stx_dio_mem_align);
    }
    if (f->is_bdev) {
        return f->sector_size;
    }
    return file_probe_dio_alignment(f->fd);
}

static bool file_probe(BlockFile *f, const char *filename, bool direct,
                       GError **errp)
{
    struct stat st;

    if (fstat(f->fd, &st) < 0) {
        error_setg_errno(errp, errno, "Could not stat '%s'", filename);
        return false;
    }
    if (S_ISBLK(st.st_mode)) {
        int sector_size;

        f->is_bdev = true;
        if (ioctl(f->fd, BLKGETSIZE64, &f->length) < 0 ||
            ioctl(f->fd, BLKSSZGET, &sector_size) < 0) {
            error_setg_errno(errp, errno, "Could not get the size of '%s'",
                             filename);
            return false;
        }
        f->sector_size = sector_size;
    } else if (S_ISREG(st.st_mode)) {
        f->length = st.st_size;
    } else {
        error_setg(errp, "'%s' is not a regular file or a block device",
                   filename);
        return false;
    }
    f->align = direct ? file_dio_alignment(f) : 1;
    return true;
}

bool file_open(BlockFile *f, const char *filename, BlockCacheMode cache,
               bool read_only, bool auto_read_only, bool locking,
               GError **errp)
{
    int flags = file_open_flags(cache, read_only);

    /* Nothing held, everything shared: no byte locked yet. */
    *f = (BlockFile){
        .read_only = read_only, .locking = locking, .shared = BLK_PERM_ALL,
    };
    f->fd = open(filename, flags);
    if (f->fd < 0 && auto_read_only && !read_only &&
        (errno == EACCES || errno == EPERM || errno == EROFS)) {
        flags = file_open_flags(cache, true);
        f->read_only = true;
        f->fd = open(filename, flags);
    }
    if (f->fd < 0) {
        if (errno == EINVAL && (flags & O_DIRECT)) {
            error_setg(errp, "Could not open '%s': %s\n"
                       "The file system may not support O_DIRECT; "
                       "cache=writeback does not need it.",
                       filename, g_strerror(errno));
        } else {
            error_setg_errno(errp, errno, "Could not open '%s'", filename);
        }
        return false;
    }
    f->filename = g_strdup(filename);
    /* Until a device asks for more: QEMU's -drive without a device. */
    if (!file_set_perm(f, BLK_PERM_CONSISTENT_READ, BLK_PERM_ALL, errp) ||
        !file_probe(f, filename, flags & O_DIRECT, errp)) {
        file_close(f);
        return false;
    }
    return true;
}

void file_close(BlockFile *f)
{
    /* Closing the last descriptor of the description drops its locks. */
    if (f->fd >= 0) {
        close(f->fd);
    }
    f->fd = -1;
    g_clear_pointer(&f->filename, g_free);
}

bool file_discard_io(const BlockFile *f, uint64_t offset, uint64_t bytes,
                     BlockIO *io)
{
    if (f->is_bdev) {
        /* BLKDISCARD wants whole sectors; discard is only a hint anyway. */
        uint64_t start = ROUND_UP(offset, f->sector_size);
        uint64_t end = ROUND_DOWN(offset + bytes, f->sector_size);

        if (f->blkdiscard_unsupported || start >= end) {
            return false;
        }
        *io = (BlockIO){
            .op = BLOCK_OP_BLKDISCARD, .offset = start, .bytes = end - start,
        };
        return true;
    }
    if (f->punch_hole_unsupported || !bytes) {
        return false;
    }
    *io = (BlockIO){
        .op = BLOCK_OP_FALLOCATE,
        .mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
        .offset = offset, .bytes = bytes,
    };
    return true;
}

bool file_zeroes_io(const BlockFile *f, uint64_t offset, uint64_t bytes,
                    bool unmap, BlockIO *io)
{
    *io = (BlockIO){ .offset = offset, .bytes = bytes };
    if (f->is_bdev) {
        /* The kernel writes zeroes itself where the device cannot. */
        io->op = BLOCK_OP_BLKZEROOUT;
        return !((offset | bytes) & (f->sector_size - 1));
    }
    io->op = BLOCK_OP_FALLOCATE;
    if (unmap && !f->punch_hole_unsupported) {
        io->mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        return true;
    }
    io->mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
    return !f->zero_range_unsupported;
}

void file_io_unsupported(BlockFile *f, const BlockIO *io)
{
    switch (io->op) {
    case BLOCK_OP_FALLOCATE:
        if (io->mode & FALLOC_FL_PUNCH_HOLE) {
            f->punch_hole_unsupported = true;
        } else {
            f->zero_range_unsupported = true;
        }
        break;
    case BLOCK_OP_BLKDISCARD:
        f->blkdiscard_unsupported = true;
        break;
    default:
        break;
    }
}
