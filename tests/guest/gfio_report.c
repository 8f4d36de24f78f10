/*
 * gfio's results: fio 3.33's JSON, json or json+ (every member fio prints
 * but those a guest program cannot measure, tests/guest/README.rst) and a
 * one-line summary.  Rates are computed from the measured
 * window in nanoseconds with integer arithmetic; fractions are printed with
 * six decimals as fio does.
 */
#include "gfio.h"

#include "json_writer.h"
#include "libc.h"
#include "wide_math.h"

#define NSEC_PER_SEC    UINT64_C(1000000000)
#define NSEC_PER_MSEC   UINT64_C(1000000)
#define MICRO           UINT64_C(1000000)

/* fio's default percentile list, in millionths of a percent */
static const uint64_t percentiles_micro[] = {
    1000000, 5000000, 10000000, 20000000, 30000000, 40000000, 50000000,
    60000000, 70000000, 80000000, 90000000, 95000000, 99000000, 99500000,
    99900000, 99950000, 99990000,
};

/* @count per second over @ns, in millionths */
static uint64_t rate_micro(uint64_t count, uint64_t ns)
{
    if (!ns) {
        return 0;
    }
    return u128_saturate(u128_divmod((u128)count * NSEC_PER_SEC * MICRO, ns, NULL));
}

/* json+: the histogram's non-empty buckets, "value in ns" : count. */
static void bins_json(struct json_writer *w, const struct latency_stat *s)
{
    json_begin_object(w, "bins");
    for (unsigned int b = 0; b < LATENCY_BUCKETS; b++) {
        char name[24];

        if (s->histogram[b]) {
            snprintf(name, sizeof(name), "%lu", latency_stat_bucket_value(b));
            json_uint(w, name, s->histogram[b]);
        }
    }
    json_end_object(w);
}

/*
 * min, max, mean, stddev and N; percentiles (and json+ bins) when asked
 * for, as fio, only if there is a value.
 */
static void latency_json(struct json_writer *w, const char *key,
                         const struct latency_stat *s, bool percentiles,
                         bool bins)
{
    json_begin_object(w, key);
    json_uint(w, "min", s->count ? s->min : 0);
    json_uint(w, "max", s->max);
    json_fixed6(w, "mean", latency_stat_mean_micro(s));
    json_fixed6(w, "stddev", latency_stat_stddev_micro(s));
    json_uint(w, "N", s->count);
    if (percentiles && s->count && s->histogram) {
        json_begin_object(w, "percentile");
        for (size_t i = 0; i < sizeof(percentiles_micro) / sizeof(percentiles_micro[0]); i++) {
            char name[24];

            snprintf(name, sizeof(name), "%lu.%06lu", percentiles_micro[i] / MICRO,
                     percentiles_micro[i] % MICRO);
            json_uint(w, name, latency_stat_percentile(s, percentiles_micro[i]));
        }
        json_end_object(w);
        if (bins) {
            bins_json(w, s);
        }
    }
    json_end_object(w);
}

/*
 * bw_agg: the mean sampled bandwidth's share of the entry's bandwidth,
 * @bw_kib, in millionths of a percent, at most 100% as fio.
 */
static uint64_t bw_agg_micro(const struct gfio_sample_summary *bw, uint64_t bw_kib)
{
    uint64_t agg;

    if (!bw_kib) {
        return 0;
    }
    agg = u128_saturate(u128_divmod((u128)bw->mean_micro * 100, bw_kib, NULL));
    return agg < 100 * MICRO ? agg : 100 * MICRO;
}

static void direction_json(struct json_writer *w, const char *key,
                           const struct gfio_entry_direction *d, uint64_t runtime_ns,
                           const struct gfio_options *o)
{
    uint64_t ns = d->ios ? runtime_ns : 0;
    uint64_t bw_bytes = rate_micro(d->bytes, ns) / MICRO;

    json_begin_object(w, key);
    json_uint(w, "io_bytes", d->bytes);
    json_uint(w, "io_kbytes", d->bytes / 1024);
    json_uint(w, "bw_bytes", bw_bytes);
    json_uint(w, "bw", bw_bytes / 1024);
    json_fixed6(w, "iops", rate_micro(d->ios, ns));
    json_uint(w, "runtime", ns / NSEC_PER_MSEC);
    json_uint(w, "total_ios", d->ios);
    json_uint(w, "short_ios", 0);
    json_uint(w, "drop_ios", 0);
    latency_json(w, "slat_ns", &d->slat, o->slat_percentiles, o->json_plus);
    latency_json(w, "clat_ns", &d->clat, o->clat_percentiles, o->json_plus);
    latency_json(w, "lat_ns", &d->lat, o->lat_percentiles, o->json_plus);
    json_uint(w, "bw_min", d->bw.samples ? d->bw.min : 0);
    json_uint(w, "bw_max", d->bw.max);
    json_fixed6(w, "bw_agg", bw_agg_micro(&d->bw, bw_bytes / 1024));
    json_fixed6(w, "bw_mean", d->bw.mean_micro);
    json_fixed6(w, "bw_dev", u128_isqrt(d->bw.variance_micro2));
    json_uint(w, "bw_samples", d->bw.samples);
    json_uint(w, "iops_min", d->iops.samples ? d->iops.min : 0);
    json_uint(w, "iops_max", d->iops.max);
    json_fixed6(w, "iops_mean", d->iops.mean_micro);
    json_fixed6(w, "iops_stddev", u128_isqrt(d->iops.variance_micro2));
    json_uint(w, "iops_samples", d->iops.samples);
    json_end_object(w);
}

/* "job options": every key=value given, as fio lists the job's options. */
static void options_json(struct json_writer *w, int argc, char **argv)
{
    json_begin_object(w, "job options");
    for (int i = 1; i < argc; i++) {
        char key[32];
        const char *eq = strchr(argv[i], '=');
        size_t len = eq - argv[i];

        /* gfio_parse_options() accepted only key=value with short keys. */
        memcpy(key, argv[i], len);
        key[len] = '\0';
        json_string(w, key, eq + 1);
    }
    json_end_object(w);
}

/* One member of "jobs": a job, or a group of them. */
static void entry_json(struct json_writer *w, int argc, char **argv,
                       const struct gfio_options *o, const struct gfio_entry *e)
{
    static const struct gfio_entry_direction no_io;

    json_begin_object(w, NULL);
    json_string(w, "jobname", o->name);
    json_uint(w, "groupid", 0);
    json_uint(w, "error", e->exit_status);
    json_uint(w, "eta", 0);
    json_uint(w, "elapsed", (e->elapsed_ns + NSEC_PER_SEC / 2) / NSEC_PER_SEC);
    options_json(w, argc, argv);
    direction_json(w, "read", &e->dir[IO_OP_READ], e->runtime_ns, o);
    direction_json(w, "write", &e->dir[IO_OP_WRITE], e->runtime_ns, o);
    /* gfio neither trims nor syncs: fio's members, with nothing in them */
    direction_json(w, "trim", &no_io, e->runtime_ns, o);
    json_begin_object(w, "sync");
    json_uint(w, "total_ios", 0);
    latency_json(w, "lat_ns", &no_io.lat, false, false);
    json_end_object(w);
    json_uint(w, "job_runtime", e->job_runtime_ns / NSEC_PER_MSEC);
    gfio_distribution_json(w, &e->dist);
    /* fio's latency target settings, which gfio does not have: off */
    json_uint(w, "latency_depth", o->iodepth);
    json_uint(w, "latency_target", 0);
    json_fixed6(w, "latency_percentile", 100 * MICRO);
    json_uint(w, "latency_window", 0);
    json_end_object(w);
}

static void json(int argc, char **argv, const struct gfio_options *o,
                 const struct gfio_result *const *results, uint32_t count,
                 const struct gfio_entry *group)
{
    struct json_writer w = { 0 };

    json_begin_object(&w, NULL);
    json_string(&w, "fio version", GFIO_VERSION);
    json_begin_array(&w, "jobs");
    if (o->group_reporting || count == 1) {
        entry_json(&w, argc, argv, o, group);
    } else {
        for (uint32_t j = 0; j < count; j++) {
            struct gfio_entry job;

            gfio_entry_init(&job, o);
            gfio_entry_add(&job, results[j]);
            entry_json(&w, argc, argv, o, &job);
        }
    }
    json_end_array(&w);
    json_end_object(&w);
}

/* @ns as microseconds with one decimal */
static void print_us(const char *name, uint64_t ns)
{
    printf(" %s=%lu.%lu", name, ns / 1000, ns % 1000 / 100);
}

static void summarize(const char *name, const struct gfio_entry_direction *d,
                      uint64_t runtime_ns)
{
    uint64_t iops_milli = rate_micro(d->ios, runtime_ns) / 1000;
    uint64_t kib_s = rate_micro(d->bytes, runtime_ns) / MICRO / 1024;

    if (!d->ios) {
        return;
    }
    printf(" %s: IOPS=%lu.%lu BW=%luKiB/s clat(us)", name, iops_milli / 1000,
           iops_milli % 1000 / 100, kib_s);
    print_us("mean", latency_stat_mean_micro(&d->clat) / MICRO);
    print_us("p50", latency_stat_percentile(&d->clat, 50000000));
    print_us("p99", latency_stat_percentile(&d->clat, 99000000));
    print_us("max", d->clat.max);
    printf(";");
}

void gfio_report(int argc, char **argv, const struct gfio_options *o,
                 const struct gfio_result *const *results, struct io_engine *const *engines,
                 uint32_t count)
{
    static struct gfio_entry group;

    gfio_entry_init(&group, o);
    for (uint32_t j = 0; j < count; j++) {
        gfio_entry_add(&group, results[j]);
    }
    printf("--- gfio json begin ---\n");
    json(argc, argv, o, results, count, &group);
    printf("--- gfio json end ---\n");

    /* One line, all jobs together; a job's engine counters at a time. */
    printf("gfio: rw=%s bs=%lu iodepth=%u ", o->rw, o->bs, o->iodepth);
    if (count > 1) {
        printf("numjobs=%u ", count);
    }
    printf("runtime=%lums:", group.runtime_ns / NSEC_PER_MSEC);
    summarize("read", &group.dir[IO_OP_READ], group.runtime_ns);
    summarize("write", &group.dir[IO_OP_WRITE], group.runtime_ns);
    if (o->verify) {
        printf(" verified=%lu", group.verified_blocks);
    }
    for (uint32_t j = 0; j < count; j++) {
        char engine_counters[128];

        engines[j]->describe(engines[j], engine_counters, sizeof(engine_counters));
        printf(" %s=[%s]", engines[j]->name, engine_counters);
    }
    printf(" %s\n", group.exit_status ? "FAILED" : "OK");
}
