/* 128-bit division and square root by shift-and-subtract: report-time only. */
#include "wide_math.h"

static unsigned int bit_length(u128 v)
{
    uint64_t hi = v >> 64, lo = v;

    if (hi) {
        return 128 - __builtin_clzll(hi);
    }
    return lo ? 64 - __builtin_clzll(lo) : 0;
}

u128 u128_divmod(u128 n, u128 d, u128 *rem)
{
    u128 q = 0;

    if (!(n >> 64) && !(d >> 64)) {
        /* 64-bit operands: the hardware divides. */
        if (rem) {
            *rem = (uint64_t)n % (uint64_t)d;
        }
        return (uint64_t)n / (uint64_t)d;
    }
    if (n >= d) {
        int shift = bit_length(n) - bit_length(d);

        for (d <<= shift; shift >= 0; shift--, d >>= 1) {
            q <<= 1;
            if (n >= d) {
                n -= d;
                q |= 1;
            }
        }
    }
    if (rem) {
        *rem = n;
    }
    return q;
}

uint64_t u128_isqrt(u128 v)
{
    uint64_t r = 0;

    for (int bit = 63; bit >= 0; bit--) {
        uint64_t candidate = r | 1ull << bit;

        if ((u128)candidate * candidate <= v) {
            r = candidate;
        }
    }
    return r;
}
