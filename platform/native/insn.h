/* The instructions whose exits Donjon steps over, decoded from guest memory: QEMU's
 * nested SVM gives no next RIP, so Donjon reads the instruction at the guest's CS:RIP as
 * the guest's CPU fetched it, through the guest's page tables and with the rights of the
 * guest's VMPL (guest_walk.c), never with Donjon's own. */
#ifndef PLATFORM_NATIVE_INSN_H
#define PLATFORM_NATIVE_INSN_H

#include "svm.h"

/* The length of the instruction at the vCPU's CS:RIP that made the exit exit_code
 * (CPUID, VMMCALL, XSETBV, RDTSCP, INVD, WBINVD, RDMSR, WRMSR), prefixes included. 0, with *why
 * set, if the bytes cannot be fetched as the guest would fetch them or are not that instruction
 * (another vCPU may have changed them since): the caller stops the vCPU. */
unsigned insn_length(struct native_cpu *c, uint64_t exit_code, const char **why);

/* The SEV-SNP instructions a guest here executes as #UD (QEMU has neither): which one is
 * at CS:RIP (RMPADJUST F3 0F 01 FE, PVALIDATE F2 0F 01 FF), its length in *len. */
enum snp_insn {
	SNP_INSN_NONE,
	SNP_INSN_RMPADJUST,
	SNP_INSN_PVALIDATE,
};
enum snp_insn insn_snp(struct native_cpu *c, unsigned *len);

/* A linear address of the vCPU's to a guest-physical one through its page tables (the
 * C-bit stripped); false if the walk fails. */
bool insn_translate(struct native_cpu *c, uint64_t linear, uint64_t *gpa);

/* A MOV between memory and a register or an immediate (88, 89, 8A, 8B, C6 /0, C7 /0, and
 * MOVZX 0F B6, 0F B7): how an MMIO access at a nested page fault is decoded. The memory
 * operand's address is the fault's; only its form is decoded, for the length. */
struct insn_mmio {
	unsigned len;	   /* of the whole instruction */
	bool write;	   /* to memory */
	unsigned size;	   /* of the memory operand: 1, 2, 4 or 8 bytes */
	unsigned dst_size; /* a read: of the register written (MOVZX widens) */
	int reg;      /* the register operand, 0-15 in encoding order (RAX, RCX, ... R15), or -1
		       * for an immediate */
	uint64_t imm; /* a write of an immediate: its value, sign-extended to size */
};
/* Decodes the instruction at CS:RIP, in 64-bit mode only; false, with *why, if it is not one
 * of those (or uses a high-byte register AH-BH). */
bool insn_mmio(struct native_cpu *c, struct insn_mmio *op, const char **why);
/* The vCPU's general register reg (encoding order), and writing one as a load of size bytes
 * does (4 bytes zero-extend to 64 bits; 1 and 2 replace only their part). */
uint64_t insn_reg_read(const struct native_cpu *c, unsigned reg);
void insn_reg_load(struct native_cpu *c, unsigned reg, unsigned size, uint64_t value);

#endif
