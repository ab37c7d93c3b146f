/* void svm_vmrun(uint64_t vmcb_pa, struct guest_gprs *gprs, uint64_t host_save_pa,
 *                uint64_t host_interrupts)
 * Enters the guest described by the VMCB with the general registers in *gprs (RAX and
 * RSP live in the VMCB) and stores them back after #VMEXIT. VMRUN itself switches only
 * part of the CPU state; VMLOAD and VMSAVE switch the rest (FS, GS, TR, LDTR with their
 * hidden parts, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK, the SYSENTER MSRs), so the host
 * never runs on a TR or GS the guest loaded, and the guest never sees the host's. All of
 * it happens with GIF clear: an NMI waits until the host's state is back. With
 * host_interrupts non-zero, RFLAGS.IF is set for the VMRUN (GIF is still clear until VMRUN
 * sets it in the guest), so that a physical interrupt ends the guest's run: only for a VMCB
 * that intercepts INTR, or the interrupt would go to the guest's IDT. IF is clear again
 * before GIF is set after #VMEXIT; the interrupt stays pending for the host. The host's
 * callee-saved registers are preserved; everything else is clobbered. */
#define G_RBX 0
#define G_RCX 8
#define G_RDX 16
#define G_RSI 24
#define G_RDI 32
#define G_RBP 40
#define G_R8 48
#define G_R9 56
#define G_R10 64
#define G_R11 72
#define G_R12 80
#define G_R13 88
#define G_R14 96
#define G_R15 104

	.text
	.globl svm_vmrun
svm_vmrun:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx /* the host save area */
	pushq %rsi /* gprs */
	clgi
	testq %rcx, %rcx
	jz 1f
	sti
1:
	movq %rdx, %rax
	vmsave
	movq %rdi, %rax
	vmload
	movq G_RBX(%rsi), %rbx
	movq G_RCX(%rsi), %rcx
	movq G_RDX(%rsi), %rdx
	movq G_RDI(%rsi), %rdi
	movq G_RBP(%rsi), %rbp
	movq G_R8(%rsi), %r8
	movq G_R9(%rsi), %r9
	movq G_R10(%rsi), %r10
	movq G_R11(%rsi), %r11
	movq G_R12(%rsi), %r12
	movq G_R13(%rsi), %r13
	movq G_R14(%rsi), %r14
	movq G_R15(%rsi), %r15
	movq G_RSI(%rsi), %rsi
	vmrun
	/* #VMEXIT restored RAX (the VMCB's address) from the host save area. */
	vmsave
	pushq %rsi
	movq 8(%rsp), %rsi
	movq %rbx, G_RBX(%rsi)
	movq %rcx, G_RCX(%rsi)
	movq %rdx, G_RDX(%rsi)
	movq %rdi, G_RDI(%rsi)
	movq %rbp, G_RBP(%rsi)
	movq %r8, G_R8(%rsi)
	movq %r9, G_R9(%rsi)
	movq %r10, G_R10(%rsi)
	movq %r11, G_R11(%rsi)
	movq %r12, G_R12(%rsi)
	movq %r13, G_R13(%rsi)
	movq %r14, G_R14(%rsi)
	movq %r15, G_R15(%rsi)
	popq %rax
	movq %rax, G_RSI(%rsi)
	popq %rsi
	popq %rax
	vmload
	cli
	stgi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
