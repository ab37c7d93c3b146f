/* Platform page operations with the page tracking kept in step. */
#include "mm/pageops.h"

#include "mm/pagestate.h"

enum rmp_result pageops_pvalidate(gpa_t gpa, enum page_size size, bool validate)
{
	enum rmp_result r = plat_pvalidate(gpa, size, validate);

	if (r == RMP_SUCCESS) {
		pagestate_set_validated(gpa, size, validate);
	}
	return r;
}

static enum rmp_result set_perms(gpa_t gpa, enum page_size size, unsigned vmpl, uint8_t perms)
{
	enum rmp_result r = plat_rmpadjust(gpa, size, vmpl, perms, false);

	if (r == RMP_SUCCESS) {
		pagestate_set_perms(gpa, size, vmpl, perms);
	}
	return r;
}

enum rmp_result pageops_grant(gpa_t gpa, enum page_size size, unsigned upto_vmpl)
{
	for (unsigned vmpl = 1; vmpl <= upto_vmpl; vmpl++) {
		enum rmp_result r = set_perms(gpa, size, vmpl, RMP_PERM_ALL);

		if (r != RMP_SUCCESS) {
			return r;
		}
	}
	return RMP_SUCCESS;
}

enum rmp_result pageops_revoke(gpa_t gpa, enum page_size size)
{
	for (unsigned vmpl = 1; vmpl < VMPL_COUNT; vmpl++) {
		enum rmp_result r = set_perms(gpa, size, vmpl, 0);

		if (r != RMP_SUCCESS) {
			return r;
		}
	}
	return RMP_SUCCESS;
}

enum rmp_result pageops_restore(gpa_t gpa, enum page_size size, const uint8_t saved[4])
{
	for (unsigned vmpl = 1; vmpl < VMPL_COUNT; vmpl++) {
		enum rmp_result r = set_perms(gpa, size, vmpl, saved[vmpl]);

		if (r != RMP_SUCCESS) {
			return r;
		}
	}
	return RMP_SUCCESS;
}

enum rmp_result pageops_make_vmsa(gpa_t gpa, unsigned vmpl)
{
	/* Readable by the vCPU's own VMPL, as COCONUT leaves it: Linux reads SEV_FEATURES back
	 * from the VMSA it had made for the AP_CREATION event. A VMSA page is never writable
	 * by the guest, whatever its permissions. */
	enum rmp_result r = plat_rmpadjust(gpa, PAGE_4K, vmpl, RMP_PERM_READ, true);

	if (r == RMP_SUCCESS) {
		pagestate_set_perms(gpa, PAGE_4K, vmpl, RMP_PERM_READ);
	}
	return r;
}

enum rmp_result pageops_hold(gpa_t gpa, enum page_size size, uint8_t keep)
{
	struct page_info info = pagestate_get(gpa);

	pagestate_mark(gpa, page_size_bytes(size), PAGESTATE_HELD, 0);
	for (unsigned vmpl = 1; vmpl < VMPL_COUNT; vmpl++) {
		uint8_t perms = info.perms[vmpl] & keep;

		if (perms == info.perms[vmpl]) {
			continue;
		}
		enum rmp_result r = plat_rmpadjust(gpa, size, vmpl, perms, false);

		if (r != RMP_SUCCESS) {
			return r;
		}
	}
	return RMP_SUCCESS;
}

enum rmp_result pageops_release(gpa_t gpa, enum page_size size)
{
	struct page_info info = pagestate_get(gpa);

	for (unsigned vmpl = 1; vmpl < VMPL_COUNT; vmpl++) {
		enum rmp_result r = plat_rmpadjust(gpa, size, vmpl, info.perms[vmpl], false);

		if (r != RMP_SUCCESS) {
			return r;
		}
	}
	pagestate_mark(gpa, page_size_bytes(size), 0, PAGESTATE_HELD);
	return RMP_SUCCESS;
}
