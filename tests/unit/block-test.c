/*
 * What the block layer's unit tests share.
 */
#include <sys/uio.h>
#include <unistd.h>

#include "block-test.h"

static const char *block_test_dir(void)
{
    const char *dir = g_getenv("BLOCK_TEST_DIR");

    return dir ? dir : "/var/tmp";
}

char *block_test_image(const char *prefix, uint64_t size)
{
    g_autofree char *name = g_strdup_printf("%s-XXXXXX", prefix);
    char *path = g_build_filename(block_test_dir(), name, NULL);
    int fd = g_mkstemp(path);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

BlockBackend *block_test_open(const char *path, const char *options)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *str = g_strdup_printf("file=%s,format=raw%s", path,
                                           options);
    g_autoptr(QemuOpts) opts = qemu_opts_parse(str, NULL, &err);
    BlockBackend *blk;

    g_assert_no_error(err);
    blk = drive_new(opts, NULL, &err);
    g_assert_no_error(err);
    return blk;
}

void block_test_req_cb(void *opaque, int ret)
{
    BlockTestReq *r = opaque;

    r->done = true;
    r->ret = ret;
}

int block_test_wait(AioContext *ctx, BlockTestReq *r)
{
    while (!r->done) {
        aio_context_iterate(ctx, true);
    }
    return r->ret;
}

int block_test_rw(BlockBackend *blk, AioContext *ctx, bool write,
                  uint64_t offset, void *buf, size_t len)
{
    struct iovec iov = { buf, len };
    BlockTestReq r = { 0 };

    if (write) {
        blk_aio_pwritev(blk, offset, &iov, 1, block_test_req_cb, &r);
    } else {
        blk_aio_preadv(blk, offset, &iov, 1, block_test_req_cb, &r);
    }
    return block_test_wait(ctx, &r);
}

void block_test_add(const char *suite, gsize fixture_size,
                    const BlockTestDrive *drives, size_t nr_drives,
                    const BlockTestCase *cases, size_t nr_cases,
                    GTestFixtureFunc setup, GTestFixtureFunc teardown)
{
    for (size_t i = 0; i < nr_drives; i++) {
        for (size_t j = 0; j < nr_cases; j++) {
            g_autofree char *path = g_strdup_printf("/%s/%s/%s", suite,
                                                    drives[i].name,
                                                    cases[j].name);

            g_test_add_vtable(path, fixture_size, drives[i].options, setup,
                              cases[j].fn, teardown);
        }
    }
}
