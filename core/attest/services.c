/* The services Donjon runs, as the attestation protocol lists them (spec 58019 Table 12):
 * SVSM_ATTEST_SERVICES's manifest has an entry for each, in this order, and
 * SVSM_ATTEST_SINGLE_SERVICE answers for each GUID here. Adding a service is one line in
 * `services`: its GUID in EFI byte order and the function that gives its manifest data
 * (the vTPM's will be c476f1eb-0123-45a5-9641-b4e7dde5bfe3 with its Endorsement Key's
 * TPMT_PUBLIC). No service has manifest data yet. */
#include "attest/attest.h"

static const struct attest_service services[] = {};

const struct attest_service_table attest_services = {
	.entries = services,
	.count = sizeof(services) / sizeof(services[0]),
};
