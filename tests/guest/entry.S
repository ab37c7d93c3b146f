/* The protocol test guest starts here in 64-bit mode, with a stack (Donjon's launch). */
	.section .text.entry, "ax"
	.globl _start
_start:
	xorl %ebp, %ebp
	call guest_main
1:	hlt
	jmp 1b

/* Where the vCPUs the guest creates start (their VMSA's RIP), with their own stack. */
	.globl guest_ap_entry
guest_ap_entry:
	xorl %ebp, %ebp
	call guest_ap_main
	.globl guest_halt
guest_halt:
	hlt
	jmp guest_halt

/* #UD and #GP: record the vector and resume at guest_trap_resume (RUN_TRAPPING). The
 * CPU pushed RIP, CS, RFLAGS, RSP, SS, and for #GP an error code. */
	.globl guest_trap_ud, guest_trap_gp
guest_trap_ud:
	pushq $0
	pushq $6
	jmp trap_common
guest_trap_gp:
	pushq $13
trap_common:
	popq %rax
	movq %rax, guest_trap_vector(%rip)
	addq $8, %rsp
	movq guest_trap_resume(%rip), %rax
	movq %rax, (%rsp)
	iretq

/* uint64_t vmgexit_query(uint64_t rcx): SVM_CORE_QUERY_PROTOCOL through the VMGEXIT
 * encoding, with nothing but registers, so that it runs the same from any virtual
 * address the guest maps its code at. Returns RCX's answer; the caller does the calling
 * area's handshake. */
	.globl vmgexit_query
vmgexit_query:
	movl $6, %eax
	movq %rdi, %rcx
	xorl %edx, %edx
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	rep; vmmcall
	movq %rcx, %rax
	ret

	.section .note.GNU-stack, "", @progbits
