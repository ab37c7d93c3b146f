/* The emulated SEV-SNP machine's MSRs and SNP instructions (svm_snp.h). An MSR is
 * answered only if it is on the list below, as an SEV-SNP guest of a hypervisor finds it
 * (linux-guest.md section 2.3); any other raises #GP(0), as on a CPU without it, so Linux's
 * probing (rdmsr_safe) sees nothing. No guest access ever reaches one of Donjon's own MSRs:
 * EFER keeps SVME set (VMRUN needs it) and the APIC is not the CPU's. */
#include "svm_snp.h"

#include <donjon/bytes.h>
#include <donjon/svsm.h>
#include <donjon/vmsa.h>

#include "arch/x86/cpu.h"
#include "insn.h"
#include "kvmclock.h"
#include "machine.h"

#define MSR_TSC 0x10U
#define MSR_APIC_BASE 0x1BU
#define MSR_PATCH_LEVEL 0x8BU
#define MSR_SYSENTER_CS 0x174U
#define MSR_TSC_DEADLINE 0x6E0U
#define MSR_X2APIC_FIRST 0x800U
#define MSR_X2APIC_LAST 0x8FFU
#define MSR_SYSENTER_EIP 0x176U
#define MSR_PAT 0x277U
#define MSR_EFER 0xC0000080U
#define MSR_STAR 0xC0000081U
#define MSR_SFMASK 0xC0000084U
#define MSR_FS_BASE 0xC0000100U
#define MSR_KERNEL_GS_BASE 0xC0000102U
#define MSR_SYSCFG 0xC0010010U
#define MSR_HWCR 0xC0010015U
#define MSR_INT_PENDING_MSG 0xC0010055U
#define MSR_VM_CR 0xC0010114U
#define MSR_SEV_STATUS 0xC0010131U
#define MSR_DE_CFG 0xC0011029U
#define MSR_SVSM_CAA 0xC001F000U

#define APIC_BASE_DEFAULT 0xFEE00000ULL
#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_EN (1ULL << 11)
/* SEV, SEV-ES and SEV-SNP active, nothing else (no SecureTSC, vTOM, restricted
 * injection...): the bits Linux's snp_check_features accepts. */
#define SEV_STATUS_SNP 0x7ULL
#define VM_CR_SVMDIS (1ULL << 4)
#define DE_CFG_LFENCE_SERIALIZE (1ULL << 1)
/* EFER bits a guest may set: SCE, LME, LMA (the CPU's), NXE, SVME, FFXSR. */
#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define EFER_FFXSR (1ULL << 14)
#define CR0_PG (1ULL << 31)
#define EFER_ALLOWED (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | EFER_FFXSR)
#define VECTOR_UD 6U
#define VECTOR_GP 13U

static void allow(uint8_t *msrpm, uint32_t msr)
{
	/* Two bits per MSR (read, write): 0000_0000-0000_1FFF at byte 0, C000_0000-C000_1FFF
	 * at 0x800. */
	uint32_t base = msr >= 0xC0000000U ? 0x800U * 8U : 0U;
	uint32_t bit = base + (msr & 0x1FFFU) * 2U;

	msrpm[bit / 8U] &= (uint8_t) ~(3U << (bit % 8U));
}

void svm_snp_passthrough(uint8_t *msrpm)
{
	for (uint32_t m = MSR_SYSENTER_CS; m <= MSR_SYSENTER_EIP; m++) {
		allow(msrpm, m);
	}
	for (uint32_t m = MSR_STAR; m <= MSR_SFMASK; m++) {
		allow(msrpm, m);
	}
	for (uint32_t m = MSR_FS_BASE; m <= MSR_KERNEL_GS_BASE; m++) {
		allow(msrpm, m);
	}
}

/* PAT: each byte a memory type (0, 1, 4, 5, 6 or 7). */
static bool pat_valid(uint64_t v)
{
	for (unsigned i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(v >> (8U * i));

		if (t == 2U || t == 3U || t > 7U) {
			return false;
		}
	}
	return true;
}

static enum snp_msr_result efer(struct native_cpu *c, bool write, uint64_t *value)
{
	uint64_t now = load64(c->state, VMSA_EFER_OFF);

	if (!write) {
		*value = now;
		return SNP_MSR_DONE;
	}
	/* Reserved bits, and LME changed while paging is on, are #GP(0) as on the CPU. */
	if ((*value & ~EFER_ALLOWED) != 0U || ((load64(c->state, VMSA_CR0_OFF) & CR0_PG) != 0U &&
					       ((*value ^ now) & EFER_LME) != 0U)) {
		return SNP_MSR_GP;
	}
	store64(c->state, VMSA_EFER_OFF, (*value & ~EFER_LMA) | (now & EFER_LMA) | EFER_SVME);
	return SNP_MSR_DONE;
}

/* An MSR that reads a fixed value and takes no writes; true if msr is one. */
static bool fixed(const struct native_cpu *c, uint32_t msr, uint64_t *value)
{
	switch (msr) {
	case MSR_SEV_STATUS:
		*value = SEV_STATUS_SNP;
		return true;
	case MSR_SYSCFG:
		/* MemEncrypt clear, as KVM answers: Linux's SNP logic uses SEV_STATUS. */
		*value = 0;
		return true;
	case MSR_VM_CR:
		*value = VM_CR_SVMDIS;
		return true;
	case MSR_INT_PENDING_MSG:
		/* Read (not probed) on QEMU's family-15 CPU for the E400 erratum: C1E off. */
		*value = 0;
		return true;
	case MSR_SVSM_CAA:
		*value = gpa_val(svsm_vcpu_caa(c->apic_id));
		return true;
	case MSR_APIC_BASE:
		*value = APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_EXTD |
			 (c->apic_id == 0U ? APIC_BASE_BSP : 0U);
		return true;
	default:
		return false;
	}
}

enum snp_msr_result svm_snp_msr(struct native_cpu *c, uint32_t msr, bool write, uint64_t *value)
{
	uint64_t v = 0;

	if (fixed(c, msr, &v)) {
		if (write && !(msr == MSR_APIC_BASE && *value == v)) {
			return SNP_MSR_GP;
		}
		*value = write ? *value : v;
		return SNP_MSR_DONE;
	}
	switch (msr) {
	case MSR_EFER:
		return efer(c, write, value);
	case MSR_TSC:
		if (write) {
			return SNP_MSR_GP;
		}
		*value = rdtsc();
		return SNP_MSR_DONE;
	case MSR_PAT:
		if (write) {
			if (!pat_valid(*value)) {
				return SNP_MSR_GP;
			}
			store64(c->state, VMSA_G_PAT_OFF, *value);
		} else {
			*value = load64(c->state, VMSA_G_PAT_OFF);
		}
		return SNP_MSR_DONE;
	case MSR_PATCH_LEVEL:
		/* Writes (Linux clears it before reading) are dropped; no microcode here. */
		*value = write ? *value : 0U;
		return SNP_MSR_DONE;
	case MSR_HWCR:
		if (write) {
			c->msr_hwcr = *value;
		} else {
			*value = c->msr_hwcr;
		}
		return SNP_MSR_DONE;
	case KVM_MSR_SYSTEM_TIME_NEW:
	case KVM_MSR_WALL_CLOCK_NEW:
		machine_kvmclock_msr(c, msr, write, value);
		return SNP_MSR_DONE;
	case MSR_TSC_DEADLINE:
	case MSR_X2APIC_FIRST ... MSR_X2APIC_LAST:
		return machine_apic_msr(c, msr, write, value) ? SNP_MSR_DONE : SNP_MSR_GP;
	case MSR_DE_CFG:
		if (write) {
			c->msr_de_cfg = *value;
		} else {
			*value = c->msr_de_cfg | DE_CFG_LFENCE_SERIALIZE;
		}
		return SNP_MSR_DONE;
	default:
		log_msg(LOG_DEBUG, "vCPU %u: %s of MSR 0x%x: #GP", c->apic_id,
			write ? "WRMSR" : "RDMSR", msr);
		return SNP_MSR_GP;
	}
}

bool svm_snp_ud(struct native_cpu *c, uint8_t *vmcb)
{
	unsigned len = 0;
	enum snp_insn insn = insn_snp(c, &len);
	uint64_t va = load64(c->state, VMSA_RAX_OFF);
	uint64_t rcx = load64(c->state, VMSA_RCX_OFF);
	uint64_t rdx = load64(c->state, VMSA_RDX_OFF);
	enum page_size size = (rcx & 1U) != 0U ? PAGE_2M : PAGE_4K;
	uint64_t gpa = 0;
	enum rmp_result r = RMP_FAULT;

	if (insn == SNP_INSN_NONE) {
		inject_exception(vmcb, VECTOR_UD, false, 0);
		return true;
	}
	if (!insn_translate(c, va, &gpa)) {
		log_guest("vCPU %u stopped: %s of a linear address it does not map (0x%lx)",
			  c->apic_id, insn == SNP_INSN_RMPADJUST ? "RMPADJUST" : "PVALIDATE", va);
		return false;
	}
	if (insn == SNP_INSN_RMPADJUST) {
		c->rmpadjusts++;
		r = native_guest_rmpadjust(c->vmpl, gpa, size, (unsigned)(rdx & 0xFFU),
					   (uint8_t)(rdx >> 8), (rdx & (1ULL << 16)) != 0U);
	}
	/* PVALIDATE faults outside VMPL0 (the RMP model's RMP_FAULT). */
	if (r == RMP_FAULT) {
		inject_exception(vmcb, VECTOR_GP, true, 0);
		return true;
	}
	store64(c->state, VMSA_RAX_OFF, (uint64_t)r);
	store64(c->state, VMSA_RIP_OFF, load64(c->state, VMSA_RIP_OFF) + len);
	return true;
}
