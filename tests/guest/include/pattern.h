/*
 * The deterministic data pattern of blkcheck and gfio.  Byte o of a disk
 * (o counted from the start of the disk) under seed S is
 *
 *     byte(S, o) = (word(S, o / 8) >> (8 * (o % 8))) & 0xff
 *
 * with 64-bit unsigned arithmetic (mod 2^64):
 *
 *     word(S, i):  x = S + (i + 1) * 0x9e3779b97f4a7c15
 *                  x ^= x << 13;  x ^= x >> 7;  x ^= x << 17
 *                  return x * 0x2545f4914f6cdd1d
 *
 * i.e. one xorshift64* step applied to the seed plus a Weyl sequence; each
 * 8-byte aligned word of the disk is word(S, i) stored little-endian.
 */
#ifndef GUEST_PATTERN_H
#define GUEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>

uint64_t pattern_word(uint64_t seed, uint64_t index);

/* The pattern's byte at disk offset @offset. */
uint8_t pattern_byte(uint64_t seed, uint64_t offset);

/* Fill @buf with the @len pattern bytes that start at disk offset @offset. */
void pattern_fill(void *buf, uint64_t offset, size_t len, uint64_t seed);

/*
 * Index of the first byte of @buf that differs from the pattern bytes
 * starting at disk offset @offset, or @len if all match.
 */
size_t pattern_mismatch(const void *buf, uint64_t offset, size_t len, uint64_t seed);

#endif
