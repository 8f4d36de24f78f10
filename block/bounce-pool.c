/*
 * The memory of a back-end's bounce buffers: one arena, mapped when first
 * needed and kept until the back-end closes, handed out in blocks of a
 * power of two granules, each aligned to its size (so that a freed block
 * merges back with its neighbours, as in a buddy allocator).  A bit per
 * granule says whether it is in use.
 *
 * Unlike malloc()ed buffers, the arena bounds the memory the buffers can
 * ever take, heap fragmentation included, and a buffer costs no system
 * call: no munmap() that would make the kernel interrupt every CPU that
 * runs a thread of the VMM.
 *
 * Called from the back-end's AioContext only.
 */
#include <errno.h>
#include <sys/mman.h>

#include "block-internal.h"

struct BouncePool {
    char *base;                 /* NULL until the first allocation */
    uint64_t size;
    uint64_t max_block;
    unsigned granule_bits;
    uint64_t granules;
    uint64_t *used;             /* a bit per granule, set if in use */
};

BouncePool *bounce_pool_new(uint64_t size, uint64_t min_block,
                            uint64_t max_block)
{
    BouncePool *p = g_new0(BouncePool, 1);
    uint64_t words;

    g_assert(min_block && !(min_block & (min_block - 1)));
    g_assert(max_block >= min_block && !(max_block & (max_block - 1)));
    g_assert(size && size % max_block == 0);
    p->size = size;
    p->max_block = max_block;
    p->granule_bits = __builtin_ctzll(min_block);
    p->granules = size >> p->granule_bits;
    words = (p->granules + 63) / 64;
    p->used = g_new0(uint64_t, words);
    /* Bits past the last granule: never free. */
    if (p->granules % 64) {
        p->used[words - 1] = ~0ULL << (p->granules % 64);
    }
    return p;
}

void bounce_pool_free(BouncePool *p)
{
    if (p->base) {
        munmap(p->base, p->size);
    }
    g_free(p->used);
    g_free(p);
}

/* Reserve the arena, aligned to the largest block. */
static bool pool_map(BouncePool *p)
{
    uint64_t len = p->size + p->max_block;
    char *area = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *base;

    if (area == MAP_FAILED) {
        return false;
    }
    base = (char *)ROUND_UP((uintptr_t)area, p->max_block);
    if (base > area) {
        munmap(area, base - area);
    }
    munmap(base + p->size, area + len - (base + p->size));
    p->base = base;
    return true;
}

/*
 * Granules [first, first + n), where n is a power of two and first a
 * multiple of n, lie within one word of the bitmap or are whole words.
 */
static uint64_t pool_word_mask(uint64_t first, uint64_t n)
{
    return n >= 64 ? ~0ULL : ((1ULL << n) - 1) << (first % 64);
}

static bool pool_range_free(BouncePool *p, uint64_t first, uint64_t n)
{
    uint64_t mask = pool_word_mask(first, n);

    for (uint64_t w = first / 64; w <= (first + n - 1) / 64; w++) {
        if (p->used[w] & mask) {
            return false;
        }
    }
    return true;
}

static void pool_range_mark(BouncePool *p, uint64_t first, uint64_t n,
                            bool used)
{
    uint64_t mask = pool_word_mask(first, n);

    for (uint64_t w = first / 64; w <= (first + n - 1) / 64; w++) {
        p->used[w] = used ? p->used[w] | mask : p->used[w] & ~mask;
    }
}

/* Granules of the block that holds size bytes. */
static uint64_t pool_block_granules(BouncePool *p, uint64_t size)
{
    uint64_t n = MAX((size + (1ULL << p->granule_bits) - 1) >>
                     p->granule_bits, 1);

    return n == 1 ? 1 : 1ULL << (64 - __builtin_clzll(n - 1));
}

int bounce_pool_alloc(BouncePool *p, uint64_t size, void **buf)
{
    uint64_t n = pool_block_granules(p, size);

    g_assert(size && size <= p->max_block);
    if (!p->base && !pool_map(p)) {
        return -ENOMEM;
    }
    for (uint64_t first = 0; first + n <= p->granules; first += n) {
        if (first % 64 == 0 && n < 64 && p->used[first / 64] == ~0ULL) {
            first += 64 - n;        /* a full word: skip it */
            continue;
        }
        if (pool_range_free(p, first, n)) {
            pool_range_mark(p, first, n, true);
            *buf = p->base + (first << p->granule_bits);
            return 0;
        }
    }
    return -EAGAIN;
}

void bounce_pool_release(BouncePool *p, void *buf, uint64_t size)
{
    uint64_t first = ((char *)buf - p->base) >> p->granule_bits;

    pool_range_mark(p, first, pool_block_granules(p, size), false);
}
