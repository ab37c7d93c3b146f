/* SMP: starting every CPU the firmware lists, and per-CPU data. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdbool.h>
#include <stdint.h>

#define SMP_MAX_CPUS 8U

/* Start every AP listed in the MADT (INIT-SIPI-SIPI through the local APIC); each loads
 * its own GDT/TSS/IDT and the kernel's page tables, then calls ap_work(index). Returns
 * the number of CPUs online, the BSP included. */
unsigned smp_start(void (*ap_work)(unsigned index));
unsigned smp_cpu_count(void);
/* Send an NMI to CPU `index` (a kick: an NMI in the host is ignored). */
void smp_send_nmi(unsigned index);
/* The APIC ID of CPU `index` (~0 if none was started there). */
uint32_t smp_apic_id(unsigned index);
/* The index of the CPU with this APIC ID, or SMP_MAX_CPUS. */
unsigned smp_index_of(uint32_t apic_id);

#endif
