/*
 * The data pattern of the guest programs blkcheck and gfio
 * (tests/guest/README.rst, pattern.h), generated on the host from its
 * documented definition so that tests can check disk images byte for byte.
 */
#ifndef TESTS_BOOT_PATTERN_H
#define TESTS_BOOT_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* Byte @offset of the disk in the pattern of @seed. */
uint8_t pattern_byte(uint64_t seed, uint64_t offset);

/* The pattern of @seed for disk bytes [@offset, @offset + @len). */
void pattern_fill(void *buf, uint64_t offset, size_t len, uint64_t seed);

/*
 * Index of the first byte of @buf (disk bytes from @offset) that is not the
 * pattern of @seed, or @len if all are.
 */
size_t pattern_mismatch(const void *buf, uint64_t offset, size_t len,
                        uint64_t seed);

#endif
