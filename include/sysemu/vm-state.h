/*
 * The VM's run state (QMP's RunState), starting and stopping its vCPUs, and
 * the main loop's handling of shutdown, reset and power-down requests, with
 * the QMP events each one sends.  Everything here runs in the main thread
 * with the BQL held.
 */
#ifndef SYSEMU_VM_STATE_H
#define SYSEMU_VM_STATE_H

#include <glib.h>
#include <stdbool.h>

typedef enum RunState {
    RUN_STATE_PRELAUNCH,        /* built, vCPUs not started yet (-S) */
    RUN_STATE_RUNNING,
    RUN_STATE_PAUSED,           /* stop */
    RUN_STATE_SHUTDOWN,         /* the guest shut down under -no-shutdown */
} RunState;

/* -no-shutdown: a guest's shutdown stops the VM instead of ending the VMM. */
extern bool no_shutdown;

RunState runstate_get(void);
const char *runstate_name(RunState state);

/*
 * Create the vCPUs once the machine is built: running, or with autostart
 * false (-S) parked in the prelaunch state.
 */
bool vm_launch(bool autostart, GError **errp);
/* Start (the first time) or resume the vCPUs; sends RESUME. */
bool vm_start(GError **errp);
/* Pause the vCPUs if they run (sending STOP) and enter state. */
void vm_stop(RunState state);

/* The main loop's should_exit (main_loop_run()). */
bool vm_main_loop_should_exit(int *status);

/*
 * What a power-down request (system_powerdown) presses: the machine's ACPI
 * power button.
 */
void vm_set_powerdown_handler(void (*fn)(void *opaque), void *opaque);

#endif
