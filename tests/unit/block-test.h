/*
 * What the block layer's unit tests share: scratch images, opening them
 * as drives, synchronous requests, and registering each test once per
 * drive configuration.
 *
 * Images live in $BLOCK_TEST_DIR (meson points it at the build directory)
 * or /var/tmp, not /tmp, which may be a tmpfs that refuses O_DIRECT.
 */
#ifndef TESTS_UNIT_BLOCK_TEST_H
#define TESTS_UNIT_BLOCK_TEST_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "block/block-backend.h"

/* A new image file of size bytes (zeroes), named after prefix. */
char *block_test_image(const char *prefix, uint64_t size);
/* path as a -drive file=PATH,format=raw<options>. */
BlockBackend *block_test_open(const char *path, const char *options);

/* A request's completion, for block_test_wait(). */
typedef struct BlockTestReq {
    bool done;
    int ret;
} BlockTestReq;

void block_test_req_cb(void *opaque, int ret);
/* Run ctx (this thread's) until r completes; its result. */
int block_test_wait(AioContext *ctx, BlockTestReq *r);
/* One read or write of len bytes at offset, waited for. */
int block_test_rw(BlockBackend *blk, AioContext *ctx, bool write,
                  uint64_t offset, void *buf, size_t len);

/* A drive configuration: its name in test paths, its -drive options. */
typedef struct BlockTestDrive {
    const char *name;
    const char *options;
} BlockTestDrive;

typedef struct BlockTestCase {
    const char *name;
    GTestFixtureFunc fn;
} BlockTestCase;

/*
 * Register /SUITE/DRIVE/CASE for every drive and case, with a fixture of
 * fixture_size bytes; setup, the case and teardown get the drive's
 * options as their data.
 */
void block_test_add(const char *suite, gsize fixture_size,
                    const BlockTestDrive *drives, size_t nr_drives,
                    const BlockTestCase *cases, size_t nr_cases,
                    GTestFixtureFunc setup, GTestFixtureFunc teardown);

#endif
