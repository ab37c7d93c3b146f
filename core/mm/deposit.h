/* Memory the guest deposited with the SVSM (DEPOSIT_MEM), kept as a stack of 4 KiB pages
 * linked through their own first 8 bytes: the pages are VMPL0-only, so only the SVSM can
 * write the links. Callers hold the core lock. */
#ifndef CORE_MM_DEPOSIT_H
#define CORE_MM_DEPOSIT_H

#include <donjon/types.h>

bool deposit_push(gpa_t page);
/* False if the pool is empty or the next link cannot be read. */
bool deposit_pop(gpa_t *page);
uint64_t deposit_count(void);

#endif
