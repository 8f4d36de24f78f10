/*
 * Raw disk images for block device tests.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "blk-image.h"

/* /tmp may be a tmpfs without O_DIRECT; /var/tmp is on a disk. */
#define BLK_IMAGE_DIR   "/var/tmp"

BlkImage *blk_image_new(uint64_t size)
{
    g_autofree uint8_t *data = g_malloc(size);
    BlkImage *img = g_new0(BlkImage, 1);

    img->path = g_build_filename(BLK_IMAGE_DIR, "qtest-blk-XXXXXX", NULL);
    img->fd = g_mkstemp(img->path);
    if (img->fd < 0) {
        g_error("cannot create an image in %s: %s", BLK_IMAGE_DIR,
                g_strerror(errno));
    }
    for (uint64_t off = 0; off < size; off += BLK_IMAGE_SECTOR_SIZE) {
        memset(data + off, blk_image_sector_byte(off / BLK_IMAGE_SECTOR_SIZE),
               MIN(BLK_IMAGE_SECTOR_SIZE, size - off));
    }
    blk_image_pwrite(img, 0, data, size);
    return img;
}

BlkImage *blk_image_new_sparse(uint64_t size)
{
    BlkImage *img = g_new0(BlkImage, 1);

    img->path = g_build_filename(BLK_IMAGE_DIR, "qtest-blk-XXXXXX", NULL);
    img->fd = g_mkstemp(img->path);
    if (img->fd < 0 || ftruncate(img->fd, size) < 0) {
        g_error("cannot create a %" G_GUINT64_FORMAT " byte image in %s: %s",
                size, BLK_IMAGE_DIR, g_strerror(errno));
    }
    return img;
}

void blk_image_detach(BlkImage *img)
{
    g_assert_nonnull(img->path);
    g_unlink(img->path);
    g_clear_pointer(&img->path, g_free);
}

void blk_image_free(BlkImage *img)
{
    if (img->path) {
        blk_image_detach(img);
    }
    close(img->fd);
    g_free(img);
}

void blk_image_pread(BlkImage *img, uint64_t offset, void *buf, size_t len)
{
    g_assert_cmpint(pread(img->fd, buf, len, offset), ==, len);
}

void blk_image_pwrite(BlkImage *img, uint64_t offset, const void *buf,
                      size_t len)
{
    g_assert_cmpint(pwrite(img->fd, buf, len, offset), ==, len);
}
