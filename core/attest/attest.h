/* core/attest inside the core: the SVSM's own report for a caller that holds the core
 * lock, the services the attestation protocol lists, and their manifests (spec 58019
 * section 7). */
#ifndef CORE_ATTEST_ATTEST_H
#define CORE_ATTEST_ATTEST_H

#include <donjon/svsm.h>
#include <donjon/types.h>

/* svsm_attest_report with the core lock already held (the attestation protocol's
 * handlers run under it). Spends two VMPCK0 sequence numbers whenever it sends. */
enum svsm_report_result attest_report_locked(const uint8_t user_data[64],
					     uint8_t report[SNP_REPORT_SIZE], uint32_t *status);

/* What a service's `manifest` function says. */
enum attest_service_data {
	ATTEST_DATA_OK,	    /* *data and *len are its manifest data (length 0: it has none) */
	ATTEST_DATA_ABSENT, /* this machine does not run it: the manifest does not list it */
	ATTEST_DATA_FAILED, /* it runs, but cannot give its data: no manifest can be made */
};

/* A service the SVSM may run, as the manifest lists it: its GUID in EFI byte order and its
 * manifest data (manifest version 0), which `manifest` points to; it stays valid while
 * the core lock is held. */
struct attest_service {
	uint8_t guid[16];
	enum attest_service_data (*manifest)(const uint8_t **data, uint32_t *len);
};

struct attest_service_table {
	const struct attest_service *entries;
	unsigned count;
};

/* Every service Donjon runs (core/attest/services.c). */
extern const struct attest_service_table attest_services;

/* The largest manifest the SVSM builds. */
#define ATTEST_MANIFEST_MAX PAGE_SIZE

enum attest_manifest_result {
	ATTEST_MANIFEST_OK,
	ATTEST_MANIFEST_UNKNOWN_SERVICE, /* no service has that GUID */
	ATTEST_MANIFEST_TOO_BIG,	 /* more than `cap` bytes */
	ATTEST_MANIFEST_FAILED,		 /* a service could not give its data */
};

/* The services manifest (Table 12) of every service in `t` the machine runs, in table
 * order, into buf: *len bytes. */
enum attest_manifest_result attest_manifest_services(const struct attest_service_table *t,
						     uint8_t *buf, size_t cap, uint32_t *len);

/* The manifest of the one service of `t` with this GUID: its data alone (UNKNOWN_SERVICE
 * also for a service the machine does not run). */
enum attest_manifest_result attest_manifest_single(const struct attest_service_table *t,
						   const uint8_t guid[16], uint8_t *buf, size_t cap,
						   uint32_t *len);

#endif
