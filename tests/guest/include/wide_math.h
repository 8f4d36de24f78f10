/*
 * 128-bit unsigned arithmetic that the compiler would otherwise hand to
 * libgcc (division), and integer square root.  Guest programs have neither
 * libgcc nor floating point.
 */
#ifndef GUEST_WIDE_MATH_H
#define GUEST_WIDE_MATH_H

#include <stdint.h>

typedef unsigned __int128 u128;

/* @n / @d, remainder in *@rem if @rem is not NULL; @d must not be 0. */
u128 u128_divmod(u128 n, u128 d, u128 *rem);

/* floor(sqrt(@v)) */
uint64_t u128_isqrt(u128 v);

/* @v as uint64_t, or UINT64_MAX if it does not fit. */
static inline uint64_t u128_saturate(u128 v)
{
    return v >> 64 ? UINT64_MAX : (uint64_t)v;
}

#endif
