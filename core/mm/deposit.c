/* The deposited-memory pool: page tracking plus a count per 2 MiB region, so that
 * finding a deposited page scans the regions' counts and then one region's 512 pages. */
#include "mm/deposit.h"

#include "mm/pagestate.h"

static struct {
	uint16_t *region_pages; /* deposited pages in each 2 MiB region (at most 512) */
	uint64_t region_count;
	uint64_t count;
} pool;

size_t deposit_table_size(uint64_t page_count)
{
	return (size_t)((page_count + PAGES_PER_2M - 1U) / PAGES_PER_2M) * sizeof(uint16_t);
}

void deposit_init(void *table, uint64_t page_count)
{
	pool.region_pages = table;
	pool.region_count = (page_count + PAGES_PER_2M - 1U) / PAGES_PER_2M;
	pool.count = 0;
	for (uint64_t r = 0; r < pool.region_count; r++) {
		pool.region_pages[r] = 0;
	}
}

static uint64_t region_of(gpa_t page)
{
	return gpa_pfn(page) / PAGES_PER_2M;
}

void deposit_add(gpa_t page)
{
	pagestate_set_owner(page, PAGE_SIZE, PAGE_DEPOSIT);
	pool.region_pages[region_of(page)]++;
	pool.count++;
}

bool deposit_first(gpa_t *page)
{
	for (uint64_t r = 0; r < pool.region_count; r++) {
		if (pool.region_pages[r] == 0U) {
			continue;
		}
		uint64_t end = (r + 1U) * PAGES_PER_2M;

		if (end > pagestate_page_count()) {
			end = pagestate_page_count();
		}
		for (uint64_t pfn = r * PAGES_PER_2M; pfn < end; pfn++) {
			gpa_t gpa = gpa_init(pfn << PAGE_SHIFT);

			if (pagestate_range_owned_by(gpa, PAGE_SIZE, PAGE_DEPOSIT)) {
				*page = gpa;
				return true;
			}
		}
	}
	return false;
}

void deposit_remove(gpa_t page)
{
	pagestate_set_owner(page, PAGE_SIZE, PAGE_GUEST);
	pool.region_pages[region_of(page)]--;
	pool.count--;
}

uint64_t deposit_count(void)
{
	return pool.count;
}
