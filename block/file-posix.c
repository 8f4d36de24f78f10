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
 * Open file description locks, one byte per permission: every user holds
 * a shared lock on the "read" byte, a writer an exclusive lock on the
 * "write" byte, so that two writers exclude each other.
 */
#define LOCK_BYTE_READ  100
#define LOCK_BYTE_WRITE 101

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

static bool file_lock(int fd, const char *filename, const char *perm,
                      off_t byte, short type, GError **errp)
{
    struct flock fl = {
        .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
    };

    if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
        return true;
    }
    if (errno == EAGAIN || errno == EACCES) {
        error_setg(errp, "Failed to get \"%s\" lock\n"
                   "Another process may be using the image '%s'.",
                   perm, filename);
        return false;
    }
    /* The file system has no such locks (ENOLCK, EINVAL): go without. */
    return true;
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
               bool read_only, GError **errp)
{
    int flags = file_open_flags(cache, read_only);

    *f = (BlockFile){ .read_only = read_only };
    f->fd = open(filename, flags);
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
    if (!file_lock(f->fd, filename, "read", LOCK_BYTE_READ, F_RDLCK, errp) ||
        (!read_only && !file_lock(f->fd, filename, "write", LOCK_BYTE_WRITE,
                                  F_WRLCK, errp)) ||
        !file_probe(f, filename, flags & O_DIRECT, errp)) {
        file_close(f);
        return false;
    }
    return true;
}

void file_close(BlockFile *f)
{
    /* Closing the last descriptor of the description drops its locks. */
    close(f->fd);
    f->fd = -1;
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
