/* Starting the application processors (APs). */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdint.h>

/* Runs on AP number @cpu (1, 2, ... in arrival order) in ring 3. */
typedef void (*ap_function)(unsigned int cpu, void *arg);

/*
 * Wake all other CPUs with INIT-SIPI-SIPI (call once, from the boot CPU).
 * Each AP comes up in ring 3 with IOPL 3 and interrupts off on its own stack,
 * records its APIC ID, counts itself online and runs @fn(cpu, @arg) if @fn
 * is not NULL; when @fn returns, or without @fn, it spins.  Waits until
 * every CPU the ACPI MADT lists is online, at most 200 ms (the full 200 ms
 * without a MADT), and returns the number of CPUs online, boot CPU included.
 */
unsigned int smp_start_aps(ap_function fn, void *arg);

/* CPUs online now, boot CPU included (APs may still arrive late). */
unsigned int smp_cpus_online(void);

/* Local APIC ID of CPU @cpu (0 = boot CPU). */
uint32_t smp_apic_id(unsigned int cpu);

#endif
