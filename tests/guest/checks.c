/* The protocol test guest's checks: every core call the way Linux and OVMF make them,
 * then the hostile cases, on one vCPU or several. */
#include "guest.h"

#include "arch/x86/cpu.h"

#define AP_AREA (SCRATCH + 0x100000ULL) /* per created vCPU: a data page, VMSA, CA, stack */
#define AP_AREA_SIZE 0x4000ULL

static void test_discovery(void)
{
	uint64_t s = GUEST_SECRETS;

	CHECK(read64(s + SECRETS_SVSM_SIZE_OFF) == NATIVE_SVSM_SIZE);
	CHECK(read64(s + SECRETS_SVSM_BASE_OFF) == 0);
	CHECK(read64(s + SECRETS_SVSM_CAA_OFF) == GUEST_CAA(0));
	CHECK((uint32_t)read64(s + SECRETS_SVSM_MAX_VERSION_OFF) == 1U);
	CHECK(ptr(s)[SECRETS_SVSM_GUEST_VMPL_OFF] == 2U);
	caa = read64(s + SECRETS_SVSM_CAA_OFF);
}

/* The same call through plain VMMCALL (0F 01 D9), which Donjon resumes 3 bytes on, where
 * the VMGEXIT encoding (F3 0F 01 D9) takes 4. */
static uint64_t query_with_plain_vmmcall(void)
{
	uint64_t rax = SVSM_CORE_QUERY_PROTOCOL, rcx = 1, rdx = 0;

	ptr(caa)[SVSM_CA_CALL_PENDING_OFF] = 1;
	__asm__ volatile("vmmcall" : "+a"(rax), "+c"(rcx), "+d"(rdx) : : "r8", "r9", "memory");
	uint8_t pending =
		__atomic_exchange_n(&ptr(caa)[SVSM_CA_CALL_PENDING_OFF], 0, __ATOMIC_SEQ_CST);

	return pending == 0U && rax == SVSM_SUCCESS ? rcx : 0;
}

static void test_query_protocol(void)
{
	struct result r = call(SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0);

	CHECK(r.completed && r.rax == SVSM_SUCCESS && r.rcx == 0x100000001ULL);
	r = call(SVSM_CORE_QUERY_PROTOCOL, ((uint64_t)SVSM_PROTOCOL_ATTEST << 32) | 1U, 0, 0);
	CHECK(r.completed && r.rax == SVSM_SUCCESS && r.rcx == 0x100000001ULL);
	/* The vTPM protocol only where Donjon runs a vTPM. */
	r = call(SVSM_CORE_QUERY_PROTOCOL, ((uint64_t)SVSM_PROTOCOL_VTPM << 32) | 1U, 0, 0);
	CHECK(r.completed && r.rax == SVSM_SUCCESS &&
	      r.rcx == (guest_has_vtpm() ? 0x100000001ULL : 0U));
	CHECK(query_with_plain_vmmcall() == 0x100000001ULL);
}

static void test_pvalidate_4k(void)
{
	CHECK(pvalidate(SCRATCH, false, true) == SVSM_SUCCESS);
	CHECK(list_next() == 1);
	CHECK(read64(SCRATCH) == 0 && read64(SCRATCH + 4088) == 0);
	write64(SCRATCH, 0x5EC2E7);
	CHECK(read64(SCRATCH) == 0x5EC2E7);
	CHECK(pvalidate(SCRATCH, false, true) == SVSM_ERR_PVALIDATE_NO_CHANGE);
	CHECK(read64(SCRATCH) == 0x5EC2E7);
	CHECK(pvalidate(SCRATCH, false, false) == SVSM_SUCCESS);
	CHECK(pvalidate(SCRATCH, false, false) == SVSM_ERR_PVALIDATE_NO_CHANGE);
}

/* Linux's fallback: a 2M entry on 4K RMP entries fails with FAIL_SIZEMISMATCH and
 * `next` names it; the guest then validates the range at 4K. */
static void test_pvalidate_2m_fallback(void)
{
	uint64_t base = SCRATCH + PAGE_SIZE_2M;
	uint64_t e[16];

	CHECK(pvalidate(base, true, true) == SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH);
	CHECK(list_next() == 0);
	for (unsigned i = 0; i < 16; i++) {
		e[i] = (base + i * PAGE_SIZE) | PVAL_ENTRY_VALIDATE;
	}
	CHECK(core(SVSM_CORE_PVALIDATE, list(e, 16, 0), 0, 0) == SVSM_SUCCESS);
	CHECK(list_next() == 16);
	write64(base + 15 * PAGE_SIZE, 1);
	CHECK(read64(base + 15 * PAGE_SIZE) == 1);
}

static void test_pvalidate_2m(void)
{
	CHECK(pvalidate(SCRATCH_2M, true, true) == SVSM_SUCCESS);
	write64(SCRATCH_2M + PAGE_SIZE_2M - 8, 42);
	CHECK(read64(SCRATCH_2M + PAGE_SIZE_2M - 8) == 42);
	/* A 4K rescind inside the 2M page is a size mismatch. */
	CHECK(pvalidate(SCRATCH_2M + PAGE_SIZE, false, false) ==
	      SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH);
	CHECK(pvalidate(SCRATCH_2M, true, false) == SVSM_SUCCESS);
}

static void test_hostile_requests(void)
{
	uint64_t e[2] = { DONJON_MEMORY | PVAL_ENTRY_VALIDATE, 0 };

	/* Donjon's memory (at 1 MiB and at 0), reserved bits, a list that crosses its page, a
	 * misaligned list, and a 2M entry that is not 2M aligned. */
	CHECK(core(SVSM_CORE_PVALIDATE, list(e, 1, 0), 0, 0) == SVSM_ERR_INVALID_ADDRESS);
	CHECK(pvalidate(0, false, false) == SVSM_ERR_INVALID_ADDRESS);
	e[0] = SCRATCH | PVAL_ENTRY_VALIDATE | 0x10U;
	CHECK(core(SVSM_CORE_PVALIDATE, list(e, 1, 0), 0, 0) == SVSM_ERR_INVALID_PARAMETER);
	write64(caa + 0xFF0, 2);
	CHECK(core(SVSM_CORE_PVALIDATE, caa + 0xFF0, 0, 0) == SVSM_ERR_INVALID_PARAMETER);
	CHECK(core(SVSM_CORE_PVALIDATE, caa + 12, 0, 0) == SVSM_ERR_INVALID_PARAMETER);
	CHECK(pvalidate(SCRATCH + PAGE_SIZE, true, true) == SVSM_ERR_INVALID_PARAMETER);
	/* Calls that are not there. */
	CHECK(call(((uint64_t)7 << 32), 0, 0, 0).rax == SVSM_ERR_UNSUPPORTED_PROTOCOL);
	CHECK(core(8, 0, 0, 0) == SVSM_ERR_UNSUPPORTED_CALL);
	CHECK(core(SVSM_CORE_CONFIGURE_VTOM, 0x100002, 0, 0) == SVSM_ERR_INVALID_REQUEST);
}

static void test_remap_ca(void)
{
	uint64_t new_caa = SCRATCH + 0x10000;
	uint64_t old_caa = caa;

	CHECK(pvalidate(new_caa, false, true) == SVSM_SUCCESS);
	CHECK(core(SVSM_CORE_REMAP_CA, new_caa + 8, 0, 0) == SVSM_ERR_INVALID_PARAMETER);
	CHECK(core(SVSM_CORE_REMAP_CA, DONJON_MEMORY, 0, 0) == SVSM_ERR_INVALID_ADDRESS);
	CHECK(core(SVSM_CORE_REMAP_CA, new_caa, 0, 0) == SVSM_SUCCESS);
	caa = new_caa;
	CHECK(call(SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0).rcx == 0x100000001ULL);
	CHECK(core(SVSM_CORE_REMAP_CA, old_caa, 0, 0) == SVSM_SUCCESS);
	caa = old_caa;
	CHECK(call(SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0).rcx == 0x100000001ULL);
}

static void test_deposit_withdraw(void)
{
	uint64_t e[2] = { SCRATCH + 0x20000, SCRATCH + 0x21000 };

	CHECK(pvalidate(e[0], false, true) == SVSM_SUCCESS);
	CHECK(pvalidate(e[1], false, true) == SVSM_SUCCESS);
	write64(e[0], 0xDEADBEEF);
	CHECK(core(SVSM_CORE_DEPOSIT_MEM, list(e, 2, 0), 0, 0) == SVSM_SUCCESS);
	CHECK(list_next() == 2);
	CHECK(ptr(caa)[SVSM_CA_MEM_AVAILABLE_OFF] == 1U);
	CHECK(core(SVSM_CORE_WITHDRAW_MEM, caa + 8, 0, 0) == SVSM_SUCCESS);
	CHECK((uint16_t)read64(caa + 8) == 2);
	/* The lowest page first. */
	CHECK(read64(caa + 16) == e[0] && read64(caa + 24) == e[1]);
	CHECK(ptr(caa)[SVSM_CA_MEM_AVAILABLE_OFF] == 0U);
	CHECK(read64(e[0]) == 0);
}

static void test_create_delete_vcpu(void)
{
	uint64_t vmsa = SCRATCH + 0x31000;

	CHECK(pvalidate(vmsa, false, true) == SVSM_SUCCESS);
	ptr(vmsa)[VMSA_VMPL_OFF] = 2;
	write64(vmsa + VMSA_EFER_OFF, EFER_SVME);
	write64(vmsa + VMSA_SEV_FEATURES_OFF, SEV_FEATURE_SNP_ACTIVE);
	uint32_t n = vcpu_count();

	/* No APIC ID past the vCPU count; a replacement VMSA for APIC ID 0 keeps the same
	 * calling area. */
	CHECK(core(SVSM_CORE_CREATE_VCPU, vmsa, caa, n) == SVSM_ERR_INVALID_PARAMETER);
	CHECK(core(SVSM_CORE_CREATE_VCPU, vmsa, DONJON_MEMORY, 0) == SVSM_ERR_INVALID_ADDRESS);
	CHECK(core(SVSM_CORE_CREATE_VCPU, vmsa, caa, 0) == SVSM_SUCCESS);
	/* Now the SVSM's: not the guest's to validate or use as a calling area. */
	CHECK(pvalidate(vmsa, false, false) == SVSM_ERR_INVALID_ADDRESS);
	CHECK(core(SVSM_CORE_REMAP_CA, vmsa, 0, 0) == SVSM_ERR_INVALID_ADDRESS);
	CHECK(core(SVSM_CORE_DELETE_VCPU, vmsa, 0, 0) == SVSM_SUCCESS);
	CHECK((read64(vmsa + VMSA_EFER_OFF) & EFER_SVME) == 0);
	CHECK(core(SVSM_CORE_DELETE_VCPU, vmsa, 0, 0) == SVSM_ERR_INVALID_PARAMETER);
}

static volatile uint64_t ap_answer[NATIVE_MAX_VCPUS];

/* A created vCPU asks the SVSM through its own calling area and records the answer. */
static void job_query(unsigned apic)
{
	struct result res = call_via(ap_caa[apic], SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0);

	ap_answer[apic] = res.completed && res.rax == SVSM_SUCCESS ? res.rcx : 0;
	ap_progress[apic]++;
}

/* DELETE_VCPU of a vCPU that is running (it never exits on its own): Donjon stops it
 * before the page is the guest's again. */
static void delete_running_vcpu(struct vcpu_slot s)
{
	CHECK(start_vcpu(1, s, job_spin, 0) == SVSM_SUCCESS);
	CHECK(progress_passes(1, 0));
	CHECK(delete_vcpu(s.vmsa) == SVSM_SUCCESS);
	uint64_t seen = ap_progress[1];

	CHECK(progress_stays(1, seen, STOPPED_WATCH_TICKS));
	CHECK((read64(s.vmsa + VMSA_EFER_OFF) & EFER_SVME) == 0);
	write64(s.vmsa, 1);
	CHECK(read64(s.vmsa) == 1);
}

static void test_vcpus_on_their_cpus(void)
{
	uint32_t n = vcpu_count();

	CHECK(n >= 1U && n <= NATIVE_MAX_VCPUS);
	if (n < 2U) {
		/* One CPU: there is no other APIC ID to create a vCPU for. */
		CHECK(core(SVSM_CORE_CREATE_VCPU, AP_AREA + 0x1000, AP_AREA + 0x2000, 1) ==
		      SVSM_ERR_INVALID_PARAMETER);
		return;
	}
	for (unsigned apic = 1; apic < n; apic++) {
		CHECK(validate_4k(AP_AREA + apic * AP_AREA_SIZE, 4));
		CHECK(start_vcpu(apic, slot_at(AP_AREA + apic * AP_AREA_SIZE), job_query, 0) ==
		      SVSM_SUCCESS);
	}
	for (unsigned apic = 1; apic < n; apic++) {
		CHECK(progress_passes(apic, 0));
		CHECK(ap_answer[apic] == 0x100000001ULL);
	}
	/* Another vCPU's calling area is not the caller's to take. */
	struct vcpu_slot first = slot_at(AP_AREA + AP_AREA_SIZE);

	CHECK(core(SVSM_CORE_REMAP_CA, first.caa, 0, 0) == SVSM_ERR_INVALID_ADDRESS);
	/* Linux re-onlining a CPU: a new VMSA with the same calling area, then the old one
	 * is deleted. */
	struct vcpu_slot repl = slot_at(AP_AREA + NATIVE_MAX_VCPUS * AP_AREA_SIZE);

	repl.caa = first.caa;
	CHECK(validate_4k(AP_AREA + NATIVE_MAX_VCPUS * AP_AREA_SIZE, 4));
	CHECK(start_vcpu(1, repl, job_query, 0) == SVSM_SUCCESS);
	CHECK(progress_passes(1, 0));
	CHECK(delete_vcpu(first.vmsa) == SVSM_SUCCESS);
	CHECK(delete_vcpu(repl.vmsa) == SVSM_SUCCESS);
	CHECK((read64(repl.vmsa + VMSA_EFER_OFF) & EFER_SVME) == 0);
	for (unsigned apic = 2; apic < n; apic++) {
		CHECK(delete_vcpu(slot_at(AP_AREA + apic * AP_AREA_SIZE).vmsa) == SVSM_SUCCESS);
	}
	delete_running_vcpu(repl);
}

/* A calling area may lie in memory validated as one 2M page (the spec asks only for 4K
 * alignment); while it is there, the 2M page cannot be rescinded. */
static void test_calling_area_in_2m_page(void)
{
	uint64_t big = SCRATCH_2M + PAGE_SIZE_2M;
	uint64_t ca2 = big + 0x3000;
	uint64_t old = caa;
	uint64_t rescind = big | 1U;
	/* A list outside the 2M page: a plain page the remap check used. */
	uint64_t elsewhere = SCRATCH + 0x10008;

	CHECK(pvalidate(big, true, true) == SVSM_SUCCESS);
	CHECK(core(SVSM_CORE_REMAP_CA, ca2, 0, 0) == SVSM_SUCCESS);
	caa = ca2;
	CHECK(call(SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0).rcx == 0x100000001ULL);
	write64(elsewhere, 1);
	write64(elsewhere + 8, rescind);
	CHECK(core(SVSM_CORE_PVALIDATE, elsewhere, 0, 0) == SVSM_ERR_INVALID_ADDRESS);
	CHECK(core(SVSM_CORE_REMAP_CA, old, 0, 0) == SVSM_SUCCESS);
	caa = old;
	CHECK(pvalidate(big, true, false) == SVSM_SUCCESS);
}

/* A VMSA page that is 2 MiB aligned meets an SNP erratum: refused, and still the
 * guest's. */
static void test_vmsa_2m_aligned_refused(void)
{
	/* Validated at 4K by the 2M fallback check. */
	uint64_t v = SCRATCH + PAGE_SIZE_2M;

	build_vmsa(v, guest_halt, v + PAGE_SIZE);
	CHECK(core(SVSM_CORE_CREATE_VCPU, v, caa, 0) == SVSM_ERR_INVALID_PARAMETER);
	write64(v + 8, 7);
	CHECK(read64(v + 8) == 7);
}

#define ALIAS_VA 0x4000000000ULL /* 256 GiB: the guest's PDPT entry 256 */
#define ALIAS_PD (SCRATCH + 0x50000ULL)
#define PTE_P_RW 0x3ULL
#define PTE_PS 0x80ULL

uint64_t vmgexit_query(uint64_t rcx);

/* An SVSM call from code the guest maps at a virtual address that is not its physical
 * one (as Linux's are): Donjon reads the instruction through the guest's page tables to
 * know where to resume. */
static void test_svsm_call_from_an_alias_mapping(void)
{
	uint64_t pdpt = GUEST_PAGE_TABLES + PAGE_SIZE;
	uint64_t code_2m = GUEST_IMAGE & ~(PAGE_SIZE_2M - 1U);
	uint64_t va = ALIAS_VA + ((uint64_t)(uintptr_t)vmgexit_query - code_2m);
	/* SAFETY: va maps, through the PD entry written below, the same bytes as
	 * vmgexit_query, which uses registers only and so runs from any address. */
	uint64_t (*query)(uint64_t) = (uint64_t(*)(uint64_t))(uintptr_t)va;

	CHECK(pvalidate(ALIAS_PD, false, true) == SVSM_SUCCESS);
	write64(ALIAS_PD, code_2m | PTE_P_RW | PTE_PS);
	write64(pdpt + 256ULL * 8U, ALIAS_PD | PTE_P_RW);
	write_cr3(read_cr3());
	ptr(caa)[SVSM_CA_CALL_PENDING_OFF] = 1;
	uint64_t answer = query(1);
	uint8_t pending =
		__atomic_exchange_n(&ptr(caa)[SVSM_CA_CALL_PENDING_OFF], 0, __ATOMIC_SEQ_CST);

	CHECK(pending == 0U && answer == 0x100000001ULL);
	write64(pdpt + 256ULL * 8U, 0);
	write_cr3(read_cr3());
	CHECK(pvalidate(ALIAS_PD, false, false) == SVSM_SUCCESS);
}

volatile uint32_t rdtscp_aux;

void check_intercepted_instructions(void)
{
	uint32_t r[4];

	/* Nothing of the guest's to write back or drop: both go on. */
	RUN_TRAPPING("invd");
	CHECK(guest_trap_vector == TRAP_NONE);
	RUN_TRAPPING("wbinvd");
	CHECK(guest_trap_vector == TRAP_NONE);
	/* What this guest's CPUID does not offer raises #UD. */
	RUN_TRAPPING("leaq guest_trap_vector(%%rip), %%rax\n\txorl %%ecx, %%ecx\n\t"
		     "xorl %%edx, %%edx\n\tmonitor");
	CHECK(guest_trap_vector == 6U);
	RUN_TRAPPING("xorl %%eax, %%eax\n\txorl %%ecx, %%ecx\n\tmwait");
	CHECK(guest_trap_vector == 6U);
	RUN_TRAPPING("movl $0x1000000, %%eax\n\txorl %%ecx, %%ecx\n\tinvlpga");
	CHECK(guest_trap_vector == 6U);
	RUN_TRAPPING("movl $0x1000000, %%eax\n\tvmload");
	CHECK(guest_trap_vector == 6U);
	RUN_TRAPPING("clgi");
	CHECK(guest_trap_vector == 6U);
	/* RDTSCP goes on, with the vCPU's TSC_AUX (0), where CPUID offers it; elsewhere the
	 * CPU itself refuses it. */
	cpuid(0x80000001U, 0, r);
	rdtscp_aux = ~0U;
	RUN_TRAPPING("rdtscp\n\tmovl %%ecx, rdtscp_aux(%%rip)");
	if ((r[3] & (1U << 27)) != 0U) {
		CHECK(guest_trap_vector == TRAP_NONE && rdtscp_aux == 0U);
	} else {
		CHECK(guest_trap_vector == 6U && rdtscp_aux == ~0U);
	}
	/* CPUID with an operand-size prefix is 3 bytes long: Donjon resumes after all
	 * three. It shows neither SVM nor MONITOR. */
	__asm__ volatile(".byte 0x66\n\tcpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(0x80000001U), "c"(0U));
	CHECK((r[2] & (1U << 2)) == 0U);
	cpuid(1, 0, r);
	CHECK((r[2] & (1U << 3)) == 0U);
	cpuid(0x8000000AU, 0, r);
	CHECK((r[0] | r[1] | r[2] | r[3]) == 0U);
}

/* SVSM_MEM_AVAILABLE goes to the startup vCPU's calling area, even when APIC ID 0 has a
 * newer VMSA with a calling area of its own. */
static void test_mem_available_in_startup_calling_area(void)
{
	uint64_t base = SCRATCH + 0x40000;
	struct vcpu_slot r = slot_at(base);
	uint64_t page = base;

	CHECK(validate_4k(base, 4));
	build_vmsa(r.vmsa, guest_halt, r.stack_top);
	CHECK(core(SVSM_CORE_CREATE_VCPU, r.vmsa, r.caa, 0) == SVSM_SUCCESS);
	CHECK(core(SVSM_CORE_DEPOSIT_MEM, list(&page, 1, 0), 0, 0) == SVSM_SUCCESS);
	CHECK(ptr(caa)[SVSM_CA_MEM_AVAILABLE_OFF] == 1U);
	CHECK(ptr(r.caa)[SVSM_CA_MEM_AVAILABLE_OFF] == 0U);
	CHECK(core(SVSM_CORE_WITHDRAW_MEM, caa + 8, 0, 0) == SVSM_SUCCESS);
	CHECK((uint16_t)read64(caa + 8) == 1U && read64(caa + 16) == page);
	CHECK(ptr(caa)[SVSM_CA_MEM_AVAILABLE_OFF] == 0U);
	CHECK(delete_vcpu(r.vmsa) == SVSM_SUCCESS);
}

const struct guest_check core_checks[] = {
	{ "discovery", test_discovery },
	{ "query_protocol", test_query_protocol },
	{ "pvalidate_4k", test_pvalidate_4k },
	{ "pvalidate_2m_fallback", test_pvalidate_2m_fallback },
	{ "pvalidate_2m", test_pvalidate_2m },
	{ "hostile_requests", test_hostile_requests },
	{ "remap_ca", test_remap_ca },
	{ "deposit_withdraw", test_deposit_withdraw },
	{ "create_delete_vcpu", test_create_delete_vcpu },
	{ "vcpus_on_their_cpus", test_vcpus_on_their_cpus },
	{ "calling_area_in_2m_page", test_calling_area_in_2m_page },
	{ "vmsa_2m_aligned_refused", test_vmsa_2m_aligned_refused },
	{ "svsm_call_from_an_alias_mapping", test_svsm_call_from_an_alias_mapping },
	{ "intercepted_instructions", check_intercepted_instructions },
	{ "mem_available_in_startup_calling_area", test_mem_available_in_startup_calling_area },
	{ "ghcb_and_own_report", check_ghcb_and_own_report },
	{ "attest_protocol", check_attest_protocol },
	{ "vtpm_protocol", check_vtpm_protocol },
};
const unsigned core_check_count = sizeof(core_checks) / sizeof(core_checks[0]);
