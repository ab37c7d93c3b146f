/* Per-4K tracking of all guest memory: what the SVSM validated, at which size, which
 * permissions it granted to VMPL1..3, and what the SVSM owns. The core's own record, kept
 * in step with every PVALIDATE and RMPADJUST it performs. Callers hold the core lock. */
#ifndef CORE_MM_PAGESTATE_H
#define CORE_MM_PAGESTATE_H

#include <donjon/types.h>

enum page_owner {
	PAGE_GUEST = 0,	  /* ordinary guest memory */
	PAGE_SVSM = 1,	  /* the SVSM's own range */
	PAGE_VMSA = 2,	  /* a guest vCPU's VMSA, registered by CREATE_VCPU */
	PAGE_CA = 3,	  /* a vCPU's calling area */
	PAGE_DEPOSIT = 4, /* memory the guest deposited with the SVSM */
};

struct page_info {
	enum page_owner owner;
	bool validated;
	enum page_size size;
	uint8_t perms[4]; /* index by VMPL; [0] is unused (VMPL0 has every permission) */
};

size_t pagestate_table_size(uint64_t page_count);
void pagestate_init(void *table, uint64_t page_count);
uint64_t pagestate_page_count(void);

/* True if [gpa, gpa + len) lies inside guest memory, with no overflow. */
bool pagestate_range_valid(gpa_t gpa, uint64_t len);

struct page_info pagestate_get(gpa_t gpa);
/* True if every page of [gpa, gpa + len) has owner `owner`. The range must be valid. */
bool pagestate_range_owned_by(gpa_t gpa, uint64_t len, enum page_owner owner);

/* True if every page of [gpa, gpa + len) is ordinary guest memory (or the page of
 * own_caa), validated, and grants `vmpl` every permission bit in `need`. The range must be
 * valid. */
bool pagestate_guest_usable(gpa_t gpa, uint64_t len, unsigned vmpl, uint8_t need, gpa_t own_caa);

void pagestate_set_owner(gpa_t gpa, uint64_t len, enum page_owner owner);
void pagestate_set_validated(gpa_t gpa, enum page_size size, bool validated);
void pagestate_set_perms(gpa_t gpa, enum page_size size, unsigned vmpl, uint8_t perms);

/* Live migration's marks (core/migrate), one set of bits per page:
 *   dirty: changed since it was last sent (source); set on every page whose tracking
 *          changes and, through pagestate_note_write, every page the SVSM writes, while
 *          tracking is on;
 *   held:  the RMP grants VMPL1..3 less than the recorded permissions (the source's write
 *          protection, the destination's pages before commit); pageops_release ends it;
 *   sent:  the source sent the page's contents, or the destination received them. */
#define PAGESTATE_DIRTY 0x1U
#define PAGESTATE_HELD 0x2U
#define PAGESTATE_SENT 0x4U

void pagestate_track(bool on);
void pagestate_note_write(gpa_t gpa, uint64_t len);
unsigned pagestate_marks(gpa_t gpa);
/* Set and clear marks on [gpa, gpa + len); clearing every page's marks: len 0. */
void pagestate_mark(gpa_t gpa, uint64_t len, unsigned set, unsigned clear);
void pagestate_unmark_all(void);
/* The first page at or after pfn with every mark of `marks`; page count if none. */
uint64_t pagestate_find_marked(uint64_t pfn, unsigned marks);

#endif
