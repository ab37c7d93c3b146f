/* ACPI: the processors the firmware lists (MADT). */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdint.h>

#define ACPI_MAX_CPUS 8U

/* Records the RSDP's address from the boot information (before paging_init). */
void acpi_set_rsdp(uint64_t pa);

/* The enabled local APICs' IDs, from the MADT; returns how many (at most max), 0 if there
 * is no usable MADT. */
unsigned acpi_cpu_apic_ids(uint32_t *ids, unsigned max);

#endif
