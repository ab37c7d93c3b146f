/* A guest vCPU's x87, SSE and AVX registers and its XCR0 are its own: each vCPU starts
 * from the architectural init state, and none of it is left for the next vCPU a CPU
 * runs. The kernel itself never touches these registers (it is built with
 * -mgeneral-regs-only), so while a vCPU runs on a CPU the hardware holds its state. */
#ifndef PLATFORM_NATIVE_FPU_H
#define PLATFORM_NATIVE_FPU_H

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

#endif
