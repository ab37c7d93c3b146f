/* AP start: the SIPI enters this code, copied to TRAMPOLINE (0x8000), in real mode. It
 * loads a flat GDT, turns on PAE, long mode and paging with the boot tables (which map
 * the first 4 GiB 1:1, executable), and jumps to the 64-bit entry with the stack and CPU
 * index the BSP left in the data slots at its end. */
#include "segments.inc"
#define TRAMPOLINE 0x8000
#define AT(x) (TRAMPOLINE + ((x) - ap_trampoline_start))

	.section .rodata
	.p2align 4
	.globl ap_trampoline_start, ap_trampoline_end
	.globl ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry, ap_tramp_cpu
	.code16
ap_trampoline_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl AT(tramp_gdt_desc)
	movl %cr4, %eax
	orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax /* PAE, OSFXSR, OSXMMEXCPT */
	movl %eax, %cr4
	movl AT(ap_tramp_cr3), %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax /* EFER.LME, EFER.NXE */
	wrmsr
	movl %cr0, %eax
	andl $~(1 << 2), %eax
	orl $((1 << 0) | (1 << 1) | (1 << 16) | (1 << 31)), %eax /* PE, MP, WP, PG */
	movl %eax, %cr0
	ljmpl $0x08, $AT(tramp_long)

	.code64
tramp_long:
	load_flat_data_segments
	movq AT(ap_tramp_stack), %rsp
	movl AT(ap_tramp_cpu), %edi
	movq AT(ap_tramp_entry), %rax
	xorl %ebp, %ebp
	jmp *%rax

	.p2align 3
tramp_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF
	.quad 0x00CF92000000FFFF
tramp_gdt_desc:
	.word 23
	.long AT(tramp_gdt)
	.p2align 3
ap_tramp_cr3:
	.quad 0
ap_tramp_stack:
	.quad 0
ap_tramp_entry:
	.quad 0
ap_tramp_cpu:
	.quad 0
ap_trampoline_end:

	.section .note.GNU-stack, "", @progbits
