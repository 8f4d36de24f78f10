/*
 * Scratch raw disk images for boot tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "pattern.h"

#define IMAGE_DIR   "/var/tmp"

Image *image_new(uint64_t size)
{
    g_autofree char *name = g_build_filename(IMAGE_DIR,
                                             "boot-test-XXXXXX.img", NULL);
    Image *img = g_new0(Image, 1);

    img->fd = g_mkstemp_full(name, O_RDWR | O_CLOEXEC, 0600);
    g_assert_cmpint(img->fd, >=, 0);
    g_assert_cmpint(unlink(name), ==, 0);
    g_assert_cmpint(ftruncate(img->fd, size), ==, 0);
    img->size = size;
    img->path = g_strdup_printf("/proc/%d/fd/%d", (int)getpid(), img->fd);
    return img;
}

Image *image_new_pattern(uint64_t size, uint64_t seed)
{
    Image *img = image_new(size);

    image_write_pattern(img, 0, size, seed);
    return img;
}

void image_free(Image *img)
{
    close(img->fd);
    g_free(img->path);
    g_free(img);
}

void image_write(const Image *img, uint64_t offset, const void *buf,
                 size_t len)
{
    g_assert_cmpuint(offset + len, <=, img->size);
    g_assert_cmpint(pwrite(img->fd, buf, len, offset), ==, (ssize_t)len);
}

void image_read(const Image *img, uint64_t offset, void *buf, size_t len)
{
    g_assert_cmpuint(offset + len, <=, img->size);
    g_assert_cmpint(pread(img->fd, buf, len, offset), ==, (ssize_t)len);
}

uint8_t *image_contents(const Image *img)
{
    uint8_t *buf = g_malloc(img->size);

    image_read(img, 0, buf, img->size);
    return buf;
}

void image_write_pattern(const Image *img, uint64_t offset, uint64_t len,
                         uint64_t seed)
{
    g_autofree uint8_t *buf = g_malloc(len);

    pattern_fill(buf, offset, len, seed);
    image_write(img, offset, buf, len);
}

void image_assert_pattern(const Image *img, uint64_t offset, uint64_t len,
                          uint64_t seed)
{
    g_autofree uint8_t *buf = g_malloc(len);
    size_t bad;

    image_read(img, offset, buf, len);
    bad = pattern_mismatch(buf, offset, len, seed);
    if (bad < len) {
        g_test_message("image byte %" PRIu64 " (0x%" PRIx64 "): expected "
                       "0x%02x (seed %" PRIu64 "), found 0x%02x",
                       offset + bad, offset + bad,
                       pattern_byte(seed, offset + bad), seed, buf[bad]);
    }
    g_assert_cmpuint(bad, ==, len);
}

void image_assert_contents(const Image *img, const uint8_t *expected)
{
    g_autofree uint8_t *now = image_contents(img);
    uint64_t i = 0;

    while (i < img->size && now[i] == expected[i]) {
        i++;
    }
    if (i < img->size) {
        g_test_message("image byte %" PRIu64 " (0x%" PRIx64 ") changed from "
                       "0x%02x to 0x%02x", i, i, expected[i], now[i]);
    }
    g_assert_cmpuint(i, ==, img->size);
}
