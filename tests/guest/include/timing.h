/* Time: TSC frequency, TSC-to-nanosecond conversion and busy waiting. */
#ifndef GUEST_TIMING_H
#define GUEST_TIMING_H

#include <stdint.h>

#include "x86.h"                /* rdtsc() */

/*
 * Ring 0, boot CPU: register the kvmclock page if KVM offers it, otherwise
 * look for the TSC frequency in CPUID.
 */
void timing_probe(void);

/* Work out the TSC frequency (ring 3, once at start-up). */
void timing_init(void);

/*
 * TSC ticks per second.  If neither kvmclock nor CPUID gives it, start-up
 * prints a warning and 1 GHz is assumed.
 */
uint64_t tsc_hz(void);

/* Convert a TSC tick count to nanoseconds. */
uint64_t tsc_to_ns(uint64_t ticks);

/* Busy-wait for at least @us microseconds. */
void udelay(uint64_t us);

#endif
