/* The RMP model: entries and the PVALIDATE, RMPADJUST and access rules, shared by the
 * simulator (the machine's RMP) and the native platform (which enforces it with nested
 * page tables). Freestanding; callers serialise access to a table. */
#ifndef MODEL_RMP_RMP_H
#define MODEL_RMP_RMP_H

#include <donjon/platform.h>

/* One RMP entry per 4 KiB page. A 2M RMP entry is 512 entries with size_2m set. */
struct rmp_entry {
	bool assigned; /* guest-private (else hypervisor/shared) */
	bool validated;
	bool size_2m;
	bool vmsa;
	uint8_t perms[VMPL_COUNT]; /* [0] unused: VMPL0 has every permission */
};

struct rmp_table {
	struct rmp_entry *entries;
	uint64_t mem_size;
};

bool rmp_range_in_memory(const struct rmp_table *t, uint64_t gpa, uint64_t len);
struct rmp_entry *rmp_entry_at(const struct rmp_table *t, uint64_t gpa);

/* The instructions, executed at `vmpl`. */
enum rmp_result rmp_pvalidate(const struct rmp_table *t, unsigned vmpl, uint64_t gpa,
			      enum page_size size, bool validate);
enum rmp_result rmp_rmpadjust(const struct rmp_table *t, unsigned vmpl, uint64_t gpa,
			      enum page_size size, unsigned target, uint8_t perms, bool vmsa);

/* The hypervisor's page state changes (GHCB PSC operations 1 and 2, and PSMASH). */
enum psc_op {
	PSC_PRIVATE = 1,
	PSC_SHARED = 2,
	PSC_PSMASH = 3,
};

/* The hypervisor's RMPUPDATE for a page state change of [gpa, +size): a fresh entry, not
 * validated, no lower-VMPL permissions (private or shared as op says); PSMASH splits a
 * 2M entry. A 4K change inside a 2M entry smashes it first, as KVM does. NULL, or what is
 * wrong with the request (nothing changed). */
const char *rmp_host_psc(const struct rmp_table *t, uint64_t gpa, enum page_size size,
			 enum psc_op op);

/* Why a private access at vmpl to [gpa, gpa + len) faults, or NULL if it does not. */
const char *rmp_access_fault(const struct rmp_table *t, unsigned vmpl, uint64_t gpa, uint64_t len,
			     uint8_t need);

#endif
