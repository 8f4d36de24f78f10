/*
 * verify=crc32c: the block format and its check.  The header (gfio.h)
 * makes a block self-describing, so a read job can check blocks written by
 * an earlier run; the payload is the pattern.h pattern of the header's seed
 * at the block's own offsets, so a mismatch is reported to the byte.
 */
#include "gfio.h"

#include "crc32c.h"
#include "libc.h"
#include "pattern.h"

#define CRC_OFFSET  __builtin_offsetof(struct gfio_verify_header, crc32c)
#define HEADER_SIZE sizeof(struct gfio_verify_header)

_Static_assert(HEADER_SIZE == 40, "verify header layout");

/* CRC-32C of the block with the crc32c field taken as zero. */
static uint32_t block_crc(const uint8_t *buf, uint32_t len)
{
    static const uint8_t zero[sizeof(uint32_t)];
    uint32_t crc = crc32c(buf, CRC_OFFSET);

    crc = crc32c_extend(crc, zero, sizeof(zero));
    return crc32c_extend(crc, buf + CRC_OFFSET + sizeof(zero),
                         len - CRC_OFFSET - sizeof(zero));
}

void gfio_verify_fill(void *buf, uint64_t offset, uint32_t len, uint64_t seed,
                      uint64_t generation)
{
    struct gfio_verify_header *h = buf;

    pattern_fill((uint8_t *)buf + HEADER_SIZE, offset + HEADER_SIZE, len - HEADER_SIZE,
                 seed);
    *h = (struct gfio_verify_header){
        .magic = GFIO_VERIFY_MAGIC, .length = len, .offset = offset,
        .seed = seed, .generation = generation,
    };
    h->crc32c = block_crc(buf, len);
}

static bool mismatch(uint64_t offset, const char *what, uint64_t expected, uint64_t found)
{
    printf("gfio: verify failed: block at offset %lu (0x%lx): %s: "
           "expected 0x%lx, found 0x%lx\n", offset, offset, what, expected, found);
    return false;
}

bool gfio_verify_check(const void *buf, uint64_t offset, uint32_t len, bool expect_writer,
                       uint64_t seed, uint64_t generation)
{
    const struct gfio_verify_header *h = buf;
    const uint8_t *payload = (const uint8_t *)buf + HEADER_SIZE;
    size_t bad;
    uint32_t crc;

    if (h->magic != GFIO_VERIFY_MAGIC) {
        return mismatch(offset, "header magic", GFIO_VERIFY_MAGIC, h->magic);
    }
    if (h->offset != offset) {
        return mismatch(offset, "header offset", offset, h->offset);
    }
    if (h->length != len) {
        return mismatch(offset, "header length", len, h->length);
    }
    if (expect_writer && h->seed != seed) {
        return mismatch(offset, "header seed", seed, h->seed);
    }
    if (expect_writer && h->generation != generation) {
        return mismatch(offset, "header generation (written by another run)",
                        generation, h->generation);
    }
    bad = pattern_mismatch(payload, offset + HEADER_SIZE, len - HEADER_SIZE, h->seed);
    if (bad < len - HEADER_SIZE) {
        uint64_t at = offset + HEADER_SIZE + bad;

        printf("gfio: verify failed: block at offset %lu (0x%lx): byte at offset %lu "
               "(0x%lx, block +%lu): expected 0x%02x, found 0x%02x\n",
               offset, offset, at, at, (uint64_t)HEADER_SIZE + bad,
               pattern_byte(h->seed, at), payload[bad]);
        return false;
    }
    crc = block_crc(buf, len);
    if (crc != h->crc32c) {
        return mismatch(offset, "crc32c", crc, h->crc32c);
    }
    return true;
}
