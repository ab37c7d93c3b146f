/* The emulated SEV-SNP machine Linux runs on, as the vCPU's CPU sees it: its MSRs and the
 * SNP instructions QEMU lacks (svm_snp.c). */
#ifndef PLATFORM_NATIVE_SVM_SNP_H
#define PLATFORM_NATIVE_SVM_SNP_H

#include "svm.h"

enum snp_msr_result {
	SNP_MSR_DONE, /* *value read, or written */
	SNP_MSR_GP,   /* #GP(0), as the CPU would raise it */
	SNP_MSR_STOP, /* a bug of the emulation, reported: the vCPU stops */
};

/* RDMSR (write false: *value out) or WRMSR (*value in) of an intercepted MSR. */
enum snp_msr_result svm_snp_msr(struct native_cpu *c, uint32_t msr, bool write, uint64_t *value);
/* The MSRs that are the VMCB's guest state (VMLOAD/VMSAVE keep them apart from Donjon's):
 * not intercepted. msrpm is the MSR permission map. */
void svm_snp_passthrough(uint8_t *msrpm);
/* A #UD exit: RMPADJUST or PVALIDATE emulated with the answer a VMPL2 caller gets from
 * the RMP, or the #UD delivered to the guest. False if the vCPU stops. */
bool svm_snp_ud(struct native_cpu *c, uint8_t *vmcb);

#endif
