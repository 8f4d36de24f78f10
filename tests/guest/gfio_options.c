/*
 * gfio's options: key=value words of the command line, fio's names and
 * meanings.  Unknown keys are errors, so a typo does not silently run a
 * different benchmark.
 */
#include "gfio.h"

#include "libc.h"

#define NSEC_PER_USEC       UINT64_C(1000)
#define NSEC_PER_MSEC       UINT64_C(1000000)
#define NSEC_PER_SEC        UINT64_C(1000000000)
#define DEFAULT_SEED        0x6766696f          /* fixed, as fio's randrepeat=1 */
/* Requests in flight with no completion for this long: give up. */
#define DEFAULT_STALL_NS    (30 * NSEC_PER_SEC)

struct rw_mode {
    const char *name;
    bool random;
    bool reads;
    bool writes;
};

static const struct rw_mode rw_modes[] = {
    { "read", false, true, false },
    { "write", false, false, true },
    { "randread", true, true, false },
    { "randwrite", true, false, true },
    { "randrw", true, true, true },
    { "readwrite", false, true, true },
    { "rw", false, true, true },
};

/* fio time: a number with an optional unit us, ms, s, m or h (default s). */
static bool parse_time(const char *s, uint64_t *ns)
{
    static const struct {
        const char *suffix;
        uint64_t ns;
    } units[] = {
        { "", NSEC_PER_SEC }, { "s", NSEC_PER_SEC }, { "ms", NSEC_PER_MSEC },
        { "us", NSEC_PER_USEC }, { "m", 60 * NSEC_PER_SEC }, { "h", 3600 * NSEC_PER_SEC },
    };
    char *end;
    uint64_t v = strtoull(s, &end, 10);

    if (end == s) {
        return false;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (!strcmp(end, units[i].suffix) && v <= UINT64_MAX / units[i].ns) {
            *ns = v * units[i].ns;
            return true;
        }
    }
    return false;
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *v)
{
    char *end;

    *v = strtoull(s, &end, 0);
    return end != s && !*end && *v <= max;
}

static bool parse_rw(const char *s, struct gfio_options *o)
{
    for (size_t i = 0; i < sizeof(rw_modes) / sizeof(rw_modes[0]); i++) {
        if (!strcmp(s, rw_modes[i].name)) {
            o->rw = rw_modes[i].name;
            o->random = rw_modes[i].random;
            o->reads = rw_modes[i].reads;
            o->writes = rw_modes[i].writes;
            return true;
        }
    }
    return false;
}

static bool parse_verify(const char *s, struct gfio_options *o)
{
    if (!strcmp(s, "crc32c")) {
        o->verify = true;
    } else if (!strcmp(s, "0") || !strcmp(s, "none")) {
        o->verify = false;
    } else {
        return false;
    }
    return true;
}

/* fio's boolean options: 0 or 1. */
static bool parse_flag(const char *s, bool *flag)
{
    if (strcmp(s, "0") && strcmp(s, "1")) {
        return false;
    }
    *flag = !strcmp(s, "1");
    return true;
}

/* dev=N, or dev=A:B:... with a device for each job, in job order. */
static bool parse_devs(const char *s, struct gfio_options *o)
{
    o->ndevs = 0;
    for (;;) {
        char *end;
        uint64_t v = strtoull(s, &end, 0);

        if (end == s || v > UINT32_MAX || o->ndevs == GFIO_MAX_JOBS ||
            (*end && *end != ':')) {
            return false;
        }
        o->devs[o->ndevs++] = v;
        if (!*end) {
            return true;
        }
        s = end + 1;
    }
}

static bool parse_one(const char *key, const char *value, struct gfio_options *o)
{
    uint64_t v;

    if (!strcmp(key, "name")) {
        o->name = value;
        return *value;
    }
    if (!strcmp(key, "rw") || !strcmp(key, "readwrite")) {
        return parse_rw(value, o);
    }
    if (!strcmp(key, "bs")) {
        return parse_size(value, &o->bs) && o->bs && o->bs <= UINT32_MAX;
    }
    if (!strcmp(key, "iodepth")) {
        if (!parse_uint(value, UINT32_MAX, &v) || !v) {
            return false;
        }
        o->iodepth = v;
        return true;
    }
    if (!strcmp(key, "size")) {
        return parse_size(value, &o->size) && o->size;
    }
    if (!strcmp(key, "offset")) {
        return parse_size(value, &o->offset);
    }
    if (!strcmp(key, "runtime")) {
        return parse_time(value, &o->runtime_ns);
    }
    if (!strcmp(key, "ramp_time")) {
        return parse_time(value, &o->ramp_ns);
    }
    if (!strcmp(key, "stall_timeout")) {
        return parse_time(value, &o->stall_ns) && o->stall_ns;
    }
    if (!strcmp(key, "verify")) {
        return parse_verify(value, o);
    }
    if (!strcmp(key, "rwmixread")) {
        if (!parse_uint(value, 100, &v)) {
            return false;
        }
        o->rwmixread = v;
        return true;
    }
    if (!strcmp(key, "random_seed")) {
        return parse_uint(value, UINT64_MAX, &o->seed);
    }
    if (!strcmp(key, "offset_increment")) {
        return parse_size(value, &o->offset_increment);
    }
    if (!strcmp(key, "dev")) {
        return parse_devs(value, o);
    }
    if (!strcmp(key, "numjobs")) {
        if (!parse_uint(value, GFIO_MAX_JOBS, &v) || !v) {
            return false;
        }
        o->numjobs = v;
        return true;
    }
    if (!strcmp(key, "group_reporting")) {
        return parse_flag(value, &o->group_reporting);
    }
    if (!strcmp(key, "engine")) {
        o->engine = value;
        return *value;
    }
    if (!strcmp(key, "output-format")) {
        if (strcmp(value, "json") && strcmp(value, "json+")) {
            return false;
        }
        o->json_plus = !strcmp(value, "json+");
        return true;
    }
    if (!strcmp(key, "slat_percentiles")) {
        return parse_flag(value, &o->slat_percentiles);
    }
    if (!strcmp(key, "clat_percentiles")) {
        return parse_flag(value, &o->clat_percentiles);
    }
    if (!strcmp(key, "lat_percentiles")) {
        return parse_flag(value, &o->lat_percentiles);
    }
    /* uring=on|off: shorthand for engine=uring / engine=virtio-blk */
    if (!strcmp(key, "uring")) {
        if (strcmp(value, "on") && strcmp(value, "off")) {
            return false;
        }
        o->engine = !strcmp(value, "on") ? "uring" : "virtio-blk";
        return true;
    }
    return false;
}

bool gfio_parse_options(int argc, char **argv, struct gfio_options *o)
{
    *o = (struct gfio_options){
        .name = "gfio", .bs = 4096, .iodepth = 1, .rwmixread = 50,
        .seed = DEFAULT_SEED, .engine = "virtio-blk", .stall_ns = DEFAULT_STALL_NS,
        .clat_percentiles = true, .numjobs = 1, .ndevs = 1,
    };
    parse_rw("read", o);

    for (int i = 1; i < argc; i++) {
        char key[32];
        const char *eq = strchr(argv[i], '=');
        size_t len = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);

        if (!eq || len >= sizeof(key)) {
            printf("gfio: expected key=value, got '%s'\n", argv[i]);
            return false;
        }
        memcpy(key, argv[i], len);
        key[len] = '\0';
        if (!parse_one(key, eq + 1, o)) {
            printf("gfio: unknown option or bad value: '%s'\n", argv[i]);
            return false;
        }
    }
    if (o->ndevs > 1 && o->ndevs != o->numjobs) {
        printf("gfio: dev= names %u devices for numjobs=%u: one device, or one per job\n",
               o->ndevs, o->numjobs);
        return false;
    }
    return true;
}

uint32_t gfio_job_device(const struct gfio_options *o, uint32_t jobnum)
{
    return o->devs[o->ndevs > 1 ? jobnum : 0];
}

bool gfio_check_options(const struct gfio_options *o, uint32_t jobnum,
                        const struct io_engine *e, struct gfio_region *region)
{
    uint32_t sector = e->sector_size;
    uint64_t offset = o->offset, size = o->size;

    if (jobnum && o->offset_increment > (UINT64_MAX - o->offset) / jobnum) {
        printf("gfio: job %u: offset=%lu + %u * offset_increment=%lu overflows\n", jobnum,
               o->offset, jobnum, o->offset_increment);
        return false;
    }
    offset += jobnum * o->offset_increment;
    if (o->bs % sector || offset % sector) {
        printf("gfio: bs=%lu and offset=%lu must be multiples of %u\n", o->bs,
               offset, sector);
        return false;
    }
    if (o->bs > e->max_request) {
        printf("gfio: bs=%lu exceeds the largest request, %u bytes\n", o->bs,
               e->max_request);
        return false;
    }
    if (o->verify && o->bs < sizeof(struct gfio_verify_header)) {
        printf("gfio: verify needs bs >= %zu\n", sizeof(struct gfio_verify_header));
        return false;
    }
    if (o->iodepth > e->max_in_flight) {
        printf("gfio: iodepth=%u exceeds the %u requests the queue holds\n", o->iodepth,
               e->max_in_flight);
        return false;
    }
    if (offset >= e->capacity) {
        printf("gfio: offset=%lu is beyond the disk's %lu bytes\n", offset,
               e->capacity);
        return false;
    }
    if (!size) {
        size = e->capacity - offset;
    }
    if (size > e->capacity - offset) {
        printf("gfio: offset=%lu size=%lu exceeds the disk's %lu bytes\n", offset,
               size, e->capacity);
        return false;
    }
    size -= size % o->bs;
    if (!size) {
        printf("gfio: size holds no block of bs=%lu\n", o->bs);
        return false;
    }
    *region = (struct gfio_region){ .offset = offset, .size = size };
    return true;
}

bool gfio_check_regions(const struct gfio_options *o, const struct gfio_region *regions)
{
    if (!o->verify || !o->writes) {
        return true;
    }
    for (uint32_t i = 0; i < o->numjobs; i++) {
        for (uint32_t j = i + 1; j < o->numjobs; j++) {
            const struct gfio_region *a = &regions[i], *b = &regions[j];

            if (gfio_job_device(o, i) == gfio_job_device(o, j) &&
                a->offset < b->offset + b->size && b->offset < a->offset + a->size) {
                printf("gfio: jobs %u and %u write overlapping regions of device %u with "
                       "verify=crc32c (give offset_increment=)\n", i, j,
                       gfio_job_device(o, i));
                return false;
            }
        }
    }
    return true;
}
