/* Exception entry: every vector pushes an error code (0 when the CPU gives none) and
 * its number, then all general registers, and calls trap_handler(frame). One taken in
 * ring 3 (a service's, kernel/service) goes to user_trap instead (user.S), which ends the
 * service's run. An NMI only kicks a CPU out of a guest (smp_send_nmi): its vector returns
 * at once, in ring 0 and in ring 3 alike. */
#include "frame.inc"
	.text
	.macro vector n, has_error
	.globl trap_entry_\n
trap_entry_\n:
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\n
	jmp trap_common
	.endm

	vector 0, 0
	vector 1, 0
	.globl trap_entry_2
trap_entry_2:
	iretq
	vector 3, 0
	vector 4, 0
	vector 5, 0
	vector 6, 0
	vector 7, 0
	vector 8, 1
	vector 9, 0
	vector 10, 1
	vector 11, 1
	vector 12, 1
	vector 13, 1
	vector 14, 1
	vector 15, 0
	vector 16, 0
	vector 17, 1
	vector 18, 0
	vector 19, 0
	vector 20, 0
	vector 21, 1
	vector 22, 0
	vector 23, 0
	vector 24, 0
	vector 25, 0
	vector 26, 0
	vector 27, 0
	vector 28, 0
	vector 29, 1
	vector 30, 1
	vector 31, 0

trap_common:
	testb $3, 24(%rsp) /* the CS the CPU pushed, above the vector and error code */
	jnz user_trap
	push_gprs
	movq %rsp, %rdi
	call trap_handler
	pop_gprs
	addq $16, %rsp
	iretq

/* The local APIC timer's interrupt (kernel/tick.c): its only job is to end a halt, a
 * guest's run or a service's (which then goes to user_trap), so it signals end of
 * interrupt (a write to the xAPIC's EOI register, mapped 1:1) and returns. The spurious
 * vector needs no EOI. */
	.globl tick_entry
tick_entry:
	pushq %rax
	movabsq $0xFEE000B0, %rax
	movl $0, (%rax)
	popq %rax
	testb $3, 8(%rsp)
	jnz 1f
	iretq
1:	pushq $0
	pushq $0xEF /* TICK_VECTOR */
	jmp user_trap

	.globl tick_spurious_entry
tick_spurious_entry:
	iretq

	.section .rodata
	.p2align 3
	.globl trap_entries
trap_entries:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_entry_\n
	.endr

	.section .note.GNU-stack, "", @progbits
