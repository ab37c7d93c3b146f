/* PVH entry (QEMU -kernel): 32-bit protected mode, paging off, %ebx = hvm_start_info.
 * Builds a temporary identity map of the first 4 GiB with 2 MiB pages, enters long mode
 * and calls kmain(start_info). The kernel replaces these tables with W^X ones. */
#include "segments.inc"
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

	.section .note.Xen, "a", @note
	.p2align 2
	.long 4, 8, 18 /* name size, descriptor size, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.quad _start32

	.section .text.boot, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	movl %ebx, %esi
	movl $boot_stack_top, %esp

	/* Zero the boot tables: PML4, PDPT and four page directories. */
	movl $boot_tables, %edi
	movl $(6 * 4096 / 4), %ecx
	xorl %eax, %eax
	rep stosl

	movl $boot_tables + 0x1000 + 0x3, boot_tables /* PML4[0] -> PDPT */
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_tables + 0x2000 + 0x3, %eax
	movl %eax, boot_tables + 0x1000(, %ecx, 8) /* PDPT[i] -> PD i */
	incl %ecx
	cmpl $4, %ecx
	jne 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax /* present, writable, 2 MiB */
	movl %eax, boot_tables + 0x2000(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b

	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $boot_tables, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	andl $~(1 << 2), %eax /* EM off: SSE state is saved per task later */
	orl $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
	movl %eax, %cr0
	lgdt boot_gdt_desc
	ljmp $0x08, $start64

	.code64
start64:
	load_flat_data_segments
	movq $boot_stack_top, %rsp
	movl %esi, %edi
	xorl %ebp, %ebp
	call kmain
3:	cli
	hlt
	jmp 3b

	.section .rodata.boot, "a"
	.p2align 3
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF /* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF /* 0x10: data */
boot_gdt_end:
boot_gdt_desc:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .bss.boot, "aw", @nobits
	.p2align 12
	.globl boot_tables
boot_tables:
	.skip 6 * 4096
	.p2align 12
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
