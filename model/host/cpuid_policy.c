/* The guest's CPUID (cpuid_policy.h). */
#include "cpuid_policy.h"

#include "kvmclock.h"

#define LEAF1_ECX_MONITOR (1U << 3)
#define LEAF1_ECX_VMX (1U << 5)
#define LEAF1_ECX_X2APIC (1U << 21)
#define LEAF1_ECX_TSC_DEADLINE (1U << 24)
#define LEAF1_ECX_OSXSAVE (1U << 27)
#define LEAF1_ECX_HYPERVISOR (1U << 31)
#define LEAF1_EDX_MCE (1U << 7)
#define LEAF1_EDX_MTRR (1U << 12)
#define LEAF1_EDX_MCA (1U << 14)
#define LEAF6_EAX_ARAT (1U << 2)
#define LEAF7_ECX_LA57 (1U << 16)
#define EXT1_ECX_SVM (1U << 2)
#define EXT_MAX 0x8000001FU
/* Fn8000_001F EAX: SEV, SEV-ES, SEV-SNP, VMPL; EBX[15:12]: four VMPLs. */
#define SEV_EAX ((1U << 1) | (1U << 3) | (1U << 4) | (1U << 5))
#define SEV_EBX_VMPLS (4U << 12)
/* "KVMKVMKVM\0\0\0" in EBX, ECX, EDX. */
#define KVM_SIG_EBX 0x4B4D564BU
#define KVM_SIG_ECX 0x564B4D56U
#define KVM_SIG_EDX 0x0000004DU

const uint32_t cpuid_page_leaves[CPUID_PAGE_LEAVES][2] = {
	{ 0x0, 0 },	   { 0x1, 0 },	      { 0x6, 0 },	 { 0x7, 0 },
	{ 0xB, 0 },	   { 0xB, 1 },	      { 0xD, 0 },	 { 0xD, 1 },
	{ 0x40000000, 0 }, { 0x40000001, 0 }, { 0x80000000, 0 }, { 0x80000001, 0 },
	{ 0x80000007, 0 }, { 0x80000008, 0 }, { 0x8000001E, 0 }, { 0x8000001F, 0 },
};

static void set(uint32_t out[4], uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	out[0] = a;
	out[1] = b;
	out[2] = c;
	out[3] = d;
}

/* Bits needed for APIC IDs 0 .. count-1. */
static uint32_t id_bits(uint32_t count)
{
	uint32_t bits = 0;

	while (bits < 31U && (1U << bits) < count) {
		bits++;
	}
	return bits;
}

/* The SEV-SNP machine's differences from the host CPU; true if it answered. */
static bool snp_leaf(const struct cpuid_policy *p, uint32_t leaf, uint32_t subleaf,
		     const uint32_t host[4], uint32_t out[4])
{
	switch (leaf) {
	case 0x1:
		set(out, host[0], (host[1] & 0x00FFFFFFU) | (p->apic_id << 24),
		    (host[2] & ~(LEAF1_ECX_MONITOR | LEAF1_ECX_VMX | LEAF1_ECX_OSXSAVE)) |
			    LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE | LEAF1_ECX_HYPERVISOR |
			    (p->osxsave ? LEAF1_ECX_OSXSAVE : 0U),
		    host[3] & ~(LEAF1_EDX_MCE | LEAF1_EDX_MTRR | LEAF1_EDX_MCA));
		return true;
	case 0x6:
		set(out, LEAF6_EAX_ARAT, 0, 0, 0);
		return true;
	case 0x7:
		set(out, host[0], host[1], subleaf == 0U ? host[2] & ~LEAF7_ECX_LA57 : host[2],
		    host[3]);
		return true;
	case 0xB:
		/* Threads, then cores: one thread per core, vcpu_count cores. */
		if (subleaf == 0U) {
			set(out, 0, 1, 0x100U, p->apic_id);
		} else if (subleaf == 1U) {
			set(out, id_bits(p->vcpu_count), p->vcpu_count, 0x200U | 1U, p->apic_id);
		} else {
			set(out, 0, 0, subleaf, p->apic_id);
		}
		return true;
	case 0x40000000:
		set(out, 0x40000001U, KVM_SIG_EBX, KVM_SIG_ECX, KVM_SIG_EDX);
		return true;
	case 0x40000001:
		/* The paravirtual clock only (kvmclock.h): Linux's TSC rate. */
		set(out, KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT, 0, 0, 0);
		return true;
	case 0x80000000:
		set(out, host[0] > EXT_MAX ? host[0] : EXT_MAX, host[1], host[2], host[3]);
		return true;
	case 0x8000001E:
		set(out, p->apic_id, 0, 0, 0);
		return true;
	case 0x8000001F:
		set(out, SEV_EAX, (uint32_t)p->c_bit | SEV_EBX_VMPLS, 0, 0);
		return true;
	default:
		/* Leaves QEMU's model does not have (above its 0x8000000A) are empty. */
		if (leaf > 0x8000000AU && leaf < EXT_MAX) {
			set(out, 0, 0, 0, 0);
			return true;
		}
		return false;
	}
}

void cpuid_guest(const struct cpuid_policy *p, uint32_t leaf, uint32_t subleaf,
		 const uint32_t host[4], uint32_t out[4])
{
	if (p->snp && snp_leaf(p, leaf, subleaf, host, out)) {
		return;
	}
	set(out, host[0], host[1], host[2], host[3]);
	if (leaf == 1U) {
		out[2] &= ~(LEAF1_ECX_MONITOR | LEAF1_ECX_OSXSAVE);
		out[2] |= p->osxsave ? LEAF1_ECX_OSXSAVE : 0U;
	} else if (leaf == 0x80000001U) {
		out[2] &= ~EXT1_ECX_SVM;
	} else if (leaf == 0x8000000AU || leaf == 5U) {
		set(out, 0, 0, 0, 0);
	}
}
