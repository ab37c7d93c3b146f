/* CPU tables (GDT with TSS, IDT) and the exception report. */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Load this CPU's GDT, TSS (IST stacks for #DF, NMI, #MC) and the shared IDT. */
void trap_init_cpu(unsigned cpu);
/* The local APIC timer's vector (tick.c) and the APIC's spurious vector; their handlers
 * (entry.S) only signal end of interrupt. */
#define TICK_VECTOR 0xEFU
#define TICK_SPURIOUS_VECTOR 0xFFU

/* "#PF page fault" and the like, for vector v < 32 ("interrupt" above). */
const char *trap_vector_name(uint64_t v);

/* Called by a test that expects one exception: the next exception with this vector
 * resumes at `resume` instead of stopping the kernel. */
void trap_expect(uint64_t vector, uint64_t resume);
uint64_t trap_expected_hits(void);

#endif
