/*
 * Scratch raw disk images for boot tests, and checks of their contents.
 *
 * An image is created under /var/tmp (O_DIRECT needs a real file system,
 * not tmpfs) and unlinked at once; VMMs open it as /proc/PID/fd/N of the
 * test, so nothing is left behind even when a test aborts.
 */
#ifndef TESTS_BOOT_IMAGE_H
#define TESTS_BOOT_IMAGE_H

#include <glib.h>
#include <stdint.h>

typedef struct Image {
    char *path;                 /* for file= */
    int fd;
    uint64_t size;
} Image;

/* A new image of @size bytes, all zero. */
Image *image_new(uint64_t size);
/* A new image of @size bytes that holds the pattern of @seed. */
Image *image_new_pattern(uint64_t size, uint64_t seed);
void image_free(Image *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Image, image_free)

void image_write(const Image *img, uint64_t offset, const void *buf,
                 size_t len);
void image_read(const Image *img, uint64_t offset, void *buf, size_t len);
/* The whole image; g_free() it. */
uint8_t *image_contents(const Image *img);

/* Write the blkcheck/gfio pattern of @seed to [@offset, @offset + @len). */
void image_write_pattern(const Image *img, uint64_t offset, uint64_t len,
                         uint64_t seed);

/*
 * Assert that [@offset, @offset + @len) holds the pattern of @seed; a
 * failure names the first byte that differs.
 */
void image_assert_pattern(const Image *img, uint64_t offset, uint64_t len,
                          uint64_t seed);

/* Assert that the image holds @expected (image_contents() of an earlier
 * moment); a failure names the first byte that differs. */
void image_assert_contents(const Image *img, const uint8_t *expected);

#endif
