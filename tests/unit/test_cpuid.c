/* The guest's CPUID (model/host/cpuid_policy.c): what the test guest and Linux's SEV-SNP machine
 * each see instead of the host CPU's answer. */
#include "cpuid_policy.h"
#include "harness.h"

static const uint32_t host1[4] = { 0x663, 0x02010800, 0xC0A02209U | (1U << 27), 0x078BFBFF };

TEST(cpuid_test_guest_hides_svm_monitor_and_follows_osxsave)
{
	struct cpuid_policy p = { .osxsave = false };
	const uint32_t ext1[4] = { 0, 0, 0x25, 0x2193FBFF };
	const uint32_t any[4] = { 1, 2, 3, 4 };
	uint32_t out[4];

	cpuid_guest(&p, 1, 0, host1, out);
	EXPECT_EQ(out[2], 0xC0A02201U); /* MONITOR (bit 3) and OSXSAVE (27) clear */
	EXPECT_EQ(out[1], 0x02010800U);
	p.osxsave = true;
	cpuid_guest(&p, 1, 0, host1, out);
	EXPECT_EQ(out[2], 0xC0A02201U | (1U << 27));
	cpuid_guest(&p, 0x80000001U, 0, ext1, out);
	EXPECT_EQ(out[2], 0x21U);
	cpuid_guest(&p, 0x8000000AU, 0, any, out);
	EXPECT_EQ(out[0] | out[1] | out[2] | out[3], 0U);
	/* No SEV leaf for the test guest: the host's answer as it is. */
	cpuid_guest(&p, 0x8000001FU, 0, any, out);
	EXPECT_EQ(out[0], 1U);
	EXPECT_EQ(out[3], 4U);
}

TEST(cpuid_snp_machine_answers_what_linux_checks)
{
	struct cpuid_policy p = { .snp = true, .c_bit = 39, .apic_id = 3, .vcpu_count = 4 };
	const uint32_t ext0[4] = { 0x8000000AU, 0x68747541U, 0x444D4163U, 0x69746E65U };
	const uint32_t zero[4] = { 0, 0, 0, 0 };
	const uint32_t leaf7[4] = { 0, 0x209, 0x10000U | 0x4U, 0 };
	uint32_t out[4];

	cpuid_guest(&p, 0x8000001FU, 0, zero, out);
	EXPECT_EQ(out[0], 0x3AU); /* SEV, SEV-ES, SNP, VMPL */
	EXPECT_EQ(out[1], 39U | (4U << 12));
	cpuid_guest(&p, 0x80000000U, 0, ext0, out);
	EXPECT_EQ(out[0], 0x8000001FU);
	EXPECT_EQ(out[1], 0x68747541U);
	cpuid_guest(&p, 1, 0, host1, out);
	EXPECT_EQ(out[1], 0x03010800U); /* APIC ID 3 in EBX[31:24] */
	/* x2APIC, TSC-deadline, hypervisor on; MONITOR, VMX, OSXSAVE off; RDRAND kept. */
	EXPECT_EQ(out[2], (0xC0A02201U & ~(1U << 5)) | (1U << 21) | (1U << 24) | (1U << 31));
	EXPECT_EQ(out[3], 0x078BFBFFU & ~((1U << 7) | (1U << 12) | (1U << 14)));
	cpuid_guest(&p, 6, 0, zero, out);
	EXPECT_EQ(out[0], 4U);
	cpuid_guest(&p, 7, 0, leaf7, out);
	EXPECT_EQ(out[2], 4U); /* LA57 hidden */
	EXPECT_EQ(out[1], 0x209U);
	cpuid_guest(&p, 0x40000000U, 0, zero, out);
	EXPECT_EQ(out[0], 0x40000001U);
	EXPECT_MEM(&out[1], "KVMKVMKVM\0\0\0", 12);
	cpuid_guest(&p, 0xB, 1, zero, out);
	EXPECT_EQ(out[0], 2U);
	EXPECT_EQ(out[1], 4U);
	EXPECT_EQ(out[2], 0x201U);
	EXPECT_EQ(out[3], 3U);
	cpuid_guest(&p, 0x8000001EU, 0, host1, out);
	EXPECT_EQ(out[0], 3U);
	EXPECT_EQ(out[1] | out[2] | out[3], 0U);
	cpuid_guest(&p, 0x80000010U, 0, host1, out);
	EXPECT_EQ(out[0] | out[1] | out[2] | out[3], 0U);
}
