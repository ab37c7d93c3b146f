/* The native platform started by the kernel: memory taken over, CPUs started, the guest
 * launched (or the core's tests run). */
#include "native_api.h"

#include <stdatomic.h>

#include <donjon/svsm.h>
#include <donjon/svsm_abi.h>

#include "cpu_sync.h"
#include "harness.h"
#include "arch/x86/cpu.h"
#include "launch.h"
#include "linux_boot.h"
#include "machine.h"
#include "native.h"
#include "rmp.h"
#include "svm.h"

void tm_native_setup(const struct native_launch_params *lp);

/* Donjon keeps the first 16 MiB and the guest gets the rest. Sets up the RMP model, the
 * SVM permission maps, the core's tables, the page allocator and the nested page tables;
 * fills lp (vCPU count still 1). */
static void native_setup(struct native_launch_params *lp)
{
	uint64_t mem = mm_ram_top();
	size_t state_size = svsm_state_size(mem);
	uint64_t state = 0;

	if (mem < 2 * NATIVE_SVSM_SIZE || !native_mm_init(mem) || !svm_reserve() ||
	    (state = mm_reserve(state_size, NATIVE_SVSM_SIZE)) == 0U) {
		log_msg(LOG_ERR, "not enough memory for Donjon and a guest (need 32 MiB or more)");
		kernel_exit(false);
	}
	native_services_reserve(NATIVE_SVSM_SIZE);
	pmm_init(NATIVE_SVSM_SIZE);
	if (!native_npt_init() || !native_psp_init()) {
		log_msg(LOG_ERR, "no nested page tables or no PSP model (its keys need RDRAND)");
		kernel_exit(false);
	}
	*lp = (struct native_launch_params){
		.mem_size = mem,
		.core_state = kernel_ptr(state, state_size),
		.core_state_size = state_size,
		.vcpu_count = 1,
		.touch_gpa = 0x100000U,
	};
}

static _Noreturn void linux_finish(const struct native_cpu *c);

/* An AP's life: SVM on, then each new vCPU creation for its APIC ID, run until it stops.
 * For the protocol test guest Donjon plays the host's AP creation and starts each creation
 * as soon as the core has it; for Linux the AP's local APIC is set up for Donjon's tick,
 * the guest's AP_CREATION releases each creation, and the CPU halts in between
 * (AP_CREATION wakes it); a vCPU that stops on its own ends the machine, one that goes
 * offline (AP_HLT_LOOP) leaves its CPU waiting for the APIC ID's next creation. */
static void ap_work(unsigned index, bool for_linux)
{
	struct native_cpu *c = svm_cpu_init(index);
	uint64_t tried = 0;

	if (c == NULL) {
		log_msg(LOG_ERR, "CPU %u: cannot run guest vCPUs", index);
		return;
	}
	if (for_linux || native_services_wanted()) {
		tick_cpu_init();
	}
	for (;;) {
		uint64_t seq = for_linux ? svm_ap_released(c->apic_id) : svsm_vcpu_seq(c->apic_id);

		if (seq == 0U || seq == tried) {
			if (for_linux) {
				tick_wait(UINT64_MAX);
			} else {
				__builtin_ia32_pause();
			}
			continue;
		}
		tried = seq;
		svm_run_vcpu(c, seq);
		if (for_linux && c->ended) {
			linux_finish(c);
		}
	}
}

static void native_ap_work(unsigned index)
{
	ap_work(index, false);
}

static void linux_ap_work(unsigned index)
{
	ap_work(index, true);
}

static uint32_t guest_mode(void)
{
	static const struct {
		const char *bench;
		uint32_t mode;
	} benches[] = {
		{ "boot", GUEST_MODE_HALT },
		{ "calls", GUEST_MODE_TIME_CALLS },
		{ "shootdown", GUEST_MODE_TIME_SHOOTDOWN },
		{ "attest", GUEST_MODE_TIME_ATTEST },
		{ "vtpm", GUEST_MODE_TIME_VTPM },
	};

	for (unsigned i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
		if (cmdline_is("bench", benches[i].bench)) {
			return benches[i].mode;
		}
	}
	if (cmdline_is("mode", "vtpm-broken")) {
		return GUEST_MODE_VTPM_BROKEN;
	}
	return cmdline_is("mode", "hostile") ? GUEST_MODE_HOSTILE : GUEST_MODE_CHECKS;
}

void native_run_core_tests(void)
{
	struct native_launch_params lp;

	native_setup(&lp);
	tm_native_setup(&lp);
	kernel_exit(ct_run_tests("core-kernel", core_tests, core_test_count) == 0U);
}

static void linux_report(unsigned vcpus);

/* The machine ends when any vCPU stops on its own (the guest's verdict, power-off, a
 * termination request, a fault): Donjon's summary, then QEMU's exit with the verdict of
 * the vCPU that ended it. Only the first CPU to get here ends it; the rest stay halted. */
static _Noreturn void linux_finish(const struct native_cpu *c)
{
	static atomic_flag finishing = ATOMIC_FLAG_INIT;

	if (atomic_flag_test_and_set(&finishing)) {
		for (;;) {
			tick_wait(UINT64_MAX);
		}
	}
	linux_report(smp_cpu_count());
	native_services_report();
	log_msg(LOG_INFO, "linux: the guest %s (vCPU %u)",
		!c->has_verdict	      ? "stopped without a verdict"
		: c->verdict == 0x10U ? "passed its checks"
				      : "failed its checks",
		c->apic_id);
	kernel_exit(c->has_verdict && c->verdict == 0x10U);
}

/* The spec's name of an SVSM error result (58019 tables 4 and 5). */
static const char *svsm_error_name(uint32_t code)
{
	static const struct {
		uint32_t code;
		const char *name;
	} names[] = {
		{ SVSM_ERR_INCOMPLETE, "INCOMPLETE" },
		{ SVSM_ERR_UNSUPPORTED_PROTOCOL, "UNSUPPORTED_PROTOCOL" },
		{ SVSM_ERR_UNSUPPORTED_CALL, "UNSUPPORTED_CALL" },
		{ SVSM_ERR_INVALID_ADDRESS, "INVALID_ADDRESS" },
		{ SVSM_ERR_INVALID_FORMAT, "INVALID_FORMAT" },
		{ SVSM_ERR_INVALID_PARAMETER, "INVALID_PARAMETER" },
		{ SVSM_ERR_INVALID_REQUEST, "INVALID_REQUEST" },
		{ SVSM_ERR_BUSY, "BUSY" },
		{ SVSM_ERR_PVALIDATE_FAIL_INPUT, "PVALIDATE_FAIL_INPUT" },
		{ SVSM_ERR_RMPADJUST_FAIL_PERMISSION, "RMPADJUST_FAIL_PERMISSION" },
		{ SVSM_ERR_DELETE_VCPU_FAIL_INUSE, "DELETE_VCPU_FAIL_INUSE" },
		{ SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH, "PVALIDATE_FAIL_SIZEMISMATCH" },
		{ SVSM_ERR_PVALIDATE_NO_CHANGE, "PVALIDATE_NO_CHANGE" },
		{ SVSM_ERR_PVALIDATE_FAIL_UNKNOWN, "PVALIDATE_FAIL_UNKNOWN" },
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].code == code) {
			return names[i].name;
		}
	}
	return "unnamed";
}

/* The failed calls of each result counts[i] = base + i that occurred. */
static void report_errors(const uint64_t *counts, unsigned n, uint32_t base)
{
	for (unsigned i = 0; i < n; i++) {
		if (counts[i] != 0U) {
			log_msg(LOG_INFO, "linux:     answered 0x%x (%s): %lu", base + i,
				svsm_error_name(base + i), counts[i]);
		}
	}
}

/* Tenths of a percent of part in whole, as "12.3". */
static void per_mille(uint64_t part, uint64_t whole, uint64_t *units, uint64_t *tenths)
{
	uint64_t pm = whole != 0U ? part / (whole / 1000U + 1U) : 0U;

	*units = pm / 10U;
	*tenths = pm % 10U;
}

/* What the guest asked of Donjon (the core's counts) and of its host (the GHCB model's),
 * and where the CPUs' time went: the summary make test and make bench read. */
static void linux_report(unsigned vcpus)
{
	static const char *const core_names[SVSM_STATS_CORE_CALLS] = {
		"REMAP_CA",    "PVALIDATE",    "CREATE_VCPU",	 "DELETE_VCPU",
		"DEPOSIT_MEM", "WITHDRAW_MEM", "QUERY_PROTOCOL", "CONFIGURE_VTOM",
	};
	struct svsm_stats s;
	struct ghcb_counts h = { 0 };
	struct svm_run_stats t = { 0 };
	uint64_t calls = 0, span = 0, now = rdtsc();

	svsm_stats_get(&s);
	for (unsigned i = 0; i < vcpus; i++) {
		const struct native_cpu *c = svm_cpu(i);

		h.svsm_msr += c->ghcb.count.svsm_msr;
		h.svsm_ghcb += c->ghcb.count.svsm_ghcb;
		h.psc_msr += c->ghcb.count.psc_msr;
		h.psc_ghcb += c->ghcb.count.psc_ghcb;
		h.psc_pages += c->ghcb.count.psc_pages;
		h.guest_requests += c->ghcb.count.guest_requests;
		h.ap_creations += c->ghcb.count.ap_creations;
		h.ap_hlt_loops += c->ghcb.count.ap_hlt_loops;
		for (unsigned k = 0; k < SVM_EXIT_KINDS; k++) {
			t.exits[k] += c->stats.exits[k];
		}
		t.guest += c->stats.guest;
		t.halted += c->stats.halted;
		/* A vCPU still running when the machine ends counts until now. */
		if (c->stats.start != 0U) {
			span += (c->stats.end != 0U ? c->stats.end : now) - c->stats.start;
		}
	}
	log_msg(LOG_INFO, "linux: what the guest asked of Donjon and of its host:");
	for (unsigned k = 0; k < SVSM_STATS_CORE_CALLS; k++) {
		calls += s.core_calls[k];
		log_msg(LOG_INFO, "linux:   SVSM call %s: %lu", core_names[k], s.core_calls[k]);
	}
	calls += s.attest_calls[0] + s.attest_calls[1] + s.other_calls;
	log_msg(LOG_INFO, "linux:   SVSM call %s: %lu", "ATTEST_SERVICES", s.attest_calls[0]);
	log_msg(LOG_INFO, "linux:   SVSM call %s: %lu", "ATTEST_SINGLE", s.attest_calls[1]);
	calls += s.vtpm_calls[SVSM_VTPM_QUERY] + s.vtpm_calls[SVSM_VTPM_CMD];
	log_msg(LOG_INFO, "linux:   SVSM call %s: %lu", "VTPM_QUERY",
		s.vtpm_calls[SVSM_VTPM_QUERY]);
	log_msg(LOG_INFO, "linux:   SVSM call %s: %lu", "VTPM_CMD", s.vtpm_calls[SVSM_VTPM_CMD]);
	log_msg(LOG_INFO, "linux:   SVSM call %s: %lu", "(not offered)", s.other_calls);
	log_msg(LOG_INFO,
		"linux:   SVSM calls %lu: %lu by the GHCB MSR protocol, %lu by the GHCB; %lu "
		"answered with an error",
		calls, h.svsm_msr, h.svsm_ghcb, s.failed_calls);
	report_errors(s.errors, SVSM_STATS_ERRORS, SVSM_ERR_INCOMPLETE);
	report_errors(s.core_errors, SVSM_STATS_CORE_ERRORS, SVSM_ERR_CORE_BASE);
	log_msg(LOG_INFO,
		"linux:   pages validated %lu, rescinded %lu (4 KiB pages, by PVALIDATE calls)",
		s.pages_validated, s.pages_rescinded);
	log_msg(LOG_INFO, "linux:   page state changes %lu by MSR, %lu by GHCB, for %lu pages",
		h.psc_msr, h.psc_ghcb, h.psc_pages);
	log_msg(LOG_INFO,
		"linux:   vCPUs created %lu, deleted %lu, started by AP_CREATION %lu, offline by "
		"AP_HLT_LOOP %lu; SNP guest requests %lu",
		s.vcpus_created, s.vcpus_deleted, h.ap_creations, h.ap_hlt_loops, h.guest_requests);
	/* Whatever the guest asked, Donjon's own pages are still its own alone; one of them
	 * holds the startup vCPU's VMSA, as the launch made it. */
	uint64_t pages = 0, intact = 0, vmsas = 0;

	for (uint64_t gpa = LINUX_LOW_END; gpa < NATIVE_SVSM_SIZE; gpa += PAGE_SIZE) {
		struct rmp_entry e;

		pages++;
		if (native_rmp_entry(gpa, &e) && e.assigned && e.validated && !e.size_2m &&
		    e.perms[1] == 0U && e.perms[2] == 0U && e.perms[3] == 0U) {
			intact++;
			vmsas += e.vmsa ? 1U : 0U;
		}
	}
	log_msg(LOG_INFO,
		"linux:   Donjon's memory: %lu of its %lu pages as at launch (RMP: validated, 4 "
		"KiB, "
		"no VMPL but 0 may use them), %lu of them a VMSA",
		intact, pages, vmsas);
	for (unsigned k = 0; k < SVM_EXIT_KINDS; k++) {
		log_msg(LOG_INFO, "linux:   exits %s: %lu",
			svm_exit_kind_name((enum svm_exit_kind)k), t.exits[k]);
	}
	uint64_t gu = 0, gt = 0, hu = 0, ht = 0, du = 0, dt = 0;

	per_mille(t.guest, span, &gu, &gt);
	per_mille(t.halted, span, &hu, &ht);
	per_mille(span > t.guest + t.halted ? span - t.guest - t.halted : 0U, span, &du, &dt);
	log_msg(LOG_INFO,
		"linux:   time on the vCPUs' CPUs: guest %lu.%lu%%, halted %lu.%lu%%, Donjon "
		"%lu.%lu%%",
		gu, gt, hu, ht, du, dt);
}

/* mode=linux: Debian's Linux from the bundle (QEMU -initrd) as an SEV-SNP guest at VMPL2,
 * with a vCPU for each CPU (the boot CPU runs the startup vCPU; Linux creates the others
 * with CREATE_VCPU and AP_CREATION). QEMU's exit code is the guest's own verdict (its
 * /init writes it to the debug-exit port). */
static void native_run_linux(void)
{
	struct native_launch_params lp;
	uint32_t r[4];
	uint64_t vmsa = 0;

	/* The C-bit just below the CPU's physical address width, as on EPYC parts. */
	cpuid(0x80000008U, 0, r);
	uint8_t c_bit = (uint8_t)((r[0] & 0xFFU) - 1U);

	native_give_low_memory(LINUX_LOW_END, LINUX_LEGACY_END);
	native_set_c_bit(c_bit);
	native_setup(&lp);
	if (!tick_init()) {
		kernel_exit(false);
	}
	/* A vTPM that does not start is reported and absent: Linux runs without it. */
	if (native_services_wanted() && !native_services_start()) {
		log_msg(LOG_WARN, "running Linux without the vTPM");
	}
	lp.vcpu_count = smp_start(linux_ap_work);
	svm_snp_machine(c_bit, lp.vcpu_count);
	const struct cpuid_policy policy = {
		.snp = true, .c_bit = c_bit, .apic_id = 0, .vcpu_count = lp.vcpu_count
	};
	struct native_cpu *bsp = svm_cpu_init(0);

	if (bsp == NULL || !machine_init(tsc_hz()) || !linux_launch_prepare(&lp, &policy, &vmsa)) {
		kernel_exit(false);
	}
	svm_run_vcpu(bsp, svsm_vcpu_seq(0));
	linux_finish(bsp);
}

void native_run_guest(void)
{
	struct native_launch_params lp;
	bool passed = false;
	const char *touch = cmdline_get("touch");

	if (cmdline_is("mode", "linux")) {
		native_run_linux();
	}
	native_setup(&lp);
	/* A service that does not start is reported and absent: the guest runs without it. */
	if (native_services_wanted() && (!tick_init() || !native_services_start())) {
		log_msg(LOG_WARN, "running the guest without the vTPM");
	}
	lp.vcpu_count = smp_start(native_ap_work);
	log_msg(LOG_INFO, "%u CPU(s) online", lp.vcpu_count);
	/* touch=unvalidated: the guest's last access goes to memory it never validated
	 * instead of Donjon's. */
	if (touch != NULL && touch[0] == 'u') {
		lp.touch_gpa = GUEST_UNVALIDATED;
	}
	lp.guest_mode = guest_mode();
	if (!native_launch(&lp, &passed)) {
		kernel_exit(false);
	}
	log_msg(LOG_INFO, "guest finished: %s", passed ? "passed" : "failed");
	native_services_report();
	log_msg(LOG_INFO, "memory: image %lu KiB, tables %lu KiB, pages %lu KiB, in use %lu KiB",
		mm_image_bytes() >> 10, mm_reserved_bytes() >> 10, pmm_used_pages() * 4U,
		(mm_image_bytes() + mm_reserved_bytes() + pmm_used_pages() * 4096U) >> 10);
	kernel_exit(passed);
}
