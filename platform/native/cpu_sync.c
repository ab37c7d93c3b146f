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
	atomic_store(&slots[cpu].claim, 0);
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

void cpusync_revoke(uint64_t vmsa)
{
	const uint64_t revoked = vmsa | CLAIM_REVOKED;

	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		uint64_t was = vmsa;

		/* A claim revoked earlier (a VMSA deleted before at this address, not yet
		 * released) is waited for too. */
		if (!atomic_compare_exchange_strong(&slots[i].claim, &was, revoked) &&
		    was != revoked) {
			continue;
		}
		/* After the mark: an entry that missed it is seen here in guest mode. */
		if (!left_revoked_claim(i, revoked)) {
			smp_send_nmi(i);
		}
		if (!kick_until(i, left_revoked_claim, revoked)) {
			log_msg(LOG_ERR,
				"CPU %u does not leave guest mode to stop VMSA 0x%lx; stopping", i,
				vmsa);
			kernel_exit(false);
		}
	}
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
