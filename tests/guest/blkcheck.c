/*
 * blkcheck: data-path checks of a virtio-blk disk for host-side tests.
 *
 *   blkcheck [dev=N] [uring=on] op=NAME [offset=O] [len=L] [seed=S] [ring=R] [op=NAME ...]
 *
 * Words are read left to right; each op= starts an operation and the
 * offset=, len=, seed=, ring= after it (before the next op=) are its
 * arguments.  An argument not given keeps its value from the operation
 * before (initially offset=0 len=4k seed=1 ring=0; arguments before the
 * first op= change these starting values).  Sizes take k/m/g suffixes;
 * offsets and lengths are multiples of 512.  dev=N (default 0) picks the
 * disk; uring=on sends reads and writes through the device's io_uring
 * passthrough (virtio_blk_uring.h) instead of its virtqueue, through ring R
 * of the device's rings (one per virtqueue), so that data written through
 * one ring can be read back through another.
 *
 *   write         write the pattern.h pattern of seed S to [O, O+L)
 *   read          read [O, O+L) and compare it with the pattern of seed S
 *   crc           print "crc32c=0x........" of [O, O+L) (CRC-32C, crc32c.h)
 *   getid         print "serial=..." (VIRTIO_BLK_T_GET_ID)
 *   flush         VIRTIO_BLK_T_FLUSH (a no-op if the device has no flush)
 *   discard       discard [O, O+L), then check that it reads as zeroes
 *   write_zeroes  write zeroes to [O, O+L), then check that it reads so
 *
 * It stops at the first failure; the exit status tells which (BLKCHECK_*).
 */
#include "guest.h"

#include "crc32c.h"
#include "guest_errno.h"
#include "pattern.h"
#include "virtio_blk.h"
#include "virtio_blk_uring.h"

#define BLKCHECK_OK         0
#define BLKCHECK_USAGE      1       /* bad arguments */
#define BLKCHECK_DEVICE     2       /* no such disk, or it failed to set up */
#define BLKCHECK_IO_ERROR   3       /* the device failed a request */
#define BLKCHECK_UNSUPP     4       /* the device does not support the request */
#define BLKCHECK_MISMATCH   5       /* read data differs from the pattern */
#define BLKCHECK_NOT_ZERO   6       /* discarded/zeroed range reads non-zero */
#define BLKCHECK_RANGE      7       /* range beyond the end of the disk */
#define BLKCHECK_TIMEOUT    8       /* a request did not complete */

#define CHUNK_BYTES         (1u << 20)
#define DISCARD_CHUNK_BYTES (1u << 30)
#define NSEC_PER_SEC        UINT64_C(1000000000)
#define REQUEST_TIMEOUT_NS  (30 * NSEC_PER_SEC)

struct op {
    const char *name;
    uint64_t offset;
    uint64_t len;
    uint64_t seed;
    uint64_t ring;                  /* with uring=on */
};

struct completion {
    uint8_t status;
};

struct uring_completion {
    int32_t res;                    /* bytes or -errno */
};

#define MAX_RINGS           64      /* a ring per virtqueue, at most */

static struct virtio_blk blk;
static struct virtio_blk_uring rings[MAX_RINGS];
static unsigned int num_rings;
static bool use_uring;
static uint8_t *buffer;             /* CHUNK_BYTES */

static void on_done(void *opaque, uint64_t tag, uint8_t status)
{
    struct completion *c = (struct completion *)(uintptr_t)tag;

    c->status = status;
}

static void on_uring_done(void *opaque, uint64_t user_data, int32_t res)
{
    struct uring_completion *c = (struct uring_completion *)(uintptr_t)user_data;

    c->res = res;
}

/* request() for a read or write through the uring passthrough. */
static int uring_request(const struct op *op, uint32_t type, uint64_t offset, void *buf,
                         uint32_t len)
{
    uint8_t opcode = type == VIRTIO_BLK_T_IN ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
    struct virtio_blk_uring *ring = &rings[op->ring];
    struct uring_completion c = { 0 };
    uint64_t start;
    int ret = virtio_blk_uring_submit(ring, opcode, offset, buf, len, (uintptr_t)&c);

    if (ret) {
        printf("blkcheck: %s at offset %lu: not submitted to the uring: %s\n", op->name,
               offset, guest_strerror(ret));
        return ret == -EOPNOTSUPP ? BLKCHECK_UNSUPP : BLKCHECK_IO_ERROR;
    }
    virtio_blk_uring_kick(ring);
    start = rdtsc();
    while (!virtio_blk_uring_poll(ring, on_uring_done, NULL)) {
        if (tsc_to_ns(rdtsc() - start) > REQUEST_TIMEOUT_NS) {
            printf("blkcheck: %s at offset %lu: no completion from the uring after %lu s\n",
                   op->name, offset, REQUEST_TIMEOUT_NS / NSEC_PER_SEC);
            return BLKCHECK_TIMEOUT;
        }
        cpu_relax();
    }
    if (c.res < 0) {
        printf("blkcheck: %s of %u bytes at offset %lu failed in the uring: %s\n", op->name,
               len, offset, guest_strerror(c.res));
        return BLKCHECK_IO_ERROR;
    }
    if ((uint32_t)c.res != len) {
        printf("blkcheck: %s of %u bytes at offset %lu: the uring transferred %d\n",
               op->name, len, offset, c.res);
        return BLKCHECK_IO_ERROR;
    }
    return BLKCHECK_OK;
}

/*
 * Run one request to completion.  Returns BLKCHECK_OK or the failure's
 * exit status, after printing it.
 */
static int request(const struct op *op, uint32_t type, uint64_t offset, void *buf,
                   uint32_t len)
{
    struct virtio_blk_queue *q = &blk.queue[0];
    struct completion c = { 0 };
    uint64_t start;
    int ret;

    if (use_uring && (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT)) {
        return uring_request(op, type, offset, buf, len);
    }
    ret = virtio_blk_submit(q, type, offset / VIRTIO_BLK_SECTOR_SIZE, buf, len, false,
                            (uintptr_t)&c);
    if (ret) {
        printf("blkcheck: %s at offset %lu: not submitted: %s\n", op->name, offset,
               guest_strerror(ret));
        return ret == -EOPNOTSUPP ? BLKCHECK_UNSUPP : BLKCHECK_IO_ERROR;
    }
    virtio_blk_kick(q);
    start = rdtsc();
    while (!virtio_blk_poll(q, on_done, NULL)) {
        if (tsc_to_ns(rdtsc() - start) > REQUEST_TIMEOUT_NS) {
            printf("blkcheck: %s at offset %lu: no completion after %lu s\n", op->name,
                   offset, REQUEST_TIMEOUT_NS / NSEC_PER_SEC);
            return BLKCHECK_TIMEOUT;
        }
        cpu_relax();
    }
    if (c.status != VIRTIO_BLK_S_OK) {
        printf("blkcheck: %s of %u bytes at offset %lu failed: %s (status %u)\n",
               op->name, len, offset, virtio_blk_status_name(c.status), c.status);
        return c.status == VIRTIO_BLK_S_UNSUPP ? BLKCHECK_UNSUPP : BLKCHECK_IO_ERROR;
    }
    return BLKCHECK_OK;
}

static uint32_t chunk_at(const struct op *op, uint64_t pos, uint32_t max)
{
    uint64_t left = op->offset + op->len - pos;

    return left < max ? left : max;
}

static int op_write(const struct op *op)
{
    for (uint64_t pos = op->offset; pos < op->offset + op->len;) {
        uint32_t n = chunk_at(op, pos, CHUNK_BYTES);
        int ret;

        pattern_fill(buffer, pos, n, op->seed);
        ret = request(op, VIRTIO_BLK_T_OUT, pos, buffer, n);
        if (ret) {
            return ret;
        }
        pos += n;
    }
    return BLKCHECK_OK;
}

static int op_read(const struct op *op)
{
    for (uint64_t pos = op->offset; pos < op->offset + op->len;) {
        uint32_t n = chunk_at(op, pos, CHUNK_BYTES);
        int ret = request(op, VIRTIO_BLK_T_IN, pos, buffer, n);
        size_t bad;

        if (ret) {
            return ret;
        }
        bad = pattern_mismatch(buffer, pos, n, op->seed);
        if (bad < n) {
            printf("blkcheck: read: mismatch at offset %lu (0x%lx): expected 0x%02x, "
                   "found 0x%02x\n", pos + bad, pos + bad,
                   pattern_byte(op->seed, pos + bad), buffer[bad]);
            return BLKCHECK_MISMATCH;
        }
        pos += n;
    }
    return BLKCHECK_OK;
}

static int op_crc(const struct op *op)
{
    uint32_t crc = 0;

    for (uint64_t pos = op->offset; pos < op->offset + op->len;) {
        uint32_t n = chunk_at(op, pos, CHUNK_BYTES);
        int ret = request(op, VIRTIO_BLK_T_IN, pos, buffer, n);

        if (ret) {
            return ret;
        }
        crc = crc32c_extend(crc, buffer, n);
        pos += n;
    }
    printf("crc32c=0x%08x\n", crc);
    return BLKCHECK_OK;
}

static int op_getid(const struct op *op)
{
    char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
    int ret = request(op, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES);

    if (!ret) {
        printf("serial=%s\n", id);
    }
    return ret;
}

static int op_flush(const struct op *op)
{
    if (!(blk.features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH))) {
        printf("blkcheck: flush: device offers no flush (no volatile cache)\n");
        return BLKCHECK_OK;
    }
    return request(op, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
}

/* Check that [offset, offset + len) reads as zeroes. */
static int check_zeroes(const struct op *op)
{
    for (uint64_t pos = op->offset; pos < op->offset + op->len;) {
        uint32_t n = chunk_at(op, pos, CHUNK_BYTES);
        int ret = request(op, VIRTIO_BLK_T_IN, pos, buffer, n);

        if (ret) {
            return ret;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (buffer[i]) {
                printf("blkcheck: %s: offset %lu (0x%lx) reads 0x%02x, expected 0x00\n",
                       op->name, pos + i, pos + i, buffer[i]);
                return BLKCHECK_NOT_ZERO;
            }
        }
        pos += n;
    }
    return BLKCHECK_OK;
}

static int op_zero_range(const struct op *op)
{
    bool discard = !strcmp(op->name, "discard");
    uint32_t type = discard ? VIRTIO_BLK_T_DISCARD : VIRTIO_BLK_T_WRITE_ZEROES;
    uint32_t max_sectors = discard ? blk.info.max_discard_sectors
                                   : blk.info.max_write_zeroes_sectors;
    uint64_t max = max_sectors ? (uint64_t)max_sectors * VIRTIO_BLK_SECTOR_SIZE
                               : DISCARD_CHUNK_BYTES;

    if (max > DISCARD_CHUNK_BYTES) {
        max = DISCARD_CHUNK_BYTES;
    }
    for (uint64_t pos = op->offset; pos < op->offset + op->len;) {
        uint32_t n = chunk_at(op, pos, max);
        int ret = request(op, type, pos, NULL, n);

        if (ret) {
            return ret;
        }
        pos += n;
    }
    return check_zeroes(op);
}

static const struct {
    const char *name;
    int (*run)(const struct op *op);
    bool uses_range;
} operations[] = {
    { "write", op_write, true },
    { "read", op_read, true },
    { "crc", op_crc, true },
    { "getid", op_getid, false },
    { "flush", op_flush, false },
    { "discard", op_zero_range, true },
    { "write_zeroes", op_zero_range, true },
};

static int find_operation(const char *name)
{
    for (size_t i = 0; i < sizeof(operations) / sizeof(operations[0]); i++) {
        if (!strcmp(name, operations[i].name)) {
            return i;
        }
    }
    return -1;
}

static int run(const struct op *op)
{
    int i = find_operation(op->name);
    uint64_t capacity = blk.info.capacity * VIRTIO_BLK_SECTOR_SIZE;
    int ret;

    if (operations[i].uses_range) {
        if (op->offset % VIRTIO_BLK_SECTOR_SIZE || op->len % VIRTIO_BLK_SECTOR_SIZE ||
            !op->len) {
            printf("blkcheck: %s: offset=%lu len=%lu must be multiples of %u, len > 0\n",
                   op->name, op->offset, op->len, VIRTIO_BLK_SECTOR_SIZE);
            return BLKCHECK_USAGE;
        }
        if (op->offset > capacity || op->len > capacity - op->offset) {
            printf("blkcheck: %s: offset=%lu len=%lu is beyond the disk's %lu bytes\n",
                   op->name, op->offset, op->len, capacity);
            return BLKCHECK_RANGE;
        }
    }
    ret = operations[i].run(op);
    if (operations[i].uses_range) {
        printf("blkcheck: %s offset=%lu len=%lu seed=%lu: %s\n", op->name, op->offset,
               op->len, op->seed, ret ? "FAILED" : "OK");
    } else {
        printf("blkcheck: %s: %s\n", op->name, ret ? "FAILED" : "OK");
    }
    return ret;
}

/* Does word @arg have the key @key (before its '=')? */
static bool has_key(const char *arg, const char *key)
{
    size_t len = strlen(key);

    return !strncmp(arg, key, len) && arg[len] == '=';
}

/*
 * Check the whole command line before touching the disk.  Arguments before
 * the first op= set the starting values.
 */
static bool parse(int argc, char **argv, struct op *ops, unsigned int *count,
                  uint64_t *dev)
{
    struct op current = { .len = 4096, .seed = 1 };

    *count = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = strchr(argv[i], '=');
        bool ok = false;

        value = value ? value + 1 : "";
        if (has_key(argv[i], "op")) {
            ok = find_operation(value) >= 0;
            current.name = value;
            (*count)++;
        } else if (has_key(argv[i], "dev")) {
            char *end;

            *dev = strtoull(value, &end, 0);
            ok = end != value && !*end;
        } else if (has_key(argv[i], "uring")) {
            ok = !strcmp(value, "on") || !strcmp(value, "off");
            use_uring = !strcmp(value, "on");
        } else if (has_key(argv[i], "offset")) {
            ok = parse_size(value, &current.offset);
        } else if (has_key(argv[i], "len")) {
            ok = parse_size(value, &current.len);
        } else if (has_key(argv[i], "seed")) {
            ok = parse_size(value, &current.seed);
        } else if (has_key(argv[i], "ring")) {
            char *end;

            current.ring = strtoull(value, &end, 0);
            ok = end != value && !*end && current.ring < MAX_RINGS;
        }
        if (!ok) {
            printf("blkcheck: bad argument '%s'\n", argv[i]);
            return false;
        }
        if (*count) {
            ops[*count - 1] = current;
        }
    }
    if (!*count) {
        printf("blkcheck: no op= given\n");
        return false;
    }
    return true;
}

/*
 * Take over the passthrough's rings that the ops name (all from ring 0 to
 * the highest), one after the other; the device is already live
 * (DRIVER_OK).
 */
static int start_uring(const struct op *ops, unsigned int count)
{
    unsigned int needed = 1;

    if (!(blk.features & VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH))) {
        printf("blkcheck: uring=on: %s does not offer VIRTIO_BLK_F_URING_PASSTHROUGH "
               "(give the device uring-passthrough=on)\n", blk.dev.name);
        return BLKCHECK_DEVICE;
    }
    for (unsigned int i = 0; i < count; i++) {
        needed = ops[i].ring >= needed ? ops[i].ring + 1 : needed;
    }
    for (num_rings = 0; num_rings < needed; num_rings++) {
        if (virtio_blk_uring_attach_ring(&blk.dev, num_rings, &rings[num_rings])) {
            return BLKCHECK_DEVICE;
        }
    }
    printf("blkcheck: reads and writes through the uring passthrough (sq %u, cq %u)\n",
           rings[0].cfg.sq_entries, rings[0].cfg.cq_entries);
    if (num_rings > 1) {
        printf("blkcheck: rings 0 to %u\n", num_rings - 1);
    }
    return BLKCHECK_OK;
}

int main(int argc, char **argv)
{
    struct virtio_blk_options options = { 0 };
    struct op *ops = guest_alloc(sizeof(*ops) * argc, 8);
    unsigned int count;
    uint64_t dev = 0;
    int ret;

    if (!parse(argc, argv, ops, &count, &dev)) {
        return BLKCHECK_USAGE;
    }
    if (use_uring) {
        options.features = VIRTIO_BLK_SUPPORTED_FEATURES |
                           VIRTIO_BIT(VIRTIO_BLK_F_URING_PASSTHROUGH);
    }
    ret = virtio_blk_open(dev, &options, &blk);
    if (ret) {
        printf("blkcheck: virtio-blk device %lu: %s\n", dev, guest_strerror(ret));
        return BLKCHECK_DEVICE;
    }
    if (use_uring) {
        ret = start_uring(ops, count);
        if (ret) {
            return ret;
        }
    }
    /* Aligned to its size: the buffer stays within one uring buffer window. */
    buffer = guest_alloc(CHUNK_BYTES, CHUNK_BYTES);
    for (unsigned int i = 0; i < count; i++) {
        ret = run(&ops[i]);
        if (ret) {
            return ret;
        }
    }
    return BLKCHECK_OK;
}
