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

typedef struct BlkImage {
    char *path;                 /* NULL once detached */
    int fd;                     /* the test's own access */
} BlkImage;

/* Every byte of sector s of a new image. */
static inline uint8_t blk_image_sector_byte(uint64_t sector)
{
    return sector & 0xff;
}

/*
 * A new image file of size bytes whose sector s is filled with
 * blk_image_sector_byte(s) (a last partial sector included).
 */
BlkImage *blk_image_new(uint64_t size);
/*
 * A new image file of size bytes that reads as zeroes and takes no disk
 * space until written (a sparse file), for tests of big disks.
 */
BlkImage *blk_image_new_sparse(uint64_t size);
/*
 * Once the VMM has the file open: remove its name, so that nothing is left
 * behind even if the test fails.
 */
void blk_image_detach(BlkImage *img);
/* Detach (if not done yet) and close. */
void blk_image_free(BlkImage *img);

/* Access the file directly, as another process on the host would. */
void blk_image_pread(BlkImage *img, uint64_t offset, void *buf, size_t len);
void blk_image_pwrite(BlkImage *img, uint64_t offset, const void *buf,
                      size_t len);

#endif
