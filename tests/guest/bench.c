/* What make bench times inside the guest, in TSC ticks: each loop runs BENCH_ROUNDS times
 * and keeps its fastest round, which filters out the host's other work. */
#include "guest.h"

#include "arch/x86/cpu.h"
#include "console.h"

#define BENCH_CALLS 20000U
#define BENCH_RESCINDS 200U
#define BENCH_ROUNDS 5U
#define BENCH_PAGE (SCRATCH + 0x800000ULL)
#define BENCH_SLOTS (SCRATCH + 0x900000ULL)

/* An SVSM call's round trip against an exit Donjon finds no request in (call_pending
 * clear). */
void bench_calls(void)
{
	uint64_t best_call = ~0ULL, best_bare = ~0ULL;

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

/* The rescind of one 4K page (PVALIDATE), timed alone; validating it again between two
 * rescinds grants a permission and costs no shootdown. */
static uint64_t time_rescinds(void)
{
	uint64_t best = ~0ULL;

	for (unsigned round = 0; round < BENCH_ROUNDS; round++) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < BENCH_RESCINDS; i++) {
			(void)pvalidate(BENCH_PAGE, false, true);
			uint64_t t0 = rdtsc();

			(void)pvalidate(BENCH_PAGE, false, false);
			sum += rdtsc() - t0;
		}
		best = sum < best ? sum : best;
	}
	return best / BENCH_RESCINDS;
}

/* A rescind with 0, 1 and 3 other vCPUs running (never exiting), whom each rescind must
 * make leave guest mode and flush before it returns. */
void bench_shootdown(void)
{
	static const unsigned others[] = { 0, 1, 3 };
	uint64_t ticks[3] = { 0, 0, 0 };

	if (vcpu_count() < 4U || !validate_4k(BENCH_SLOTS, 4U * 4U)) {
		kprintf("bench: shootdown needs 4 vCPUs");
		return;
	}
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned apic = 1; apic <= others[k]; apic++) {
			(void)start_vcpu(apic, slot_at(BENCH_SLOTS + apic * 0x4000ULL), job_spin,
					 0);
			(void)progress_passes(apic, 0);
		}
		ticks[k] = time_rescinds();
		for (unsigned apic = 1; apic <= others[k]; apic++) {
			(void)delete_vcpu(slot_at(BENCH_SLOTS + apic * 0x4000ULL).vmsa);
		}
	}
	kprintf("bench: rescind alone %lu with-1-running %lu with-3-running %lu ticks", ticks[0],
		ticks[1], ticks[2]);
}
