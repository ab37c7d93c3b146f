/* The services Donjon may run, as the attestation protocol lists them (spec 58019
 * Table 12): SVSM_ATTEST_SERVICES's manifest has an entry for each one this machine runs,
 * in this order, and SVSM_ATTEST_SINGLE_SERVICE answers for each of their GUIDs. Adding a
 * service is one line in `services`: its GUID in EFI byte order and the function that
 * gives its manifest data. */
#include <donjon/svsm_abi.h>

#include "attest/attest.h"
#include "services/vtpm.h"

static const struct attest_service services[] = {
	/* The vTPM: its EK's TPMT_PUBLIC. */
	{ { SVSM_VTPM_SERVICE_GUID_BYTES }, vtpm_manifest },
};

const struct attest_service_table attest_services = {
	.entries = services,
	.count = sizeof(services) / sizeof(services[0]),
};
