/* gfio: the pieces of the benchmark shared between its source files. */
#ifndef GFIO_H
#define GFIO_H

#include <stdbool.h>
#include <stdint.h>

#include "io_engine.h"
#include "latency_stat.h"
#include "wide_math.h"

#define GFIO_VERSION    "gfio-0.1"

/* Exit statuses */
#define GFIO_EXIT_OK            0
#define GFIO_EXIT_USAGE         1       /* bad option */
#define GFIO_EXIT_ENGINE        2       /* engine or device set-up failed */
#define GFIO_EXIT_IO_ERROR      3       /* a request failed */
#define GFIO_EXIT_VERIFY        4       /* data verification failed */
#define GFIO_EXIT_TIMEOUT       5       /* requests stopped completing */

/* Jobs (numjobs=) at most: one per vCPU. */
#define GFIO_MAX_JOBS   64

/* Options, with fio's names and meanings (gfio_options.c). */
struct gfio_options {
    const char *name;           /* name= (jobname), default "gfio" */
    const char *rw;             /* rw= as given */
    bool random;
    bool reads;                 /* the workload reads... */
    bool writes;                /* ...and/or writes */
    uint32_t rwmixread;         /* percent of reads when both */
    uint64_t bs;
    uint32_t iodepth;
    uint64_t size;              /* 0: to the end of the disk */
    uint64_t offset;            /* of job 0... */
    uint64_t offset_increment;  /* ...and job j's is offset + j * this */
    uint64_t runtime_ns;        /* 0: one pass over size */
    uint64_t ramp_ns;
    uint64_t stall_ns;          /* stall_timeout=: no completion for this long */
    bool verify;                /* verify=crc32c */
    uint64_t seed;              /* random_seed= */
    uint32_t numjobs;           /* jobs, one per vCPU */
    bool group_reporting;       /* one report for all jobs */
    /* dev=N: every job on device N; dev=A:B:...: job j on the j-th */
    uint32_t devs[GFIO_MAX_JOBS];
    uint32_t ndevs;
    const char *engine;
    bool json_plus;             /* output-format=json+: latency bins too */
    /* percentiles (and json+ bins) of slat, clat, lat: fio's *_percentiles= */
    bool slat_percentiles;
    bool clat_percentiles;
    bool lat_percentiles;
};

/* Parse argv into @o; prints the problem and returns false on error. */
bool gfio_parse_options(int argc, char **argv, struct gfio_options *o);

/* The device job @jobnum uses. */
uint32_t gfio_job_device(const struct gfio_options *o, uint32_t jobnum);

/* The part of a disk a job works on. */
struct gfio_region {
    uint64_t offset;
    uint64_t size;              /* a multiple of bs */
};

/*
 * Check the options against job @jobnum's disk and work out its region;
 * prints the problem and returns false if they do not fit.
 */
bool gfio_check_options(const struct gfio_options *o, uint32_t jobnum,
                        const struct io_engine *e, struct gfio_region *region);

/*
 * With verify=crc32c, two jobs that write the same blocks of a device would
 * each find the other's data: check that they do not; prints the problem
 * and returns false if they do.
 */
bool gfio_check_regions(const struct gfio_options *o,
                        const struct gfio_region *regions);

/* Statistics of one direction, counted between ramp end and run end. */
struct gfio_direction_stats {
    uint64_t ios;
    uint64_t bytes;
    struct latency_stat slat;   /* queued -> handed to the disk (kick) */
    struct latency_stat clat;   /* kick -> completion seen */
    struct latency_stat lat;    /* queued -> completion seen */
    /* fio's bandwidth (KiB/s) and IOPS samples, one per period with I/O */
    struct latency_stat bw_samples;
    struct latency_stat iops_samples;
};

/* How often bandwidth and IOPS are sampled: fio's bw_avg_time default. */
#define GFIO_SAMPLE_NS  UINT64_C(500000000)

/* fio's distributions of the measured window (gfio_distribution.c). */
#define GFIO_DEPTH_BUCKETS      7
#define GFIO_LATENCY_RANGES     11      /* per unit; ms has one more, >= 2 s */

struct gfio_distribution {
    uint64_t level[GFIO_DEPTH_BUCKETS];     /* requests, by depth reached */
    uint64_t submitted;
    uint64_t submit[GFIO_DEPTH_BUCKETS];    /* kicks, by requests in them */
    uint64_t submits;
    uint64_t complete[GFIO_DEPTH_BUCKETS];  /* polls, by completions seen */
    uint64_t completes;
    uint64_t range[3][GFIO_LATENCY_RANGES + 1];   /* clat in ns, us, ms */
    uint64_t latencies;
};

/* A kick of @n requests that left @depth in flight. */
void gfio_distribution_submit(struct gfio_distribution *d, uint32_t n,
                              uint32_t depth);
/* A poll that saw @n (> 0) completions. */
void gfio_distribution_complete(struct gfio_distribution *d, uint32_t n);
/* A request's completion latency. */
void gfio_distribution_latency(struct gfio_distribution *d, uint64_t ns);
struct json_writer;
/* iodepth_level ... latency_ms, as fio prints them. */
void gfio_distribution_json(struct json_writer *w,
                            const struct gfio_distribution *d);

struct gfio_result {
    struct gfio_direction_stats dir[2];     /* indexed by enum io_op */
    struct gfio_distribution dist;
    uint64_t runtime_ns;        /* measured window */
    uint64_t elapsed_ns;        /* whole run, ramp and verification included */
    uint64_t verified_blocks;
    int exit_status;
};

/*
 * fio's bw_* or iops_* members of a direction: a job's, from its samples,
 * or a group's.  fio's group_reporting adds up the jobs' minimums,
 * maximums, means and sample counts (a group's figures are its jobs'
 * together); gfio adds their variances too.
 */
struct gfio_sample_summary {
    uint64_t min;
    uint64_t max;
    uint64_t mean_micro;        /* millionths */
    u128 variance_micro2;       /* the standard deviation in millionths, squared */
    uint64_t samples;
};

struct gfio_entry_direction {
    uint64_t ios;
    uint64_t bytes;
    struct latency_stat slat, clat, lat;
    struct gfio_sample_summary bw, iops;
};

/*
 * What one member of the JSON's "jobs" reports (gfio_group.c): one job, or
 * with group_reporting all of them as fio reports a group.  Counts,
 * latencies and distributions are added up; the runtime is the longest
 * job's and job_runtime the jobs' added up, so rates are the group's total
 * over the time it ran.
 */
struct gfio_entry {
    uint32_t jobs;              /* added so far */
    struct gfio_entry_direction dir[2];
    struct gfio_distribution dist;
    uint64_t runtime_ns;
    uint64_t job_runtime_ns;
    uint64_t elapsed_ns;
    uint64_t verified_blocks;
    int exit_status;            /* the first failed job's */
};

/* An empty entry, with histograms where @o's jobs have them. */
void gfio_entry_init(struct gfio_entry *e, const struct gfio_options *o);
/* Add job result @r to @e. */
void gfio_entry_add(struct gfio_entry *e, const struct gfio_result *r);

/*
 * Print the JSON between marker lines (a member of "jobs" for each of the
 * @count jobs, or one for all with group_reporting), then the summary line
 * (all jobs together, and each job's engine counters).
 */
void gfio_report(int argc, char **argv, const struct gfio_options *o,
                 const struct gfio_result *const *results, struct io_engine *const *engines,
                 uint32_t count);

/*
 * verify=crc32c block format (gfio_verify.c): every block written starts
 * with this header, the rest is the pattern.h pattern for (seed, offset).
 */
struct gfio_verify_header {
    uint32_t magic;             /* GFIO_VERIFY_MAGIC */
    uint32_t length;            /* block length, bytes */
    uint64_t offset;            /* disk offset of the block */
    uint64_t seed;              /* pattern seed of the payload */
    uint64_t generation;        /* identifies the run that wrote the block */
    uint32_t crc32c;            /* of the whole block, this field as zero */
    uint32_t reserved;          /* 0 */
};

#define GFIO_VERIFY_MAGIC   0x6f696667u         /* "gfio" */

/* Build the block for disk offset @offset in @buf. */
void gfio_verify_fill(void *buf, uint64_t offset, uint32_t len, uint64_t seed,
                      uint64_t generation);

/*
 * Check the block read from @offset.  With @expect_writer, it must also have
 * been written with @seed and @generation (by this run).  Prints what is
 * wrong (offset, expected and found) and returns false on a mismatch.
 */
bool gfio_verify_check(const void *buf, uint64_t offset, uint32_t len, bool expect_writer,
                       uint64_t seed, uint64_t generation);

/* Order of blocks within [0, count) (gfio_order.c). */
struct block_order {
    uint64_t count;
    bool random;
    uint64_t position;          /* blocks handed out in this pass */
    unsigned int half_bits;     /* random: permutation of 2^(2 * half_bits) */
    uint64_t keys[4];
};

/* xorshift64* generator: never seeded with 0. */
struct gfio_rng {
    uint64_t state;
};

void gfio_rng_seed(struct gfio_rng *rng, uint64_t seed);
uint64_t gfio_rng_next(struct gfio_rng *rng);

void block_order_init(struct block_order *o, uint64_t count, bool random,
                      struct gfio_rng *rng);

/*
 * Next block of the pass: each block once per pass, sequentially or in a
 * random permutation.  At the end of a pass, returns false if @wrap is
 * false, else starts a new pass (a new permutation) and continues.
 */
bool block_order_next(struct block_order *o, bool wrap, struct gfio_rng *rng,
                      uint64_t *block);

#endif
