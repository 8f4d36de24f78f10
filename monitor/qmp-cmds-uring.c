/*
 * QMP and the io_uring passthrough: x-query-virtio-blk-uring (the rings'
 * live state) and the VIRTIO_BLK_URING_WITHDRAWN event.  Main thread, BQL
 * held (the event: wherever the device withdraws, also with the BQL).
 */
#include "hw/block/virtio-blk-uring-query.h"
#include "hw/qdev.h"
#include "monitor/monitor.h"
#include "monitor/qmp.h"

static void set_int(JsonObject *o, const char *name, gint64 v)
{
    json_object_set_int_member(o, name, v);
}

static JsonObject *ring_info(unsigned index, const VirtioBlkUringQuery *q)
{
    JsonObject *r = json_object_new();
    const UringRingState *st = &q->state;

    set_int(r, "index", index);
    set_int(r, "sq-entries", q->sq_entries);
    set_int(r, "cq-entries", q->cq_entries);
    set_int(r, "sq-head", st->sq_head);
    set_int(r, "sq-tail", st->sq_tail);
    set_int(r, "sq-flags", st->sq_flags);
    set_int(r, "sq-dropped", st->sq_dropped);
    set_int(r, "cq-head", st->cq_head);
    set_int(r, "cq-tail", st->cq_tail);
    set_int(r, "cq-flags", st->cq_flags);
    set_int(r, "cq-overflow", st->cq_overflow);
    set_int(r, "in-flight", q->active ? uring_ring_state_held(st) : 0);
    set_int(r, "owner-pid", st->owner_pid);
    if (st->sqpoll_tid) {
        char state[2] = { st->sqpoll_state, 0 };

        set_int(r, "sqpoll-thread-id", st->sqpoll_tid);
        set_int(r, "sqpoll-cpu", st->sqpoll_cpu);
        json_object_set_string_member(r, "sqpoll-state", state);
    }
    return r;
}

static const char *overflow_guard(const VirtioBlkUringQuery *q)
{
    if (q->overflowed) {
        return "overflowed";
    }
    if (q->overflow_check) {
        return q->overflow_cgroup ? "check+cgroup" : "check";
    }
    return q->overflow_cgroup ? "cgroup" : "off";
}

/* "device" and "qom-path" of a device with that id (NULL: none). */
static void set_device(JsonObject *o, const char *id)
{
    g_autofree char *path = id ? g_strdup_printf("/machine/peripheral/%s", id)
                               : g_strdup("");

    json_object_set_string_member(o, "device", id ? id : "");
    json_object_set_string_member(o, "qom-path", path);
}

static void add_device(DeviceState *dev, void *opaque)
{
    VirtioBlkUringQuery q;
    JsonObject *d;
    JsonArray *rings;

    if (!virtio_blk_uring_query(dev, 0, &q)) {
        return;
    }
    d = json_object_new();
    rings = json_array_new();
    set_device(d, dev->id);
    json_object_set_boolean_member(d, "active", q.active);
    if (q.withdrawn) {
        json_object_set_string_member(d, "withdrawn", q.reason);
    }
    json_object_set_boolean_member(d, "iopoll", q.iopoll);
    json_object_set_string_member(d, "overflow-guard", overflow_guard(&q));
    for (unsigned i = 0; virtio_blk_uring_query(dev, i, &q); i++) {
        if (q.negotiated) {
            json_array_add_object_element(rings, ring_info(i, &q));
        }
    }
    json_object_set_array_member(d, "rings", rings);
    json_array_add_object_element(opaque, d);
}

static JsonNode *query_virtio_blk_uring(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    qdev_foreach(add_device, list);
    return qmp_return_array(list);
}

static void send_withdrawn(const char *dev_id, const char *reason)
{
    JsonObject *data = json_object_new();

    set_device(data, dev_id);
    json_object_set_string_member(data, "reason", reason);
    qmp_event_send("VIRTIO_BLK_URING_WITHDRAWN", data);
}

/* Before main(): no other thread runs yet. */
static void __attribute__((constructor)) register_withdraw_event(void)
{
    virtio_blk_uring_set_withdraw_notifier(send_withdrawn);
}

static const QmpCommand uring_commands[] = {
    { "x-query-virtio-blk-uring", query_virtio_blk_uring },
};
QMP_COMMANDS_REGISTER(uring_commands)
