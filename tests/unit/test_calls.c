/* REMAP_CA, CREATE/DELETE_VCPU, DEPOSIT/WITHDRAW_MEM, QUERY_PROTOCOL, CONFIGURE_VTOM,
 * dispatch errors and the request recognition. */
#include <string.h>

#include <donjon/svsm.h>

#include "helpers.h"

#define MEM (32ULL << 20)

TEST(remap_ca_moves_the_calling_area)
{
	struct sim_machine *m = t_machine(MEM, 2);

	t_validate_4k(m, 0x200000, 2);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(gpa_val(svsm_vcpu_caa(0)), 0x200000);
	EXPECT_EQ(gpa_val(m->vcpus[0].caa), 0x200000);
	/* Calls now go through the new area; the old one is plain guest memory again. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_QUERY_PROTOCOL), 1, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), SIM_CAA_BASE, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(gpa_val(svsm_vcpu_caa(0)), SIM_CAA_BASE);
	sim_destroy(m);
}

TEST(remap_ca_rejections_change_nothing)
{
	struct sim_machine *m = t_machine(MEM, 2);
	struct svsm_regs out;

	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), 0x200008, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), 0x200000, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS); /* not validated */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), SIM_SVSM_BASE + 0x9000, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), SIM_VMSA_BASE, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), SIM_CAA_BASE + PAGE_SIZE, 0, 0, &out),
		  SVSM_ERR_INVALID_ADDRESS); /* vCPU 1's */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_REMAP_CA), MEM, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(out.rcx, SIM_CAA_BASE + PAGE_SIZE);
	EXPECT_EQ(gpa_val(svsm_vcpu_caa(0)), SIM_CAA_BASE);
	EXPECT_EQ(gpa_val(svsm_vcpu_caa(1)), SIM_CAA_BASE + PAGE_SIZE);
	sim_destroy(m);
}

TEST(create_vcpu_then_run_it_then_delete)
{
	struct sim_machine *m = t_machine(MEM, 2);
	uint64_t vmsa = 0x201000, caa = 0x202000;

	t_validate_4k(m, 0x200000, 4);
	t_build_vmsa(m, vmsa);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, 1, NULL), SVSM_SUCCESS);
	struct rmp_entry r = t_rmp(m, vmsa);

	EXPECT_TRUE(r.vmsa);
	EXPECT_EQ(r.perms[1] | r.perms[3], 0);
	EXPECT_EQ(r.perms[2], RMP_PERM_READ);
	EXPECT_EQ(gpa_val(svsm_vcpu_vmsa(1)), vmsa);
	EXPECT_EQ(gpa_val(svsm_vcpu_caa(1)), caa);
	/* The guest can no longer change its VMSA, only read it (Linux reads SEV_FEATURES for
	 * AP_CREATION); the host can now run it. */
	uint64_t v = 0;

	EXPECT_TRUE(sim_guest_write(m, 2, gpa_init(vmsa), &v, 8) != NULL);
	EXPECT_TRUE(sim_guest_read(m, 2, gpa_init(vmsa + VMSA_SEV_FEATURES_OFF), &v, 8) == NULL);
	EXPECT_EQ(v, SEV_FEATURE_SNP_ACTIVE);
	EXPECT_TRUE(sim_host_ap_create(m, 1, gpa_init(vmsa)) == NULL);
	EXPECT_EQ(t_call(m, 1, CORE(SVSM_CORE_QUERY_PROTOCOL), 1, 0, 0, NULL), SVSM_SUCCESS);
	/* vCPU 0 deletes it: SVME cleared, page back to the guest. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DELETE_VCPU), vmsa, 0, 0, NULL), SVSM_SUCCESS);
	r = t_rmp(m, vmsa);
	EXPECT_TRUE(!r.vmsa && r.validated);
	EXPECT_EQ(r.perms[2], 0xF);
	EXPECT_EQ(t_read_u64(m, vmsa + VMSA_EFER_OFF) & EFER_SVME, 0);
	/* APIC ID 1's startup VMSA, still registered, is its current VMSA again; the host
	 * still runs the deleted one, which can no longer be entered. */
	EXPECT_EQ(gpa_val(svsm_vcpu_vmsa(1)), SIM_VMSA_BASE + PAGE_SIZE);
	EXPECT_EQ(gpa_val(svsm_vcpu_caa(1)), SIM_CAA_BASE + PAGE_SIZE);
	EXPECT_EQ(t_call(m, 1, CORE(SVSM_CORE_QUERY_PROTOCOL), 1, 0, 0, NULL), ~0ULL);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DELETE_VCPU), vmsa, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(create_vcpu_linux_replace_then_delete)
{
	struct sim_machine *m = t_machine(MEM, 2);

	t_validate_4k(m, 0x200000, 6);
	t_build_vmsa(m, 0x201000);
	t_build_vmsa(m, 0x203000);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), 0x201000, 0x202000, 1, NULL),
		  SVSM_SUCCESS);
	/* CPU re-online: a new VMSA with the same per-CPU calling area, then the old one
	 * goes. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), 0x203000, 0x202000, 1, NULL),
		  SVSM_SUCCESS);
	EXPECT_EQ(gpa_val(svsm_vcpu_vmsa(1)), 0x203000);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DELETE_VCPU), 0x201000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(gpa_val(svsm_vcpu_vmsa(1)), 0x203000);
	EXPECT_EQ(gpa_val(svsm_vcpu_caa(1)), 0x202000);
	EXPECT_TRUE(sim_host_ap_create(m, 1, gpa_init(0x203000)) == NULL);
	EXPECT_EQ(t_call(m, 1, CORE(SVSM_CORE_QUERY_PROTOCOL), 1, 0, 0, NULL), SVSM_SUCCESS);
	/* A vCPU that deletes its own VMSA gets no answer and stops. */
	struct svsm_regs regs = { .rax = CORE(SVSM_CORE_DELETE_VCPU), .rcx = 0x203000 };
	enum sim_call_status status = SIM_CALL_DONE;

	EXPECT_TRUE(sim_vcpu_call(m, 1, &regs, &status) == NULL);
	EXPECT_EQ(status, SIM_CALL_STOPPED);
	EXPECT_TRUE(!t_rmp(m, 0x203000).vmsa);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

struct start_log {
	unsigned calls;
	uint64_t vmsa;
	bool accept;
};

static bool t_start(void *ctx, gpa_t vmsa)
{
	struct start_log *l = ctx;

	l->calls++;
	l->vmsa = gpa_val(vmsa);
	return l->accept;
}

/* A vCPU call from a CPU that started creation seq of VMSA vmsa on APIC ID 1 and kept its
 * registers: call_pending set in the calling area, then the exit. */
static enum svsm_exit_result t_exit_as(struct sim_machine *m, uint64_t vmsa, uint64_t caa,
				       uint64_t seq, struct svsm_regs *regs)
{
	uint8_t flag = 1;

	t_write(m, caa, &flag, 1);
	return svsm_handle_exit(1, gpa_init(vmsa), seq, VMEXIT_VMGEXIT, regs);
}

TEST(each_vcpu_creation_starts_once_and_only_its_own_cpu_calls)
{
	struct sim_machine *m = t_machine(MEM, 2);
	uint64_t vmsa = 0x201000, caa = 0x202000;
	struct start_log log = { .accept = false };

	t_validate_4k(m, 0x200000, 4);
	t_build_vmsa(m, vmsa);
	uint64_t startup = svsm_vcpu_seq(1);

	EXPECT_TRUE(startup != 0);
	EXPECT_EQ(svsm_vcpu_seq(2), 0); /* no such vCPU */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, 1, NULL), SVSM_SUCCESS);
	uint64_t first = svsm_vcpu_seq(1);

	EXPECT_TRUE(first != 0 && first != startup);
	/* The startup creation is no longer current; a start the platform refuses leaves the
	 * creation startable. */
	EXPECT_TRUE(!svsm_vcpu_start(1, startup, t_start, &log));
	EXPECT_EQ(log.calls, 0);
	EXPECT_TRUE(!svsm_vcpu_start(1, first, t_start, &log));
	EXPECT_EQ(log.calls, 1);
	log.accept = true;
	EXPECT_TRUE(svsm_vcpu_start(1, first, t_start, &log));
	EXPECT_EQ(log.calls, 2);
	EXPECT_EQ(log.vmsa, vmsa);
	EXPECT_TRUE(!svsm_vcpu_start(1, first, t_start, &log));
	EXPECT_TRUE(!svsm_vcpu_start(0, first, t_start, &log));
	EXPECT_EQ(log.calls, 2);
	/* Its CPU's calls are answered. */
	struct svsm_regs regs = { .rax = CORE(SVSM_CORE_QUERY_PROTOCOL), .rcx = 1 };

	EXPECT_EQ(t_exit_as(m, vmsa, caa, first, &regs), SVSM_EXIT_RESUME);
	EXPECT_EQ(regs.rax, SVSM_SUCCESS);
	/* Deleted and created again in the same page: a new creation. The CPU that ran the
	 * first one still has its registers; its exit is not a call of the second. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DELETE_VCPU), vmsa, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(svsm_vcpu_seq(1), startup);
	t_build_vmsa(m, vmsa);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, 1, NULL), SVSM_SUCCESS);
	uint64_t second = svsm_vcpu_seq(1);

	EXPECT_TRUE(second != first && second != startup && second != 0);
	regs = (struct svsm_regs){ .rax = CORE(SVSM_CORE_DELETE_VCPU), .rcx = vmsa };
	EXPECT_EQ(t_exit_as(m, vmsa, caa, first, &regs), SVSM_EXIT_SPURIOUS);
	EXPECT_EQ(regs.rax, CORE(SVSM_CORE_DELETE_VCPU));
	EXPECT_EQ(m->mem[caa], 1);
	EXPECT_TRUE(t_rmp(m, vmsa).vmsa);
	EXPECT_TRUE(!svsm_vcpu_start(1, first, t_start, &log));
	EXPECT_TRUE(svsm_vcpu_start(1, second, t_start, &log));
	EXPECT_EQ(log.calls, 3);
	EXPECT_EQ(t_exit_as(m, vmsa, caa, second, &regs), SVSM_EXIT_VCPU_GONE);
	EXPECT_TRUE(!t_rmp(m, vmsa).vmsa);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(create_vcpu_rejections_restore_the_page)
{
	struct sim_machine *m = t_machine(MEM, 2);
	uint64_t vmsa = 0x201000, caa = 0x202000;
	uint64_t bad = 0;

	t_validate_4k(m, 0x200000, 4);
	t_build_vmsa(m, vmsa);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa + 8, caa, 1, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, 2, NULL),
		  SVSM_ERR_INVALID_PARAMETER); /* unknown APIC ID */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, vmsa, 1, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), SIM_SVSM_BASE + 0x9000, caa, 1, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, SIM_CAA_BASE, 1, NULL),
		  SVSM_ERR_INVALID_ADDRESS); /* vCPU 0's calling area */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, 0x300000, 1, NULL),
		  SVSM_ERR_INVALID_ADDRESS); /* not validated */
	/* VMSA contents: VMPL0, SVME clear, other SEV features. */
	m->mem[vmsa + VMSA_VMPL_OFF] = 0;
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, 1, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	m->mem[vmsa + VMSA_VMPL_OFF] = 1;
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, 1, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	t_build_vmsa(m, vmsa);
	t_write_u64(m, vmsa + VMSA_EFER_OFF, 0);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, 1, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	t_build_vmsa(m, vmsa);
	t_write_u64(m, vmsa + VMSA_SEV_FEATURES_OFF, SIM_SEV_FEATURES | (1ULL << 14));
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, 1, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	struct rmp_entry r = t_rmp(m, vmsa);

	EXPECT_TRUE(!r.vmsa);
	EXPECT_EQ(r.perms[1], 0xF);
	EXPECT_EQ(r.perms[2], 0xF);
	EXPECT_TRUE(sim_guest_write(m, 2, gpa_init(vmsa), &bad, 8) == NULL);
	EXPECT_EQ(gpa_val(svsm_vcpu_vmsa(1)), SIM_VMSA_BASE + PAGE_SIZE);
	/* The startup VMSAs are the SVSM's: the guest cannot delete them. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DELETE_VCPU), SIM_VMSA_BASE + PAGE_SIZE, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DELETE_VCPU), 0x201800, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(deposit_and_withdraw_memory)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t caa = SIM_CAA_BASE;
	uint64_t e[3] = { 0x201000, 0x202000, 0x203000 };
	uint64_t v = 0;

	t_validate_4k(m, 0x200000, 4);
	t_write_u64(m, 0x201000, 0xDEADBEEF);
	t_list(m, 0x200000, 0, e, 3);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200002), 3);
	EXPECT_EQ(t_rmp(m, 0x202000).perms[2], 0);
	EXPECT_TRUE(sim_guest_read(m, 2, gpa_init(0x202000), &v, 8) != NULL);
	EXPECT_EQ(m->mem[caa + SVSM_CA_MEM_AVAILABLE_OFF], 1);
	/* Depositing a page twice, SVSM memory, a 2M range that is not validated, reserved
	 * bits. */
	t_list(m, 0x200000, 0, e, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	/* ... and the page that holds the list itself: its `next` would land in the pool. */
	uint64_t badlist[5] = { SIM_SVSM_BASE + 0x9000, 0x400001, 0x204000 | 0x4, caa, 0x200000 };

	for (unsigned i = 0; i < 5; i++) {
		t_list(m, 0x200000, 0, &badlist[i], 1);
		EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL),
			  i == 2 ? SVSM_ERR_INVALID_PARAMETER : SVSM_ERR_INVALID_ADDRESS);
		EXPECT_EQ(t_read_u16(m, 0x200002), 0);
	}
	EXPECT_EQ(t_rmp(m, 0x200000).perms[2], 0xF);
	/* Withdraw two (the lowest first), then the last. Pages come back zeroed and
	 * accessible. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200FE8, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200FE8), 2);
	EXPECT_EQ(t_read_u64(m, 0x200FF0), 0x201000);
	EXPECT_EQ(t_read_u64(m, 0x200FF8), 0x202000);
	EXPECT_EQ(t_rmp(m, 0x201000).perms[2], 0xF);
	EXPECT_EQ(t_read_u64(m, 0x201000), 0);
	EXPECT_EQ(m->mem[caa + SVSM_CA_MEM_AVAILABLE_OFF], 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200000), 1);
	EXPECT_EQ(t_read_u64(m, 0x200008), 0x203000);
	EXPECT_EQ(m->mem[caa + SVSM_CA_MEM_AVAILABLE_OFF], 0);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200000), 0);
	/* No room for one entry; misaligned; not the guest's to write. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200FF8, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200004, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), SIM_SVSM_BASE, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

/* The pool keeps nothing in the deposited pages: whatever writes into one (here the
 * machine itself, as a CPU with a stale translation did on the native platform) cannot
 * make WITHDRAW_MEM hand out another page. */
TEST(withdraw_trusts_nothing_stored_in_deposited_pages)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e[2] = { 0x201000, 0x202000 };

	t_validate_4k(m, 0x200000, 3);
	t_list(m, 0x200000, 0, e, 2);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t secrets = SIM_SECRETS;

		memcpy(m->mem + e[i], &secrets, sizeof(secrets));
	}
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200000), 2);
	EXPECT_EQ(t_read_u64(m, 0x200008), e[0]);
	EXPECT_EQ(t_read_u64(m, 0x200010), e[1]);
	EXPECT_EQ(t_read_u64(m, e[0]), 0);
	EXPECT_EQ(t_rmp(m, SIM_SECRETS).perms[2], 0);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200000), 0);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

/* A 2M entry deposits 512 pages validated at 4K, all or none; memory validated as one 2M
 * page cannot be handed back 4K at a time, so it is a request the SVSM cannot support. */
TEST(deposit_2m_entries)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e = 0x400000 | PAGE_2M;
	uint64_t pval = t_pval(0x600000, true, true, false);
	struct svsm_regs out;

	t_validate_4k(m, 0x200000, 1);
	t_validate_4k(m, 0x400000, 255);
	t_validate_4k(m, 0x4FF000, 256);
	/* One page of the range is not validated: nothing is deposited. */
	t_list(m, 0x200000, 0, &e, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_rmp(m, 0x400000).perms[2], 0xF);
	t_validate_4k(m, 0x5FF000, 1);
	t_list(m, 0x200000, 0, &e, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200002), 1);
	EXPECT_EQ(t_rmp(m, 0x400000).perms[2], 0);
	EXPECT_EQ(t_rmp(m, 0x5FF000).perms[2], 0);
	/* A 2M page, validated as such (the host made the RMP entry 2M). */
	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x600000), PAGE_2M, PSC_PRIVATE) == NULL);
	t_list(m, 0x200000, 0, &pval, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	e = 0x600000 | PAGE_2M;
	t_list(m, 0x200000, 0, &e, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL),
		  SVSM_ERR_INVALID_REQUEST);
	e = 0x601000;
	t_list(m, 0x200000, 0, &e, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL),
		  SVSM_ERR_INVALID_REQUEST);
	EXPECT_EQ(t_rmp(m, 0x600000).perms[2], 0xF);
	/* WITHDRAW hands the 512 pages back, 511 at most per call, lowest first. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200000, 0, 0, &out), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200000), 511);
	EXPECT_EQ(t_read_u64(m, 0x200008), 0x400000);
	EXPECT_EQ(t_read_u64(m, 0x200FF8), 0x5FE000);
	EXPECT_EQ(t_rmp(m, 0x5FE000).perms[2], 0xF);
	EXPECT_EQ(t_rmp(m, 0x5FF000).perms[2], 0);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_WITHDRAW_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200000), 1);
	EXPECT_EQ(t_read_u64(m, 0x200008), 0x5FF000);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

TEST(query_protocol_and_configure_vtom)
{
	struct sim_machine *m = t_machine(MEM, 1);
	struct svsm_regs out;

	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_QUERY_PROTOCOL), 1, 0, 0, &out), SVSM_SUCCESS);
	EXPECT_EQ(out.rcx, 0x100000001ULL);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_QUERY_PROTOCOL), 2, 0, 0, &out), SVSM_SUCCESS);
	EXPECT_EQ(out.rcx, 0);
	/* The attestation protocol, version 1 only; the vTPM protocol is not offered. */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_QUERY_PROTOCOL), 0x100000001ULL, 0, 0, &out),
		  SVSM_SUCCESS);
	EXPECT_EQ(out.rcx, 0x100000001ULL);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_QUERY_PROTOCOL), 0x100000002ULL, 0, 0, &out),
		  SVSM_SUCCESS);
	EXPECT_EQ(out.rcx, 0);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_QUERY_PROTOCOL), 0x200000001ULL, 0, 0, &out),
		  SVSM_SUCCESS);
	EXPECT_EQ(out.rcx, 0);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CONFIGURE_VTOM), 1, 5, 6, &out), SVSM_SUCCESS);
	EXPECT_EQ(out.rcx, 0);
	EXPECT_EQ(out.rdx, 5);
	EXPECT_EQ(out.r8, 6);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CONFIGURE_VTOM), 3, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CONFIGURE_VTOM), 0x20, 0, 0, NULL),
		  SVSM_ERR_INVALID_PARAMETER);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CONFIGURE_VTOM), 0x100002, 0, 0, NULL),
		  SVSM_ERR_INVALID_REQUEST);
	sim_destroy(m);
}

TEST(dispatch_errors_are_zero_extended)
{
	struct sim_machine *m = t_machine(MEM, 1);
	struct svsm_regs out;

	EXPECT_EQ(t_call(m, 0, CORE(8), 0, 0, 0, &out), SVSM_ERR_UNSUPPORTED_CALL);
	EXPECT_EQ(out.rax >> 32, 0);
	EXPECT_EQ(t_call(m, 0, CALL(SVSM_PROTOCOL_VTPM, 0), 0, 0, 0, NULL),
		  SVSM_ERR_UNSUPPORTED_PROTOCOL);
	EXPECT_EQ(t_call(m, 0, CALL(SVSM_PROTOCOL_ATTEST, 2), 0, 0, 0, &out),
		  SVSM_ERR_UNSUPPORTED_CALL);
	EXPECT_EQ(out.rax >> 32, 0);
	EXPECT_EQ(t_call(m, 0, CALL(0xFFFFFFFFU, 6), 0, 0, 0, NULL), SVSM_ERR_UNSUPPORTED_PROTOCOL);
	EXPECT_EQ(t_call(m, 0, CORE(0xFFFFFFFFU), 0, 0, 0, NULL), SVSM_ERR_UNSUPPORTED_CALL);
	sim_destroy(m);
}

TEST(request_recognition)
{
	struct sim_machine *m = t_machine(MEM, 2);
	struct svsm_regs regs = { .rax = CORE(SVSM_CORE_QUERY_PROTOCOL), .rcx = 1 };
	uint8_t flag = 2;

	/* call_pending = 2 is a reserved value. */
	t_write(m, SIM_CAA_BASE, &flag, 1);
	EXPECT_EQ(svsm_handle_exit(0, gpa_init(SIM_VMSA_BASE), 0, VMEXIT_VMGEXIT, &regs),
		  SVSM_EXIT_RESUME);
	EXPECT_EQ(regs.rax, SVSM_ERR_INVALID_FORMAT);
	EXPECT_EQ(m->mem[SIM_CAA_BASE], 0);
	/* Nothing pending, another exit code, a VMSA run on the wrong CPU, an unknown
	 * VMSA: not requests; registers untouched. */
	regs.rax = CORE(SVSM_CORE_QUERY_PROTOCOL);
	EXPECT_EQ(svsm_handle_exit(0, gpa_init(SIM_VMSA_BASE), 0, VMEXIT_VMGEXIT, &regs),
		  SVSM_EXIT_SPURIOUS);
	flag = 1;
	t_write(m, SIM_CAA_BASE, &flag, 1);
	EXPECT_EQ(svsm_handle_exit(0, gpa_init(SIM_VMSA_BASE), 0, 0x400, &regs),
		  SVSM_EXIT_SPURIOUS);
	EXPECT_EQ(svsm_handle_exit(1, gpa_init(SIM_VMSA_BASE), 0, VMEXIT_VMGEXIT, &regs),
		  SVSM_EXIT_SPURIOUS);
	EXPECT_EQ(svsm_handle_exit(0, gpa_init(0x200000), 0, VMEXIT_VMGEXIT, &regs),
		  SVSM_EXIT_SPURIOUS);
	EXPECT_EQ(regs.rax, CORE(SVSM_CORE_QUERY_PROTOCOL));
	EXPECT_EQ(m->mem[SIM_CAA_BASE], 1);
	sim_destroy(m);
}

TEST(guest_secrets_page_announces_the_svsm)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint8_t page[PAGE_SIZE];
	uint8_t zero[32] = { 0 };

	EXPECT_TRUE(sim_guest_read(m, 2, gpa_init(SIM_GUEST_SECRETS), page, sizeof(page)) == NULL);
	EXPECT_EQ(*(uint64_t *)&page[SECRETS_SVSM_BASE_OFF], SIM_SVSM_BASE);
	EXPECT_EQ(*(uint64_t *)&page[SECRETS_SVSM_SIZE_OFF], SIM_SVSM_SIZE);
	EXPECT_EQ(*(uint64_t *)&page[SECRETS_SVSM_CAA_OFF], SIM_CAA_BASE);
	EXPECT_EQ(*(uint32_t *)&page[SECRETS_SVSM_MAX_VERSION_OFF], 1);
	EXPECT_EQ(page[SECRETS_SVSM_GUEST_VMPL_OFF], 2);
	/* VMPCK0 and VMPCK1 belong to more privileged VMPLs. */
	EXPECT_MEM(&page[SECRETS_VMPCK_OFF(0)], zero, 32);
	EXPECT_MEM(&page[SECRETS_VMPCK_OFF(1)], zero, 32);
	EXPECT_MEM(&page[SECRETS_VMPCK_OFF(2)], m->psp.vmpck[2], 32);
	EXPECT_MEM(&page[SECRETS_VMPCK_OFF(3)], m->psp.vmpck[3], 32);
	sim_destroy(m);
}

TEST(deposit_partial_progress_reports_next)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e[3] = { 0x201000, SIM_SVSM_BASE + 0x9000, 0x202000 };

	t_validate_4k(m, 0x200000, 3);
	t_list(m, 0x200000, 0, e, 3);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL),
		  SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(t_read_u16(m, 0x200002), 1);
	EXPECT_EQ(t_rmp(m, 0x201000).perms[2], 0);
	EXPECT_EQ(t_rmp(m, 0x202000).perms[2], 0xF);
	/* The guest skips the bad entry and goes on from next + 1. */
	t_list(m, 0x200000, 2, e, 3);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200002), 3);
	EXPECT_EQ(t_rmp(m, 0x202000).perms[2], 0);
	EXPECT_EQ(m->mem[SIM_CAA_BASE + SVSM_CA_MEM_AVAILABLE_OFF], 1);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

/* Five 2M ranges (10 MiB) are more than one call deposits (8 MiB): INCOMPLETE after the
 * fourth, and the identical call finishes the list. */
TEST(deposit_incomplete_budget)
{
	struct sim_machine *m = t_machine(MEM, 1);
	uint64_t e[5];

	t_validate_4k(m, 0x200000, 1);
	for (unsigned i = 0; i < 5; i++) {
		uint64_t base = 0xC00000 + i * PAGE_SIZE_2M;

		t_validate_4k(m, base, 256);
		t_validate_4k(m, base + 256 * PAGE_SIZE, 256);
		e[i] = base | PAGE_2M;
	}
	t_list(m, 0x200000, 0, e, 5);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL),
		  SVSM_ERR_INCOMPLETE);
	EXPECT_EQ(t_read_u16(m, 0x200002), 4);
	EXPECT_EQ(t_rmp(m, 0xC00000 + 4 * PAGE_SIZE_2M - PAGE_SIZE).perms[2], 0);
	EXPECT_EQ(t_rmp(m, 0xC00000 + 4 * PAGE_SIZE_2M).perms[2], 0xF);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), 0x200000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_read_u16(m, 0x200002), 5);
	EXPECT_EQ(t_rmp(m, 0xC00000 + 5 * PAGE_SIZE_2M - PAGE_SIZE).perms[2], 0);
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

/* A VMPL3 vCPU that deletes a VMPL3 VMSA which VMPL2 built in its own page gets nothing
 * out of it: the page goes back with the rights it had before CREATE_VCPU (VMPL2's), so
 * VMPL3 cannot, say, move its calling area there and put lists in it. */
TEST(delete_vcpu_gives_the_page_back_as_it_was)
{
	struct sim_machine *m = t_machine(MEM, 2);
	uint64_t v1 = 0x201000, ca = 0x202000, v2 = 0x203000;
	uint8_t vmpl3 = 3;

	t_validate_4k(m, 0x200000, 4);
	t_build_vmsa(m, v1);
	t_build_vmsa(m, v2);
	t_write(m, v1 + VMSA_VMPL_OFF, &vmpl3, 1);
	t_write(m, v2 + VMSA_VMPL_OFF, &vmpl3, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), v1, ca, 1, NULL), SVSM_SUCCESS);
	/* A second VMSA for APIC ID 1, with the same calling area (Linux's replacement). */
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), v2, ca, 1, NULL), SVSM_SUCCESS);
	/* VMPL2 lets VMPL3 use the calling area (its own RMPADJUST), and the host runs the
	 * first VMSA. */
	EXPECT_EQ(sim_rmpadjust(m, 2, gpa_init(ca), PAGE_4K, 3, RMP_PERM_ALL, false), RMP_SUCCESS);
	EXPECT_TRUE(sim_host_ap_create(m, 1, gpa_init(v1)) == NULL);
	EXPECT_EQ(t_call(m, 1, CORE(SVSM_CORE_DELETE_VCPU), v2, 0, 0, NULL), SVSM_SUCCESS);
	struct rmp_entry e = t_rmp(m, v2);

	EXPECT_TRUE(!e.vmsa && e.validated);
	EXPECT_EQ(e.perms[2], RMP_PERM_ALL);
	EXPECT_EQ(e.perms[3], 0);
	EXPECT_EQ(t_call(m, 1, CORE(SVSM_CORE_REMAP_CA), v2, 0, 0, NULL), SVSM_ERR_INVALID_ADDRESS);
	EXPECT_EQ(gpa_val(svsm_vcpu_caa(1)), ca);
	sim_destroy(m);
}

/* svsm_stats counts from launch: each call by protocol and number, the failures, the pages
 * PVALIDATE changed (a 2M entry as 512) and the vCPUs created and deleted. */
TEST(stats_count_calls_pages_and_vcpus)
{
	struct sim_machine *m = t_machine(MEM, 2);
	struct svsm_stats s;
	uint64_t caa0 = gpa_val(svsm_vcpu_caa(0));
	uint64_t big = t_pval(0x400000, true, true, false);

	svsm_stats_get(&s);
	EXPECT_EQ(s.pages_validated + s.pages_rescinded + s.failed_calls + s.vcpus_created, 0U);
	EXPECT_EQ(s.core_calls[SVSM_CORE_PVALIDATE] + s.other_calls, 0U);
	t_validate_4k(m, 0x200000, 4);
	EXPECT_TRUE(sim_host_psc(m, gpa_init(0x400000), PAGE_2M, PSC_PRIVATE) == NULL);
	t_list(m, caa0 + 8, 0, &big, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), caa0 + 8, 0, 0, NULL), SVSM_SUCCESS);
	/* Already validated: an error, and no page counted. */
	t_list(m, caa0 + 8, 0, &big, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), caa0 + 8, 0, 0, NULL),
		  SVSM_ERR_PVALIDATE_NO_CHANGE);
	uint64_t back = t_pval(0x203000, false, false, false);

	t_list(m, caa0 + 8, 0, &back, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), caa0 + 8, 0, 0, NULL), SVSM_SUCCESS);
	t_build_vmsa(m, 0x201000);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_CREATE_VCPU), 0x201000, 0x202000, 1, NULL),
		  SVSM_SUCCESS);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DELETE_VCPU), 0x201000, 0, 0, NULL), SVSM_SUCCESS);
	EXPECT_EQ(t_call(m, 0, (9ULL << 32) | 1U, 0, 0, 0, NULL), SVSM_ERR_UNSUPPORTED_PROTOCOL);
	EXPECT_EQ(t_call(m, 0, CORE(99), 0, 0, 0, NULL), SVSM_ERR_UNSUPPORTED_CALL);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_QUERY_PROTOCOL), 1ULL << 32 | 1U, 0, 0, NULL),
		  SVSM_SUCCESS);
	svsm_stats_get(&s);
	EXPECT_EQ(s.core_calls[SVSM_CORE_PVALIDATE], 4U);
	EXPECT_EQ(s.core_calls[SVSM_CORE_CREATE_VCPU], 1U);
	EXPECT_EQ(s.core_calls[SVSM_CORE_DELETE_VCPU], 1U);
	EXPECT_EQ(s.core_calls[SVSM_CORE_QUERY_PROTOCOL], 1U);
	EXPECT_EQ(s.core_calls[SVSM_CORE_REMAP_CA] + s.attest_calls[0] + s.attest_calls[1], 0U);
	EXPECT_EQ(s.other_calls, 2U);
	EXPECT_EQ(s.failed_calls, 3U);
	EXPECT_EQ(s.pages_validated, 4U + 512U);
	EXPECT_EQ(s.pages_rescinded, 1U);
	EXPECT_EQ(s.vcpus_created, 1U);
	EXPECT_EQ(s.vcpus_deleted, 1U);
	sim_destroy(m);
	/* A new launch starts from zero. */
	m = t_machine(MEM, 1);
	svsm_stats_get(&s);
	EXPECT_EQ(s.core_calls[SVSM_CORE_PVALIDATE] + s.failed_calls + s.pages_validated, 0U);
	sim_destroy(m);
}
