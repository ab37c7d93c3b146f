/* Guest memory access: permission checks against the page tracking, then a single copy
 * through a platform mapping. */
#include "mm/guestmem.h"

#include <donjon/platform.h>

#include "mm/pagestate.h"

/* Guards the SVSM's pages, VMSAs, deposited memory and other vCPUs' calling areas against
 * being named as a buffer, and pages the caller cannot access. */
static bool guest_may_access(const struct guest_view *g, gpa_t gpa, size_t len, uint8_t need)
{
	return pagestate_range_valid(gpa, len) &&
	       pagestate_guest_usable(gpa, len, g->vmpl, need, g->own_caa);
}

bool svsmmem_copy_in(gpa_t gpa, void *dst, size_t len)
{
	const void *src = plat_map(gpa, len);

	if (src == NULL) {
		return false;
	}
	__builtin_memcpy(dst, src, len);
	plat_unmap(src, len);
	return true;
}

bool svsmmem_copy_out(gpa_t gpa, const void *src, size_t len)
{
	void *dst = plat_map(gpa, len);

	if (dst == NULL) {
		return false;
	}
	__builtin_memcpy(dst, src, len);
	plat_unmap(dst, len);
	pagestate_note_write(gpa, len);
	return true;
}

bool svsmmem_zero(gpa_t gpa, size_t len)
{
	void *dst = plat_map(gpa, len);

	if (dst == NULL) {
		return false;
	}
	__builtin_memset(dst, 0, len);
	plat_unmap(dst, len);
	pagestate_note_write(gpa, len);
	return true;
}

bool svsmmem_update64(gpa_t gpa, uint64_t clear, uint64_t set)
{
	uint8_t *field = gpa_is_aligned(gpa, 8) ? plat_map(gpa, sizeof(uint64_t)) : NULL;
	uint64_t v = 0;

	if (field == NULL) {
		return false;
	}
	__builtin_memcpy(&v, field, sizeof(v));
	v = (v & ~clear) | set;
	__builtin_memcpy(field, &v, sizeof(v));
	plat_unmap(field, sizeof(v));
	pagestate_note_write(gpa, sizeof(v));
	return true;
}

bool guestmem_copy_in(const struct guest_view *g, gpa_t gpa, void *dst, size_t len)
{
	if (len == 0U) {
		return true;
	}
	if (!guest_may_access(g, gpa, len, RMP_PERM_READ)) {
		return false;
	}
	return svsmmem_copy_in(gpa, dst, len);
}

bool guestmem_copy_out(const struct guest_view *g, gpa_t gpa, const void *src, size_t len)
{
	if (len == 0U) {
		return true;
	}
	if (!guest_may_access(g, gpa, len, RMP_PERM_WRITE)) {
		return false;
	}
	return svsmmem_copy_out(gpa, src, len);
}

bool guestmem_writable(const struct guest_view *g, gpa_t gpa, size_t len)
{
	return guest_may_access(g, gpa, len, RMP_PERM_WRITE);
}
