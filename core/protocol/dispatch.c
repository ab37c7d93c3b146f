/* Routes RAX = (protocol << 32) | call to a protocol's handler. */
#include <donjon/svsm_abi.h>

#include "svsm_internal.h"

uint32_t svsm_dispatch(struct svsm_call *call)
{
	uint64_t protocol = call->regs->rax >> 32;
	uint32_t call_id = (uint32_t)call->regs->rax;

	switch (protocol) {
	case SVSM_PROTOCOL_CORE:
		return core_protocol_call(call, call_id);
	default:
		return SVSM_ERR_UNSUPPORTED_PROTOCOL;
	}
}
