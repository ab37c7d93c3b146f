/* Ring 3: entering a service and coming back from it (kernel/service). The kernel enters a
 * service with user_enter(regs, cpu) and gets control back as if user_enter had returned:
 * at the service's next system call, exception or interrupt, whose full register frame is
 * then in *regs (struct user_regs, the layout of struct trap_frame, then FS's base) and
 * whose vector (USER_VECTOR_SYSCALL for SYSCALL) is the return value.
 *
 * While the service runs, MSR_KERNEL_GS_BASE holds this CPU's struct user_cpu (GS's own
 * base is the service's, 0): every entry from ring 3 starts with SWAPGS, stores the frame
 * on the CPU's entry stack, copies it to *regs, puts back the kernel's FS base (the
 * per-CPU block) and returns on the stack user_enter left. Nothing here runs C, and the
 * kernel keeps interrupts disabled, so a frame is only ever built from ring 3. */
#include "frame.inc"
#define UC_SCRATCH 0
#define UC_STACK 8
#define UC_REGS 16
#define UC_KERNEL_RSP 24
#define UC_KERNEL_FS 32
#define FRAME_QWORDS 22
#define REGS_VECTOR 120
#define REGS_FS_BASE 176
#define SEL_USER_DATA 0x33
#define SEL_USER_CODE 0x3B
#define USER_VECTOR_SYSCALL 256
#define MSR_FS_BASE 0xC0000100

	.text
/* uint64_t user_enter(struct user_regs *regs, struct user_cpu *cpu) */
	.globl user_enter
user_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, UC_KERNEL_RSP(%rsi)
	movq %rdi, UC_REGS(%rsi)
	movl $MSR_FS_BASE, %ecx
	movl REGS_FS_BASE(%rdi), %eax
	movl REGS_FS_BASE + 4(%rdi), %edx
	wrmsr
	movq %rdi, %rsp
	pop_gprs
	addq $16, %rsp /* vector and error code */
	iretq

/* SYSCALL: RCX holds the return address, R11 RFLAGS, RSP is still the service's. */
	.globl user_syscall_entry
user_syscall_entry:
	swapgs
	movq %rsp, %gs:UC_SCRATCH
	movq %gs:UC_STACK, %rsp
	pushq $SEL_USER_DATA
	pushq %gs:UC_SCRATCH
	pushq %r11
	pushq $SEL_USER_CODE
	pushq %rcx
	pushq $0
	pushq $USER_VECTOR_SYSCALL
	jmp user_save

/* From an exception or interrupt vector (entry.S) taken in ring 3: its vector and error
 * code pushed above the CPU's frame, on the TSS's RSP0 stack or an IST stack. */
	.globl user_trap
user_trap:
	swapgs
user_save:
	push_gprs
	/* RFLAGS all clear (IF already is): an exception or interrupt from ring 3 leaves the
	 * service's AC and DF, which SYSCALL's mask would have cleared. */
	pushq $2
	popfq
	movq %rsp, %rsi
	movq %gs:UC_REGS, %rdi
	movl $FRAME_QWORDS, %ecx
	rep movsq
	movq %gs:UC_KERNEL_RSP, %rsp
	movl $MSR_FS_BASE, %ecx
	movl %gs:UC_KERNEL_FS, %eax
	movl %gs:UC_KERNEL_FS + 4, %edx
	wrmsr
	movq %gs:UC_REGS, %rax
	movq REGS_VECTOR(%rax), %rax
	swapgs
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack, "", @progbits
