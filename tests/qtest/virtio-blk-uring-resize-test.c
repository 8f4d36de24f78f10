/*
 * QMP's block_resize with the io_uring passthrough: the ring's file size limit
 * follows the image while the ring runs, so that the guest can write up to
 * the new end after growing and no further after shrinking; the
 * extension's disk_size follows too, and a ring made later starts with the
 * new size.  A VMM without CAP_SYS_RESOURCE can raise the limit too.
 * Several rings move together when the device is alone on its
 * uring-sqpoll object; when the object serves other devices too (one
 * owner, one limit) block_resize is refused before anything changes.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <string.h>
#include <unistd.h>

#include "virtio-blk-uring-fixture.h"

#define NR_RINGS        2
#define MQ_DEV          URING ",num-queues=2,uring-iopoll=off,id=disk0"

/* block_resize of drive d0 to size bytes; NULL, or the error's description. */
static char *block_resize(Fixture *f, uint64_t size)
{
    g_autoptr(JsonObject) reply = qtest_qmp(
        f->qts, "{'execute': 'block_resize', 'arguments': "
                "{'device': 'd0', 'size': %" PRIu64 "}}", size);

    if (json_object_has_member(reply, "return")) {
        return NULL;
    }
    g_assert_cmpstr(qmp_reply_error_class(reply), ==, "GenericError");
    return g_strdup(qmp_reply_error_desc(reply));
}

/* The image file has size bytes now: the new ones read as zeroes. */
static void image_resized(Fixture *f, uint64_t size)
{
    f->expected = g_realloc(f->expected, MAX(size, 1));
    if (size > f->image_size) {
        memset(f->expected + f->image_size, 0, size - f->image_size);
    }
    f->image_size = size;
    g_assert_cmpuint(file_size(f->image), ==, size);
}

/* block_resize under a running ring, which the extension's disk_size follows. */
static void resized(Fixture *f, uint64_t size)
{
    QVirtioBlkUringConfig cfg;

    g_assert_null(block_resize(f, size));
    image_resized(f, size);
    qvirtio_blk_uring_read_config(f->u, &cfg);
    g_assert_cmpuint(cfg.disk_size, ==, size);
}

/* A write of the ring at off must be refused with EFBIG. */
static void expect_efbig(Fixture *f, uint64_t off)
{
    Target t = target_new(f, off >> 12);
    QUringSqe sqe;

    qvirtio_blk_uring_prep(f->u, &sqe, IORING_OP_WRITE_FIXED, t.gpa,
                           TARGET_LEN, off, 1);
    expect_refused(f, &sqe, -EFBIG, "write past the end");
    target_check(f, &t);
}

/* Grown under a running ring: the old end is no longer the limit. */
static void test_grow(void)
{
    Fixture f;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    expect_efbig(&f, IMAGE_SIZE);
    resized(&f, 2 * IMAGE_SIZE);
    round_trip(&f, IMAGE_SIZE, TARGET_LEN, 80);
    round_trip(&f, 2 * IMAGE_SIZE - TARGET_LEN, TARGET_LEN, 81);
    expect_efbig(&f, 2 * IMAGE_SIZE);
    g_assert_cmphex(qvirtio_pci_get_status(&f.u->vdev) &
                    VIRTIO_CONFIG_S_NEEDS_RESET, ==, 0);
    check_image(&f);
    fixture_cleanup(&f);
}

/* Shrunk under a running ring: writes past the new end are refused. */
static void test_shrink(void)
{
    Fixture f;

    fixture_init(&f, RAM_MB, "", URING);
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, IMAGE_SIZE / 2, TARGET_LEN, 82);
    resized(&f, IMAGE_SIZE / 2);
    expect_efbig(&f, IMAGE_SIZE / 2);
    expect_efbig(&f, IMAGE_SIZE - TARGET_LEN);
    round_trip(&f, IMAGE_SIZE / 2 - TARGET_LEN, TARGET_LEN, 83);
    check_image(&f);
    fixture_cleanup(&f);
}

/* Resized before the driver negotiated: the ring starts with the new size. */
static void test_before_ring(void)
{
    Fixture f;

    fixture_init(&f, RAM_MB, "", URING);
    g_assert_null(block_resize(&f, 2 * IMAGE_SIZE));
    image_resized(&f, 2 * IMAGE_SIZE);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpuint(f.u->cfg.disk_size, ==, 2 * IMAGE_SIZE);
    round_trip(&f, 2 * IMAGE_SIZE - TARGET_LEN, TARGET_LEN, 84);
    expect_efbig(&f, 2 * IMAGE_SIZE);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * Grown by a VMM without CAP_SYS_RESOURCE (dropped from the bounding set,
 * which a root VMM would otherwise get back at exec), which cannot raise a
 * hard limit: the owner sets none.  The VMM runs through a wrapper
 * script, which QTEST_QEMU_BINARY names for the while.
 */
#define NO_SYS_RESOURCE "setpriv --bounding-set=-sys_resource"

static void test_grow_unprivileged(void)
{
    g_autofree char *setpriv = g_find_program_in_path("setpriv");
    g_autofree char *saved = NULL;
    g_autofree char *script = NULL;
    g_autofree char *text = NULL;
    g_autofree char *err = NULL;
    Fixture f;
    int fd;

    if (geteuid() != 0 || !setpriv) {
        g_test_skip("dropping a capability from the bounding set needs root "
                    "and setpriv (util-linux)");
        return;
    }
    saved = g_strdup(qtest_qemu_binary());
    fd = g_file_open_tmp("qtest-uring-resize-XXXXXX", &script, NULL);
    g_assert_cmpint(fd, >=, 0);
    text = g_strdup_printf("#!/bin/sh\nexec " NO_SYS_RESOURCE " %s \"$@\"\n",
                           saved);
    g_assert_cmpint(write(fd, text, strlen(text)), ==, strlen(text));
    close(fd);
    g_assert_cmpint(g_chmod(script, 0700), ==, 0);
    g_setenv("QTEST_QEMU_BINARY", script, TRUE);

    fixture_init_full(&f, RAM_MB, "", URING ",uring-iopoll=off", true);
    qvirtio_blk_uring_start(f.u);
    resized(&f, 2 * IMAGE_SIZE);
    round_trip(&f, IMAGE_SIZE, TARGET_LEN, 85);
    expect_efbig(&f, 2 * IMAGE_SIZE);
    check_image(&f);
    qvirtio_blk_uring_reset(f.u);
    fixture_quit(&f);
    err = vmm_stderr(&f);
    g_assert_cmpstr(err, ==, "");
    fixture_cleanup(&f);

    g_setenv("QTEST_QEMU_BINARY", saved, TRUE);
    g_unlink(script);
}

/*
 * Two devices on uring-sqpoll sq0: their owner has one file size limit,
 * so block_resize is refused, and the image, the limit and what the guest
 * sees stay as they were.
 */
static void test_shared_refused(void)
{
    g_autofree char *image_b = NULL;
    g_autofree uint8_t *contents_b = NULL;
    g_autofree char *opts = NULL;
    g_autofree char *err = NULL;
    QVirtioBlkUringConfig cfg;
    Fixture f;

    image_b = make_image(IMAGE_SIZE, &contents_b);
    /* The fixture's device is the first on the bus. */
    opts = g_strdup_printf(MQ_DEV ",uring-sqpoll=sq0,addr=0x10 "
                           "-object uring-sqpoll,id=sq0 "
                           "-drive if=none,id=d1,format=raw,file=%s "
                           "-device virtio-blk-pci,drive=d1" URING
                           ",uring-sqpoll=sq0,addr=0x11", image_b);
    fixture_init(&f, RAM_MB, "", opts);
    qvirtio_blk_uring_start(f.u);
    err = block_resize(&f, 2 * IMAGE_SIZE);
    g_assert_cmpstr(err, ==, "Cannot resize 'd0': its rings share "
                    "uring-sqpoll 'sq0' with other devices");
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    qvirtio_blk_uring_read_config(f.u, &cfg);
    g_assert_cmpuint(cfg.disk_size, ==, IMAGE_SIZE);
    g_free(err);
    err = block_resize(&f, IMAGE_SIZE / 2);
    g_assert_nonnull(err);
    g_assert_cmpuint(file_size(f.image), ==, IMAGE_SIZE);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        expect_efbig(&f, IMAGE_SIZE);
        round_trip(&f, IMAGE_SIZE - TARGET_LEN, TARGET_LEN, 110 + i);
    }
    check_image(&f);
    fixture_cleanup(&f);
    g_unlink(image_b);
}

/*
 * Alone on its uring-sqpoll object, the device grows: both rings can write
 * up to the new end and no further, and so can the rings of a new owner
 * after a reset (the object took the new limit).
 */
static void test_alone_multiring(void)
{
    uint64_t size = 2 * IMAGE_SIZE;
    Fixture f;

    fixture_init(&f, RAM_MB, "", MQ_DEV ",uring-sqpoll=sq0 "
                 "-object uring-sqpoll,id=sq0");
    qvirtio_blk_uring_start(f.u);
    qvirtio_blk_uring_use_ring(f.u, 1);
    expect_efbig(&f, IMAGE_SIZE);
    resized(&f, size);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        round_trip(&f, IMAGE_SIZE + i * TARGET_LEN, TARGET_LEN, 120 + i);
        expect_efbig(&f, size);
    }

    qvirtio_blk_uring_reset(f.u);
    qvirtio_blk_uring_start(f.u);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        qvirtio_blk_uring_use_ring(f.u, i);
        round_trip(&f, size - (i + 1) * TARGET_LEN, TARGET_LEN, 130 + i);
        expect_efbig(&f, size);
    }
    check_image(&f);
    fixture_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk-uring/resize/grow", test_grow);
    g_test_add_func("/virtio-blk-uring/resize/shrink", test_shrink);
    g_test_add_func("/virtio-blk-uring/resize/before-ring", test_before_ring);
    g_test_add_func("/virtio-blk-uring/resize/grow-unprivileged",
                    test_grow_unprivileged);
    g_test_add_func("/virtio-blk-uring/resize/shared-refused",
                    test_shared_refused);
    g_test_add_func("/virtio-blk-uring/resize/alone-multiring",
                    test_alone_multiring);
    return g_test_run();
}
