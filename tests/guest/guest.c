/* The protocol test guest: started by Donjon at VMPL2 on the native platform, it finds
 * its SVSM through the secrets page and uses every core call the way Linux and OVMF do,
 * then the hostile cases. One line per check, then "N passed, M failed"; the verdict
 * goes to the debug-exit port. Its last act touches Donjon's memory, which must stop it. */
#include <donjon/svsm_abi.h>
#include <donjon/vmsa.h>

#include "console.h"
#include "io.h"
#include "native.h"
#include "vmsa_init.h"

#define DEBUG_EXIT_PORT 0xF4
#define SCRATCH 0x2000000ULL	  /* guest memory, below 64 MiB: 4K RMP entries */
#define SCRATCH_2M 0x4000000ULL	  /* from 64 MiB: 2M RMP entries */
#define DONJON_MEMORY 0x100000ULL /* inside Donjon's range */

struct result {
	uint64_t rax, rcx, rdx, r8, r9;
	bool completed; /* call_pending was clear when the guest exchanged it */
};

#define AP_AREA (SCRATCH + 0x100000ULL) /* per created vCPU: VMSA, CA, two stack pages */
#define AP_AREA_SIZE 0x4000ULL
#define AP_WAIT_SPINS 200000000UL

static uint64_t caa;
static unsigned failures;
/* Shared with the vCPUs the guest creates: their calling areas, what they saw, how often
 * they ran. */
static volatile uint64_t ap_caa[NATIVE_MAX_VCPUS];
static volatile uint64_t ap_result[NATIVE_MAX_VCPUS];
static volatile uint32_t ap_runs[NATIVE_MAX_VCPUS];

void ap_start(void);
void ap_spin(void);
void guest_ap_main(void);
/* Counted by ap_spin. */
volatile uint64_t spin_counter;

/* The guest maps 0-4 GiB 1:1 (its page tables come from Donjon's launch). */
static volatile uint8_t *ptr(uint64_t gpa)
{
	/* SAFETY: the guest's page tables map every guest physical address below 4 GiB to
	 * the same virtual address; a page the guest may not use faults in the NPT instead. */
	return (volatile uint8_t *)(uintptr_t)gpa;
}

static uint64_t read64(uint64_t gpa)
{
	return *(volatile uint64_t *)ptr(gpa);
}

static void write64(uint64_t gpa, uint64_t v)
{
	*(volatile uint64_t *)ptr(gpa) = v;
}

/* An SVSM call exactly as Linux makes it: call_pending = 1, VMGEXIT, then exchange
 * call_pending with 0 (non-zero means the SVSM never ran the call). */
static struct result call_via(uint64_t ca, uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8v)
{
	register uint64_t r8 __asm__("r8") = r8v;
	register uint64_t r9 __asm__("r9") = 0;
	struct result res;

	ptr(ca)[SVSM_CA_CALL_PENDING_OFF] = 1;
	__asm__ volatile("rep; vmmcall"
			 : "+a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8), "+r"(r9)
			 :
			 : "memory");
	uint8_t pending =
		__atomic_exchange_n(&ptr(ca)[SVSM_CA_CALL_PENDING_OFF], 0, __ATOMIC_SEQ_CST);

	res = (struct result){ rax, rcx, rdx, r8, r9, pending == 0U };
	return res;
}

static struct result call(uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8v)
{
	return call_via(caa, rax, rcx, rdx, r8v);
}

static uint64_t core(uint32_t id, uint64_t rcx, uint64_t rdx, uint64_t r8v)
{
	/* The core protocol is protocol 0: RAX is just the call ID. */
	struct result r = call((uint64_t)id, rcx, rdx, r8v);

	return r.completed ? r.rax : ~0ULL;
}

static void check(bool ok, const char *what, int line)
{
	if (!ok && failures++ < 5U) {
		kprintf("    guest.c:%d: %s", line, what);
	}
}
#define CHECK(x) check((x), #x, __LINE__)

/* A PVALIDATE or DEPOSIT list at CAA+8: header (entries, next) then entries. */
static uint64_t list(const uint64_t *entries, unsigned n, unsigned next)
{
	uint64_t at = caa + 8;

	write64(at, n | (uint64_t)next << 16);
	for (unsigned i = 0; i < n; i++) {
		write64(at + 8 + 8 * (uint64_t)i, entries[i]);
	}
	return at;
}

static uint16_t list_next(void)
{
	return (uint16_t)(read64(caa + 8) >> 16);
}

static uint64_t pvalidate(uint64_t gpa, bool size_2m, bool validate)
{
	uint64_t e = gpa | (size_2m ? 1U : 0U) | (validate ? PVAL_ENTRY_VALIDATE : 0U);

	return core(SVSM_CORE_PVALIDATE, list(&e, 1, 0), 0, 0);
}

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
	CHECK(r.completed && r.rax == SVSM_SUCCESS && r.rcx == 0);
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
	CHECK(read64(caa + 16) == e[1] && read64(caa + 24) == e[0]);
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
	uint32_t n = *(volatile uint32_t *)ptr(GUEST_PARAMS);

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

/* A vCPU the guest created: on the CPU with its APIC ID, it asks the SVSM through its own
 * calling area, records the answer and halts. */
void guest_ap_main(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	unsigned apic = r[1] >> 24;

	if (apic >= NATIVE_MAX_VCPUS) {
		return;
	}
	struct result res = call_via(ap_caa[apic], SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0);

	ap_result[apic] = res.completed && res.rax == SVSM_SUCCESS ? res.rcx : 0;
	__atomic_fetch_add(&ap_runs[apic], 1U, __ATOMIC_SEQ_CST);
}

static bool wait_for_runs(unsigned apic, uint32_t runs)
{
	for (unsigned long i = 0; i < AP_WAIT_SPINS; i++) {
		if (__atomic_load_n(&ap_runs[apic], __ATOMIC_SEQ_CST) >= runs) {
			return true;
		}
		__builtin_ia32_pause();
	}
	return false;
}

/* A VMSA at vmsa that starts at entry on the stack ending at stack_top. */
static void build_ap_vmsa(uint64_t vmsa, void (*entry)(void), uint64_t stack_top)
{
	vmsa_init_long_mode((uint8_t *)ptr(vmsa), (uint64_t)(uintptr_t)entry, stack_top,
			    GUEST_PAGE_TABLES);
}

/* Whether ap_spin's counter changes within `spins` pauses. A running vCPU changes it
 * within a few thousand; a stopped one never does. */
#define STOPPED_WATCH_SPINS 2000000UL

static bool counter_moves(unsigned long spins)
{
	uint64_t before = spin_counter;

	for (unsigned long i = 0; i < spins; i++) {
		if (spin_counter != before) {
			return true;
		}
		__builtin_ia32_pause();
	}
	return false;
}

/* DELETE_VCPU of a vCPU that is running (it never exits on its own): Donjon stops it
 * before the page is the guest's again. */
static void delete_running_vcpu(uint64_t vmsa, uint64_t caa1, uint64_t stack_top)
{
	build_ap_vmsa(vmsa, ap_spin, stack_top);
	CHECK(core(SVSM_CORE_CREATE_VCPU, vmsa, caa1, 1) == SVSM_SUCCESS);
	CHECK(counter_moves(AP_WAIT_SPINS));
	CHECK(core(SVSM_CORE_DELETE_VCPU, vmsa, 0, 0) == SVSM_SUCCESS);
	CHECK(!counter_moves(STOPPED_WATCH_SPINS));
	CHECK((read64(vmsa + VMSA_EFER_OFF) & EFER_SVME) == 0);
	write64(vmsa, 1);
	CHECK(read64(vmsa) == 1);
}

static void test_vcpus_on_their_cpus(void)
{
	uint32_t n = *(volatile uint32_t *)ptr(GUEST_PARAMS);

	CHECK(n >= 1U && n <= NATIVE_MAX_VCPUS);
	if (n < 2U) {
		/* One CPU: there is no other APIC ID to create a vCPU for. */
		CHECK(core(SVSM_CORE_CREATE_VCPU, AP_AREA, AP_AREA + 0x1000, 1) ==
		      SVSM_ERR_INVALID_PARAMETER);
		return;
	}
	for (unsigned apic = 1; apic < n; apic++) {
		uint64_t area = AP_AREA + apic * AP_AREA_SIZE;
		uint64_t e[4];

		for (unsigned i = 0; i < 4; i++) {
			e[i] = (area + i * PAGE_SIZE) | PVAL_ENTRY_VALIDATE;
		}
		CHECK(core(SVSM_CORE_PVALIDATE, list(e, 4, 0), 0, 0) == SVSM_SUCCESS);
		build_ap_vmsa(area, ap_start, area + AP_AREA_SIZE);
		ap_caa[apic] = area + 0x1000;
		CHECK(core(SVSM_CORE_CREATE_VCPU, area, area + 0x1000, apic) == SVSM_SUCCESS);
	}
	for (unsigned apic = 1; apic < n; apic++) {
		CHECK(wait_for_runs(apic, 1));
		CHECK(ap_result[apic] == 0x100000001ULL);
	}
	/* Another vCPU's calling area is not the caller's to take. */
	uint64_t area1 = AP_AREA + AP_AREA_SIZE;

	CHECK(core(SVSM_CORE_REMAP_CA, area1 + 0x1000, 0, 0) == SVSM_ERR_INVALID_ADDRESS);
	/* Linux re-onlining a CPU: a new VMSA with the same calling area, then the old one
	 * is deleted. */
	uint64_t replacement = AP_AREA + NATIVE_MAX_VCPUS * AP_AREA_SIZE;

	CHECK(pvalidate(replacement, false, true) == SVSM_SUCCESS);
	build_ap_vmsa(replacement, ap_start, area1 + AP_AREA_SIZE);
	CHECK(core(SVSM_CORE_CREATE_VCPU, replacement, area1 + 0x1000, 1) == SVSM_SUCCESS);
	CHECK(wait_for_runs(1, 2));
	CHECK(core(SVSM_CORE_DELETE_VCPU, area1, 0, 0) == SVSM_SUCCESS);
	CHECK(core(SVSM_CORE_DELETE_VCPU, replacement, 0, 0) == SVSM_SUCCESS);
	CHECK((read64(replacement + VMSA_EFER_OFF) & EFER_SVME) == 0);
	for (unsigned apic = 2; apic < n; apic++) {
		CHECK(core(SVSM_CORE_DELETE_VCPU, AP_AREA + apic * AP_AREA_SIZE, 0, 0) ==
		      SVSM_SUCCESS);
	}
	delete_running_vcpu(replacement, area1 + 0x1000, area1 + AP_AREA_SIZE);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
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
};

void guest_main(void);

#define BENCH_CALLS 20000U

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* make bench: an SVSM call's round trip against an exit Donjon finds no request in
 * (call_pending clear), in TSC ticks. The two loops alternate BENCH_ROUNDS times and each
 * keeps its fastest round, which filters out the host's other work. */
#define BENCH_ROUNDS 5U

static void time_calls(void)
{
	uint64_t best_call = ~0ULL, best_bare = ~0ULL;

	test_discovery();
	for (unsigned round = 0; round < BENCH_ROUNDS; round++) {
		uint64_t t0 = rdtsc();

		for (unsigned i = 0; i < BENCH_CALLS; i++) {
			(void)call(SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0);
		}
		uint64_t t1 = rdtsc();

		for (unsigned i = 0; i < BENCH_CALLS; i++) {
			__asm__ volatile("rep; vmmcall"
					 :
					 : "a"(0)
					 : "rcx", "rdx", "r8", "r9", "memory");
		}
		uint64_t t2 = rdtsc();

		best_call = t1 - t0 < best_call ? t1 - t0 : best_call;
		best_bare = t2 - t1 < best_bare ? t2 - t1 : best_bare;
	}
	kprintf("bench: svsm-call %lu bare-exit %lu ticks", best_call / BENCH_CALLS,
		best_bare / BENCH_CALLS);
}

void guest_main(void)
{
	unsigned passed = 0, failed = 0;
	uint32_t mode = *(volatile uint32_t *)ptr(GUEST_PARAMS + GUEST_PARAMS_MODE_OFF);

	if (mode == GUEST_MODE_HALT) {
		outl(DEBUG_EXIT_PORT, 0x10U);
		return;
	}
	console_init();
	if (mode == GUEST_MODE_TIME_CALLS) {
		time_calls();
		outl(DEBUG_EXIT_PORT, 0x10U);
		return;
	}
	for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		failures = 0;
		tests[i].fn();
		kprintf("%s guest/%s", failures == 0U ? "PASS" : "FAIL", tests[i].name);
		if (failures == 0U) {
			passed++;
		} else {
			failed++;
		}
	}
	kprintf("%u passed, %u failed", passed, failed);
	outl(DEBUG_EXIT_PORT, failed == 0U ? 0x10U : 0x11U);
	/* Donjon's memory, or memory never validated, is not in the guest's nested page
	 * tables: this access must stop us. */
	(void)read64(read64(GUEST_PARAMS + GUEST_PARAMS_TOUCH_OFF));
	kprintf("FAIL guest/forbidden-memory-is-unreachable");
}
