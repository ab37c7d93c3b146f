/* The hostile SMP checks (make test runs them with -smp 2 and 4): while one vCPU makes
 * the calls, others keep running, writing and exiting, across every change of their
 * permissions. They fail on a Donjon that lets a CPU keep using a translation after the
 * permission reduction that ended it has returned, that trusts what it stored in guest
 * memory, that runs a VMPL3 vCPU with VMPL2's rights, that can lose a vCPU's stop, or
 * that lets one vCPU's CPU state reach the next. */
#include "guest.h"

#include "arch/x86/cpu.h"

#define AREA (SCRATCH + 0x400000ULL) /* vCPU slots, 16 KiB each */
#define SLOT(k) slot_at(AREA + (uint64_t)(k)*0x4000U)
#define SLOTS 16U
#define TARGETS (SCRATCH + 0x600000ULL) /* the pages writers write, one per APIC ID */
#define TARGET(apic) (TARGETS + (uint64_t)(apic)*PAGE_SIZE)
#define DELETE_CYCLES 1000U
#define CYCLE_WATCH_TICKS 2000000ULL
#define CPUID_EXIT_EVERY 64U

/* Writers: write the target page forever, counting each write that did not fault; every
 * CPUID_EXIT_EVERY writes a CPUID exit too if ap_arg says so, otherwise never leave guest
 * mode on their own. */
static volatile uint64_t writer_target[NATIVE_MAX_VCPUS];
/* When each of a writer's last WRITE_LOG writes was done (the TSC, which every vCPU here
 * reads alike: QEMU's, with no offset). */
#define WRITE_LOG 64U
static volatile uint64_t write_tsc[NATIVE_MAX_VCPUS][WRITE_LOG];

static void job_write(unsigned apic)
{
	volatile uint64_t *t = (volatile uint64_t *)ptr(writer_target[apic]);
	uint32_t r[4];

	for (uint64_t i = 1;; i++) {
		*t = i;
		write_tsc[apic][i % WRITE_LOG] = rdtsc();
		ap_progress[apic] = i;
		if (ap_arg[apic] != 0U && i % CPUID_EXIT_EVERY == 0U) {
			cpuid(0, 0, r);
		}
	}
}

static unsigned writers(void)
{
	uint32_t n = vcpu_count();

	return n > 1U ? n - 1U : 0U;
}

/* Writers on APIC IDs 1..n-1, each on its target page; the even ones also exit, the odd
 * ones never leave guest mode on their own. */
static void start_writers(void)
{
	for (unsigned apic = 1; apic <= writers(); apic++) {
		writer_target[apic] = TARGET(apic);
		CHECK(start_vcpu(apic, SLOT(apic), job_write, (apic + 1U) % 2U) == SVSM_SUCCESS);
	}
	for (unsigned apic = 1; apic <= writers(); apic++) {
		CHECK(progress_passes(apic, 1000));
	}
}

/* The call that took the pages away returned at TSC `returned`. A writer may finish,
 * after that, the one write it had made before (its time is read after the write), and no
 * other, even if it stopped soon after. This fails on a Donjon that does not make every
 * CPU leave the old translation, or that loses a kick; one that kicks and does not wait
 * passes under QEMU, where a kick lands long before the caller's call returns (see
 * docs/spec-notes.md). (That each writer did try again and fault, make test reads in
 * Donjon's reports.) */
static void check_writers_stopped(uint64_t returned, unsigned count)
{
	for (unsigned apic = 1; apic <= count; apic++) {
		uint64_t done = ap_progress[apic];
		unsigned late = 0;

		CHECK(progress_stays(apic, done + 1U, STOPPED_WATCH_TICKS));
		done = ap_progress[apic];
		for (uint64_t k = 0; k < WRITE_LOG && k < done; k++) {
			late += write_tsc[apic][(done - k) % WRITE_LOG] > returned ? 1U : 0U;
		}
		CHECK(late <= 1U);
	}
}

static void delete_writers(void)
{
	for (unsigned apic = 1; apic <= writers(); apic++) {
		CHECK(delete_vcpu(SLOT(apic).vmsa) == SVSM_SUCCESS);
	}
}

static void test_setup(void)
{
	CHECK(writers() >= 1U);
	CHECK(validate_4k(AREA, SLOTS * 4U));
	CHECK(validate_4k(TARGETS, NATIVE_MAX_VCPUS));
}

/* Writers on every target page; then the call `id` with one list naming all those pages
 * (entries are the pages themselves, flags clear); then every writer must be stopped. */
static void take_pages_from_writers(uint32_t id)
{
	uint64_t e[NATIVE_MAX_VCPUS];

	start_writers();
	for (unsigned apic = 1; apic <= writers(); apic++) {
		e[apic - 1U] = TARGET(apic);
	}
	CHECK(core(id, list(e, writers(), 0), 0, 0) == SVSM_SUCCESS);
	check_writers_stopped(rdtsc(), writers());
	delete_writers();
}

/* PVALIDATE rescinds the pages the writers write (one list): when it returns, none of
 * them can write any more, although they never left guest mode. */
static void test_rescind_stops_writers(void)
{
	take_pages_from_writers(SVSM_CORE_PVALIDATE);
	/* Validated again, the pages hold nothing of what the writers wrote (Donjon clears a
	 * page it validates). That no write landed after the rescind is what the writers'
	 * progress and Donjon's reports show, not this. */
	CHECK(validate_4k(TARGETS + PAGE_SIZE, writers()));
	for (unsigned apic = 1; apic <= writers(); apic++) {
		CHECK(read64(TARGET(apic)) == 0);
	}
}

/* DEPOSIT_MEM takes the pages the writers write: no writer reaches them once the call
 * returns, and
 * WITHDRAW_MEM gives back exactly those pages, zeroed. */
static void test_deposit_stops_writers(void)
{
	take_pages_from_writers(SVSM_CORE_DEPOSIT_MEM);
	CHECK(core(SVSM_CORE_WITHDRAW_MEM, caa + 8, 0, 0) == SVSM_SUCCESS);
	CHECK((uint16_t)read64(caa + 8) == writers());
	for (unsigned apic = 1; apic <= writers(); apic++) {
		CHECK(read64(caa + 8 + 8ULL * apic) == TARGET(apic));
		CHECK(read64(TARGET(apic)) == 0);
	}
}

/* CREATE_VCPU makes a page a VMSA while a writer writes it (past the fields Donjon
 * checks): when the call returns the writer can no longer write, so what the vCPU runs
 * is what Donjon checked. */
static void test_new_vmsa_stops_writers(void)
{
	struct vcpu_slot v = SLOT(SLOTS - 1U);

	v.vmsa = TARGET(1);
	build_vmsa(v.vmsa, guest_halt, v.stack_top);
	writer_target[1] = v.vmsa + 0xF00U;
	CHECK(start_vcpu(1, SLOT(1), job_write, 0) == SVSM_SUCCESS);
	CHECK(progress_passes(1, 1000));
	/* For APIC ID 0: Donjon only records it, as a replacement nobody runs here. */
	CHECK(core(SVSM_CORE_CREATE_VCPU, v.vmsa, v.caa, 0) == SVSM_SUCCESS);
	check_writers_stopped(rdtsc(), 1);
	CHECK(delete_vcpu(SLOT(1).vmsa) == SVSM_SUCCESS);
	CHECK(delete_vcpu(v.vmsa) == SVSM_SUCCESS);
}

static volatile uint64_t vmpl3_ran;

static void job_mark(unsigned apic)
{
	(void)apic;
	vmpl3_ran = 1;
}

/* A vCPU at VMPL3 has what VMPL3 was granted (nothing: every grant went to VMPL1 and 2),
 * not VMPL2's rights: it stops at its first access and never runs its job. */
static void test_vmpl3_vcpu_gets_vmpl3_rights(void)
{
	struct vcpu_slot s = SLOT(2);

	vmpl3_ran = 0;
	prepare_vcpu(1, s, job_mark, 0);
	ptr(s.vmsa)[VMSA_VMPL_OFF] = 3;
	CHECK(core(SVSM_CORE_CREATE_VCPU, s.vmsa, s.caa, 1) == SVSM_SUCCESS);
	wait_ticks(STOPPED_WATCH_TICKS);
	CHECK(vmpl3_ran == 0U);
	CHECK(delete_vcpu(s.vmsa) == SVSM_SUCCESS);
}

/* DELETE_VCPU of a vCPU that exits all the time, 1000 times at the same VMSA address:
 * every stop holds (the vCPU never runs after the call returns), none times out, and a
 * VMSA created again at a deleted one's address runs. */
static void test_delete_cycles(void)
{
	struct vcpu_slot s = SLOT(3);
	unsigned bad = 0;

	for (unsigned k = 0; k < DELETE_CYCLES; k++) {
		if (start_vcpu(1, s, job_count_exits, 0) != SVSM_SUCCESS ||
		    !progress_passes(1, 0) || delete_vcpu(s.vmsa) != SVSM_SUCCESS ||
		    !progress_stays(1, ap_progress[1], CYCLE_WATCH_TICKS)) {
			bad++;
		}
	}
	CHECK(bad == 0U);
	uint64_t seen = ap_progress[1];

	CHECK(progress_stays(1, seen, STOPPED_WATCH_TICKS));
}

static volatile uint64_t self_delete_returned;

static void job_delete_self(unsigned apic)
{
	ap_progress[apic] = 1;
	(void)call_via(ap_caa[apic], SVSM_CORE_DELETE_VCPU, ap_arg[apic], 0, 0);
	self_delete_returned = 1;
}

/* A vCPU that deleted its own VMSA gets no answer; a VMSA created again at that address
 * runs. */
static void test_self_delete_then_recreate(void)
{
	struct vcpu_slot s = SLOT(4);

	self_delete_returned = 0;
	CHECK(start_vcpu(1, s, job_delete_self, s.vmsa) == SVSM_SUCCESS);
	CHECK(progress_passes(1, 0));
	wait_ticks(STOPPED_WATCH_TICKS);
	CHECK(self_delete_returned == 0U);
	CHECK((read64(s.vmsa + VMSA_EFER_OFF) & EFER_SVME) == 0);
	CHECK(start_vcpu(1, s, job_count_exits, 0) == SVSM_SUCCESS);
	CHECK(progress_passes(1, 0));
	CHECK(delete_vcpu(s.vmsa) == SVSM_SUCCESS);
}

/* What a vCPU leaves in its CPU: XMM0 and the upper half of YMM0, MXCSR, an x87
 * register, DR0, XCR0 and CR8 (the task priority). */
#define DIRTY_XMM 0x1122334455667788ULL
#define DIRTY_MXCSR 0x1F00U
#define DIRTY_DR0 0xDEAD000ULL
#define CR4_OSXSAVE (1ULL << 18)
#define XCR0_X87_SSE_AVX 7ULL
#define DIRTY_CR8 0xFULL

static volatile uint64_t probe[9];

/* Bits 191:128 of YMM0 (XCR0 must enable AVX). The compiler uses no vector registers in
 * the guest: nothing to clobber. */
static uint64_t ymm0_high(void)
{
	uint64_t v = 0;

	__asm__ volatile("vextractf128 $1, %%ymm0, %%xmm0\n\tmovq %%xmm0, %0" : "=r"(v));
	return v;
}

static void job_dirty(unsigned apic)
{
	uint32_t mxcsr = DIRTY_MXCSR;

	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv0(XCR0_X87_SSE_AVX);
	/* All of YMM0 to ones (compare, predicate TRUE): seen here once, then again, and its
	 * low half changed (a legacy SSE write keeps the upper half). */
	__asm__ volatile("vcmpps $15, %ymm0, %ymm0, %ymm0");
	probe[8] = ymm0_high();
	__asm__ volatile("vcmpps $15, %%ymm0, %%ymm0, %%ymm0\n\tmovq %0, %%xmm0\n\t"
			 "ldmxcsr %1\n\tfld1\n\tmov %2, %%dr0\n\tmov %3, %%cr8"
			 :
			 : "r"(DIRTY_XMM), "m"(mxcsr), "r"(DIRTY_DR0), "r"(DIRTY_CR8));
	ap_progress[apic] = 1;
	for (;;) {
		__builtin_ia32_pause();
	}
}

static void job_probe(unsigned apic)
{
	uint64_t xmm0 = ~0ULL, dr0 = ~0ULL, cr8 = ~0ULL;
	uint32_t mxcsr = 0;
	struct {
		uint16_t words[14];
	} env = { { 0 } };

	__asm__ volatile("movq %%xmm0, %0\n\tstmxcsr %1\n\tfnstenv %2\n\tmov %%dr0, %3\n\t"
			 "mov %%cr8, %4"
			 : "=r"(xmm0), "=m"(mxcsr), "=m"(env), "=r"(dr0), "=r"(cr8));
	write_cr4(read_cr4() | CR4_OSXSAVE);
	probe[0] = xmm0;
	probe[1] = mxcsr;
	probe[2] = env.words[4]; /* the x87 tag word: 0xFFFF when every register is empty */
	probe[3] = dr0;
	probe[4] = xgetbv0();
	probe[6] = cr8;
	/* The upper half of YMM0, readable once XCR0 enables AVX. */
	xsetbv0(XCR0_X87_SSE_AVX);
	probe[7] = ymm0_high();
	xsetbv0(1);
	/* XSETBV of a value the CPU refuses is a #GP for the guest. */
	RUN_TRAPPING("movl $2, %%eax\n\txorl %%edx, %%edx\n\txorl %%ecx, %%ecx\n\txsetbv");
	probe[5] = guest_trap_vector;
	ap_progress[apic] = 1;
}

/* A vCPU's FPU, SSE, AVX, debug registers, XCR0 and CR8 do not reach the next vCPU its
 * CPU runs. */
static void test_cpu_state_not_inherited(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	/* make test gives the hostile guest XSAVE and AVX (QEMU -cpu ...,+xsave,+avx). */
	CHECK((r[2] & (1U << 26)) != 0U && (r[2] & (1U << 28)) != 0U);
	CHECK(start_vcpu(1, SLOT(5), job_dirty, 0) == SVSM_SUCCESS);
	CHECK(progress_passes(1, 0));
	CHECK(probe[8] == ~0ULL); /* the dirty vCPU did fill YMM0 */
	CHECK(delete_vcpu(SLOT(5).vmsa) == SVSM_SUCCESS);
	CHECK(start_vcpu(1, SLOT(6), job_probe, 0) == SVSM_SUCCESS);
	CHECK(progress_passes(1, 0));
	CHECK(probe[0] == 0U);
	CHECK(probe[1] == 0x1F80U);
	CHECK(probe[2] == 0xFFFFU);
	CHECK(probe[3] == 0U);
	CHECK(probe[4] == 1U);
	CHECK(probe[5] == 13U);
	CHECK(probe[6] == 0U);
	CHECK(probe[7] == 0U);
	CHECK(delete_vcpu(SLOT(6).vmsa) == SVSM_SUCCESS);
}

/* The guest's own TSS and GS: the page its IST stacks point into, and its GS base. */
#define TSS_PAGE (SCRATCH + 0x700000ULL)
#define IST_PAGE (SCRATCH + 0x701000ULL)
#define GS_PAGE (SCRATCH + 0x702000ULL)
#define GS_MARKER 0x65D6E5ULL
#define KICK_ROUNDS 20U

static volatile uint64_t gs_seen;

static void job_own_tr_and_gs(unsigned apic)
{
	uint64_t tss = TSS_PAGE;
	uint16_t tr = GDT_TSS, gs = GDT_GS_DATA;

	/* A 64-bit TSS whose stack pointers all point into IST_PAGE. */
	for (unsigned i = 0; i < 7; i++) {
		write64(tss + 0x24 + 8ULL * i, IST_PAGE + PAGE_SIZE);
	}
	write64(tss + 4, IST_PAGE + PAGE_SIZE);
	guest_gdt[3] =
		0x67U | ((tss & 0xFFFFFFU) << 16) | (0x89ULL << 40) | ((tss >> 24 & 0xFFU) << 56);
	guest_gdt[4] = tss >> 32;
	guest_gdt[5] = 0x00CF92000000FFFFULL | ((GS_PAGE & 0xFFFFFFU) << 16) |
		       ((GS_PAGE >> 24 & 0xFFU) << 56);
	__asm__ volatile("ltr %0\n\tmov %1, %%gs" : : "r"(tr), "r"(gs) : "memory");
	for (;;) {
		uint64_t v = 0;

		__asm__ volatile("movq %%gs:0, %0" : "=r"(v));
		gs_seen = v;
		ap_progress[apic]++;
	}
}

/* A vCPU that loaded its own TR and GS and never exits on its own, kicked out of guest
 * mode over and over (each rescind below is a shootdown, the delete a stop): Donjon's NMI
 * handling runs on Donjon's TSS, never on the stacks the guest's TSS names, and the vCPU
 * keeps its GS across its exits. */
static void test_host_never_runs_on_guest_tr(void)
{
	uint64_t page = SCRATCH + 0x703000ULL;

	CHECK(validate_4k(TSS_PAGE, 3));
	write64(GS_PAGE, GS_MARKER);
	CHECK(start_vcpu(1, SLOT(7), job_own_tr_and_gs, 0) == SVSM_SUCCESS);
	CHECK(progress_passes(1, 1000));
	for (unsigned k = 0; k < KICK_ROUNDS; k++) {
		CHECK(pvalidate(page, false, true) == SVSM_SUCCESS);
		CHECK(pvalidate(page, false, false) == SVSM_SUCCESS);
	}
	uint64_t now = ap_progress[1];

	CHECK(progress_passes(1, now));
	CHECK(gs_seen == GS_MARKER);
	CHECK(delete_vcpu(SLOT(7).vmsa) == SVSM_SUCCESS);
	for (unsigned off = 0; off < PAGE_SIZE; off += 8U) {
		CHECK(read64(IST_PAGE + off) == 0);
	}
}

const struct guest_check hostile_checks[] = {
	{ "setup", test_setup },
	{ "rescind_stops_writers", test_rescind_stops_writers },
	{ "deposit_stops_writers", test_deposit_stops_writers },
	{ "new_vmsa_stops_writers", test_new_vmsa_stops_writers },
	{ "vmpl3_vcpu_gets_vmpl3_rights", test_vmpl3_vcpu_gets_vmpl3_rights },
	{ "delete_cycles", test_delete_cycles },
	{ "self_delete_then_recreate", test_self_delete_then_recreate },
	{ "cpu_state_not_inherited", test_cpu_state_not_inherited },
	{ "host_never_runs_on_guest_tr", test_host_never_runs_on_guest_tr },
	{ "intercepted_instructions", check_intercepted_instructions },
};
const unsigned hostile_check_count = sizeof(hostile_checks) / sizeof(hostile_checks[0]);
