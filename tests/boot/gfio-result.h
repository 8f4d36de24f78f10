/*
 * What the guest program gfio reports: fio's JSON layout between the lines
 * "--- gfio json begin ---" and "--- gfio json end ---", then a summary
 * line starting "gfio: rw=" (tests/guest/README.rst).
 */
#ifndef TESTS_BOOT_GFIO_RESULT_H
#define TESTS_BOOT_GFIO_RESULT_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "image.h"
#include "vmrun.h"

/* gfio's exit statuses (the VMM exits with (status << 1) | 1). */
#define GFIO_EXIT_IO_ERROR  3
#define GFIO_EXIT_VERIFY    4
#define GFIO_EXIT_TIMEOUT   5           /* requests stopped completing */

typedef struct GfioResult {
    JsonParser *parser;
    JsonObject *job;            /* jobs[0] */
    char *summary;              /* the summary line, without "\n" */
} GfioResult;

/* Parse gfio's output in @out; asserts that it is all there. */
GfioResult *gfio_result_parse(const char *out);
void gfio_result_free(GfioResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GfioResult, gfio_result_free)

/*
 * Assert that run @r was a successful gfio job of one pass of @rw (read,
 * write, randread or randwrite) over @size bytes in blocks of @bs: every
 * block transferred once, no error, and with @verify every block checked.
 * Returns the result for further checks.
 */
GfioResult *gfio_assert_pass(const VMRun *r, const char *rw, uint64_t bs,
                             uint64_t size, bool verify);

/*
 * Assert that run @r was a gfio job that failed with exit status @status,
 * in the VMM's status, the JSON's "error" and the summary line.
 */
GfioResult *gfio_assert_failed(const VMRun *r, int status);

/*
 * Assert that the summary shows engine @engine ("virtio-blk", "uring")
 * with @requests requests.
 */
void gfio_assert_requests(const GfioResult *res, const char *engine,
                          uint64_t requests);

/* gfio's verify=crc32c block header (tests/guest/gfio.h), little-endian */
#define GFIO_HDR_MAGIC      0       /* u32, "gfio" */
#define GFIO_HDR_LENGTH     4       /* u32, block length */
#define GFIO_HDR_OFFSET     8       /* u64, disk offset of the block */
#define GFIO_HDR_SEED       16      /* u64, pattern seed of the payload */
#define GFIO_HDR_CRC        32      /* u32, CRC-32C of the block */
#define GFIO_HDR_RESERVED   36      /* u32, zero */
#define GFIO_HDR_SIZE       40
#define GFIO_MAGIC          0x6f696667u

uint32_t gfio_le32(const uint8_t *p);

/*
 * Assert what a verify=crc32c write job with blocks of @bs over
 * [0, @region) and random_seed=@seed left in @img, which was all zero:
 * every block has the header for its offset and the payload pattern, and
 * the rest of the image is still zero.
 */
void gfio_assert_image(const Image *img, uint64_t bs, uint64_t region,
                       uint64_t seed);

#endif
