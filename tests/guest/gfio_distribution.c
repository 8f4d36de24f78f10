/*
 * fio's distributions of a job, counted and printed as fio 3.33 prints
 * them: queue depths at submission (iodepth_level), requests per submission
 * (iodepth_submit) and per reap (iodepth_complete), and completion
 * latencies by range (latency_ns, latency_us, latency_ms), each as the
 * percentage of its total with six decimals.
 */
#include "gfio.h"

#include "json_writer.h"
#include "libc.h"
#include "wide_math.h"

#define MICRO   UINT64_C(1000000)

static const char *const level_labels[GFIO_DEPTH_BUCKETS] = {
    "1", "2", "4", "8", "16", "32", ">=64",
};
static const char *const batch_labels[GFIO_DEPTH_BUCKETS] = {
    "0", "4", "8", "16", "32", "64", ">=64",
};
/* Upper bounds (exclusive) of the ranges of each unit; then ">=2000" ms. */
static const uint32_t range_bounds[GFIO_LATENCY_RANGES] = {
    2, 4, 10, 20, 50, 100, 250, 500, 750, 1000, 2000,
};
static const char *const range_labels[GFIO_LATENCY_RANGES + 1] = {
    "2", "4", "10", "20", "50", "100", "250", "500", "750", "1000", "2000",
    ">=2000",
};

/* Depths 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64 and more. */
static unsigned int level_bucket(uint32_t depth)
{
    unsigned int b = 0;

    while (b < GFIO_DEPTH_BUCKETS - 1 && depth >= 2u << b) {
        b++;
    }
    return b;
}

/* Batches of 0, 1-4, 5-8, 9-16, 17-32, 33-64, more than 64. */
static unsigned int batch_bucket(uint32_t n)
{
    unsigned int b = 0;

    if (!n) {
        return 0;
    }
    b = 1;
    while (b < GFIO_DEPTH_BUCKETS - 1 && n > 4u << (b - 1)) {
        b++;
    }
    return b;
}

void gfio_distribution_submit(struct gfio_distribution *d, uint32_t n,
                              uint32_t depth)
{
    d->level[level_bucket(depth)] += n;
    d->submitted += n;
    d->submit[batch_bucket(n)]++;
    d->submits++;
}

void gfio_distribution_complete(struct gfio_distribution *d, uint32_t n)
{
    d->complete[batch_bucket(n)]++;
    d->completes++;
}

void gfio_distribution_latency(struct gfio_distribution *d, uint64_t ns)
{
    static const uint64_t units[] = { 1, 1000, 1000000 };

    d->latencies++;
    for (unsigned int u = 0; u < 3; u++) {
        uint64_t v = ns / units[u];
        /* ns and us end at 1000, which the next unit starts from */
        unsigned int ranges = u < 2 ? 10 : GFIO_LATENCY_RANGES;

        for (unsigned int r = 0; r < ranges; r++) {
            if (v < range_bounds[r]) {
                d->range[u][r]++;
                return;
            }
        }
        if (u == 2) {
            d->range[u][GFIO_LATENCY_RANGES]++;
        }
    }
}

/* @count of @total as a percentage in millionths; 0 if @total is. */
static uint64_t percent_micro(uint64_t count, uint64_t total)
{
    if (!total) {
        return 0;
    }
    return u128_saturate(u128_divmod((u128)count * 100 * MICRO, total, NULL));
}

static void buckets_json(struct json_writer *w, const char *key,
                         const char *const *labels, const uint64_t *counts,
                         unsigned int n, uint64_t total)
{
    json_begin_object(w, key);
    for (unsigned int i = 0; i < n; i++) {
        json_fixed6(w, labels[i], percent_micro(counts[i], total));
    }
    json_end_object(w);
}

void gfio_distribution_json(struct json_writer *w,
                            const struct gfio_distribution *d)
{
    buckets_json(w, "iodepth_level", level_labels, d->level,
                 GFIO_DEPTH_BUCKETS, d->submitted);
    buckets_json(w, "iodepth_submit", batch_labels, d->submit,
                 GFIO_DEPTH_BUCKETS, d->submits);
    buckets_json(w, "iodepth_complete", batch_labels, d->complete,
                 GFIO_DEPTH_BUCKETS, d->completes);
    buckets_json(w, "latency_ns", range_labels, d->range[0], 10,
                 d->latencies);
    buckets_json(w, "latency_us", range_labels, d->range[1], 10,
                 d->latencies);
    buckets_json(w, "latency_ms", range_labels, d->range[2],
                 GFIO_LATENCY_RANGES + 1, d->latencies);
}
