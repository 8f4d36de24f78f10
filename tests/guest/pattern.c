/* The blkcheck/gfio data pattern; the definition is in pattern.h. */
#include "pattern.h"

#define WEYL_INCREMENT      0x9e3779b97f4a7c15ull
#define XORSHIFT_MULTIPLIER 0x2545f4914f6cdd1dull

uint64_t pattern_word(uint64_t seed, uint64_t index)
{
    uint64_t x = seed + (index + 1) * WEYL_INCREMENT;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x * XORSHIFT_MULTIPLIER;
}

uint8_t pattern_byte(uint64_t seed, uint64_t offset)
{
    return pattern_word(seed, offset / 8) >> (8 * (offset % 8));
}

void pattern_fill(void *buf, uint64_t offset, size_t len, uint64_t seed)
{
    uint8_t *p = buf;

    /* Bytes up to the first aligned word, whole words, then the tail. */
    for (; len && offset % 8; len--) {
        *p++ = pattern_byte(seed, offset++);
    }
    for (; len >= 8; len -= 8, p += 8, offset += 8) {
        uint64_t w = pattern_word(seed, offset / 8);

        __builtin_memcpy(p, &w, 8);
    }
    for (; len; len--) {
        *p++ = pattern_byte(seed, offset++);
    }
}

size_t pattern_mismatch(const void *buf, uint64_t offset, size_t len, uint64_t seed)
{
    const uint8_t *p = buf;
    size_t i = 0;

    for (; i < len && (offset + i) % 8; i++) {
        if (p[i] != pattern_byte(seed, offset + i)) {
            return i;
        }
    }
    for (; len - i >= 8; i += 8) {
        uint64_t w;

        __builtin_memcpy(&w, p + i, 8);
        if (w != pattern_word(seed, (offset + i) / 8)) {
            break;              /* the byte loop below finds which byte */
        }
    }
    for (; i < len; i++) {
        if (p[i] != pattern_byte(seed, offset + i)) {
            return i;
        }
    }
    return len;
}
