/* Just enough ACPI table reading to count the CPUs. */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdint.h>

/* Remember the RSDP address from start_info (0: search the BIOS area). */
void acpi_init(uint64_t rsdp_paddr);

/* Enabled processors listed in the MADT, or 0 if there is no MADT. */
unsigned int acpi_count_cpus(void);

#endif
