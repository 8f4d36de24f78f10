/* Ending the guest with a status the VMM reports as its exit status. */
#ifndef GUEST_EXIT_H
#define GUEST_EXIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Statuses used by the library itself.  Through isa-debug-exit the VMM exits
 * with (status << 1) | 1: 0x7e -> 253, 0x7d -> 251.
 */
#define GUEST_EXIT_EXCEPTION    0x7e    /* CPU exception (see exception.c) */
#define GUEST_EXIT_PANIC        0x7d    /* guest_panic(), e.g. out of memory */

/*
 * Write @status to isa-debug-exit (port 0xf4); without that device, power off
 * through ACPI PM1a (VMM exit status 0); failing both, spin.
 */
void guest_exit(uint32_t status) __attribute__((noreturn));

/* Power off through ACPI PM1a (S5): the VMM's exit status is 0. */
void guest_poweroff(void) __attribute__((noreturn));

/*
 * Whether the machine's power button (ACPI PM1a PWRBTN_STS, port 0x600;
 * QMP's system_powerdown presses it) was pressed since the last call: a
 * request to shut down cleanly.  Each call is a port read, a VM exit: poll
 * it rarely.
 */
bool guest_power_button_pressed(void);

/* Print "guest panic: <message>" and exit with GUEST_EXIT_PANIC. */
void guest_panic(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

#endif
