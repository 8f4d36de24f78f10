/*
 * Entries of gfio's report: one job's results, or a group of jobs' added
 * up as fio's group_reporting reports them (gfio.h, struct gfio_entry).
 * Built after every job has ended, on one CPU.
 */
#include "gfio.h"

#include "libc.h"

static void direction_init(struct gfio_entry_direction *d, const struct gfio_options *o)
{
    *d = (struct gfio_entry_direction){ 0 };
    latency_stat_init(&d->slat, o->slat_percentiles);
    latency_stat_init(&d->clat, true);      /* as gfio.c's setup_job() */
    latency_stat_init(&d->lat, o->lat_percentiles);
    d->bw.min = d->iops.min = UINT64_MAX;
}

void gfio_entry_init(struct gfio_entry *e, const struct gfio_options *o)
{
    *e = (struct gfio_entry){ 0 };
    for (int d = 0; d < 2; d++) {
        direction_init(&e->dir[d], o);
    }
}

/* A job's samples, summed into a group's; a job without any adds nothing. */
static void add_samples(struct gfio_sample_summary *to, const struct latency_stat *s)
{
    uint64_t stddev = latency_stat_stddev_micro(s);

    if (!s->count) {
        return;
    }
    to->min = to->samples ? to->min + s->min : s->min;
    to->max += s->max;
    to->mean_micro += latency_stat_mean_micro(s);
    to->variance_micro2 += (u128)stddev * stddev;
    to->samples += s->count;
}

static void add_direction(struct gfio_entry_direction *to,
                          const struct gfio_direction_stats *from)
{
    to->ios += from->ios;
    to->bytes += from->bytes;
    latency_stat_merge(&to->slat, &from->slat);
    latency_stat_merge(&to->clat, &from->clat);
    latency_stat_merge(&to->lat, &from->lat);
    add_samples(&to->bw, &from->bw_samples);
    add_samples(&to->iops, &from->iops_samples);
}

static void add_counts(uint64_t *to, const uint64_t *from, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        to[i] += from[i];
    }
}

static void add_distribution(struct gfio_distribution *to,
                             const struct gfio_distribution *from)
{
    add_counts(to->level, from->level, GFIO_DEPTH_BUCKETS);
    to->submitted += from->submitted;
    add_counts(to->submit, from->submit, GFIO_DEPTH_BUCKETS);
    to->submits += from->submits;
    add_counts(to->complete, from->complete, GFIO_DEPTH_BUCKETS);
    to->completes += from->completes;
    for (int unit = 0; unit < 3; unit++) {
        add_counts(to->range[unit], from->range[unit], GFIO_LATENCY_RANGES + 1);
    }
    to->latencies += from->latencies;
}

void gfio_entry_add(struct gfio_entry *e, const struct gfio_result *r)
{
    for (int d = 0; d < 2; d++) {
        add_direction(&e->dir[d], &r->dir[d]);
    }
    add_distribution(&e->dist, &r->dist);
    if (r->runtime_ns > e->runtime_ns) {
        e->runtime_ns = r->runtime_ns;
    }
    e->job_runtime_ns += r->runtime_ns;
    if (r->elapsed_ns > e->elapsed_ns) {
        e->elapsed_ns = r->elapsed_ns;
    }
    e->verified_blocks += r->verified_blocks;
    if (!e->exit_status) {
        e->exit_status = r->exit_status;
    }
    e->jobs++;
}
