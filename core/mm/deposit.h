/* Memory the guest deposited with the SVSM (DEPOSIT_MEM), 4 KiB pages. The pool's only
 * records are the page tracking (owner PAGE_DEPOSIT) and a count of deposited pages per
 * 2 MiB region, both in SVSM memory: nothing about the pool is ever read from the
 * deposited pages, so whatever reaches them (a CPU with a stale translation, the host,
 * a bug) cannot steer WITHDRAW_MEM to another page. Callers hold the core lock. */
#ifndef CORE_MM_DEPOSIT_H
#define CORE_MM_DEPOSIT_H

#include <donjon/types.h>

/* The SVSM memory the pool needs for page_count pages of guest memory. */
size_t deposit_table_size(uint64_t page_count);
void deposit_init(void *table, uint64_t page_count);

/* page (owned by the guest, its permissions already revoked) joins the pool. */
void deposit_add(gpa_t page);
/* The lowest deposited page. False if the pool is empty. */
bool deposit_first(gpa_t *page);
/* page, a deposited page, leaves the pool and is the guest's again. */
void deposit_remove(gpa_t page);
uint64_t deposit_count(void);

#endif
