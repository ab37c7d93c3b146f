/* The services Donjon may run, as the attestation protocol lists them (spec 58019
 * Table 12): SVSM_ATTEST_SERVICES's manifest has an entry for each one this machine runs,
 * in this order, and SVSM_ATTEST_SINGLE_SERVICE answers for each of their GUIDs. Adding a
 * service is one line in `services`: its GUID in EFI byte order and the function that
 * gives its manifest data. */
#include "attest/attest.h"
#include "services/vtpm.h"

static const struct attest_service services[] = {
	/* The vTPM, c476f1eb-0123-45a5-9641-b4e7dde5bfe3: its EK's TPMT_PUBLIC. */
	{ { 0xeb, 0xf1, 0x76, 0xc4, 0x23, 0x01, 0xa5, 0x45, 0x96, 0x41, 0xb4, 0xe7, 0xdd, 0xe5,
	    0xbf, 0xe3 },
	  vtpm_manifest },
};

const struct attest_service_table attest_services = {
	.entries = services,
	.count = sizeof(services) / sizeof(services[0]),
};
