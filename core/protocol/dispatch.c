/* Routes RAX = (protocol << 32) | call to a protocol's handler, and says which protocol
 * versions are offered. */
#include <donjon/svsm_abi.h>

#include "services/vtpm.h"
#include "svsm_internal.h"

/* A protocol whose `offered` is not NULL exists only when it says so: the vTPM protocol
 * only on a machine with a vTPM. */
static const struct {
	uint64_t protocol;
	uint32_t min, max;
	uint32_t (*call)(struct svsm_call *call, uint32_t call_id);
	bool (*offered)(void);
} protocols[] = {
	{ SVSM_PROTOCOL_CORE, SVSM_CORE_VERSION_MIN, SVSM_CORE_VERSION_MAX, core_protocol_call,
	  NULL },
	{ SVSM_PROTOCOL_ATTEST, SVSM_ATTEST_VERSION_MIN, SVSM_ATTEST_VERSION_MAX,
	  attest_protocol_call, NULL },
	{ SVSM_PROTOCOL_VTPM, SVSM_VTPM_VERSION_MIN, SVSM_VTPM_VERSION_MAX, vtpm_protocol_call,
	  vtpm_offered },
};

static bool offered(size_t i, uint64_t protocol)
{
	return protocols[i].protocol == protocol &&
	       (protocols[i].offered == NULL || protocols[i].offered());
}

#define PROTOCOL_COUNT (sizeof(protocols) / sizeof(protocols[0]))

bool svsm_protocol_versions(uint64_t protocol, uint32_t *min, uint32_t *max)
{
	for (size_t i = 0; i < PROTOCOL_COUNT; i++) {
		if (offered(i, protocol)) {
			*min = protocols[i].min;
			*max = protocols[i].max;
			return true;
		}
	}
	return false;
}

static void count_call(uint64_t protocol, uint32_t call_id, uint32_t result)
{
	if (protocol == SVSM_PROTOCOL_CORE && call_id < SVSM_STATS_CORE_CALLS) {
		svsm_stats.core_calls[call_id]++;
	} else if (protocol == SVSM_PROTOCOL_ATTEST && call_id < SVSM_STATS_ATTEST_CALLS) {
		svsm_stats.attest_calls[call_id]++;
	} else if (protocol == SVSM_PROTOCOL_VTPM && call_id < SVSM_STATS_VTPM_CALLS) {
		svsm_stats.vtpm_calls[call_id]++;
	} else {
		svsm_stats.other_calls++;
	}
	if (result != SVSM_SUCCESS) {
		svsm_stats.failed_calls++;
	}
	if (result - SVSM_ERR_INCOMPLETE < SVSM_STATS_ERRORS) {
		svsm_stats.errors[result - SVSM_ERR_INCOMPLETE]++;
	} else if (result - SVSM_ERR_CORE_BASE < SVSM_STATS_CORE_ERRORS) {
		svsm_stats.core_errors[result - SVSM_ERR_CORE_BASE]++;
	}
}

uint32_t svsm_dispatch(struct svsm_call *call)
{
	uint64_t protocol = call->regs->rax >> 32;
	uint32_t call_id = (uint32_t)call->regs->rax;
	uint32_t result = SVSM_ERR_UNSUPPORTED_PROTOCOL;

	for (size_t i = 0; i < PROTOCOL_COUNT; i++) {
		if (offered(i, protocol)) {
			result = protocols[i].call(call, call_id);
			break;
		}
	}
	count_call(protocol, call_id, result);
	return result;
}
