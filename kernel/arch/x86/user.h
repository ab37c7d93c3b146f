/* Ring 3 (user.S): the register frame of a service and the per-CPU block its entries use. */
#ifndef KERNEL_ARCH_X86_USER_H
#define KERNEL_ARCH_X86_USER_H

#include <stdint.h>

/* The GDT's ring-3 selectors (trap.c), in the order SYSCALL/SYSRET want them. */
#define USER_SEL_DATA 0x33U
#define USER_SEL_CODE 0x3BU
/* user_enter's value for a SYSCALL; any other is the vector of an exception or interrupt. */
#define USER_VECTOR_SYSCALL 256U

/* A service's registers: as struct trap_frame, then FS's base. */
struct user_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
	uint64_t fs_base;
};
_Static_assert(__builtin_offsetof(struct user_regs, vector) == 120, "user.S REGS_VECTOR");
_Static_assert(__builtin_offsetof(struct user_regs, fs_base) == 176, "user.S REGS_FS_BASE");

/* Per CPU, MSR_KERNEL_GS_BASE's target while a service runs (offsets fixed by user.S). */
struct user_cpu {
	uint64_t scratch;    /* the service's RSP at SYSCALL */
	uint64_t stack_top;  /* the entry stack (also the TSS's RSP0) */
	uint64_t regs;	     /* the struct user_regs of the service running */
	uint64_t kernel_rsp; /* user_enter's stack */
	uint64_t kernel_fs;  /* the kernel's FS base (the per-CPU block) */
};
_Static_assert(__builtin_offsetof(struct user_cpu, kernel_fs) == 32, "user.S UC_KERNEL_FS");

/* Run the service whose registers are *regs until it enters the kernel; returns the vector
 * (USER_VECTOR_SYSCALL for a system call), with *regs updated. regs->cs, ss and rflags must
 * be ring 3's (the caller sets them). */
uint64_t user_enter(struct user_regs *regs, struct user_cpu *cpu);
void user_syscall_entry(void);

/* This CPU's block (trap.c). */
struct user_cpu *user_cpu_this(void);

#endif
