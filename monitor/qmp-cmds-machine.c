/*
 * QMP commands about the machine: its run state, power, identity, vCPUs
 * and I/O threads.
 */
#include <string.h>
#include <unistd.h>

#include "chardev/char.h"
#include "hw/boards.h"
#include "monitor/qmp.h"
#include "qemu/error-report.h"
#include "sysemu/accel.h"
#include "sysemu/iothread.h"
#include "sysemu/runstate.h"
#include "sysemu/machine-opts.h"
#include "sysemu/vm-state.h"

static JsonNode *query_status(JsonObject *args, GError **errp)
{
    JsonObject *o = json_object_new();
    RunState s = runstate_get();

    json_object_set_boolean_member(o, "running", s == RUN_STATE_RUNNING);
    json_object_set_boolean_member(o, "singlestep", false);
    json_object_set_string_member(o, "status", runstate_name(s));
    return qmp_return_object(o);
}

static JsonNode *stop(JsonObject *args, GError **errp)
{
    if (runstate_get() == RUN_STATE_RUNNING ||
        runstate_get() == RUN_STATE_PRELAUNCH) {
        vm_stop(RUN_STATE_PAUSED);
    }
    return qmp_return_empty();
}

static JsonNode *cont(JsonObject *args, GError **errp)
{
    return vm_start(errp) ? qmp_return_empty() : NULL;
}

static JsonNode *system_reset(JsonObject *args, GError **errp)
{
    qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    return qmp_return_empty();
}

static JsonNode *system_powerdown(JsonObject *args, GError **errp)
{
    qemu_system_powerdown_request();
    return qmp_return_empty();
}

static JsonNode *quit(JsonObject *args, GError **errp)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT, 0);
    return qmp_return_empty();
}

static JsonNode *query_name(JsonObject *args, GError **errp)
{
    JsonObject *o = json_object_new();

    if (machine_opts.name) {
        json_object_set_string_member(o, "name", machine_opts.name);
    }
    return qmp_return_object(o);
}

static JsonNode *query_uuid(JsonObject *args, GError **errp)
{
    JsonObject *o = json_object_new();
    const uint8_t *u = machine_opts.uuid;
    g_autofree char *uuid = g_strdup_printf(
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
        "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
        u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);

    /* Without -uuid the nil UUID, as QEMU reports it. */
    json_object_set_string_member(o, "UUID", uuid);
    return qmp_return_object(o);
}

static JsonNode *query_kvm(JsonObject *args, GError **errp)
{
    JsonObject *o = json_object_new();

    json_object_set_boolean_member(o, "enabled",
                                   !strcmp(current_accel->name, "kvm"));
    json_object_set_boolean_member(o, "present",
                                   access("/dev/kvm", R_OK | W_OK) == 0);
    return qmp_return_object(o);
}

static JsonNode *query_machines(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();
    JsonObject *m = json_object_new();

    json_object_set_string_member(m, "name", "pvh");
    json_object_set_boolean_member(m, "is-default", true);
    json_object_set_int_member(m, "cpu-max", PVH_MAX_CPUS);
    json_object_set_boolean_member(m, "hotpluggable-cpus", false);
    json_object_set_boolean_member(m, "numa-mem-supported", false);
    json_object_set_boolean_member(m, "deprecated", false);
    json_object_set_string_member(m, "default-ram-id", "pc.ram");
    json_array_add_object_element(list, m);

    /* -machine none: no vCPU and no guest, only the monitor. */
    m = json_object_new();
    json_object_set_string_member(m, "name", "none");
    json_object_set_boolean_member(m, "is-default", false);
    json_object_set_int_member(m, "cpu-max", 1);
    json_object_set_boolean_member(m, "hotpluggable-cpus", false);
    json_object_set_boolean_member(m, "numa-mem-supported", false);
    json_object_set_boolean_member(m, "deprecated", false);
    json_array_add_object_element(list, m);
    return qmp_return_array(list);
}

static JsonNode *query_target(JsonObject *args, GError **errp)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "arch", "x86_64");
    return qmp_return_object(o);
}

static JsonNode *query_cpus_fast(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    for (unsigned i = 0; current_machine && i < current_machine->smp_cpus;
         i++) {
        JsonObject *c = json_object_new();
        JsonObject *props = json_object_new();
        g_autofree char *path = g_strdup_printf("/machine/cpu[%u]", i);

        json_object_set_int_member(c, "cpu-index", i);
        json_object_set_string_member(c, "qom-path", path);
        json_object_set_int_member(c, "thread-id",
                                   current_accel->vcpu_thread_id(i));
        /* One core per socket, one thread per core, as -smp N makes. */
        json_object_set_int_member(props, "socket-id", i);
        json_object_set_int_member(props, "core-id", 0);
        json_object_set_int_member(props, "thread-id", 0);
        json_object_set_object_member(c, "props", props);
        json_object_set_string_member(c, "target", "x86_64");
        json_array_add_object_element(list, c);
    }
    return qmp_return_array(list);
}

static void add_iothread(const IOThreadInfo *info, void *opaque)
{
    JsonObject *t = json_object_new();

    json_object_set_string_member(t, "id", info->id);
    json_object_set_int_member(t, "thread-id", info->thread_id);
    json_object_set_int_member(t, "poll-max-ns", info->poll_max_ns);
    json_object_set_int_member(t, "poll-grow", info->poll_grow);
    json_object_set_int_member(t, "poll-shrink", info->poll_shrink);
    /* Requests are submitted as they come: no batching limit. */
    json_object_set_int_member(t, "aio-max-batch", 0);
    json_array_add_object_element(opaque, t);
}

static JsonNode *query_iothreads(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    iothread_foreach(add_iothread, list);
    return qmp_return_array(list);
}

static void add_chardev(Chardev *chr, void *opaque)
{
    JsonObject *c = json_object_new();

    json_object_set_string_member(c, "label", qemu_chr_label(chr));
    json_object_set_string_member(c, "filename", qemu_chr_filename(chr));
    json_object_set_boolean_member(c, "frontend-open", qemu_chr_in_use(chr));
    json_array_add_object_element(opaque, c);
}

static JsonNode *query_chardev(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    qemu_chr_foreach(add_chardev, list);
    return qmp_return_array(list);
}

static const QmpCommand machine_commands[] = {
    { "query-status", query_status },
    { "stop", stop },
    { "cont", cont },
    { "system_reset", system_reset },
    { "system_powerdown", system_powerdown },
    { "quit", quit },
    { "query-name", query_name },
    { "query-uuid", query_uuid },
    { "query-kvm", query_kvm },
    { "query-machines", query_machines },
    { "query-target", query_target },
    { "query-cpus-fast", query_cpus_fast },
    { "query-iothreads", query_iothreads },
    { "query-chardev", query_chardev },
};
QMP_COMMANDS_REGISTER(machine_commands)
