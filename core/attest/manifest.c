/* The services manifest (spec 58019 Table 12) built from a services table. */
#include <donjon/svsm_abi.h>

#include "attest/attest.h"

enum attest_manifest_result attest_manifest_services(const struct attest_service_table *t,
						     uint8_t *buf, size_t cap, uint32_t *len)
{
	struct svsm_manifest_header hdr = { .guid = { SVSM_MANIFEST_GUID_BYTES } };
	/* The table's length and offsets are 32-bit fields; t->count is 32-bit too, so the
	 * sizes below cannot wrap. */
	size_t limit = cap < UINT32_MAX ? cap : UINT32_MAX;
	size_t data_at = 0;
	unsigned listed = 0;

	for (unsigned i = 0; i < t->count; i++) {
		const uint8_t *data = NULL;
		uint32_t data_len = 0;
		enum attest_service_data d = t->entries[i].manifest(&data, &data_len);

		if (d == ATTEST_DATA_FAILED) {
			return ATTEST_MANIFEST_FAILED;
		}
		hdr.count += d == ATTEST_DATA_OK ? 1U : 0U;
	}
	data_at = sizeof(hdr) + (size_t)hdr.count * sizeof(struct svsm_manifest_entry);
	if (data_at > limit) {
		return ATTEST_MANIFEST_TOO_BIG;
	}
	for (unsigned i = 0; i < t->count; i++) {
		struct svsm_manifest_entry e = { .offset = (uint32_t)data_at };
		const uint8_t *data = NULL;

		enum attest_service_data d = t->entries[i].manifest(&data, &e.length);

		/* Asked again: an answer that changed fails the manifest. */
		if (d == ATTEST_DATA_ABSENT) {
			continue;
		}
		if (d != ATTEST_DATA_OK || listed == hdr.count) {
			return ATTEST_MANIFEST_FAILED;
		}
		if (e.length > limit - data_at) {
			return ATTEST_MANIFEST_TOO_BIG;
		}
		__builtin_memcpy(e.guid, t->entries[i].guid, sizeof(e.guid));
		__builtin_memcpy(buf + sizeof(hdr) + (size_t)listed * sizeof(e), &e, sizeof(e));
		listed++;
		if (e.length != 0U) {
			__builtin_memcpy(buf + data_at, data, e.length);
		}
		data_at += e.length;
	}
	if (listed != hdr.count) {
		return ATTEST_MANIFEST_FAILED;
	}
	hdr.length = (uint32_t)data_at;
	__builtin_memcpy(buf, &hdr, sizeof(hdr));
	*len = hdr.length;
	return ATTEST_MANIFEST_OK;
}

enum attest_manifest_result attest_manifest_single(const struct attest_service_table *t,
						   const uint8_t guid[16], uint8_t *buf, size_t cap,
						   uint32_t *len)
{
	for (unsigned i = 0; i < t->count; i++) {
		const uint8_t *data = NULL;
		uint32_t data_len = 0;

		if (__builtin_memcmp(t->entries[i].guid, guid, sizeof(t->entries[i].guid)) != 0) {
			continue;
		}
		enum attest_service_data d = t->entries[i].manifest(&data, &data_len);

		if (d == ATTEST_DATA_ABSENT) {
			return ATTEST_MANIFEST_UNKNOWN_SERVICE;
		}
		if (d == ATTEST_DATA_FAILED) {
			return ATTEST_MANIFEST_FAILED;
		}
		if (data_len > cap) {
			return ATTEST_MANIFEST_TOO_BIG;
		}
		if (data_len != 0U) {
			__builtin_memcpy(buf, data, data_len);
		}
		*len = data_len;
		return ATTEST_MANIFEST_OK;
	}
	return ATTEST_MANIFEST_UNKNOWN_SERVICE;
}
