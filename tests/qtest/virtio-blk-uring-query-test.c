/*
 * What management sees of a passthrough device without a VM exit
 * (virtio_blk_uring_query(), read through the test-only
 * x-query-virtio-blk-uring command) and the withdrawal hook (through
 * x-uring-withdrawals): before negotiation, with a running ring and its
 * owner, the requests taken and completed, and after the passthrough was
 * withdrawn from the guest (its owner killed, its set-up failed at
 * FEATURES_OK), until it resets the device.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "libqos/block-hooks.h"
#include "virtio-blk-uring-fixture.h"

#define DEV_ID      ",id=disk0"

static GHashTable *query(Fixture *f)
{
    return qblock_query(f->qts, "x-query-virtio-blk-uring d0");
}

static char *withdrawals(Fixture *f)
{
    return qtest_raw_command(f->qts, "x-uring-withdrawals");
}

/* The query before negotiation, with a running ring, and its counters. */
static void test_running(void)
{
    g_autoptr(GHashTable) before = NULL;
    g_autoptr(GHashTable) q = NULL;
    g_autoptr(GHashTable) after = NULL;
    g_autofree char *none = NULL;
    QUringCqe cqe;
    Fixture f;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=32,uring-iopoll=off"
                 DEV_ID);
    none = withdrawals(&f);
    g_assert_cmpstr(none, ==, "OK");
    before = query(&f);
    g_assert_cmpint(qblock_get(before, "negotiated"), ==, 0);
    g_assert_cmpint(qblock_get(before, "active"), ==, 0);
    g_assert_cmpint(qblock_get(before, "withdrawn"), ==, 0);
    g_assert_cmpint(qblock_get(before, "iopoll"), ==, 0);
    g_assert_cmpint(qblock_get(before, "overflow_check"), ==, 1);
    g_assert_cmpint(qblock_get(before, "submitted"), ==, 0);

    qvirtio_blk_uring_start(f.u);
    submit_nops(&f, 20);
    for (int i = 0; i < 20; i++) {
        qvirtio_blk_uring_wait_cqe(f.u, &cqe);
        g_assert_cmpint(cqe.res, ==, 0);
    }
    qvirtio_blk_uring_ring_writel(f.u, f.u->cfg.cq_off.head, f.u->cq_head);
    q = query(&f);
    g_assert_cmpint(qblock_get(q, "negotiated"), ==, 1);
    g_assert_cmpint(qblock_get(q, "active"), ==, 1);
    g_assert_cmpint(qblock_get(q, "withdrawn"), ==, 0);
    g_assert_cmpstr(g_hash_table_lookup(q, "reason"), ==, "-");
    g_assert_cmpint(qblock_get(q, "sq_entries"), ==, f.u->cfg.sq_entries);
    g_assert_cmpint(qblock_get(q, "cq_entries"), ==, f.u->cfg.cq_entries);
    g_assert_cmpint(qblock_get(q, "sq_entries"), ==, 32);
    g_assert_cmpint(qblock_get(q, "owner_pid"), ==, ring_owner(&f));
    g_assert_cmpint(qblock_get(q, "sqpoll_tid"), >, 0);
    g_assert_cmpint(qblock_get(q, "sq_head"), ==, 20);
    g_assert_cmpint(qblock_get(q, "sq_tail"), ==, 20);
    g_assert_cmpint(qblock_get(q, "cq_tail"), ==, 20);
    g_assert_cmpint(qblock_get(q, "cq_head"), ==, 20);
    g_assert_cmpint(qblock_get(q, "submitted"), ==, 20);
    g_assert_cmpint(qblock_get(q, "completed"), ==, 20);
    g_assert_cmpint(qblock_get(q, "overflowed"), ==, 0);

    /* Real I/O counts too; a reset and a new ring start from 0. */
    round_trip(&f, 0, 4096, 70);
    after = query(&f);
    g_assert_cmpint(qblock_get(after, "submitted"), ==, 22);
    g_assert_cmpint(qblock_get(after, "completed"), ==, 22);
    qvirtio_blk_uring_reset(f.u);
    g_hash_table_unref(after);
    after = query(&f);
    g_assert_cmpint(qblock_get(after, "negotiated"), ==, 0);
    g_assert_cmpint(qblock_get(after, "submitted"), ==, 0);
    qvirtio_blk_uring_start(f.u);
    g_hash_table_unref(after);
    after = query(&f);
    g_assert_cmpint(qblock_get(after, "active"), ==, 1);
    g_assert_cmpint(qblock_get(after, "submitted"), ==, 0);
    g_free(none);
    none = withdrawals(&f);
    g_assert_cmpstr(none, ==, "OK");
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * The owner is killed: the hook names the device and the reason, the query
 * says withdrawn until the guest resets the device.
 */
static void test_withdrawn(void)
{
    g_autoptr(GHashTable) q = NULL;
    g_autofree char *heard = NULL;
    g_autofree char *err = NULL;
    Fixture f;

    fixture_init_full(&f, RAM_MB, "", URING ",uring-iopoll=off" DEV_ID,
                      true);
    g_free(withdrawals(&f));
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpint(kill(ring_owner(&f), SIGKILL), ==, 0);
    g_assert_true(qvirtio_pci_wait_status(&f.u->vdev,
                                          VIRTIO_CONFIG_S_NEEDS_RESET,
                                          WAIT_US));
    heard = withdrawals(&f);
    g_assert_cmpstr(heard, ==, "OK disk0:owner-exited");
    q = query(&f);
    g_assert_cmpint(qblock_get(q, "withdrawn"), ==, 1);
    g_assert_cmpstr(g_hash_table_lookup(q, "reason"), ==, "owner-exited");
    g_assert_cmpint(qblock_get(q, "negotiated"), ==, 0);
    g_assert_cmpint(qblock_get(q, "active"), ==, 0);

    qvirtio_blk_uring_reset(f.u);
    g_hash_table_unref(q);
    q = query(&f);
    g_assert_cmpint(qblock_get(q, "withdrawn"), ==, 0);
    g_assert_cmpstr(g_hash_table_lookup(q, "reason"), ==, "-");
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 4096, 4096, 71);
    fixture_quit(&f);
    err = vmm_stderr(&f);
    assert_one_line(err);
    fixture_cleanup(&f);
}

/*
 * Registering guest RAM fails when the driver negotiates (the start-up
 * probe registers none): FEATURES_OK does not stick, and the hook hears
 * "setup-failed".  deny-syscall plays the host, through a wrapper script
 * that QTEST_QEMU_BINARY names for the while.
 */
#define IORING_REGISTER_BUFFERS_OPCODE  "0"

static void test_setup_failed(void)
{
    const char *deny = g_getenv("DENY_SYSCALL");
    g_autofree char *saved = g_strdup(qtest_qemu_binary());
    g_autofree char *script = NULL;
    g_autofree char *text = NULL;
    g_autofree char *heard = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GHashTable) q = NULL;
    QVirtioPCIDevice *d;
    Fixture f;
    int fd;

    g_assert_nonnull(deny);
    fd = g_file_open_tmp("qtest-uring-query-XXXXXX", &script, NULL);
    g_assert_cmpint(fd, >=, 0);
    text = g_strdup_printf("#!/bin/sh\nexec %s io_uring_register:"
                           IORING_REGISTER_BUFFERS_OPCODE " %d %s \"$@\"\n",
                           deny, ENOMEM, saved);
    g_assert_cmpint(write(fd, text, strlen(text)), ==, strlen(text));
    close(fd);
    g_assert_cmpint(g_chmod(script, 0700), ==, 0);
    g_setenv("QTEST_QEMU_BINARY", script, TRUE);

    fixture_init_full(&f, RAM_MB, "", URING ",uring-iopoll=off" DEV_ID,
                      true);
    g_setenv("QTEST_QEMU_BINARY", saved, TRUE);
    g_unlink(script);
    g_free(withdrawals(&f));
    d = &f.u->vdev;
    qvirtio_blk_uring_reset(f.u);
    qvirtio_pci_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    qvirtio_pci_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                              VIRTIO_CONFIG_S_DRIVER);
    qvirtio_pci_write_driver_features(d, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
                                      VIRTIO_BIT(
                                          VIRTIO_BLK_F_URING_PASSTHROUGH));
    qvirtio_pci_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE |
                              VIRTIO_CONFIG_S_DRIVER |
                              VIRTIO_CONFIG_S_FEATURES_OK);
    g_assert_cmphex(qvirtio_pci_get_status(d) & VIRTIO_CONFIG_S_FEATURES_OK,
                    ==, 0);
    heard = withdrawals(&f);
    g_assert_cmpstr(heard, ==, "OK disk0:setup-failed");
    q = query(&f);
    g_assert_cmpint(qblock_get(q, "withdrawn"), ==, 1);
    g_assert_cmpstr(g_hash_table_lookup(q, "reason"), ==, "setup-failed");
    g_assert_cmpint(qblock_get(q, "negotiated"), ==, 0);
    qvirtio_blk_uring_reset(f.u);
    g_hash_table_unref(q);
    q = query(&f);
    g_assert_cmpint(qblock_get(q, "withdrawn"), ==, 0);
    fixture_quit(&f);
    err = vmm_stderr(&f);
    assert_one_line(err);
    g_assert_nonnull(strstr(err, "uring-passthrough set-up failed: cannot "
                                 "pin guest RAM as fixed buffers: Cannot "
                                 "allocate memory"));
    fixture_cleanup(&f);
}

/* Drives without a passthrough device have nothing to say. */
static void test_no_passthrough(void)
{
    Fixture f;
    g_autofree char *reply = NULL;
    g_autofree char *none = NULL;

    fixture_init(&f, RAM_MB, "", "");
    reply = qtest_raw_command(f.qts, "x-query-virtio-blk-uring d0");
    g_assert_cmpstr(reply, ==, "FAIL Drive 'd0' has no passthrough device");
    none = qtest_raw_command(f.qts, "x-query-virtio-blk-uring d9");
    g_assert_cmpstr(none, ==, "FAIL Drive 'd9' not found");
    fixture_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk-uring/query/running", test_running);
    g_test_add_func("/virtio-blk-uring/query/withdrawn", test_withdrawn);
    g_test_add_func("/virtio-blk-uring/query/setup-failed",
                    test_setup_failed);
    g_test_add_func("/virtio-blk-uring/query/no-passthrough",
                    test_no_passthrough);
    return g_test_run();
}
