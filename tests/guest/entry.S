/* The protocol test guest starts here in 64-bit mode, with a stack (Donjon's launch). */
	.section .text.entry, "ax"
	.globl _start
_start:
	xorl %ebp, %ebp
	call guest_main
1:	hlt
	jmp 1b

/* A vCPU that never stops on its own: it counts, forever. */
	.globl ap_spin
ap_spin:
	lock incq spin_counter(%rip)
	jmp ap_spin

/* Where the vCPUs the guest creates start (their VMSA's RIP), with their own stack. */
	.globl ap_start
ap_start:
	xorl %ebp, %ebp
	call guest_ap_main
2:	hlt
	jmp 2b

	.section .note.GNU-stack, "", @progbits
