/*
 * Raw disk images for block device tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "blk-image.h"

/* /tmp may be a tmpfs without O_DIRECT; /var/tmp is on a disk. */
#define BLK_IMAGE_DIR   "/var/tmp"

char *blk_image_new(uint64_t size)
{
    g_autofree uint8_t *data = g_malloc(size);
    char *path = g_build_filename(BLK_IMAGE_DIR, "qtest-blk-XXXXXX", NULL);
    int fd = g_mkstemp(path);

    if (fd < 0) {
        g_error("cannot create an image in %s: %s", BLK_IMAGE_DIR,
                g_strerror(errno));
    }
    for (uint64_t off = 0; off < size; off += BLK_IMAGE_SECTOR_SIZE) {
        memset(data + off, blk_image_sector_byte(off / BLK_IMAGE_SECTOR_SIZE),
               MIN(BLK_IMAGE_SECTOR_SIZE, size - off));
    }
    g_assert_cmpint(write(fd, data, size), ==, size);
    close(fd);
    return path;
}

void blk_image_remove(char *path)
{
    g_unlink(path);
    g_free(path);
}

void blk_image_pread(const char *path, uint64_t offset, void *buf,
                     size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, offset), ==, len);
    close(fd);
}

void blk_image_pwrite(const char *path, uint64_t offset, const void *buf,
                      size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, offset), ==, len);
    close(fd);
}
