/* The protocol test guest starts here in 64-bit mode, with a stack (Donjon's launch). */
	.section .text.entry, "ax"
	.globl _start
_start:
	xorl %ebp, %ebp
	call guest_main
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
