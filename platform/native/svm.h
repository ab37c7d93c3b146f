/* SVM on the native platform: enabling it, one VMCB per guest vCPU, the run loop. */
#ifndef PLATFORM_NATIVE_SVM_H
#define PLATFORM_NATIVE_SVM_H

#include "native.h"

struct native_vcpu {
	unsigned apic_id;
	unsigned cpu;  /* the index of the CPU that runs it */
	uint64_t vmcb; /* physical address */
	uint64_t vmsa; /* the guest state Donjon runs (a VMSA page) */
	uint32_t verdict;
	bool has_verdict; /* the guest wrote its result to the debug-exit port */
	char line[128];	  /* the guest's console output, a line at a time */
	unsigned line_len;
};

/* Before pmm_init: the I/O and MSR permission maps (everything intercepted). */
bool svm_reserve(void);
/* EFER.SVME and the host save area for this CPU; false (with a message) without SVM+NPT. */
bool svm_enable_cpu(void);
bool svm_vcpu_init(struct native_vcpu *v, unsigned apic_id, uint64_t vmsa);
/* Run the vCPU until it halts, faults or stops; exits go to the core and the console. */
void svm_vcpu_run(struct native_vcpu *v);

/* An AP's life: SVM on, then run each guest VMSA posted to this CPU until it stops. */
void native_ap_work(unsigned index);

#endif
