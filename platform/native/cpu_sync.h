/* Which CPU runs which guest VMSA, and whether it is in guest mode with which generation
 * of the nested page tables. Two waits depend on it, both made with the core lock held:
 * a permission reduction (a TLB shootdown: it is complete only when no CPU can still use
 * the old translation) and stopping a vCPU (DELETE_VCPU). Lock-free: a CPU leaving guest
 * mode never needs a lock to be seen leaving, so neither wait can deadlock against a CPU
 * that left the guest and now waits for the core lock. */
#ifndef PLATFORM_NATIVE_CPU_SYNC_H
#define PLATFORM_NATIVE_CPU_SYNC_H

#include <stdbool.h>
#include <stdint.h>

/* ---- the run loop of CPU `cpu` (svm.c) ---- */

/* Before VMRUN: announce guest mode. False if the claim was revoked (the vCPU must not run
 * again; the CPU is then not in guest mode). *gen is the generation of the nested page
 * tables this entry uses: if it differs from the last one this CPU flushed for, the entry
 * flushes the guest TLB. */
bool cpusync_enter(unsigned cpu, uint64_t *gen);
/* Right after #VMEXIT, before anything else: the CPU is out of guest mode. */
void cpusync_leave(unsigned cpu);
/* The claim of this CPU was revoked (its VMSA is being deleted). */
bool cpusync_revoked(unsigned cpu);
/* The claim ends (the vCPU stopped, or was revoked). */
void cpusync_release(unsigned cpu);

/* ---- plat.c, with native_lock held ---- */

/* Record that cpu runs vmsa. False if cpu already has a claim. */
bool cpusync_claim(unsigned cpu, uint64_t vmsa);
/* True if a CPU holds a claim of vmsa that was not revoked. */
bool cpusync_claimed(uint64_t vmsa);
/* Revoke every claim of vmsa, make each CPU that runs it leave guest mode and wait until
 * it has (a revoked claim does not enter again). A CPU that does not leave guest mode
 * stops the machine: the page could no longer be given back safely. */
void cpusync_revoke(uint64_t vmsa);
/* The nested page tables changed. Every CPU flushes its guest TLB before its next entry;
 * if a permission was reduced, this also waits until no other CPU is still in guest mode
 * with an older generation. A CPU that does not leave guest mode stops the machine:
 * isolation could no longer be promised. */
void cpusync_npt_changed(bool reduced);

#endif
