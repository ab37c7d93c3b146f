/* The x87, SSE and AVX registers. The kernel's own C never touches them (it is built with
 * -mgeneral-regs-only), so while a guest vCPU runs on a CPU the hardware holds its state,
 * in guest mode and out. Two users: a platform running guest vCPUs (each starts from the
 * init state, XCR0 its own, and leaves nothing for the next) and the crypto library,
 * whose calls are FPU sections that save and restore whatever is in the registers. */
#ifndef KERNEL_FPU_H
#define KERNEL_FPU_H

#include <stdbool.h>
#include <stdint.h>

/* XCR0 at reset: x87 only. */
#define XCR0_INIT 1ULL

/* On each CPU before it runs a vCPU: CR4.OSXSAVE where the CPU has XSAVE, and XCR0 set
 * to every state component the CPU supports (so that fpu_scrub reaches them all). */
void fpu_cpu_init(void);
/* Every x87, SSE and AVX register (and MXCSR) to its init state. */
void fpu_scrub(void);
/* True if the CPU has XSAVE (the guest can have an XCR0 of its own). */
bool fpu_has_xsave(void);
/* True if v is an XCR0 value XSETBV accepts on this CPU (else it raises #GP). */
bool fpu_xcr0_valid(uint64_t v);
/* Around VMRUN: the vCPU's XCR0 in, the host's back (SVM does not switch XCR0). */
void fpu_xcr0_enter(uint64_t guest);
void fpu_xcr0_leave(uint64_t guest);

/* An FPU section on this CPU: every register saved at the outermost begin and restored at
 * its end. Sections nest; the CPU must not change in between (the kernel never moves a
 * running context). */
void fpu_section_begin(void);
void fpu_section_end(void);

/* The registers to and from a 4 KiB, 64-byte aligned area, every component XCR0 enables:
 * a ring-3 service's own state in, the state it replaces kept aside by the caller (the
 * services runtime saves and restores it itself, not through the FPU sections). */
void fpu_state_save(void *area);
void fpu_state_load(const void *area);

#endif
