/*
 * gfio: a fio-like benchmark for guest programs.  Options come from the
 * -append command line with fio's names (see gfio_options.c and
 * README.rst); results are printed in fio's JSON layout between the lines
 * "--- gfio json begin ---" and "--- gfio json end ---", followed by a
 * one-line summary.  Exit status: see GFIO_EXIT_* in gfio.h.
 *
 * The job loop polls: reap completions, fill every free slot with a new
 * request, kick once for the whole batch, repeat.  Time stamps are TSC
 * reads, one per loop for the batch queued and one after the kick, and one
 * per poll that finds completions.
 *
 * numjobs=N runs N jobs at once, one per CPU: job 0 on the boot CPU, job j
 * on the j-th AP, each with an engine on a queue (or ring) of its own.  The
 * boot CPU sets up every device and job before the APs start; from then on
 * a job writes only its own memory and its own queue.  What the jobs share
 * is written once per job, outside the job loop (the measured interval's
 * console markers, the count of finished jobs), or once per run (stop: the
 * power button), and read there every POWER_BUTTON_POLL_NS.
 */
#include "guest.h"

#include "crc32c.h"
#include "gfio.h"
#include "guest_errno.h"
#include "pattern.h"
#include "wide_math.h"

#define NSEC_PER_MSEC       UINT64_C(1000000)
#define NSEC_PER_SEC        UINT64_C(1000000000)
#define BUFFER_ALIGN        4096
/* How often the workload looks at the power button (a VM exit each time). */
#define POWER_BUTTON_POLL_NS    (100 * NSEC_PER_MSEC)

enum phase {
    PHASE_WORKLOAD,
    PHASE_VERIFY,               /* reading back what the workload wrote */
};

/* Where the workload is relative to the measured interval. */
enum window {
    WINDOW_BEFORE,              /* ramp_time */
    WINDOW_OPEN,
    WINDOW_CLOSED,
};

struct slot {
    void *buf;
    uint64_t offset;
    enum io_op op;
    bool in_flight;             /* submitted, completion not seen yet */
    uint64_t sequence;          /* requests submitted before this one */
    uint64_t queued_tsc;
    uint64_t kicked_tsc;
};

/* What the jobs share; see the top of the file. */
struct group {
    uint32_t jobs;
    struct job *job[GFIO_MAX_JOBS];
    uint64_t start_tsc;         /* when every job starts */
    int go;                     /* 0: wait; 1: run; -1: give up */
    uint32_t windows_opened;
    uint32_t windows_closed;
    bool stop;                  /* the power button was pressed */
    uint32_t finished;          /* jobs done, on the APs */
};

struct job {
    const struct gfio_options *opt;
    struct io_engine *engine;
    struct gfio_result *result;
    struct group *group;
    uint32_t index;             /* fio's thread number, from 0 */
    uint64_t offset;            /* the job's region of the disk */
    uint64_t size;
    enum phase phase;
    uint64_t blocks;            /* in the region: size / bs */
    struct slot *slots;         /* one per tag, iodepth of them */
    uint32_t *free_tags;
    uint32_t free_count;
    uint32_t *batch;            /* tags queued since the last kick */
    struct block_order order;
    struct gfio_rng rng;
    uint64_t generation;        /* this run's verify generation */
    uint8_t *written;           /* bitmap of blocks written, with verify */
    uint64_t next_verify_block;
    uint64_t measure_start_tsc;
    enum window window;
    uint64_t deadline_tsc;      /* 0: no time limit */
    bool powerdown;             /* stopped by the power button */
    uint64_t last_completion_tsc;
    uint64_t poll_tsc;          /* time of the current poll's completions */
    uint64_t submitted;         /* requests, both phases */
    uint64_t sample_tsc;        /* start of the current sampling period */
    uint64_t sample_period_tsc; /* GFIO_SAMPLE_NS */
    uint64_t sample_bytes[2];   /* dir[].bytes and .ios when it started */
    uint64_t sample_ios[2];
    bool verify_reads;          /* check each block read in the workload */
};

static uint64_t ns_to_tsc(uint64_t ns)
{
    return u128_saturate(u128_divmod((u128)ns * tsc_hz(), NSEC_PER_SEC, NULL));
}

static void fail(struct job *job, int status)
{
    if (!job->result->exit_status) {
        job->result->exit_status = status;
    }
}

static void record(struct job *job, const struct slot *s, uint64_t done_tsc)
{
    struct gfio_direction_stats *d = &job->result->dir[s->op];

    if (done_tsc < job->measure_start_tsc ||
        (job->deadline_tsc && done_tsc > job->deadline_tsc)) {
        return;
    }
    d->ios++;
    d->bytes += job->opt->bs;
    latency_stat_add(&d->slat, tsc_to_ns(s->kicked_tsc - s->queued_tsc));
    latency_stat_add(&d->clat, tsc_to_ns(done_tsc - s->kicked_tsc));
    latency_stat_add(&d->lat, tsc_to_ns(done_tsc - s->queued_tsc));
    gfio_distribution_latency(&job->result->dist,
                              tsc_to_ns(done_tsc - s->kicked_tsc));
}

static void mark_written(struct job *job, uint64_t offset)
{
    uint64_t block = (offset - job->offset) / job->opt->bs;

    job->written[block / 8] |= 1 << block % 8;
}

static bool was_written(const struct job *job, uint64_t block)
{
    return job->written[block / 8] & 1 << block % 8;
}

static void complete(void *opaque, uint32_t tag, int result)
{
    struct job *job = opaque;
    struct slot *s = &job->slots[tag];
    const struct gfio_options *o = job->opt;

    if (!job->poll_tsc) {
        job->poll_tsc = rdtsc();
    }
    job->last_completion_tsc = job->poll_tsc;
    job->free_tags[job->free_count++] = tag;
    s->in_flight = false;

    if (result) {
        printf("gfio: %s of %lu bytes at offset %lu (0x%lx) failed: %s\n",
               s->op == IO_OP_READ ? "read" : "write", o->bs, s->offset, s->offset,
               guest_strerror(result));
        fail(job, GFIO_EXIT_IO_ERROR);
        return;
    }
    if (job->result->exit_status) {
        return;                 /* draining after a failure: report only the first */
    }
    if (job->phase == PHASE_VERIFY) {
        if (!gfio_verify_check(s->buf, s->offset, o->bs, true, o->seed,
                               job->generation)) {
            fail(job, GFIO_EXIT_VERIFY);
            return;
        }
        job->result->verified_blocks++;
        return;
    }
    if (s->op == IO_OP_WRITE && job->written) {
        mark_written(job, s->offset);
    }
    if (s->op == IO_OP_READ && job->verify_reads) {
        if (!gfio_verify_check(s->buf, s->offset, o->bs, false, 0, 0)) {
            fail(job, GFIO_EXIT_VERIFY);
            return;
        }
        job->result->verified_blocks++;
    }
    record(job, s, job->poll_tsc);
}

/*
 * Console markers around the measured interval, for a harness that samples
 * host-side counters when it sees them: begin when the first job's opens,
 * end when the last job's closes.
 */
static void open_window(struct job *job)
{
    if (!__atomic_fetch_add(&job->group->windows_opened, 1, __ATOMIC_RELAXED)) {
        printf("gfio: measure begin\n");
    }
    job->window = WINDOW_OPEN;
}

static void close_window(struct job *job)
{
    if (__atomic_add_fetch(&job->group->windows_closed, 1, __ATOMIC_RELAXED) ==
        job->group->jobs) {
        printf("gfio: measure end\n");
    }
    job->window = WINDOW_CLOSED;
}

/*
 * Every GFIO_SAMPLE_NS of the measured interval, a bandwidth and an IOPS
 * sample of each direction that did I/O in the period, as fio takes them.
 */
static void take_samples(struct job *job, uint64_t now)
{
    uint64_t ns;

    if (now - job->sample_tsc < job->sample_period_tsc) {
        return;
    }
    ns = tsc_to_ns(now - job->sample_tsc);
    for (int i = 0; i < 2; i++) {
        struct gfio_direction_stats *d = &job->result->dir[i];
        uint64_t bytes = d->bytes - job->sample_bytes[i];
        uint64_t ios = d->ios - job->sample_ios[i];

        if (ios) {
            latency_stat_add(&d->bw_samples, u128_saturate(u128_divmod(
                (u128)bytes * NSEC_PER_SEC, (u128)ns * 1024, NULL)));
            latency_stat_add(&d->iops_samples, u128_saturate(u128_divmod(
                (u128)ios * NSEC_PER_SEC, ns, NULL)));
        }
        job->sample_bytes[i] = d->bytes;
        job->sample_ios[i] = d->ios;
    }
    job->sample_tsc = now;
}

static void track_window(struct job *job, uint64_t now)
{
    if (job->window == WINDOW_BEFORE && now >= job->measure_start_tsc) {
        open_window(job);
        job->sample_tsc = now;
    }
    if (job->window == WINDOW_OPEN) {
        take_samples(job, now);
    }
    if (job->window == WINDOW_OPEN && job->deadline_tsc && now >= job->deadline_tsc) {
        close_window(job);
    }
}

/* Is the workload in its measured interval (fio's distributions count)? */
static bool measuring(const struct job *job)
{
    return job->phase == PHASE_WORKLOAD && job->window == WINDOW_OPEN;
}

/* Choose the next workload request for @s; false when the workload is done. */
static bool next_workload_request(struct job *job, struct slot *s)
{
    const struct gfio_options *o = job->opt;
    uint64_t block;

    if (!block_order_next(&job->order, job->deadline_tsc, &job->rng, &block)) {
        return false;
    }
    s->offset = job->offset + block * o->bs;
    if (o->reads && o->writes) {
        s->op = gfio_rng_next(&job->rng) % 100 < o->rwmixread ? IO_OP_READ : IO_OP_WRITE;
    } else {
        s->op = o->reads ? IO_OP_READ : IO_OP_WRITE;
    }
    if (s->op == IO_OP_WRITE && o->verify) {
        gfio_verify_fill(s->buf, s->offset, o->bs, o->seed, job->generation);
    }
    return true;
}

/* Next block the workload wrote, to read back; false when all are done. */
static bool next_verify_request(struct job *job, struct slot *s)
{
    while (job->next_verify_block < job->blocks &&
           !was_written(job, job->next_verify_block)) {
        job->next_verify_block++;
    }
    if (job->next_verify_block == job->blocks) {
        return false;
    }
    s->offset = job->offset + job->next_verify_block++ * job->opt->bs;
    s->op = IO_OP_READ;
    return true;
}

/* Queue requests into every free slot; returns how many were queued. */
static uint32_t fill_slots(struct job *job, uint64_t now, bool *more)
{
    struct io_engine *e = job->engine;
    uint32_t queued = 0;

    while (*more && job->free_count) {
        uint32_t tag = job->free_tags[job->free_count - 1];
        struct slot *s = &job->slots[tag];
        int ret;

        *more = job->phase == PHASE_WORKLOAD ? next_workload_request(job, s)
                                             : next_verify_request(job, s);
        if (!*more) {
            break;
        }
        s->queued_tsc = now;
        ret = e->submit(e, s->op, s->offset, s->buf, job->opt->bs, tag);
        if (ret) {
            printf("gfio: %s engine refused a request at offset %lu: %s\n", e->name,
                   s->offset, guest_strerror(ret));
            fail(job, GFIO_EXIT_IO_ERROR);
            *more = false;
            break;
        }
        s->in_flight = true;
        s->sequence = job->submitted++;
        job->free_count--;
        job->batch[queued++] = tag;
    }
    return queued;
}

static void print_duration(uint64_t ns)
{
    if (ns % NSEC_PER_SEC) {
        printf("%lu ms", ns / NSEC_PER_MSEC);
    } else {
        printf("%lu s", ns / NSEC_PER_SEC);
    }
}

/*
 * Requests stopped completing: say so, then (IO_ENGINE_STALL lines) which
 * request has waited longest (the first submitted: a batch shares its
 * time stamp) and for how long, and what the engine knows of it.
 */
static void report_stall(struct job *job, uint64_t now)
{
    struct io_engine *e = job->engine;
    uint32_t oldest = 0, depth = job->opt->iodepth;
    const struct slot *s = NULL;

    for (uint32_t tag = 0; tag < depth; tag++) {
        const struct slot *t = &job->slots[tag];

        if (t->in_flight && (!s || t->sequence < s->sequence)) {
            oldest = tag;
            s = t;
        }
    }
    printf("gfio: %u requests made no progress for ", depth - job->free_count);
    print_duration(job->opt->stall_ns);
    printf("\n");
    printf(IO_ENGINE_STALL "oldest request: tag %u, %s of %lu bytes at offset %lu (0x%lx), "
           "queued %lu ms ago, kicked %lu ms ago\n", oldest,
           s->op == IO_OP_READ ? "read" : "write", job->opt->bs, s->offset, s->offset,
           tsc_to_ns(now - s->queued_tsc) / NSEC_PER_MSEC,
           tsc_to_ns(now - s->kicked_tsc) / NSEC_PER_MSEC);
    if (e->report_stall) {
        e->report_stall(e, oldest);
    }
}

/*
 * Has the power button asked every job to stop?  Job 0 looks at the button
 * (reading it acknowledges the press), the others at what job 0 saw.
 */
static bool stop_requested(struct job *job)
{
    if (!job->index && guest_power_button_pressed()) {
        printf("gfio: power button pressed: stopping\n");
        __atomic_store_n(&job->group->stop, true, __ATOMIC_RELAXED);
    }
    return __atomic_load_n(&job->group->stop, __ATOMIC_RELAXED);
}

/*
 * Run one phase until it has issued everything (or its time is up, or
 * something failed) and every request has come back.
 */
static void run_phase(struct job *job, enum phase phase)
{
    struct io_engine *e = job->engine;
    uint32_t depth = job->opt->iodepth;
    uint64_t deadline = phase == PHASE_WORKLOAD ? job->deadline_tsc : 0;
    uint64_t progress_tsc = rdtsc(), stall_tsc = ns_to_tsc(job->opt->stall_ns);
    uint64_t button_check_tsc = progress_tsc;
    bool more = true;

    job->phase = phase;
    for (;;) {
        uint64_t now;
        uint32_t queued, completed;

        job->poll_tsc = 0;
        completed = e->poll(e, complete, job);
        if (completed) {
            progress_tsc = job->poll_tsc;
            if (measuring(job)) {
                gfio_distribution_complete(&job->result->dist, completed);
            }
        } else {
            cpu_relax();        /* spare the cache line the device writes */
        }
        now = rdtsc();
        if (phase == PHASE_WORKLOAD) {
            track_window(job, now);
            if (now >= button_check_tsc && !job->powerdown) {
                button_check_tsc = now + ns_to_tsc(POWER_BUTTON_POLL_NS);
                if (stop_requested(job)) {
                    job->powerdown = true;
                    job->deadline_tsc = deadline = now;
                }
            }
        }
        if (job->result->exit_status || (deadline && now >= deadline)) {
            more = false;
        }
        queued = fill_slots(job, now, &more);
        if (queued) {
            uint64_t kicked;

            e->kick(e);
            kicked = rdtsc();
            if (measuring(job)) {
                gfio_distribution_submit(&job->result->dist, queued,
                                         depth - job->free_count);
            }
            for (uint32_t i = 0; i < queued; i++) {
                job->slots[job->batch[i]].kicked_tsc = kicked;
            }
        }
        if (job->free_count == depth && !more) {
            return;
        }
        if (job->free_count < depth && now - progress_tsc > stall_tsc) {
            report_stall(job, now);
            fail(job, GFIO_EXIT_TIMEOUT);
            return;
        }
    }
}

static void *alloc_zeroed(size_t size, size_t align)
{
    void *p = guest_alloc(size, align);

    memset(p, 0, size);
    return p;
}

/*
 * A buffer aligned to the power of two at or above its size straddles no
 * power-of-two boundary at least that large, such as the uring engine's
 * 1 GiB fixed-buffer windows.
 */
static size_t buffer_alignment(uint64_t bs)
{
    size_t align = BUFFER_ALIGN;

    while (align < bs) {
        align <<= 1;
    }
    return align;
}

/* Called on the boot CPU, before any job runs. */
static void setup_job(struct job *job, const struct gfio_region *region)
{
    const struct gfio_options *o = job->opt;

    job->offset = region->offset;
    job->size = region->size;
    job->blocks = job->size / o->bs;
    job->slots = alloc_zeroed(sizeof(*job->slots) * o->iodepth, 64);
    job->free_tags = guest_alloc(sizeof(*job->free_tags) * o->iodepth, 4);
    job->batch = guest_alloc(sizeof(*job->batch) * o->iodepth, 4);
    for (uint32_t tag = 0; tag < o->iodepth; tag++) {
        job->slots[tag].buf = guest_alloc(o->bs, buffer_alignment(o->bs));
        /* Without verify, writes carry this data, as fio's default buffers. */
        pattern_fill(job->slots[tag].buf, (uint64_t)tag * o->bs, o->bs, o->seed);
        job->free_tags[tag] = o->iodepth - 1 - tag;
    }
    job->free_count = o->iodepth;
    /* Each job its own offsets and mix; job 0 those of a single job. */
    gfio_rng_seed(&job->rng, o->seed + job->index * UINT64_C(0x9e3779b97f4a7c15));
    block_order_init(&job->order, job->blocks, o->random, &job->rng);
    job->generation = rdtsc();
    if (o->verify && o->writes) {
        job->written = alloc_zeroed((job->blocks + 7) / 8, 8);
    }
    job->verify_reads = o->verify && !o->writes;
    /* clat's histogram also gives the summary line its percentiles */
    for (int d = 0; d < 2; d++) {
        latency_stat_init(&job->result->dir[d].slat, o->slat_percentiles);
        latency_stat_init(&job->result->dir[d].clat, true);
        latency_stat_init(&job->result->dir[d].lat, o->lat_percentiles);
        latency_stat_init(&job->result->dir[d].bw_samples, false);
        latency_stat_init(&job->result->dir[d].iops_samples, false);
    }
}

static void run(struct job *job)
{
    const struct gfio_options *o = job->opt;
    struct gfio_result *r = job->result;
    uint64_t start = job->group->start_tsc;

    job->measure_start_tsc = start + ns_to_tsc(o->ramp_ns);
    job->sample_period_tsc = ns_to_tsc(GFIO_SAMPLE_NS);
    if (o->runtime_ns) {
        job->deadline_tsc = job->measure_start_tsc + ns_to_tsc(o->runtime_ns);
    }
    run_phase(job, PHASE_WORKLOAD);
    if (job->window == WINDOW_OPEN) {
        close_window(job);      /* one pass done, or a failure */
    }

    if (job->powerdown && job->deadline_tsc > job->measure_start_tsc) {
        r->runtime_ns = tsc_to_ns(job->deadline_tsc - job->measure_start_tsc);
    } else if (job->deadline_tsc) {
        r->runtime_ns = o->runtime_ns;
    } else if (job->last_completion_tsc > job->measure_start_tsc) {
        r->runtime_ns = tsc_to_ns(job->last_completion_tsc - job->measure_start_tsc);
    }
    if (!r->exit_status && !r->dir[IO_OP_READ].ios && !r->dir[IO_OP_WRITE].ios) {
        printf("gfio: warning: no request completed after ramp_time\n");
    }
    if (!r->exit_status && job->written) {
        run_phase(job, PHASE_VERIFY);
    }
    r->elapsed_ns = tsc_to_ns(rdtsc() - start);
}

/* Runs on AP @cpu: job @cpu, when the boot CPU says go. */
static void run_on_ap(unsigned int cpu, void *opaque)
{
    struct group *g = opaque;
    int go;

    if (cpu >= g->jobs) {
        return;
    }
    while (!(go = __atomic_load_n(&g->go, __ATOMIC_ACQUIRE))) {
        cpu_relax();
    }
    if (go > 0) {
        run(g->job[cpu]);
        __atomic_fetch_add(&g->finished, 1, __ATOMIC_RELEASE);
    }
}

/* Open job @jobnum's engine: its device, and the queue after the earlier jobs'. */
static int open_engine(const struct gfio_options *o, uint32_t jobnum, struct io_engine *e)
{
    uint32_t dev = gfio_job_device(o, jobnum);
    struct io_engine_params params = { .dev = dev };
    int ret;

    for (uint32_t j = 0; j < o->numjobs; j++) {
        if (gfio_job_device(o, j) == dev) {
            params.queue += j < jobnum;
            params.queues++;
        }
    }
    ret = io_engine_open(o->engine, &params, e);
    if (ret == -EINVAL) {
        printf("gfio: unknown engine '%s' (known: %s)\n", o->engine, io_engine_names());
        return GFIO_EXIT_USAGE;
    }
    if (ret) {
        printf("gfio: engine %s: %s\n", o->engine, guest_strerror(ret));
        return GFIO_EXIT_ENGINE;
    }
    if (o->numjobs > 1) {
        printf("gfio: job %u: %s device %u %s %u\n", jobnum, e->name, dev,
               e->queue_kind, params.queue);
    }
    return GFIO_EXIT_OK;
}

/*
 * Every job's engine, region and state; an exit status if one fails.
 * Called on the boot CPU, before the APs start.
 */
static int setup(const struct gfio_options *o, struct group *g,
                 struct io_engine **engines, struct gfio_result **results)
{
    static struct gfio_region regions[GFIO_MAX_JOBS];

    for (uint32_t j = 0; j < o->numjobs; j++) {
        struct job *job = guest_alloc(sizeof(*job), 64);
        int status;

        engines[j] = alloc_zeroed(sizeof(*engines[j]), 64);
        results[j] = alloc_zeroed(sizeof(*results[j]), 64);
        status = open_engine(o, j, engines[j]);
        if (status) {
            return status;
        }
        if (!gfio_check_options(o, j, engines[j], &regions[j])) {
            return GFIO_EXIT_USAGE;
        }
        *job = (struct job){ .opt = o, .engine = engines[j], .result = results[j],
                             .group = g, .index = j };
        g->job[j] = job;
    }
    if (!gfio_check_regions(o, regions)) {
        return GFIO_EXIT_USAGE;
    }
    for (uint32_t j = 0; j < o->numjobs; j++) {
        setup_job(g->job[j], &regions[j]);
    }
    g->jobs = o->numjobs;
    return GFIO_EXIT_OK;
}

/*
 * Called on the boot CPU: start the APs, one job on each; job 0 runs here.
 * Returns when all have ended, or GFIO_EXIT_USAGE if there are not CPUs
 * enough.
 */
static int run_jobs(struct group *g)
{
    if (g->jobs > 1) {
        unsigned int online = smp_start_aps(run_on_ap, g);

        if (online < g->jobs) {
            printf("gfio: numjobs=%u needs %u CPUs, %u online\n", g->jobs, g->jobs,
                   online);
            __atomic_store_n(&g->go, -1, __ATOMIC_RELEASE);
            return GFIO_EXIT_USAGE;
        }
    }
    g->start_tsc = rdtsc();
    __atomic_store_n(&g->go, 1, __ATOMIC_RELEASE);
    run(g->job[0]);
    /* Each job ends: its stall_timeout bounds its wait for completions. */
    while (__atomic_load_n(&g->finished, __ATOMIC_ACQUIRE) < g->jobs - 1) {
        cpu_relax();
    }
    return GFIO_EXIT_OK;
}

int main(int argc, char **argv)
{
    static struct gfio_options options;
    static struct group group;
    static struct io_engine *engines[GFIO_MAX_JOBS];
    static struct gfio_result *results[GFIO_MAX_JOBS];
    int status;
    bool powerdown = false;

    if (!gfio_parse_options(argc, argv, &options)) {
        return GFIO_EXIT_USAGE;
    }
    status = setup(&options, &group, engines, results);
    if (status) {
        return status;
    }
    if (options.verify) {
        printf("gfio: verify=crc32c (%s)\n", crc32c_implementation());
    }
    status = run_jobs(&group);
    if (status) {
        return status;
    }
    gfio_report(argc, argv, &options, (const struct gfio_result *const *)results,
                engines, options.numjobs);
    for (uint32_t j = 0; j < options.numjobs; j++) {
        if (results[j]->exit_status) {
            return results[j]->exit_status;
        }
        powerdown |= group.job[j]->powerdown;
    }
    if (powerdown) {
        /* Asked to shut down: do so, as an OS would (exit status 0). */
        guest_poweroff();
    }
    return GFIO_EXIT_OK;
}
