/*
 * A passthrough device with several rings as management sees it through
 * QMP (qtest_qmp()): x-query-virtio-blk-uring lists every ring with its
 * own indexes and 64-bit totals, query-blockstats adds the rings' totals
 * up, VIRTIO_BLK_URING_WITHDRAWN comes once per withdrawal of a device
 * (not once per ring).  block_resize of such a device is in
 * virtio-blk-uring-resize-test.c.
 */
#include <signal.h>

#include "virtio-blk-uring-fixture.h"

#define NR_RINGS        2
#define MQ_DEV          URING ",num-queues=2,uring-iopoll=off,id=disk0"

/* The "return" of a command that must succeed, as an object or array. */
static JsonNode *qmp_ok(Fixture *f, const char *cmd, JsonObject **reply)
{
    *reply = qtest_qmp(f->qts, "%s", cmd);
    return qmp_reply_return(*reply);
}

/* n round trips (a write and a read each) through ring i. */
static void round_trips(Fixture *f, unsigned i, unsigned n)
{
    qvirtio_blk_uring_use_ring(f->u, i);
    for (unsigned k = 0; k < n; k++) {
        round_trip(f, (i * 8 + k) * TARGET_LEN, TARGET_LEN, 100 + i * 8 + k);
    }
}

/*
 * Ring 0 takes 2 requests, ring 1 takes 6: the query shows each ring with
 * its own figures and the one owner and SQPOLL thread they share; the
 * block statistics count the 8.
 */
static void test_query_every_ring(void)
{
    g_autoptr(JsonObject) uq = NULL;
    g_autoptr(JsonObject) bs = NULL;
    JsonObject *dev, *stats;
    JsonArray *rings;
    Fixture f;

    fixture_init(&f, RAM_MB, "", MQ_DEV);
    qvirtio_blk_uring_start(f.u);
    g_assert_cmpuint(f.u->cfg.num_rings, ==, NR_RINGS);
    round_trips(&f, 0, 1);
    round_trips(&f, 1, 3);

    dev = qmp_find_by(json_node_get_array(
                          qmp_ok(&f, "{'execute':'x-query-virtio-blk-uring'}",
                                 &uq)),
                      "device", "disk0");
    g_assert_nonnull(dev);
    g_assert_true(json_object_get_boolean_member(dev, "active"));
    rings = json_object_get_array_member(dev, "rings");
    g_assert_cmpuint(json_array_get_length(rings), ==, NR_RINGS);
    for (unsigned i = 0; i < NR_RINGS; i++) {
        JsonObject *r = json_array_get_object_element(rings, i);
        gint64 requests = i == 0 ? 2 : 6;

        g_assert_cmpint(json_object_get_int_member(r, "index"), ==, i);
        g_assert_cmpint(json_object_get_int_member(r, "sq-head"), ==,
                        requests);
        g_assert_cmpint(json_object_get_int_member(r, "sq-tail"), ==,
                        requests);
        g_assert_cmpint(json_object_get_int_member(r, "cq-tail"), ==,
                        requests);
        g_assert_cmpint(json_object_get_int_member(r, "in-flight"), ==, 0);
        g_assert_cmpint(json_object_get_int_member(r, "owner-pid"), ==,
                        ring_owner(&f));
        g_assert_cmpint(json_object_get_int_member(r, "sqpoll-thread-id"),
                        >, 0);
    }
    g_assert_cmpint(json_object_get_int_member(
                        json_array_get_object_element(rings, 0),
                        "sqpoll-thread-id"), ==,
                    json_object_get_int_member(
                        json_array_get_object_element(rings, 1),
                        "sqpoll-thread-id"));

    stats = qmp_find_by(json_node_get_array(
                            qmp_ok(&f, "{'execute':'query-blockstats'}", &bs)),
                        "device", "d0");
    g_assert_nonnull(stats);
    g_assert_true(json_object_has_member(stats, "x-uring-passthrough"));
    stats = json_object_get_object_member(stats, "x-uring-passthrough");
    g_assert_cmpint(json_object_get_int_member(stats, "submitted"), ==, 8);
    g_assert_cmpint(json_object_get_int_member(stats, "completed"), ==, 8);
    g_assert_cmpint(json_object_get_int_member(stats, "in-flight"), ==, 0);
    check_image(&f);
    fixture_cleanup(&f);
}

/*
 * The owner of the device's two rings is killed: one event, with the
 * device's id, for both rings.
 */
static void test_withdrawn_once(void)
{
    QmpTestClient *c;
    g_autoptr(JsonObject) ev = NULL;
    g_autoptr(JsonObject) st = NULL;
    g_autoptr(GPtrArray) later = NULL;
    JsonObject *data;
    Fixture f;

    fixture_init_full(&f, RAM_MB, "", MQ_DEV, true);
    c = qtest_qmp_client(f.qts);        /* connected before the event */
    qvirtio_blk_uring_start(f.u);
    round_trips(&f, 1, 1);
    g_assert_cmpint(kill(ring_owner(&f), SIGKILL), ==, 0);
    g_assert_true(qvirtio_pci_wait_status(&f.u->vdev,
                                          VIRTIO_CONFIG_S_NEEDS_RESET,
                                          WAIT_US));
    ev = qmp_client_event_wait(c, "VIRTIO_BLK_URING_WITHDRAWN");
    data = json_object_get_object_member(ev, "data");
    g_assert_cmpstr(json_object_get_string_member(data, "device"), ==,
                    "disk0");
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                    "owner-exited");
    /* Events come before the reply to a later command: none more. */
    st = qtest_qmp(f.qts, "{'execute':'query-status'}");
    qmp_reply_return(st);
    later = qmp_client_events(c);
    for (guint i = 0; i < later->len; i++) {
        JsonObject *e = g_ptr_array_index(later, i);

        g_assert_cmpstr(json_object_get_string_member(e, "event"), !=,
                        "VIRTIO_BLK_URING_WITHDRAWN");
    }

    qvirtio_blk_uring_reset(f.u);
    qvirtio_blk_uring_start(f.u);
    round_trips(&f, 1, 1);
    fixture_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk-uring/qmp/query-every-ring",
                    test_query_every_ring);
    g_test_add_func("/virtio-blk-uring/qmp/withdrawn-once",
                    test_withdrawn_once);
    return g_test_run();
}
