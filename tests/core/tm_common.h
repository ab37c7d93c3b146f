/* Pieces shared by the test machines on the simulator and in the kernel. */
#ifndef TESTS_CORE_TM_COMMON_H
#define TESTS_CORE_TM_COMMON_H

#include <donjon/svsm.h>

#include "rmp.h"
#include "test_machine.h"

/* RCX, RDX, R8, R9 after a call, into out[0..3] (if out is not NULL). */
void tm_copy_outputs(const struct svsm_regs *regs, uint64_t out[4]);
struct tm_rmp tm_rmp_from(const struct rmp_entry *e);

#endif
