/* The SVSM vTPM protocol (protocol 2, version 1; spec 58019 section 8): SVSM_VTPM_QUERY
 * and SVSM_VTPM_CMD with TPM_SEND_COMMAND, as Linux's tpm_svsm driver and OVMF make them.
 * Offered only on a machine with a vTPM (dispatch.c). Each handler runs with the core lock
 * held. The whole 4096-byte buffer is checked before the TPM sees the command, and the
 * command is copied in once, so a refused call reaches no TPM and writes nothing, and
 * another vCPU changing the buffer meanwhile changes nothing the TPM runs. */
#include <donjon/svsm_abi.h>

#include "mm/guestmem.h"
#include "mm/pagestate.h"
#include "services/vtpm.h"
#include "svsm_internal.h"

/* Guarded by the core lock. */
static uint8_t command[VTPM_COMMAND_MAX];
static uint8_t response[SVSM_VTPM_BUFFER_SIZE];

static uint32_t vtpm_cmd(struct svsm_call *call)
{
	uint64_t base = call->regs->rcx;
	gpa_t gpa = gpa_init(base);
	uint8_t hdr[SVSM_VTPM_REQ_HEADER];
	uint32_t platform_cmd = 0;
	uint32_t size = 0;

	/* Any alignment (an older OVMF's buffer was not page-aligned); all 4096 bytes must
	 * be ordinary guest memory the caller may write: not the SVSM's, no VMSA, no
	 * deposited page and no calling area (none of those is PAGE_GUEST). */
	if (!guestmem_writable(&call->view, gpa, SVSM_VTPM_BUFFER_SIZE) ||
	    !pagestate_range_owned_by(gpa, SVSM_VTPM_BUFFER_SIZE, PAGE_GUEST)) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	if (!guestmem_copy_in(&call->view, gpa, hdr, sizeof(hdr))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	__builtin_memcpy(&platform_cmd, hdr, sizeof(platform_cmd));
	__builtin_memcpy(&size, hdr + 5, sizeof(size));
	if (platform_cmd != SVSM_VTPM_SEND_COMMAND) {
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
	if (hdr[4] != 0U || size == 0U || size > VTPM_COMMAND_MAX) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	if (!guestmem_copy_in(&call->view, gpa_init(base + SVSM_VTPM_REQ_HEADER), command, size)) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	uint32_t len = vtpm_execute(command, size, response + SVSM_VTPM_RESP_HEADER);

	__builtin_memcpy(response, &len, sizeof(len));
	if (!guestmem_copy_out(&call->view, gpa, response, SVSM_VTPM_RESP_HEADER + len)) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	return SVSM_SUCCESS;
}

uint32_t vtpm_protocol_call(struct svsm_call *call, uint32_t call_id)
{
	switch (call_id) {
	case SVSM_VTPM_QUERY:
		/* TPM_SEND_COMMAND alone; no features in version 1. */
		call->regs->rcx = 1ULL << SVSM_VTPM_SEND_COMMAND;
		call->regs->rdx = 0;
		return SVSM_SUCCESS;
	case SVSM_VTPM_CMD:
		return vtpm_cmd(call);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}
