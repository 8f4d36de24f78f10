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
    if (!strcmp(key, "dev")) {
        if (!parse_uint(value, UINT32_MAX, &v)) {
            return false;
        }
        o->dev = v;
        return true;
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
        .clat_percentiles = true,
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
    return true;
}

bool gfio_check_options(struct gfio_options *o, const struct io_engine *e)
{
    uint32_t sector = e->sector_size;

    if (o->bs % sector || o->offset % sector) {
        printf("gfio: bs=%lu and offset=%lu must be multiples of %u\n", o->bs,
               o->offset, sector);
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
    if (o->offset >= e->capacity) {
        printf("gfio: offset=%lu is beyond the disk's %lu bytes\n", o->offset,
               e->capacity);
        return false;
    }
    if (!o->size) {
        o->size = e->capacity - o->offset;
    }
    if (o->size > e->capacity - o->offset) {
        printf("gfio: offset=%lu size=%lu exceeds the disk's %lu bytes\n", o->offset,
               o->size, e->capacity);
        return false;
    }
    o->size -= o->size % o->bs;
    if (!o->size) {
        printf("gfio: size holds no block of bs=%lu\n", o->bs);
        return false;
    }
    return true;
}
