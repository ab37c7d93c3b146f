/* Guest-mode tracking per CPU, the kick (an NMI, which the run loop intercepts) and the
 * two waits. Every access is a sequentially consistent atomic: the entry protocol and
 * both waits are Dekker-style (each side stores, then loads what the other stored), so
 * at least one side sees the other. */
#include "cpu_sync.h"

#include <stdatomic.h>

#include "hostif.h"

/* The low bit of a claimed VMSA address (pages are 4 KiB aligned) marks it revoked. */
#define CLAIM_REVOKED 1ULL
#define NOT_IN_GUEST UINT64_MAX
/* How long a wait spins before it kicks again, and before it gives up. An NMI sent while
 * the target is between its last check and VMRUN is taken by the host and lost; the
 * next kick reaches it in guest mode. */
#define KICK_EVERY_SPINS (1UL << 14)
#define GIVE_UP_SPINS (1UL << 27)

struct cpu_slot {
	_Atomic uint64_t claim;	    /* the VMSA this CPU runs (| CLAIM_REVOKED), or 0 */
	_Atomic uint64_t guest_gen; /* generation it entered guest mode with, or NOT_IN_GUEST */
	_Atomic uint64_t pending;   /* a VMSA posted to this CPU, not taken yet */
	_Atomic uint64_t posted;    /* the VMSA posted last, so that it is posted once */
};

static struct cpu_slot slots[SMP_MAX_CPUS] = {
	[0 ... SMP_MAX_CPUS - 1] = { .guest_gen = NOT_IN_GUEST },
};
static _Atomic uint64_t npt_gen = 1;

bool cpusync_enter(unsigned cpu, uint64_t *gen)
{
	struct cpu_slot *s = &slots[cpu];
	uint64_t g = 0;

	/* Announce the generation, then check it did not move meanwhile: a shootdown that
	 * bumped it later sees this CPU in guest mode with the older one and waits. */
	do {
		g = atomic_load(&npt_gen);
		atomic_store(&s->guest_gen, g);
	} while (atomic_load(&npt_gen) != g);
	/* After the announcement: a revocation that this load misses sees this CPU in guest
	 * mode and kicks it. */
	if ((atomic_load(&s->claim) & CLAIM_REVOKED) != 0U) {
		atomic_store(&s->guest_gen, NOT_IN_GUEST);
		return false;
	}
	*gen = g;
	return true;
}

void cpusync_leave(unsigned cpu)
{
	atomic_store(&slots[cpu].guest_gen, NOT_IN_GUEST);
}

bool cpusync_revoked(unsigned cpu)
{
	return (atomic_load(&slots[cpu].claim) & CLAIM_REVOKED) != 0U;
}

void cpusync_release(unsigned cpu)
{
	struct cpu_slot *s = &slots[cpu];
	uint64_t claim = atomic_exchange(&s->claim, 0);

	/* A revoked VMSA was deleted: one created later at its address is a new one. */
	if ((claim & CLAIM_REVOKED) != 0U) {
		uint64_t was = claim & ~CLAIM_REVOKED;

		(void)atomic_compare_exchange_strong(&s->posted, &was, 0);
	}
}

void cpusync_post(unsigned cpu, uint64_t vmsa)
{
	struct cpu_slot *s = &slots[cpu];
	uint64_t old = atomic_load(&s->posted);

	if (vmsa != 0U && vmsa != old && atomic_compare_exchange_strong(&s->posted, &old, vmsa)) {
		atomic_store(&s->pending, vmsa);
	}
}

uint64_t cpusync_take(unsigned cpu)
{
	return atomic_exchange(&slots[cpu].pending, 0);
}

void cpusync_forget(uint64_t vmsa)
{
	for (unsigned i = 0; i < SMP_MAX_CPUS; i++) {
		uint64_t was = vmsa;

		(void)atomic_compare_exchange_strong(&slots[i].pending, &was, 0);
		was = vmsa;
		(void)atomic_compare_exchange_strong(&slots[i].posted, &was, 0);
	}
}

bool cpusync_claim(unsigned cpu, uint64_t vmsa)
{
	uint64_t none = 0;

	return atomic_compare_exchange_strong(&slots[cpu].claim, &none, vmsa);
}

bool cpusync_claimed(uint64_t vmsa)
{
	for (unsigned i = 0; i < SMP_MAX_CPUS; i++) {
		if (atomic_load(&slots[i].claim) == vmsa) {
			return true;
		}
	}
	return false;
}

/* Wait until done(cpu, arg) holds, kicking CPU `cpu` again every KICK_EVERY_SPINS. False
 * if it does not within the bound. */
static bool kick_until(unsigned cpu, bool (*done)(unsigned cpu, uint64_t arg), uint64_t arg)
{
	for (unsigned long n = 1; !done(cpu, arg); n++) {
		if (n == GIVE_UP_SPINS) {
			return false;
		}
		if (n % KICK_EVERY_SPINS == 0U) {
			smp_send_nmi(cpu);
		}
		__builtin_ia32_pause();
	}
	return true;
}

static bool left_revoked_claim(unsigned cpu, uint64_t revoked)
{
	const struct cpu_slot *s = &slots[cpu];

	return atomic_load(&s->claim) != revoked || atomic_load(&s->guest_gen) == NOT_IN_GUEST;
}

bool cpusync_revoke(uint64_t vmsa)
{
	bool stopped = true;

	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		uint64_t was = vmsa;

		if (!atomic_compare_exchange_strong(&slots[i].claim, &was, vmsa | CLAIM_REVOKED)) {
			continue;
		}
		/* After the mark: an entry that missed it is seen here in guest mode. */
		if (!left_revoked_claim(i, vmsa | CLAIM_REVOKED)) {
			smp_send_nmi(i);
		}
		if (!kick_until(i, left_revoked_claim, vmsa | CLAIM_REVOKED)) {
			log_msg(LOG_ERR, "CPU %u does not leave guest mode to stop VMSA 0x%lx", i,
				vmsa);
			stopped = false;
		}
	}
	return stopped;
}

static bool flushed_since(unsigned cpu, uint64_t gen)
{
	/* NOT_IN_GUEST is the largest value: a CPU outside guest mode is done. */
	return atomic_load(&slots[cpu].guest_gen) >= gen;
}

void cpusync_npt_changed(bool reduced)
{
	uint64_t gen = atomic_fetch_add(&npt_gen, 1) + 1U;
	unsigned self = smp_index_of(this_cpu());

	if (!reduced) {
		return;
	}
	/* Kick every CPU still on an older generation first, then wait for each: they leave
	 * guest mode in parallel. */
	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		if (i != self && !flushed_since(i, gen)) {
			smp_send_nmi(i);
		}
	}
	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		if (i != self && !kick_until(i, flushed_since, gen)) {
			log_msg(LOG_ERR,
				"TLB shootdown: CPU %u does not leave guest mode; stopping", i);
			kernel_exit(false);
		}
	}
}
