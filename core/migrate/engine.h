/* The migration engine: what the source SVSM exports and the destination imports, on top
 * of the record stream (stream.h) and a key schedule (keys.h). It knows nothing of the host's
 * mailbox (host.c drives it) or of policy. Callers hold the core lock.
 *
 * Source: every page the guest has validated is sent (its permissions, its 4K or 2M size)
 * and write-protected as it is sent; a guest write to it faults, the SVSM gives the write
 * permission back and the page is dirty again, so it goes in a later round. The SVSM's own
 * writes to guest memory and every change of a page's tracking make it dirty too. STOP
 * stops every guest vCPU; the stream then ends with the pages still dirty, each vCPU's VMSA
 * and FINAL, which is only sealed while no page is dirty.
 *
 * Destination: freshly launched, its guest never run. It holds back (RMP) every guest
 * permission until it commits, takes each record once, in order, validates exactly the
 * pages the source had validated with their permissions, rebuilds the vCPUs, and on a
 * verified FINAL gives back the permissions, rescinds what the source did not have and lets
 * the vCPUs run. Anything refused ends the session: its guest never runs, and it answers
 * with an ABORT the source may resume on. */
#ifndef CORE_MIGRATE_ENGINE_H
#define CORE_MIGRATE_ENGINE_H

#include <donjon/migrate_host.h>
#include <donjon/types.h>

#include "migrate/keys.h"

/* VMSA record meta, after the page: u64 calling area, u32 APIC ID, u8 VMPL, u8 flags,
 * u8 perms_before[4] (VMPL0-3), zero to MIG_VCPU_META_SIZE. */
#define MIG_META_CAA 0U
#define MIG_META_APIC 8U
#define MIG_META_VMPL 12U
#define MIG_META_FLAGS 13U
#define MIG_META_PERMS 14U
#define MIG_META_USED 18U
#define MIG_VCPU_STARTUP 0x1U
#define MIG_VCPU_RUNNABLE 0x2U
#define MIG_VCPU_FLAGS_KNOWN 0x3U

struct mig_progress {
	enum mig_phase phase;
	uint32_t round;
	uint64_t records;
	uint64_t pages;
	uint64_t bytes;
	uint64_t dirty;
	uint64_t round_pages;
	uint64_t last_round_pages;
	uint64_t faults;
	const char *why;
};

/* No session (svsm_init). */
void mig_reset(void);
enum mig_phase mig_phase(void);
/* True while the guest must not run: stopped at the source, or not yet committed at the
 * destination. */
bool mig_guest_stopped(void);

/* Begin a session with both directions' keys (keys.h). False (and nothing changes) if the
 * engine is not idle, or, as a destination, if its guest has already run. */
bool mig_src_begin(const struct mig_keys *s2d, const struct mig_keys *d2s);
bool mig_dst_begin(const struct mig_keys *s2d, const struct mig_keys *d2s);

/* Source: seal the next records into out (at most cap bytes); *flags gets MIG_OUT_*. */
size_t mig_src_pull(uint8_t *out, size_t cap, uint32_t *flags, uint32_t *records);
bool mig_src_stop(void);
/* The destination's reply: true if it authenticated; *committed then says which. */
bool mig_src_reply(const uint8_t *in, size_t len, bool *committed);
/* Resume the guest: only before FINAL was sent. */
bool mig_src_cancel(void);

/* A guest write at vmpl faulted on gpa: true if that was the write tracking (the page is
 * writable again and dirty). */
bool mig_write_fault(unsigned vmpl, gpa_t gpa);

/* Destination: take the records in in[0, len). False once the session is refused; a reply
 * (COMMIT or ABORT) is then, or after FINAL, in mig_dst_reply. */
bool mig_dst_push(const uint8_t *in, size_t len, uint32_t *records);
size_t mig_dst_reply(const uint8_t **reply);

void mig_progress(struct mig_progress *p);

#endif
