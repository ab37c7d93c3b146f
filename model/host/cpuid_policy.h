/* What CPUID answers a guest on the native platform: the host CPU's answer (QEMU's model)
 * with what the emulated machine has instead. For the protocol test guest: no SVM and no
 * MONITOR/MWAIT (Donjon makes them #UD). For Linux, an SEV-SNP guest of a hypervisor:
 * CPUID Fn8000_001F with SEV, SEV-ES, SNP and VMPLs and the C-bit, the extended range up
 * to it, the x2APIC with TSC-deadline and an always-running APIC timer (ARAT), the vCPU's
 * own APIC ID, the hypervisor bit and KVM's signature with no features (Linux then keeps
 * x2APIC mode without interrupt remapping), no 5-level paging, no MTRRs and no machine
 * checks (Donjon models neither). */
#ifndef MODEL_HOST_CPUID_POLICY_H
#define MODEL_HOST_CPUID_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct cpuid_policy {
	bool snp;	     /* the SEV-SNP machine Linux boots on; else the test guest's */
	bool osxsave;	     /* the vCPU's CR4.OSXSAVE */
	uint8_t c_bit;	     /* snp: the C-bit's position */
	uint32_t apic_id;    /* snp: this vCPU's */
	uint32_t vcpu_count; /* snp: how many the machine has (1 to 256) */
};

/* The guest's answer for (leaf, subleaf), from the host CPU's answer host[] (EAX, EBX,
 * ECX, EDX). */
void cpuid_guest(const struct cpuid_policy *p, uint32_t leaf, uint32_t subleaf,
		 const uint32_t host[4], uint32_t out[4]);

/* The leaves an SNP guest's CPUID page lists (each with its subleaf): count of them. */
#define CPUID_PAGE_LEAVES 16U
extern const uint32_t cpuid_page_leaves[CPUID_PAGE_LEAVES][2];

#endif
