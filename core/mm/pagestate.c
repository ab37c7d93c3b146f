/* Per-4K page tracking: one 32-bit word per page. */
#include "mm/pagestate.h"

#include <donjon/platform.h>

#define PS_OWNER_MASK 0x7U
#define PS_VALIDATED (1U << 3)
#define PS_SIZE_2M (1U << 4)
#define PS_MARK_SHIFT 5U /* PAGESTATE_DIRTY, _HELD, _SENT in bits 5-7 */
#define PS_MARK_MASK (0x7U << PS_MARK_SHIFT)
#define PS_DIRTY (PAGESTATE_DIRTY << PS_MARK_SHIFT)
#define PS_PERM_SHIFT(vmpl) (8U + 4U * ((vmpl)-1U))

static struct {
	uint32_t *words;
	uint64_t count;
	bool tracking;
} table;

/* While migration tracks changes, every change of a page's record makes it dirty. */
static uint32_t touched(uint32_t w)
{
	return table.tracking ? (w | PS_DIRTY) : w;
}

size_t pagestate_table_size(uint64_t page_count)
{
	return (size_t)page_count * sizeof(uint32_t);
}

void pagestate_init(void *mem, uint64_t page_count)
{
	table.words = mem;
	table.count = page_count;
	table.tracking = false;
	for (uint64_t i = 0; i < page_count; i++) {
		table.words[i] = PAGE_GUEST;
	}
}

uint64_t pagestate_page_count(void)
{
	return table.count;
}

bool pagestate_range_valid(gpa_t gpa, uint64_t len)
{
	return range_within(gpa_val(gpa), len, table.count << PAGE_SHIFT);
}

struct page_info pagestate_get(gpa_t gpa)
{
	uint32_t w = table.words[gpa_pfn(gpa)];
	struct page_info info = {
		.owner = (enum page_owner)(w & PS_OWNER_MASK),
		.validated = (w & PS_VALIDATED) != 0U,
		.size = (w & PS_SIZE_2M) != 0U ? PAGE_2M : PAGE_4K,
	};

	for (unsigned vmpl = 1; vmpl < VMPL_COUNT; vmpl++) {
		info.perms[vmpl] = (uint8_t)((w >> PS_PERM_SHIFT(vmpl)) & RMP_PERM_ALL);
	}
	return info;
}

bool pagestate_range_owned_by(gpa_t gpa, uint64_t len, enum page_owner owner)
{
	uint64_t first = gpa_pfn(gpa);
	uint64_t last = (gpa_val(gpa) + len - 1U) >> PAGE_SHIFT;

	for (uint64_t pfn = first; pfn <= last; pfn++) {
		if ((table.words[pfn] & PS_OWNER_MASK) != (uint32_t)owner) {
			return false;
		}
	}
	return true;
}

bool pagestate_guest_usable(gpa_t gpa, uint64_t len, unsigned vmpl, uint8_t need, gpa_t own_caa)
{
	uint64_t first = gpa_pfn(gpa);
	uint64_t last = (gpa_val(gpa) + len - 1U) >> PAGE_SHIFT;
	uint32_t want = PS_VALIDATED | ((uint32_t)need << PS_PERM_SHIFT(vmpl));
	uint32_t mask = PS_OWNER_MASK | want;

	for (uint64_t pfn = first; pfn <= last; pfn++) {
		uint32_t w = table.words[pfn];

		if ((w & mask) != want &&
		    !(pfn == gpa_pfn(own_caa) && (w & mask) == (want | (uint32_t)PAGE_CA))) {
			return false;
		}
	}
	return true;
}

void pagestate_set_owner(gpa_t gpa, uint64_t len, enum page_owner owner)
{
	uint64_t first = gpa_pfn(gpa);
	uint64_t last = (gpa_val(gpa) + len - 1U) >> PAGE_SHIFT;

	for (uint64_t pfn = first; pfn <= last; pfn++) {
		table.words[pfn] = touched((table.words[pfn] & ~PS_OWNER_MASK) | (uint32_t)owner);
	}
}

void pagestate_set_validated(gpa_t gpa, enum page_size size, bool validated)
{
	uint64_t first = gpa_pfn(gpa);
	uint64_t count = page_size_bytes(size) >> PAGE_SHIFT;

	for (uint64_t pfn = first; pfn < first + count; pfn++) {
		uint32_t w = table.words[pfn] & ~(PS_VALIDATED | PS_SIZE_2M);

		if (validated) {
			w |= PS_VALIDATED | (size == PAGE_2M ? PS_SIZE_2M : 0U);
		} else {
			/* An invalid page has no permissions the RMP could be holding back. */
			w &= ~((uint32_t)PAGESTATE_HELD << PS_MARK_SHIFT);
		}
		table.words[pfn] = touched(w);
	}
}

void pagestate_set_perms(gpa_t gpa, enum page_size size, unsigned vmpl, uint8_t perms)
{
	uint64_t first = gpa_pfn(gpa);
	uint64_t count = page_size_bytes(size) >> PAGE_SHIFT;
	uint32_t mask = RMP_PERM_ALL << PS_PERM_SHIFT(vmpl);

	for (uint64_t pfn = first; pfn < first + count; pfn++) {
		table.words[pfn] =
			touched((table.words[pfn] & ~mask) |
				((uint32_t)(perms & RMP_PERM_ALL) << PS_PERM_SHIFT(vmpl)));
	}
}

void pagestate_track(bool on)
{
	table.tracking = on;
}

void pagestate_note_write(gpa_t gpa, uint64_t len)
{
	if (!table.tracking || len == 0U || !pagestate_range_valid(gpa, len)) {
		return;
	}
	uint64_t last = (gpa_val(gpa) + len - 1U) >> PAGE_SHIFT;

	for (uint64_t pfn = gpa_pfn(gpa); pfn <= last; pfn++) {
		table.words[pfn] |= PS_DIRTY;
	}
}

unsigned pagestate_marks(gpa_t gpa)
{
	return (table.words[gpa_pfn(gpa)] & PS_MARK_MASK) >> PS_MARK_SHIFT;
}

void pagestate_mark(gpa_t gpa, uint64_t len, unsigned set, unsigned clear)
{
	uint64_t last = (gpa_val(gpa) + len - 1U) >> PAGE_SHIFT;
	uint32_t s = ((uint32_t)set << PS_MARK_SHIFT) & PS_MARK_MASK;
	uint32_t c = ((uint32_t)clear << PS_MARK_SHIFT) & PS_MARK_MASK;

	for (uint64_t pfn = gpa_pfn(gpa); pfn <= last; pfn++) {
		table.words[pfn] = (table.words[pfn] & ~c) | s;
	}
}

void pagestate_unmark_all(void)
{
	for (uint64_t pfn = 0; pfn < table.count; pfn++) {
		table.words[pfn] &= ~PS_MARK_MASK;
	}
}

uint64_t pagestate_find_marked(uint64_t pfn, unsigned marks)
{
	uint32_t want = ((uint32_t)marks << PS_MARK_SHIFT) & PS_MARK_MASK;

	for (; pfn < table.count; pfn++) {
		if ((table.words[pfn] & want) == want) {
			return pfn;
		}
	}
	return table.count;
}
