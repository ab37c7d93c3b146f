/* State and helpers shared inside core/: the configuration the launch gave, the core
 * lock, and the call being handled.
 *
 * Lock order: svsm_lock (this file; every call holds it from the calling-area check to
 * the clearing of call_pending) before any platform lock (the sim's machine lock). No
 * other lock is taken inside core/. */
#ifndef CORE_SVSM_INTERNAL_H
#define CORE_SVSM_INTERNAL_H

#include <donjon/svsm.h>

#include "lock.h"
#include "mm/guestmem.h"
#include "vcpu/vcpu.h"

struct svsm_config {
	uint64_t mem_size;
	gpa_t svsm_base;
	uint64_t svsm_size;
	unsigned guest_vmpl;
	uint64_t sev_features; /* the startup vCPU's; CREATE_VCPU must match it */
	gpa_t secrets;	       /* the PSP's secrets page (VMPCKs) */
	/* The last sequence number used with VMPCK0 (core/attest): the PSP of a fresh
	 * launch starts again from 0. */
	uint64_t vmpck0_seqno;
	/* The pre-shared migration key the launch gave (stage 1 of migration), if any. */
	uint8_t migrate_key[32];
	bool migrate_key_set;
	struct launch_migrate_policy migrate_policy;
};

extern struct svsm_config svsm_cfg;
extern struct spinlock svsm_lock;
/* Counted under svsm_lock. */
extern struct svsm_stats svsm_stats;

struct svsm_call {
	struct vcpu_rec *vcpu;	/* the VMSA the call came from */
	struct guest_view view; /* its VMPL and the calling area it called through */
	struct svsm_regs *regs;
	bool vcpu_gone; /* DELETE_VCPU removed the caller's own VMSA */
};

/* Route a call to its protocol. Returns the 32-bit result for RAX. */
uint32_t svsm_dispatch(struct svsm_call *call);
/* The versions of a protocol Donjon offers (QUERY_PROTOCOL); false if it offers none. */
bool svsm_protocol_versions(uint64_t protocol, uint32_t *min, uint32_t *max);

uint32_t core_protocol_call(struct svsm_call *call, uint32_t call_id);
uint32_t attest_protocol_call(struct svsm_call *call, uint32_t call_id);
uint32_t vtpm_protocol_call(struct svsm_call *call, uint32_t call_id);

#endif
