/* The machine model's PVALIDATE, RMPADJUST and access rules, as the architecture gives
 * them. */
#include "helpers.h"

#define MEM (32ULL << 20)

TEST(rmp_launch_state)
{
	struct sim_machine *m = t_machine(MEM, 2);
	struct rmp_entry r = t_rmp(m, SIM_SVSM_BASE + 0x10000);

	EXPECT_TRUE(r.assigned && r.validated && !r.vmsa);
	EXPECT_EQ(r.perms[1] | r.perms[2] | r.perms[3], 0);
	r = t_rmp(m, SIM_VMSA_BASE + PAGE_SIZE);
	EXPECT_TRUE(r.validated && r.vmsa);
	r = t_rmp(m, 0x200000);
	EXPECT_TRUE(r.assigned && !r.validated && !r.size_2m);
	r = t_rmp(m, SIM_CAA_BASE + PAGE_SIZE);
	EXPECT_TRUE(r.validated);
	EXPECT_EQ(r.perms[2], 0xF);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(rmp_pvalidate_only_at_vmpl0)
{
	struct sim_machine *m = t_machine(MEM, 1);

	EXPECT_EQ(sim_pvalidate(m, 2, gpa_init(0x200000), PAGE_4K, true), RMP_FAULT);
	EXPECT_EQ(sim_pvalidate(m, 1, gpa_init(0x200000), PAGE_4K, true), RMP_FAULT);
	EXPECT_TRUE(!t_rmp(m, 0x200000).validated);
	EXPECT_EQ(sim_pvalidate(m, 0, gpa_init(0x200800), PAGE_4K, true), RMP_FAIL_INPUT);
	EXPECT_EQ(sim_pvalidate(m, 0, gpa_init(0x200000), PAGE_2M, true), RMP_FAIL_SIZEMISMATCH);
	EXPECT_EQ(sim_pvalidate(m, 0, gpa_init(0x200000), PAGE_4K, true), RMP_SUCCESS);
	EXPECT_EQ(sim_pvalidate(m, 0, gpa_init(0x200000), PAGE_4K, true), RMP_NO_UPDATE);
	EXPECT_EQ(sim_pvalidate(m, 0, gpa_init(MEM), PAGE_4K, true), RMP_FAULT);
	sim_destroy(m);
}

TEST(rmp_rmpadjust_rules)
{
	struct sim_machine *m = t_machine(MEM, 1);
	gpa_t p = gpa_init(0x200000);

	/* Not validated yet. */
	EXPECT_EQ(sim_rmpadjust(m, 0, p, PAGE_4K, 2, 0xF, false), RMP_FAIL_INPUT);
	EXPECT_EQ(sim_pvalidate(m, 0, p, PAGE_4K, true), RMP_SUCCESS);
	/* Only towards a less privileged VMPL. */
	EXPECT_EQ(sim_rmpadjust(m, 0, p, PAGE_4K, 0, 0xF, false), RMP_FAIL_PERMISSION);
	EXPECT_EQ(sim_rmpadjust(m, 0, p, PAGE_4K, 4, 0xF, false), RMP_FAIL_PERMISSION);
	EXPECT_EQ(sim_rmpadjust(m, 0, p, PAGE_4K, 1, 0x3, false), RMP_SUCCESS);
	EXPECT_EQ(sim_rmpadjust(m, 1, p, PAGE_4K, 1, 0x3, false), RMP_FAIL_PERMISSION);
	/* VMPL1 cannot grant more than it has. */
	EXPECT_EQ(sim_rmpadjust(m, 1, p, PAGE_4K, 2, 0x7, false), RMP_FAIL_PERMISSION);
	EXPECT_EQ(sim_rmpadjust(m, 1, p, PAGE_4K, 2, 0x1, false), RMP_SUCCESS);
	EXPECT_EQ(t_rmp(m, 0x200000).perms[2], 0x1);
	/* The VMSA bit is ignored below VMPL0. */
	EXPECT_EQ(sim_rmpadjust(m, 1, p, PAGE_4K, 2, 0x1, true), RMP_SUCCESS);
	EXPECT_TRUE(!t_rmp(m, 0x200000).vmsa);
	EXPECT_EQ(sim_rmpadjust(m, 0, p, PAGE_4K, 2, 0x1, true), RMP_SUCCESS);
	EXPECT_TRUE(t_rmp(m, 0x200000).vmsa);
	EXPECT_EQ(sim_rmpadjust(m, 0, p, PAGE_2M, 2, 0x1, false), RMP_FAIL_SIZEMISMATCH);
	EXPECT_EQ(sim_rmpadjust(m, 0, p, PAGE_4K, 2, 0x10, false), RMP_FAIL_INPUT);
	sim_destroy(m);
}

TEST(rmp_guest_access_checked_and_faults_change_nothing)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t v = 0x55;

	EXPECT_TRUE(sim_guest_write(m, 2, gpa_init(0x200000), &v, 8) != NULL);
	EXPECT_TRUE(sim_guest_read(m, 2, gpa_init(SIM_SVSM_BASE), &v, 8) != NULL);
	EXPECT_TRUE(sim_guest_write(m, 2, gpa_init(SIM_SECRETS), &v, 8) != NULL);
	EXPECT_EQ(m->mem[0x200000], 0);
	t_validate_4k(m, 0x200000, 1);
	/* Read-only for VMPL2: reads work, writes fault and change nothing. */
	EXPECT_EQ(sim_rmpadjust(m, 0, gpa_init(0x200000), PAGE_4K, 2, RMP_PERM_READ, false),
		  RMP_SUCCESS);
	EXPECT_TRUE(sim_guest_read(m, 2, gpa_init(0x200000), &v, 8) == NULL);
	EXPECT_TRUE(sim_guest_write(m, 2, gpa_init(0x200000), &v, 8) != NULL);
	EXPECT_EQ(m->mem[0x200000], 0);
	/* An access that straddles into an invalid page faults as a whole. */
	uint8_t buf[16] = { 1 };

	EXPECT_TRUE(sim_guest_write(m, 2, gpa_init(SIM_CAA_BASE + 0xFF8), buf, 16) != NULL);
	EXPECT_EQ(m->mem[SIM_CAA_BASE + 0xFF8], 0);
	sim_destroy(m);
}

TEST(rmp_host_psc_and_psmash)
{
	struct sim_machine *m = t_machine(MEM, 1);

	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x400000), PAGE_2M, PSC_PRIVATE) == NULL);
	EXPECT_TRUE(t_rmp(m, 0x5FF000).size_2m);
	EXPECT_EQ(sim_pvalidate(m, 0, gpa_init(0x400000), PAGE_2M, true), RMP_SUCCESS);
	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x400000), PAGE_2M, PSC_PSMASH) == NULL);
	struct rmp_entry r = t_rmp(m, 0x401000);

	EXPECT_TRUE(!r.size_2m && r.validated);
	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x401000), PAGE_4K, PSC_SHARED) == NULL);
	r = t_rmp(m, 0x401000);
	EXPECT_TRUE(!r.assigned && !r.validated);
	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x401800), PAGE_4K, PSC_SHARED) != NULL);
	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x401000), PAGE_4K, PSC_PSMASH) != NULL);
	sim_destroy(m);
}
