/*
 * Raw disk images for block device tests, made by the test in a directory
 * whose file system supports O_DIRECT (cache=none), and read or written
 * behind the VMM's back to check what reached the file.
 */
#ifndef LIBQOS_BLK_IMAGE_H
#define LIBQOS_BLK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define BLK_IMAGE_SECTOR_SIZE   512

/* Every byte of sector s of a new image. */
static inline uint8_t blk_image_sector_byte(uint64_t sector)
{
    return sector & 0xff;
}

/*
 * A new image file of size bytes whose sector s is filled with
 * blk_image_sector_byte(s) (a last partial sector included).  Returns its
 * path, for blk_image_remove().
 */
char *blk_image_new(uint64_t size);
void blk_image_remove(char *path);

/* Access the file directly, as another process on the host would. */
void blk_image_pread(const char *path, uint64_t offset, void *buf,
                     size_t len);
void blk_image_pwrite(const char *path, uint64_t offset, const void *buf,
                      size_t len);

#endif
