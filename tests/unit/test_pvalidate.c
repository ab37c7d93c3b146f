/* SVSM_CORE_PVALIDATE: every path Linux and OVMF rely on, and every rejection, with the
 * state after each. */
#include <string.h>

#include "helpers.h"

#define MEM (64ULL << 20)
#define LIST(m) (gpa_val(svsm_vcpu_caa(0)) + 8U)

static uint64_t pvalidate(struct sim_machine *m, const uint64_t *e, uint16_t n, uint16_t next)
{
	t_list(m, LIST(m), next, e, n);
	return t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), LIST(m), 0, 0, NULL);
}

TEST(pvalidate_4k_validates_zeroes_and_grants)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e = t_pval(0x300000, false, true, false);

	memset(m->mem + 0x300000, 0xAB, PAGE_SIZE); /* the host's leftovers */
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 1);
	struct rmp_entry r = t_rmp(m, 0x300000);

	EXPECT_TRUE(r.validated && !r.size_2m && !r.vmsa);
	EXPECT_EQ(r.perms[1], 0xF);
	EXPECT_EQ(r.perms[2], 0xF);
	EXPECT_EQ(r.perms[3], 0x0);
	EXPECT_EQ(t_read_u64(m, 0x300000), 0);
	EXPECT_EQ(t_read_u64(m, 0x300FF8), 0);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(pvalidate_double_validation_is_no_change_unless_ignore_cf)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e = t_pval(0x300000, false, true, false);

	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	t_write_u64(m, 0x300000, 0x1122334455667788ULL);
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_ERR_PVALIDATE_NO_CHANGE);
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 0);
	/* Not zeroed again: the guest's data survives the repeated request. */
	EXPECT_EQ(t_read_u64(m, 0x300000), 0x1122334455667788ULL);
	e = t_pval(0x300000, false, true, true);
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u64(m, 0x300000), 0x1122334455667788ULL);
	sim_destroy(m);
}

TEST(pvalidate_rescind_revokes_then_invalidates)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e = t_pval(0x300000, false, true, false);

	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	e = t_pval(0x300000, false, false, false);
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	struct rmp_entry r = t_rmp(m, 0x300000);

	EXPECT_TRUE(!r.validated);
	EXPECT_EQ(r.perms[1] | r.perms[2] | r.perms[3], 0);
	uint64_t v = 0;

	EXPECT_TRUE(sim_guest_read(m, 2, gpa_init(0x300000), &v, 8) != NULL);
	/* Rescinding again: nothing changes, CF=1 reported. */
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_ERR_PVALIDATE_NO_CHANGE);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(pvalidate_2m_on_4k_rmp_is_sizemismatch_for_linux_fallback)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e[3] = { t_pval(0x300000, false, true, false), t_pval(0x400000, true, true, false),
			  t_pval(0x600000, false, true, false) };

	EXPECT_EQ(pvalidate(m, e, 3, 0), SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH);
	/* Entry 0 was done; next names the failing 2M entry; entry 2 untouched. */
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 1);
	EXPECT_TRUE(t_rmp(m, 0x300000).validated);
	EXPECT_TRUE(!t_rmp(m, 0x400000).validated);
	EXPECT_TRUE(!t_rmp(m, 0x600000).validated);
	/* Linux then skips the entry and calls again from next + 1. */
	t_list(m, LIST(m), 2, e, 3);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), LIST(m), 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 3);
	EXPECT_TRUE(t_rmp(m, 0x600000).validated);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(pvalidate_2m_after_host_assigns_2m)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e = t_pval(0x400000, true, true, false);

	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x400000), PAGE_2M, PSC_PRIVATE) == NULL);
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	for (uint64_t p = 0x400000; p < 0x600000; p += PAGE_SIZE) {
		struct rmp_entry r = t_rmp(m, p);

		EXPECT_TRUE(r.validated && r.size_2m);
		EXPECT_EQ(r.perms[2], 0xF);
	}
	/* A 4K rescind inside the validated 2M page: the RMP entry is 2M. */
	uint64_t e4 = t_pval(0x401000, false, false, false);

	EXPECT_EQ(pvalidate(m, &e4, 1, 0), SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH);
	EXPECT_EQ(t_rmp(m, 0x401000).perms[2], 0xF);
	e = t_pval(0x400000, true, false, false);
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	EXPECT_TRUE(!t_rmp(m, 0x5FF000).validated);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(pvalidate_refuses_svsm_memory_and_changes_nothing)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e[2] = { t_pval(SIM_SVSM_BASE + 0x5000, false, false, false),
			  t_pval(0x300000, false, true, false) };

	EXPECT_EQ(pvalidate(m, e, 2, 0), SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 0);
	EXPECT_TRUE(t_rmp(m, SIM_SVSM_BASE + 0x5000).validated);
	EXPECT_TRUE(!t_rmp(m, 0x300000).validated);
	/* A 2M entry that overlaps the SVSM range, and the SVSM's VMSA. */
	e[0] = t_pval(SIM_SVSM_BASE, true, true, false);
	EXPECT_EQ(pvalidate(m, e, 1, 0), SVSM_ERR_INVALID_ADDRESS);
	e[0] = t_pval(SIM_VMSA_BASE, false, false, true);
	EXPECT_EQ(pvalidate(m, e, 1, 0), SVSM_ERR_INVALID_ADDRESS);
	EXPECT_TRUE(t_rmp(m, SIM_VMSA_BASE).validated && t_rmp(m, SIM_VMSA_BASE).vmsa);
	/* The caller's own calling area cannot be rescinded either. */
	e[0] = t_pval(gpa_val(svsm_vcpu_caa(0)), false, false, false);
	EXPECT_EQ(pvalidate(m, e, 1, 0), SVSM_ERR_INVALID_ADDRESS);
	EXPECT_TRUE(t_rmp(m, gpa_val(svsm_vcpu_caa(0))).validated);
	/* Beyond guest memory. */
	e[0] = t_pval(MEM, false, true, false);
	EXPECT_EQ(pvalidate(m, e, 1, 0), SVSM_ERR_INVALID_ADDRESS);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(pvalidate_rejects_malformed_entries_and_lists)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e = t_pval(0x300000, false, true, false) | 0x10; /* reserved bit 4 */

	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_ERR_INVALID_PARAMETER);
	e = t_pval(0x300000, false, true, false) | 2; /* page size 2 */
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_ERR_INVALID_PARAMETER);
	e = t_pval(0x301000, true, true, false); /* 2M entry not 2M aligned */
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_ERR_INVALID_PARAMETER);
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 0);
	e = t_pval(0x300000, false, true, false);
	EXPECT_EQ(pvalidate(m, &e, 0, 0), SVSM_ERR_INVALID_PARAMETER); /* no entries */
	EXPECT_EQ(pvalidate(m, &e, 1, 1), SVSM_ERR_INVALID_PARAMETER); /* next == entries */
	/* The list's address: misaligned, and a list that crosses its page. */
	t_list(m, LIST(m), 0, &e, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), LIST(m) + 4, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	uint64_t caa = gpa_val(svsm_vcpu_caa(0));

	t_list(m, caa + 0xFF0, 0, &e, 1);
	struct svsm_list_hdr hdr = { .entries = 2, .next = 0, .reserved = 0 };

	t_write(m, caa + 0xFF0, &hdr, sizeof(hdr));
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), caa + 0xFF0, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	/* A list in memory the guest cannot read: the SVSM's, or not validated. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), SIM_SVSM_BASE + 0x8000, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), 0x500000, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_TRUE(!t_rmp(m, 0x300000).validated);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(pvalidate_510_entries_and_incomplete_budget)
{
	struct sim_machine *m = t_machine(512ULL << 20, 1);
	uint64_t e[510];

	for (unsigned i = 0; i < 510; i++) {
		e[i] = t_pval(0x1000000 + i * PAGE_SIZE, false, true, false);
	}
	EXPECT_EQ(pvalidate(m, e, 510, 0), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 510);
	EXPECT_TRUE(t_rmp(m, 0x1000000 + 509 * PAGE_SIZE).validated);
	/* 40 2M pages (80 MiB) exceed the 64 MiB budget of one call. */
	for (unsigned i = 0; i < 40; i++) {
		uint64_t gpa = 0x4000000 + i * PAGE_SIZE_2M;

		EXPECT_TRUE(sim_host_psc(m, gpa_init(gpa), PAGE_2M, PSC_PRIVATE) == NULL);
		e[i] = t_pval(gpa, true, true, false);
	}
	EXPECT_EQ(pvalidate(m, e, 40, 0), SVSM_ERR_INCOMPLETE);
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 32);
	EXPECT_TRUE(t_rmp(m, 0x4000000 + 31 * PAGE_SIZE_2M).validated);
	EXPECT_TRUE(!t_rmp(m, 0x4000000 + 32 * PAGE_SIZE_2M).validated);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), LIST(m), 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, LIST(m) + 2), 40);
	EXPECT_TRUE(t_rmp(m, 0x4000000 + 39 * PAGE_SIZE_2M).validated);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(pvalidate_of_shared_page_is_invalid_address)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e = t_pval(0x300000, false, true, false);

	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x300000), PAGE_4K, PSC_SHARED) == NULL);
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_ERR_INVALID_ADDRESS);
	EXPECT_TRUE(!t_rmp(m, 0x300000).validated && !t_rmp(m, 0x300000).assigned);
	sim_destroy(m);
}

TEST(pvalidate_cannot_rescind_the_page_holding_its_list)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e = t_pval(0x300000, false, true, false);

	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	e = t_pval(0x300000, false, false, false);
	t_list(m, 0x300100, 0, &e, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), 0x300100, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_read_u16(m, 0x300102), 0);
	EXPECT_TRUE(t_rmp(m, 0x300000).validated);
	/* Nor the 2M page around it. */
	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x400000), PAGE_2M, PSC_PRIVATE) == NULL);
	e = t_pval(0x400000, true, true, false);
	EXPECT_EQ(pvalidate(m, &e, 1, 0), SVSM_SUCCESS);
	e = t_pval(0x400000, true, false, false);
	t_list(m, 0x5FF000, 0, &e, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), 0x5FF000, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_TRUE(t_rmp(m, 0x400000).validated);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}
