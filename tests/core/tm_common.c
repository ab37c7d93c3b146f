/* Pieces shared by the test machines on the simulator and in the kernel. */
#include "tm_common.h"

void tm_copy_outputs(const struct svsm_regs *regs, uint64_t out[4])
{
	if (out != NULL) {
		out[0] = regs->rcx;
		out[1] = regs->rdx;
		out[2] = regs->r8;
		out[3] = regs->r9;
	}
}

struct tm_rmp tm_rmp_from(const struct rmp_entry *e)
{
	struct tm_rmp r = { .validated = e->validated, .vmsa = e->vmsa };

	for (unsigned v = 0; v < 4; v++) {
		r.perms[v] = e->perms[v];
	}
	return r;
}
