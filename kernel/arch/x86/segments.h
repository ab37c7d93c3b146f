/* Shared by the boot and AP entry code: after the jump to 64-bit code, the data segment
 * registers get the flat data selector (0x10) and FS/GS the null selector. */
#ifndef KERNEL_ARCH_X86_SEGMENTS_H
#define KERNEL_ARCH_X86_SEGMENTS_H

.macro load_flat_data_segments
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
.endm

#endif
