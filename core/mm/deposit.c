/* The deposited-memory pool. */
#include "mm/deposit.h"

#include "mm/guestmem.h"
#include "svsm_internal.h"

static struct {
	gpa_t head;
	uint64_t count;
} pool;

void deposit_pool_init(void)
{
	pool.head = gpa_init(0);
	pool.count = 0;
}

bool deposit_push(gpa_t page)
{
	uint64_t link = gpa_val(pool.head);

	if (!svsmmem_copy_out(page, &link, sizeof(link))) {
		return false;
	}
	pool.head = page;
	pool.count++;
	return true;
}

bool deposit_pop(gpa_t *page)
{
	uint64_t link = 0;

	if (pool.count == 0U || !svsmmem_copy_in(pool.head, &link, sizeof(link))) {
		return false;
	}
	*page = pool.head;
	pool.head = gpa_init(link);
	pool.count--;
	return true;
}

uint64_t deposit_count(void)
{
	return pool.count;
}
