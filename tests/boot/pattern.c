/*
 * The blkcheck/gfio data pattern: for seed S, disk byte o is byte o % 8
 * (little-endian) of word(S, o / 8), where word(S, i) starts from
 * x = S + (i + 1) * 0x9e3779b97f4a7c15, shifts x ^= x << 13, x ^= x >> 7,
 * x ^= x << 17, and returns x * 0x2545f4914f6cdd1d (all mod 2^64).
 */
#include "pattern.h"

static uint64_t word(uint64_t seed, uint64_t index)
{
    uint64_t x = seed + (index + 1) * UINT64_C(0x9e3779b97f4a7c15);

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x * UINT64_C(0x2545f4914f6cdd1d);
}

uint8_t pattern_byte(uint64_t seed, uint64_t offset)
{
    return (uint8_t)(word(seed, offset / 8) >> (offset % 8 * 8));
}

void pattern_fill(void *buf, uint64_t offset, size_t len, uint64_t seed)
{
    uint8_t *p = buf;
    uint64_t w = word(seed, offset / 8);

    for (size_t i = 0; i < len; i++) {
        uint64_t o = offset + i;

        if (i && o % 8 == 0) {
            w = word(seed, o / 8);
        }
        p[i] = (uint8_t)(w >> (o % 8 * 8));
    }
}

size_t pattern_mismatch(const void *buf, uint64_t offset, size_t len,
                        uint64_t seed)
{
    const uint8_t *p = buf;
    uint64_t w = word(seed, offset / 8);

    for (size_t i = 0; i < len; i++) {
        uint64_t o = offset + i;

        if (i && o % 8 == 0) {
            w = word(seed, o / 8);
        }
        if (p[i] != (uint8_t)(w >> (o % 8 * 8))) {
            return i;
        }
    }
    return len;
}
