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

#endif
