/*
 * Latency statistics in integers: count, min, max, exact mean and standard
 * deviation (128-bit sums), and percentiles from a log-linear histogram.
 *
 * The histogram keeps values below 2^LATENCY_SUB_BITS exactly; above, each
 * power-of-two range [2^k, 2^(k+1)) is split into 2^LATENCY_SUB_BITS equal
 * buckets, and a percentile is reported as its bucket's midpoint, so it is
 * within 1/2^(LATENCY_SUB_BITS+1) (0.4%) of the exact value.
 */
#ifndef GUEST_LATENCY_STAT_H
#define GUEST_LATENCY_STAT_H

#include <stdbool.h>
#include <stdint.h>

#include "wide_math.h"

#define LATENCY_SUB_BITS    7
#define LATENCY_BUCKETS     ((64 - LATENCY_SUB_BITS + 1) << LATENCY_SUB_BITS)

struct latency_stat {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    u128 sum;
    u128 sum_squares;
    uint64_t *histogram;        /* LATENCY_BUCKETS counters, or NULL */
};

/* Empty statistics; the histogram (percentiles) only if asked for. */
void latency_stat_init(struct latency_stat *s, bool with_histogram);

void latency_stat_add(struct latency_stat *s, uint64_t value);

/*
 * Add @from's values to @to, as if each had been added to @to; the
 * histogram only if both have one.
 */
void latency_stat_merge(struct latency_stat *to, const struct latency_stat *from);

/* The value histogram bucket @b stands for: the midpoint of its range. */
uint64_t latency_stat_bucket_value(unsigned int b);

/* Mean in millionths (value * 10^6), 0 if empty. */
uint64_t latency_stat_mean_micro(const struct latency_stat *s);

/* Sample standard deviation in millionths, 0 with fewer than 2 values. */
uint64_t latency_stat_stddev_micro(const struct latency_stat *s);

/*
 * The value below which @percent_micro millionths of a percent of the
 * values fall (50000000: the median); needs the histogram and a value.
 */
uint64_t latency_stat_percentile(const struct latency_stat *s, uint64_t percent_micro);

#endif
