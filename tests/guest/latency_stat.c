/* Latency statistics; the histogram scheme is described in latency_stat.h. */
#include "latency_stat.h"

#include "libc.h"
#include "memory.h"

#define SUB_BUCKETS     (1ull << LATENCY_SUB_BITS)
#define MICRO           UINT64_C(1000000)
#define PERCENT_MICRO   (100 * MICRO)

void latency_stat_init(struct latency_stat *s, bool with_histogram)
{
    *s = (struct latency_stat){ .min = UINT64_MAX };
    if (with_histogram) {
        s->histogram = guest_alloc(LATENCY_BUCKETS * sizeof(uint64_t), 64);
        memset(s->histogram, 0, LATENCY_BUCKETS * sizeof(uint64_t));
    }
}

static unsigned int bucket_of(uint64_t v)
{
    unsigned int shift;

    if (v < SUB_BUCKETS) {
        return v;
    }
    /* v >> shift lies in [SUB_BUCKETS, 2 * SUB_BUCKETS). */
    shift = 63 - __builtin_clzll(v) - LATENCY_SUB_BITS;
    return (shift + 1) * SUB_BUCKETS + ((v >> shift) - SUB_BUCKETS);
}

void latency_stat_merge(struct latency_stat *to, const struct latency_stat *from)
{
    to->count += from->count;
    if (from->min < to->min) {
        to->min = from->min;
    }
    if (from->max > to->max) {
        to->max = from->max;
    }
    to->sum += from->sum;
    to->sum_squares += from->sum_squares;
    if (to->histogram && from->histogram) {
        for (unsigned int b = 0; b < LATENCY_BUCKETS; b++) {
            to->histogram[b] += from->histogram[b];
        }
    }
}

uint64_t latency_stat_bucket_value(unsigned int b)
{
    unsigned int shift;
    uint64_t low;

    if (b < SUB_BUCKETS) {
        return b;
    }
    shift = b / SUB_BUCKETS - 1;
    low = (SUB_BUCKETS + b % SUB_BUCKETS) << shift;
    return low + ((1ull << shift) >> 1);
}

void latency_stat_add(struct latency_stat *s, uint64_t value)
{
    s->count++;
    if (value < s->min) {
        s->min = value;
    }
    if (value > s->max) {
        s->max = value;
    }
    s->sum += value;
    s->sum_squares += (u128)value * value;
    if (s->histogram) {
        s->histogram[bucket_of(value)]++;
    }
}

uint64_t latency_stat_mean_micro(const struct latency_stat *s)
{
    if (!s->count) {
        return 0;
    }
    return u128_saturate(u128_divmod(s->sum * MICRO, s->count, NULL));
}

uint64_t latency_stat_stddev_micro(const struct latency_stat *s)
{
    u128 n = s->count, divisor, variance, rem, scaled;

    if (n < 2) {
        return 0;
    }
    /*
     * variance = (n * sum_squares - sum^2) / (n * (n - 1)), scaled by 10^12
     * so that its square root carries six decimals; the quotient and the
     * remainder are scaled separately to stay within 128 bits.
     */
    divisor = n * (n - 1);
    variance = u128_divmod(n * s->sum_squares - s->sum * s->sum, divisor, &rem);
    scaled = variance * MICRO * MICRO + u128_divmod(rem * MICRO * MICRO, divisor, NULL);
    return u128_isqrt(scaled);
}

uint64_t latency_stat_percentile(const struct latency_stat *s, uint64_t percent_micro)
{
    u128 seen = 0, needed = (u128)percent_micro * s->count;
    uint64_t v = s->max;

    /* First bucket holding the value with rank ceil(p/100 * count). */
    for (unsigned int b = 0; b < LATENCY_BUCKETS; b++) {
        seen += s->histogram[b];
        if (s->histogram[b] && seen * PERCENT_MICRO >= needed) {
            v = latency_stat_bucket_value(b);
            break;
        }
    }
    return v < s->min ? s->min : v > s->max ? s->max : v;
}
