/* This CPU's local APIC (xAPIC, memory-mapped at its reset base): the registers the kernel
 * uses and the one way to reach them. */
#ifndef KERNEL_LAPIC_H
#define KERNEL_LAPIC_H

#include <stdint.h>

#define LAPIC_BASE 0xFEE00000ULL
#define LAPIC_TPR 0x080U
#define LAPIC_SVR 0x0F0U
#define LAPIC_ICR_LOW 0x300U
#define LAPIC_ICR_HIGH 0x310U
#define LAPIC_LVT_TIMER 0x320U
#define LAPIC_LVT_LINT0 0x350U
#define LAPIC_TIMER_INITIAL 0x380U
#define LAPIC_TIMER_CURRENT 0x390U
#define LAPIC_TIMER_DIVIDE 0x3E0U

static inline volatile uint32_t *lapic_reg(unsigned reg)
{
	/* SAFETY: the local APIC's registers sit at LAPIC_BASE, which paging_init maps 1:1
	 * and uncached; reg is one of the offsets above, inside the 4 KiB page. */
	return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

#endif
