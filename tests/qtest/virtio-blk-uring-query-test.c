/*
 * What management sees of a passthrough device through QMP, without a VM
 * exit: x-query-virtio-blk-uring and query-blockstats' x-uring-passthrough
 * before negotiation, with a running ring and its owner, the requests
 * taken and completed, and after the passthrough was withdrawn from the
 * guest (its owner killed, its set-up failed at FEATURES_OK), until it
 * resets the device; the VIRTIO_BLK_URING_WITHDRAWN event.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "virtio-blk-uring-fixture.h"

#define DEV_ID      ",id=disk0"
#define QOM_PATH    "/machine/peripheral/disk0"

/* The member under key, which must be there. */
static gint64 member(JsonObject *o, const char *key)
{
    if (!json_object_has_member(o, key)) {
        g_error("no %s in the reply", key);
    }
    return json_object_get_int_member(o, key);
}

/*
 * x-query-virtio-blk-uring's entry for device disk0, which must be the
 * only passthrough device (a new reference).
 */
static JsonObject *query(Fixture *f)
{
    g_autoptr(JsonObject) reply = qtest_qmp(
        f->qts, "{'execute': 'x-query-virtio-blk-uring'}");
    JsonArray *list = json_node_get_array(qmp_reply_return(reply));
    JsonObject *dev;

    g_assert_cmpuint(json_array_get_length(list), ==, 1);
    dev = json_array_get_object_element(list, 0);
    g_assert_cmpstr(json_object_get_string_member(dev, "device"), ==,
                    "disk0");
    g_assert_cmpstr(json_object_get_string_member(dev, "qom-path"), ==,
                    QOM_PATH);
    return json_object_ref(dev);
}

/* The device's ring (borrowed from dev), or NULL if none is negotiated. */
static JsonObject *ring_of(JsonObject *dev)
{
    JsonArray *rings = json_object_get_array_member(dev, "rings");

    g_assert_nonnull(rings);
    g_assert_cmpuint(json_array_get_length(rings), <=, 1);
    return json_array_get_length(rings)
           ? json_array_get_object_element(rings, 0) : NULL;
}

/* The reason the passthrough was withdrawn, or NULL if it is not. */
static const char *withdrawn(JsonObject *dev)
{
    return json_object_has_member(dev, "withdrawn")
           ? json_object_get_string_member(dev, "withdrawn") : NULL;
}

/*
 * query-blockstats' x-uring-passthrough of drive d0 (a new reference), or
 * NULL if there is none (no ring negotiated).
 */
static JsonObject *passthrough_stats(Fixture *f)
{
    g_autoptr(JsonObject) reply = qtest_qmp(f->qts,
                                            "{'execute': 'query-blockstats'}");
    JsonObject *entry = qmp_blockstats_only(
        reply, "d0", "/machine/peripheral/disk0/virtio-backend");

    if (!json_object_has_member(entry, "x-uring-passthrough")) {
        return NULL;
    }
    return json_object_ref(json_object_get_object_member(
        entry, "x-uring-passthrough"));
}

/* Requests the ring took and completed, as query-blockstats counts them. */
static void expect_counted(Fixture *f, gint64 submitted, gint64 completed)
{
    g_autoptr(JsonObject) u = passthrough_stats(f);

    g_assert_nonnull(u);
    g_assert_cmpint(member(u, "submitted"), ==, submitted);
    g_assert_cmpint(member(u, "completed"), ==, completed);
    g_assert_cmpint(member(u, "in-flight"), ==, submitted - completed);
    g_assert_cmpint(member(u, "sq-dropped"), ==, 0);
    g_assert_cmpint(member(u, "cq-overflow"), ==, 0);
}

/* Thread tid is one of process pid's, and the SQPOLL thread of a ring. */
static void expect_sqpoll_thread(int pid, gint64 tid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%" G_GINT64_FORMAT
                                            "/comm", pid, tid);
    g_autofree char *comm = NULL;

    g_assert_true(g_file_get_contents(path, &comm, NULL, NULL));
    g_assert_true(g_str_has_prefix(comm, "iou-sqp-"));
}

/*
 * No VIRTIO_BLK_URING_WITHDRAWN so far: the events sent before the reply
 * to the last command are all in.
 */
static void expect_no_withdrawal(Fixture *f)
{
    g_autoptr(GPtrArray) events = qmp_client_events(
        qtest_qmp_client(f->qts));

    for (guint i = 0; i < events->len; i++) {
        g_assert_cmpstr(json_object_get_string_member(
                            g_ptr_array_index(events, i), "event"), !=,
                        "VIRTIO_BLK_URING_WITHDRAWN");
    }
}

/* The withdrawal event comes, naming the device and the reason. */
static void expect_withdrawal_event(Fixture *f, const char *reason)
{
    g_autoptr(JsonObject) ev = qmp_client_event_wait(
        qtest_qmp_client(f->qts), "VIRTIO_BLK_URING_WITHDRAWN");
    JsonObject *data = json_object_get_object_member(ev, "data");

    g_assert_nonnull(data);
    g_assert_cmpstr(json_object_get_string_member(data, "device"), ==,
                    "disk0");
    g_assert_cmpstr(json_object_get_string_member(data, "qom-path"), ==,
                    QOM_PATH);
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    reason);
    g_assert_true(json_object_has_member(ev, "timestamp"));
}

/* The query before negotiation, with a running ring, and its counters. */
static void test_running(void)
{
    g_autoptr(JsonObject) before = NULL;
    g_autoptr(JsonObject) q = NULL;
    g_autoptr(JsonObject) after = NULL;
    g_autoptr(JsonObject) none = NULL;
    JsonObject *ring;
    QUringCqe cqe;
    int owner;
    Fixture f;

    fixture_init(&f, RAM_MB, "", URING ",uring-entries=32,uring-iopoll=off"
                 DEV_ID);
    before = query(&f);
    g_assert_null(ring_of(before));
    g_assert_false(json_object_get_boolean_member(before, "active"));
    g_assert_null(withdrawn(before));
    g_assert_false(json_object_get_boolean_member(before, "iopoll"));
    /* The watch thread checks for overflows (with a memory cgroup or not) */
    g_assert_true(g_str_has_prefix(json_object_get_string_member(
                                       before, "overflow-guard"), "check"));
    none = passthrough_stats(&f);
    g_assert_null(none);

    qvirtio_blk_uring_start(f.u);
    submit_nops(&f, 20);
    for (int i = 0; i < 20; i++) {
        qvirtio_blk_uring_wait_cqe(f.u, &cqe);
        g_assert_cmpint(cqe.res, ==, 0);
    }
    qvirtio_blk_uring_ring_writel(f.u, f.u->cfg.cq_off.head, f.u->cq_head);
    q = query(&f);
    ring = ring_of(q);
    g_assert_nonnull(ring);
    g_assert_true(json_object_get_boolean_member(q, "active"));
    g_assert_null(withdrawn(q));
    g_assert_cmpstr(json_object_get_string_member(q, "overflow-guard"), !=,
                    "overflowed");
    g_assert_cmpint(member(ring, "index"), ==, 0);
    g_assert_cmpint(member(ring, "sq-entries"), ==, f.u->cfg.sq_entries);
    g_assert_cmpint(member(ring, "cq-entries"), ==, f.u->cfg.cq_entries);
    g_assert_cmpint(member(ring, "sq-entries"), ==, 32);
    owner = ring_owner(&f);
    g_assert_cmpint(member(ring, "owner-pid"), ==, owner);
    g_assert_cmpint(member(ring, "sqpoll-thread-id"), >, 0);
    expect_sqpoll_thread(owner, member(ring, "sqpoll-thread-id"));
    g_assert_cmpint(member(ring, "sq-head"), ==, 20);
    g_assert_cmpint(member(ring, "sq-tail"), ==, 20);
    g_assert_cmpint(member(ring, "cq-tail"), ==, 20);
    g_assert_cmpint(member(ring, "cq-head"), ==, 20);
    g_assert_cmpint(member(ring, "in-flight"), ==, 0);
    g_assert_cmpint(member(ring, "cq-overflow"), ==, 0);
    expect_counted(&f, 20, 20);

    /* Real I/O counts too; a reset and a new ring start from 0. */
    round_trip(&f, 0, 4096, 70);
    expect_counted(&f, 22, 22);
    qvirtio_blk_uring_reset(f.u);
    after = query(&f);
    g_assert_null(ring_of(after));
    g_assert_false(json_object_get_boolean_member(after, "active"));
    g_assert_null(passthrough_stats(&f));
    qvirtio_blk_uring_start(f.u);
    g_clear_pointer(&after, json_object_unref);
    after = query(&f);
    g_assert_true(json_object_get_boolean_member(after, "active"));
    expect_counted(&f, 0, 0);
    expect_no_withdrawal(&f);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * The owner is killed: the event names the device and the reason, the
 * query says withdrawn until the guest resets the device.
 */
static void test_withdrawn(void)
{
    g_autoptr(JsonObject) q = NULL;
    g_autofree char *err = NULL;
    Fixture f;

    fixture_init_full(&f, RAM_MB, "", URING ",uring-iopoll=off" DEV_ID,
                      true);
    qtest_qmp_client(f.qts);    /* connected before there is an event */
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpint(kill(ring_owner(&f), SIGKILL), ==, 0);
    g_assert_true(qvirtio_pci_wait_status(&f.u->vdev,
                                          VIRTIO_CONFIG_S_NEEDS_RESET,
                                          WAIT_US));
    expect_withdrawal_event(&f, "owner-exited");
    q = query(&f);
    g_assert_cmpstr(withdrawn(q), ==, "owner-exited");
    g_assert_null(ring_of(q));
    g_assert_false(json_object_get_boolean_member(q, "active"));
    g_assert_null(passthrough_stats(&f));

    qvirtio_blk_uring_reset(f.u);
    g_clear_pointer(&q, json_object_unref);
    q = query(&f);
    g_assert_null(withdrawn(q));
    qvirtio_blk_uring_start(f.u);
    round_trip(&f, 4096, 4096, 71);
    g_clear_pointer(&q, json_object_unref);
    q = query(&f);
    g_assert_true(json_object_get_boolean_member(q, "active"));
    expect_no_withdrawal(&f);
    fixture_quit(&f);
    err = vmm_stderr(&f);
    assert_one_line(err);
    fixture_cleanup(&f);
}

/*
 * Registering guest RAM fails when the driver negotiates (the start-up
 * probe registers none): FEATURES_OK does not stick, and the event says
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
    g_autofree char *err = NULL;
    g_autoptr(JsonObject) q = NULL;
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
    qtest_qmp_client(f.qts);    /* connected before there is an event */
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
    expect_withdrawal_event(&f, "setup-failed");
    q = query(&f);
    g_assert_cmpstr(withdrawn(q), ==, "setup-failed");
    g_assert_null(ring_of(q));
    g_assert_null(passthrough_stats(&f));
    qvirtio_blk_uring_reset(f.u);
    g_clear_pointer(&q, json_object_unref);
    q = query(&f);
    g_assert_null(withdrawn(q));
    fixture_quit(&f);
    err = vmm_stderr(&f);
    assert_one_line(err);
    g_assert_nonnull(strstr(err, "uring-passthrough set-up failed: cannot "
                                 "pin guest RAM as fixed buffers: Cannot "
                                 "allocate memory"));
    fixture_cleanup(&f);
}

/*
 * Devices without the passthrough are not listed, and their drives have
 * no passthrough statistics.
 */
static void test_no_passthrough(void)
{
    g_autoptr(JsonObject) reply = NULL;
    g_autoptr(JsonObject) none = NULL;
    Fixture f;

    fixture_init(&f, RAM_MB, "", DEV_ID);
    reply = qtest_qmp(f.qts, "{'execute': 'x-query-virtio-blk-uring'}");
    g_assert_cmpuint(json_array_get_length(json_node_get_array(
                         qmp_reply_return(reply))), ==, 0);
    none = passthrough_stats(&f);
    g_assert_null(none);
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
