/* The RMP as the architecture defines it (AMD APM vol. 2 15.36, vol. 3 PVALIDATE and
 * RMPADJUST): one entry per 4 KiB page and the rules of the instructions that change it.
 * Freestanding; shared by the simulator and the native platform. Callers serialise. */
#include "rmp.h"

bool rmp_range_in_memory(const struct rmp_table *t, uint64_t gpa, uint64_t len)
{
	return range_within(gpa, len, t->mem_size);
}

struct rmp_entry *rmp_entry_at(const struct rmp_table *t, uint64_t gpa)
{
	return &t->entries[gpa >> PAGE_SHIFT];
}

/* Every 4K entry of the page is assigned to the guest (else the instruction faults) and
 * has the requested page size. */
static enum rmp_result check_entries(const struct rmp_table *t, uint64_t gpa, enum page_size size)
{
	uint64_t count = page_size_bytes(size) >> PAGE_SHIFT;

	for (uint64_t i = 0; i < count; i++) {
		const struct rmp_entry *e = rmp_entry_at(t, gpa + i * PAGE_SIZE);

		if (!e->assigned) {
			return RMP_FAULT;
		}
		if (e->size_2m != (size == PAGE_2M)) {
			return RMP_FAIL_SIZEMISMATCH;
		}
	}
	return RMP_SUCCESS;
}

/* PVALIDATE (AMD APM vol. 3): only VMPL0; the page must be assigned to the guest (else
 * #NPF); the request size must match the RMP entry's size; CF=1 if nothing changes. */
enum rmp_result rmp_pvalidate(const struct rmp_table *t, unsigned vmpl, uint64_t gpa,
			      enum page_size size, bool validate)
{
	uint64_t bytes = page_size_bytes(size);
	uint64_t count = bytes >> PAGE_SHIFT;

	if (vmpl != 0U || !rmp_range_in_memory(t, gpa, bytes)) {
		return RMP_FAULT;
	}
	if ((gpa & (bytes - 1U)) != 0U) {
		return RMP_FAIL_INPUT;
	}
	enum rmp_result r = check_entries(t, gpa, size);

	if (r != RMP_SUCCESS) {
		return r;
	}
	if (rmp_entry_at(t, gpa)->validated == validate) {
		return RMP_NO_UPDATE;
	}
	for (uint64_t i = 0; i < count; i++) {
		rmp_entry_at(t, gpa + i * PAGE_SIZE)->validated = validate;
	}
	return RMP_SUCCESS;
}

/* RMPADJUST: only towards a less privileged VMPL, never granting more than the caller
 * has; the page must be assigned and validated; the VMSA bit only from VMPL0 (ignored
 * elsewhere). */
enum rmp_result rmp_rmpadjust(const struct rmp_table *t, unsigned vmpl, uint64_t gpa,
			      enum page_size size, unsigned target, uint8_t perms, bool vmsa)
{
	uint64_t bytes = page_size_bytes(size);
	uint64_t count = bytes >> PAGE_SHIFT;

	if (vmpl >= VMPL_COUNT || !rmp_range_in_memory(t, gpa, bytes)) {
		return RMP_FAULT;
	}
	if ((gpa & (bytes - 1U)) != 0U || (perms & ~RMP_PERM_ALL) != 0U) {
		return RMP_FAIL_INPUT;
	}
	if (target <= vmpl || target >= VMPL_COUNT) {
		return RMP_FAIL_PERMISSION;
	}
	enum rmp_result r = check_entries(t, gpa, size);

	if (r != RMP_SUCCESS) {
		return r;
	}
	for (uint64_t i = 0; i < count; i++) {
		const struct rmp_entry *e = rmp_entry_at(t, gpa + i * PAGE_SIZE);

		if (!e->validated) {
			return RMP_FAIL_INPUT;
		}
		if (vmpl != 0U && (perms & ~e->perms[vmpl]) != 0U) {
			return RMP_FAIL_PERMISSION;
		}
	}
	for (uint64_t i = 0; i < count; i++) {
		struct rmp_entry *e = rmp_entry_at(t, gpa + i * PAGE_SIZE);

		e->perms[target] = perms;
		if (vmpl == 0U) {
			e->vmsa = vmsa;
		}
	}
	return RMP_SUCCESS;
}

/* Why a private access at vmpl to [gpa, gpa + len) faults, or NULL if it does not. */
const char *rmp_access_fault(const struct rmp_table *t, unsigned vmpl, uint64_t gpa, uint64_t len,
			     uint8_t need)
{
	if (!rmp_range_in_memory(t, gpa, len)) {
		return "outside guest memory";
	}
	for (uint64_t p = gpa & ~(PAGE_SIZE - 1U); p < gpa + len; p += PAGE_SIZE) {
		const struct rmp_entry *e = rmp_entry_at(t, p);

		if (!e->assigned) {
			return "#NPF: page not assigned to the guest";
		}
		if (!e->validated) {
			return "#VC: page not validated";
		}
		if (vmpl != 0U && e->vmsa && (need & RMP_PERM_WRITE) != 0U) {
			return "#NPF: a VMSA page is not writable";
		}
		if (vmpl != 0U && (e->perms[vmpl] & need) != need) {
			return need == RMP_PERM_WRITE  ? "#NPF: VMPL lacks write permission"
			       : need == RMP_PERM_READ ? "#NPF: VMPL lacks read permission"
						       : "#NPF: VMPL lacks execute permission";
		}
	}
	return NULL;
}

const char *rmp_host_psc(const struct rmp_table *t, uint64_t gpa, enum page_size size,
			 enum psc_op op)
{
	uint64_t bytes = page_size_bytes(size);
	uint64_t region = gpa & ~(PAGE_SIZE_2M - 1U);

	if ((gpa & (bytes - 1U)) != 0U) {
		return "address not aligned to the page size";
	}
	if (!range_within(gpa, bytes, t->mem_size) || (op == PSC_PSMASH && size != PAGE_2M)) {
		return op == PSC_PSMASH ? "psmash takes a 2m page" : "outside guest memory";
	}
	if (op != PSC_PRIVATE && op != PSC_SHARED && op != PSC_PSMASH) {
		return "unknown page state change";
	}
	if (size == PAGE_4K && range_within(region, PAGE_SIZE_2M, t->mem_size) &&
	    rmp_entry_at(t, region)->size_2m) {
		for (uint64_t i = 0; i < PAGES_PER_2M; i++) {
			rmp_entry_at(t, region + i * PAGE_SIZE)->size_2m = false;
		}
	}
	for (uint64_t p = gpa; p < gpa + bytes; p += PAGE_SIZE) {
		struct rmp_entry *e = rmp_entry_at(t, p);

		if (op == PSC_PSMASH) {
			e->size_2m = false;
			continue;
		}
		*e = (struct rmp_entry){
			.assigned = op == PSC_PRIVATE,
			.size_2m = op == PSC_PRIVATE && size == PAGE_2M,
		};
	}
	return NULL;
}
