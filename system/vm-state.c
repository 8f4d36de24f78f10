/*
 * The VM's run state and the main loop's requests, with their QMP events.
 * Main thread, BQL held, throughout.
 */
#include "hw/boards.h"
#include "monitor/monitor.h"
#include "sysemu/accel.h"
#include "sysemu/machine-opts.h"
#include "sysemu/runstate.h"
#include "sysemu/vm-state.h"
#include "qemu/error-report.h"

bool no_shutdown;

static RunState state = RUN_STATE_PRELAUNCH;
static bool vcpus_started;
static void (*powerdown_fn)(void *opaque);
static void *powerdown_opaque;

RunState runstate_get(void)
{
    return state;
}

const char *runstate_name(RunState s)
{
    switch (s) {
    case RUN_STATE_PRELAUNCH:
        return "prelaunch";
    case RUN_STATE_RUNNING:
        return "running";
    case RUN_STATE_PAUSED:
        return "paused";
    case RUN_STATE_SHUTDOWN:
        return "shutdown";
    }
    g_assert_not_reached();
}

bool vm_launch(bool autostart, GError **errp)
{
    if (autostart) {
        return vm_start(errp);
    }
    /* Parked before they first run: 'cont' lets them go. */
    current_accel->pause();
    if (!current_accel->start(current_machine, errp)) {
        return false;
    }
    vcpus_started = true;
    return true;
}

bool vm_start(GError **errp)
{
    if (state == RUN_STATE_RUNNING) {
        return true;
    }
    if (state == RUN_STATE_SHUTDOWN) {
        error_setg(errp, "Resetting the Virtual Machine is required");
        return false;
    }
    /* -machine none has no vCPU to start. */
    if (!vcpus_started && !machine_opts.none) {
        if (!current_accel->start(current_machine, errp)) {
            return false;
        }
        vcpus_started = true;
    } else {
        current_accel->resume();
    }
    state = RUN_STATE_RUNNING;
    qmp_event_send("RESUME", NULL);
    return true;
}

void vm_stop(RunState to)
{
    if (state == RUN_STATE_RUNNING) {
        current_accel->pause();
        qmp_event_send("STOP", NULL);
    }
    state = to;
}

void vm_set_powerdown_handler(void (*fn)(void *opaque), void *opaque)
{
    powerdown_fn = fn;
    powerdown_opaque = opaque;
}

static void send_cause_event(const char *event, ShutdownCause cause)
{
    JsonObject *data = json_object_new();

    json_object_set_boolean_member(data, "guest",
                                   shutdown_cause_is_guest(cause));
    json_object_set_string_member(data, "reason", shutdown_cause_name(cause));
    qmp_event_send(event, data);
}

static void system_reset(ShutdownCause cause)
{
    current_accel->pause();
    if (!machine_opts.none) {
        pvh_machine_reset(current_machine);
    }
    send_cause_event("RESET", cause);
    if (state == RUN_STATE_RUNNING) {
        current_accel->resume();
    } else {
        /* As in QEMU: a VM that was not running waits for cont. */
        state = RUN_STATE_PRELAUNCH;
    }
}

bool vm_main_loop_should_exit(int *status)
{
    ShutdownCause cause;

    if (qemu_shutdown_take(&cause, status)) {
        send_cause_event("SHUTDOWN", cause);
        /* isa-debug-exit ends QEMU whatever -no-shutdown says. */
        if (no_shutdown && shutdown_cause_is_guest(cause) &&
            cause != SHUTDOWN_CAUSE_DEBUG_EXIT) {
            vm_stop(RUN_STATE_SHUTDOWN);
            return false;
        }
        return true;
    }
    if (qemu_reset_take(&cause)) {
        system_reset(cause);
    }
    if (qemu_powerdown_take()) {
        qmp_event_send("POWERDOWN", NULL);
        if (powerdown_fn) {
            powerdown_fn(powerdown_opaque);
        }
    }
    return false;
}
