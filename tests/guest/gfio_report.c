/*
 * gfio's results: fio's JSON layout (the members fio 3.33 prints that gfio
 * measures) and a one-line summary.  Rates are computed from the measured
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
static const uint64_t percentiles[] = {
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

static void latency_json(struct json_writer *w, const char *key,
                         const struct latency_stat *s, bool with_percentiles)
{
    json_begin_object(w, key);
    json_uint(w, "min", s->count ? s->min : 0);
    json_uint(w, "max", s->max);
    json_fixed6(w, "mean", latency_stat_mean_micro(s));
    json_fixed6(w, "stddev", latency_stat_stddev_micro(s));
    json_uint(w, "N", s->count);
    if (with_percentiles && s->count) {
        json_begin_object(w, "percentile");
        for (size_t i = 0; i < sizeof(percentiles) / sizeof(percentiles[0]); i++) {
            char name[24];

            snprintf(name, sizeof(name), "%lu.%06lu", percentiles[i] / MICRO,
                     percentiles[i] % MICRO);
            json_uint(w, name, latency_stat_percentile(s, percentiles[i]));
        }
        json_end_object(w);
    }
    json_end_object(w);
}

static void direction_json(struct json_writer *w, const char *key,
                           const struct gfio_direction_stats *d, uint64_t runtime_ns)
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
    latency_json(w, "slat_ns", &d->slat, false);
    latency_json(w, "clat_ns", &d->clat, true);
    latency_json(w, "lat_ns", &d->lat, true);
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

static void json(int argc, char **argv, const struct gfio_options *o,
                 const struct gfio_result *r)
{
    struct json_writer w = { 0 };

    json_begin_object(&w, NULL);
    json_string(&w, "fio version", GFIO_VERSION);
    json_begin_array(&w, "jobs");
    json_begin_object(&w, NULL);
    json_string(&w, "jobname", o->name);
    json_uint(&w, "groupid", 0);
    json_uint(&w, "error", r->exit_status);
    json_uint(&w, "elapsed", (r->elapsed_ns + NSEC_PER_SEC / 2) / NSEC_PER_SEC);
    options_json(&w, argc, argv);
    direction_json(&w, "read", &r->dir[IO_OP_READ], r->runtime_ns);
    direction_json(&w, "write", &r->dir[IO_OP_WRITE], r->runtime_ns);
    json_uint(&w, "job_runtime", r->runtime_ns / NSEC_PER_MSEC);
    json_end_object(&w);
    json_end_array(&w);
    json_end_object(&w);
}

/* @ns as microseconds with one decimal */
static void print_us(const char *name, uint64_t ns)
{
    printf(" %s=%lu.%lu", name, ns / 1000, ns % 1000 / 100);
}

static void summarize(const char *name, const struct gfio_direction_stats *d,
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
                 const struct gfio_result *r, struct io_engine *e)
{
    char engine_counters[128];

    printf("--- gfio json begin ---\n");
    json(argc, argv, o, r);
    printf("--- gfio json end ---\n");

    e->describe(e, engine_counters, sizeof(engine_counters));
    printf("gfio: rw=%s bs=%lu iodepth=%u runtime=%lums:", o->rw, o->bs, o->iodepth,
           r->runtime_ns / NSEC_PER_MSEC);
    summarize("read", &r->dir[IO_OP_READ], r->runtime_ns);
    summarize("write", &r->dir[IO_OP_WRITE], r->runtime_ns);
    if (o->verify) {
        printf(" verified=%lu", r->verified_blocks);
    }
    printf(" %s=[%s] %s\n", e->name, engine_counters,
           r->exit_status ? "FAILED" : "OK");
}
