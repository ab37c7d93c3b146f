/* The host's side of the GHCB protocol (model/host/ghcb.c) as Linux uses it, and as a
 * hostile guest might: hypervisor features, SVSM calls counted by transport, AP_CREATION
 * and NMI_COMPLETE through the GHCB page, termination reasons. The guest's memory here is
 * one shared GHCB page the host may read and write; anything else is refused. */
#include <string.h>

#include <donjon/ghcb.h>
#include <donjon/types.h>

#include "ghcb.h"
#include "harness.h"

#define GHCB_GPA 0x7000ULL

struct fake_guest {
	uint8_t ghcb[PAGE_SIZE];
	unsigned ap_calls, nmi_calls;
	uint32_t ap_apic_id;
	unsigned ap_vmpl;
	uint64_t ap_vmsa, ap_features;
	const char *ap_answer;
};

static bool in_ghcb(uint64_t gpa, size_t len)
{
	return gpa >= GHCB_GPA && len <= PAGE_SIZE && gpa - GHCB_GPA <= PAGE_SIZE - len;
}

static bool fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake_guest *g = ctx;

	if (!in_ghcb(gpa, len)) {
		return false;
	}
	memcpy(buf, g->ghcb + (gpa - GHCB_GPA), len);
	return true;
}

static bool fake_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct fake_guest *g = ctx;

	if (!in_ghcb(gpa, len)) {
		return false;
	}
	memcpy(g->ghcb + (gpa - GHCB_GPA), buf, len);
	return true;
}

static const char *fake_ap_create(void *ctx, uint32_t apic_id, unsigned vmpl, uint64_t vmsa,
				  uint64_t features)
{
	struct fake_guest *g = ctx;

	g->ap_calls++;
	g->ap_apic_id = apic_id;
	g->ap_vmpl = vmpl;
	g->ap_vmsa = vmsa;
	g->ap_features = features;
	return g->ap_answer;
}

static void fake_nmi_complete(void *ctx)
{
	struct fake_guest *g = ctx;

	g->nmi_calls++;
}

static struct ghcb_env env_of(struct fake_guest *g)
{
	return (struct ghcb_env){ .read = fake_read,
				  .write = fake_write,
				  .ap_create = fake_ap_create,
				  .nmi_complete = fake_nmi_complete,
				  .ctx = g,
				  .c_bit = 47 };
}

static void put64(struct fake_guest *g, unsigned off, uint64_t v)
{
	memcpy(g->ghcb + off, &v, sizeof(v));
}

static uint64_t get64(const struct fake_guest *g, unsigned off)
{
	uint64_t v = 0;

	memcpy(&v, g->ghcb + off, sizeof(v));
	return v;
}

static void mark_valid(struct fake_guest *g, unsigned off)
{
	g->ghcb[GHCB_VALID_BITMAP_OFF + off / 64U] |= (uint8_t)(1U << (off / 8U % 8U));
}

/* A GHCB event as Linux fills it: exit code and infos, version 2, usage 0. */
static void event(struct fake_guest *g, struct ghcb_vcpu *v, uint64_t code, uint64_t info1,
		  uint64_t info2, uint16_t version)
{
	put64(g, GHCB_SW_EXIT_CODE_OFF, code);
	put64(g, GHCB_SW_EXIT_INFO1_OFF, info1);
	put64(g, GHCB_SW_EXIT_INFO2_OFF, info2);
	memcpy(g->ghcb + GHCB_PROTOCOL_VERSION_OFF, &version, sizeof(version));
	memset(g->ghcb + GHCB_USAGE_OFF, 0, 4);
	memset(g->ghcb + GHCB_VALID_BITMAP_OFF, 0, 16);
	mark_valid(g, GHCB_SW_EXIT_CODE_OFF);
	mark_valid(g, GHCB_SW_EXIT_INFO1_OFF);
	mark_valid(g, GHCB_SW_EXIT_INFO2_OFF);
	ghcb_msr_write(v, GHCB_GPA);
}

static void registered(struct fake_guest *g, struct ghcb_vcpu *v)
{
	struct ghcb_env env = env_of(g);

	memset(g, 0, sizeof(*g));
	ghcb_vcpu_init(v);
	ghcb_msr_write(v, GHCB_GPA | GHCB_MSR_REG_GPA_REQ);
	EXPECT_EQ(ghcb_vmgexit(v, &env), GHCB_RESUME);
	EXPECT_EQ(ghcb_msr_read(v), GHCB_GPA | GHCB_MSR_REG_GPA_RESP);
}

TEST(ghcb_host_features_include_ap_creation_and_multi_vmpl)
{
	struct fake_guest g;
	struct ghcb_vcpu v;
	struct ghcb_env env = env_of(&g);

	registered(&g, &v);
	ghcb_msr_write(&v, GHCB_MSR_HV_FEATURES_REQ);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_RESUME);
	/* SNP (bit 0), AP_CREATION (1), MULTI_VMPL (5), in GHCBData[63:12]. */
	EXPECT_EQ(ghcb_msr_read(&v), (0x23ULL << 12) | GHCB_MSR_HV_FEATURES_RESP);
}

TEST(ghcb_host_counts_svsm_calls_by_transport)
{
	struct fake_guest g;
	struct ghcb_vcpu v;
	struct ghcb_env env = env_of(&g);

	registered(&g, &v);
	ghcb_msr_write(&v, GHCB_MSR_RUN_VMPL_REQ);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_SVSM_CALL);
	ghcb_svsm_done(&v, &env);
	EXPECT_EQ(ghcb_msr_read(&v), GHCB_MSR_RUN_VMPL_RESP);
	event(&g, &v, GHCB_EVENT_RUN_VMPL, 0, 0, GHCB_PROTOCOL_VERSION);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_SVSM_CALL);
	put64(&g, GHCB_SW_EXIT_INFO1_OFF, 0x55);
	ghcb_svsm_done(&v, &env);
	EXPECT_EQ(get64(&g, GHCB_SW_EXIT_INFO1_OFF), 0U);
	/* RUN_VMPL of VMPL1 is not the SVSM's: refused, not counted. */
	event(&g, &v, GHCB_EVENT_RUN_VMPL, 1, 0, GHCB_PROTOCOL_VERSION);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_REFUSED);
	ghcb_msr_write(&v, (1ULL << 32) | GHCB_MSR_RUN_VMPL_REQ);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_REFUSED);
	EXPECT_EQ(v.count.svsm_msr, 1U);
	EXPECT_EQ(v.count.svsm_ghcb, 1U);
}

TEST(ghcb_host_ap_creation_as_linux_sends_it)
{
	struct fake_guest g;
	struct ghcb_vcpu v;
	struct ghcb_env env = env_of(&g);

	registered(&g, &v);
	/* APIC ID 3 at VMPL2, AP_CREATE; the VMSA's gPA; RAX the SEV features. */
	event(&g, &v, GHCB_EVENT_AP_CREATION, (3ULL << 32) | (2U << 16) | GHCB_AP_CREATE, 0x4a85000,
	      GHCB_PROTOCOL_VERSION);
	put64(&g, GHCB_RAX_OFF, 1);
	/* RAX not marked valid: refused, the platform never asked. */
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_REFUSED);
	EXPECT_EQ(v.why_value, GHCB_RAX_OFF);
	EXPECT_EQ(g.ap_calls, 0U);
	mark_valid(&g, GHCB_RAX_OFF);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_RESUME);
	EXPECT_EQ(g.ap_calls, 1U);
	EXPECT_EQ(g.ap_apic_id, 3U);
	EXPECT_EQ(g.ap_vmpl, 2U);
	EXPECT_EQ(g.ap_vmsa, 0x4a85000U);
	EXPECT_EQ(g.ap_features, 1U);
	EXPECT_EQ(get64(&g, GHCB_SW_EXIT_INFO1_OFF), 0U);
	EXPECT_EQ(get64(&g, GHCB_SW_EXIT_INFO2_OFF), 0U);
	EXPECT_EQ(v.count.ap_creations, 1U);
}

TEST(ghcb_host_ap_creation_refusals_change_nothing)
{
	struct fake_guest g;
	struct ghcb_vcpu v;
	struct ghcb_env env = env_of(&g);
	static const uint64_t bad_info1[] = {
		(1ULL << 32) | (2U << 16) | GHCB_AP_CREATE_ON_INIT, /* not offered */
		(1ULL << 32) | (2U << 16) | GHCB_AP_DESTROY,	    /* not offered */
		(1ULL << 32) | (2U << 16) | 0x10U | GHCB_AP_CREATE, /* reserved bit 4 */
		(1ULL << 32) | (1ULL << 24) | GHCB_AP_CREATE,	    /* reserved bit 24 */
	};

	registered(&g, &v);
	for (unsigned i = 0; i < sizeof(bad_info1) / sizeof(bad_info1[0]); i++) {
		event(&g, &v, GHCB_EVENT_AP_CREATION, bad_info1[i], 0x4a85000,
		      GHCB_PROTOCOL_VERSION);
		mark_valid(&g, GHCB_RAX_OFF);
		EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_RESUME);
		EXPECT_EQ(get64(&g, GHCB_SW_EXIT_INFO1_OFF), GHCB_EXIT_INFO1_ERROR);
		EXPECT_EQ(get64(&g, GHCB_SW_EXIT_INFO2_OFF), GHCB_ERR_INVALID_INPUT);
	}
	/* The platform's refusal (an unknown APIC ID, say) is reported the same way. */
	g.ap_answer = "no other vCPU has that APIC ID";
	event(&g, &v, GHCB_EVENT_AP_CREATION, (9ULL << 32) | (2U << 16) | GHCB_AP_CREATE, 0x4a85000,
	      GHCB_PROTOCOL_VERSION);
	mark_valid(&g, GHCB_RAX_OFF);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_RESUME);
	EXPECT_EQ(get64(&g, GHCB_SW_EXIT_INFO1_OFF), GHCB_EXIT_INFO1_ERROR);
	EXPECT_EQ(get64(&g, GHCB_SW_EXIT_INFO2_OFF), GHCB_ERR_INVALID_INPUT);
	EXPECT_TRUE(strcmp(v.why, "no other vCPU has that APIC ID") == 0);
	/* Only the last one reached the platform, and nothing was started. */
	EXPECT_EQ(g.ap_calls, 1U);
	EXPECT_EQ(v.count.ap_creations, 0U);
}

TEST(ghcb_host_nmi_complete_in_a_version_0_ghcb)
{
	struct fake_guest g;
	struct ghcb_vcpu v;
	struct ghcb_env env = env_of(&g);

	registered(&g, &v);
	event(&g, &v, GHCB_EVENT_NMI_COMPLETE, 0, 0, GHCB_PROTOCOL_VERSION);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_RESUME);
	/* Linux's backup GHCB, from NMI context, leaves the version 0. */
	event(&g, &v, GHCB_EVENT_NMI_COMPLETE, 0, 0, 0);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_RESUME);
	EXPECT_EQ(g.nmi_calls, 2U);
	/* Any other version, or a usage other than 0, is refused and completes nothing. */
	event(&g, &v, GHCB_EVENT_NMI_COMPLETE, 0, 0, 1);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_REFUSED);
	event(&g, &v, GHCB_EVENT_NMI_COMPLETE, 0, 0, GHCB_PROTOCOL_VERSION);
	g.ghcb[GHCB_USAGE_OFF] = 1;
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_REFUSED);
	EXPECT_EQ(g.nmi_calls, 2U);
	/* SW_EXITINFO2 not marked valid: refused. */
	event(&g, &v, GHCB_EVENT_NMI_COMPLETE, 0, 0, GHCB_PROTOCOL_VERSION);
	g.ghcb[GHCB_VALID_BITMAP_OFF + GHCB_SW_EXIT_INFO2_OFF / 64U] &=
		(uint8_t) ~(1U << (GHCB_SW_EXIT_INFO2_OFF / 8U % 8U));
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_REFUSED);
	EXPECT_EQ(v.why_value, GHCB_SW_EXIT_INFO2_OFF);
	EXPECT_EQ(g.nmi_calls, 2U);
	EXPECT_EQ(v.count.nmi_completes, 2U);
}

TEST(ghcb_host_termination_reasons)
{
	struct fake_guest g;
	struct ghcb_vcpu v;
	struct ghcb_env env = env_of(&g);

	registered(&g, &v);
	/* Reason set in 15:12, code in 23:16: Linux's set 1, code 7. */
	ghcb_msr_write(&v, (7ULL << 16) | (1ULL << 12) | GHCB_MSR_TERM_REQ);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_TERMINATE);
	EXPECT_EQ(v.term_set, 1U);
	EXPECT_EQ(v.term_code, 7U);
	EXPECT_TRUE(strcmp(ghcb_term_reason(1, 7),
			   "Linux: no SVSM advertised in the secrets page") == 0);
	EXPECT_TRUE(strcmp(ghcb_term_reason(1, 3), "Linux: not running at VMPL0") == 0);
	EXPECT_TRUE(strcmp(ghcb_term_reason(0, 2), "SEV-SNP features are not supported") == 0);
	EXPECT_TRUE(strcmp(ghcb_term_reason(1, 11), "unknown") == 0);
	EXPECT_TRUE(strcmp(ghcb_term_reason(2, 0), "unknown") == 0);
}

/* Linux's offline CPU: AP_HLT_LOOP with both SW_EXITINFOs 0; the host parks the vCPU and
 * touches nothing of the guest's AP creation. */
TEST(ghcb_host_ap_hlt_loop_parks_the_vcpu_and_restart_keeps_counts)
{
	struct fake_guest g;
	struct ghcb_vcpu v;

	registered(&g, &v);
	event(&g, &v, GHCB_EVENT_AP_HLT_LOOP, 0, 0, GHCB_PROTOCOL_VERSION);
	struct ghcb_env env = env_of(&g);

	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_AP_HLT);
	EXPECT_EQ(v.count.ap_hlt_loops, 1U);
	EXPECT_EQ(g.ap_calls, 0U);
	EXPECT_EQ(g.nmi_calls, 0U);
	/* (An NMI_COMPLETE, to see its count kept below.) */
	event(&g, &v, GHCB_EVENT_NMI_COMPLETE, 0, 0, GHCB_PROTOCOL_VERSION);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_RESUME);
	/* Not marked valid: refused, not counted. */
	event(&g, &v, GHCB_EVENT_AP_HLT_LOOP, 0, 0, GHCB_PROTOCOL_VERSION);
	g.ghcb[GHCB_VALID_BITMAP_OFF + GHCB_SW_EXIT_INFO1_OFF / 64U] &=
		(uint8_t) ~(1U << (GHCB_SW_EXIT_INFO1_OFF / 8U % 8U));
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_REFUSED);
	EXPECT_EQ(v.count.ap_hlt_loops, 1U);
	/* The CPU's next vCPU starts with no GHCB registered and the GHCB MSR 0, and the counts
	 * of the one before stay. */
	ghcb_vcpu_restart(&v);
	EXPECT_EQ(v.ghcb_gpa, 0U);
	EXPECT_EQ(ghcb_msr_read(&v), 0U);
	EXPECT_TRUE(ghcb_unused(&v));
	EXPECT_EQ(v.count.ap_hlt_loops, 1U);
	EXPECT_EQ(v.count.nmi_completes, 1U);
	event(&g, &v, GHCB_EVENT_AP_HLT_LOOP, 0, 0, GHCB_PROTOCOL_VERSION);
	EXPECT_EQ(ghcb_vmgexit(&v, &env), GHCB_REFUSED);
}
