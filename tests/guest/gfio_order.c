/*
 * Where gfio's next request goes, and its random numbers.
 *
 * A random pass visits every block exactly once (as fio does with its
 * random map) without a map: block numbers come from a keyed permutation
 * of [0, 2^(2h)), a 4-round Feistel network on two h-bit halves, h chosen
 * so that 2^(2h) >= count; results >= count are fed through the network
 * again ("cycle walking"), which keeps it a permutation of [0, count) and
 * costs fewer than 4 rounds on average since 2^(2h) < 4 * count.
 */
#include "gfio.h"

#define XORSHIFT_MULTIPLIER 0x2545f4914f6cdd1dull
#define GOLDEN_GAMMA        0x9e3779b97f4a7c15ull
#define FEISTEL_ROUNDS      4

void gfio_rng_seed(struct gfio_rng *rng, uint64_t seed)
{
    rng->state = seed ^ GOLDEN_GAMMA;
    if (!rng->state) {
        rng->state = GOLDEN_GAMMA;
    }
}

uint64_t gfio_rng_next(struct gfio_rng *rng)
{
    uint64_t x = rng->state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * XORSHIFT_MULTIPLIER;
}

static void new_keys(struct block_order *o, struct gfio_rng *rng)
{
    for (int i = 0; i < FEISTEL_ROUNDS; i++) {
        o->keys[i] = gfio_rng_next(rng);
    }
}

void block_order_init(struct block_order *o, uint64_t count, bool random,
                      struct gfio_rng *rng)
{
    unsigned int bits = count > 1 ? 64 - __builtin_clzll(count - 1) : 1;

    *o = (struct block_order){ .count = count, .random = random,
                               .half_bits = (bits + 1) / 2 };
    if (random) {
        new_keys(o, rng);
    }
}

static uint64_t round_function(uint64_t x, uint64_t key)
{
    x = (x ^ key) * XORSHIFT_MULTIPLIER;
    return x ^ x >> 29;
}

static uint64_t permute(const struct block_order *o, uint64_t x)
{
    uint64_t mask = (1ull << o->half_bits) - 1;
    uint64_t left = x >> o->half_bits, right = x & mask;

    for (int i = 0; i < FEISTEL_ROUNDS; i++) {
        uint64_t next = left ^ (round_function(right, o->keys[i]) & mask);

        left = right;
        right = next;
    }
    return left << o->half_bits | right;
}

bool block_order_next(struct block_order *o, bool wrap, struct gfio_rng *rng,
                      uint64_t *block)
{
    uint64_t b;

    if (o->position == o->count) {
        if (!wrap) {
            return false;
        }
        o->position = 0;
        if (o->random) {
            new_keys(o, rng);
        }
    }
    b = o->position++;
    if (o->random) {
        do {
            b = permute(o, b);
        } while (b >= o->count);
    }
    *block = b;
    return true;
}
