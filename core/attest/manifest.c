/* The services manifest (spec 58019 Table 12) built from a services table. */
#include <donjon/svsm_abi.h>

#include "attest/attest.h"

enum attest_manifest_result attest_manifest_services(const struct attest_service_table *t,
						     uint8_t *buf, size_t cap, uint32_t *len)
{
	struct svsm_manifest_header hdr = { .guid = { SVSM_MANIFEST_GUID_BYTES },
					    .count = t->count };
	/* The table's length and offsets are 32-bit fields; t->count is 32-bit too, so the
	 * sizes below cannot wrap. */
	size_t limit = cap < UINT32_MAX ? cap : UINT32_MAX;
	size_t data_at = sizeof(hdr) + (size_t)t->count * sizeof(struct svsm_manifest_entry);

	if (data_at > limit) {
		return ATTEST_MANIFEST_TOO_BIG;
	}
	for (unsigned i = 0; i < t->count; i++) {
		struct svsm_manifest_entry e = { .offset = (uint32_t)data_at };
		const uint8_t *data = NULL;

		t->entries[i].manifest(&data, &e.length);
		if (e.length > limit - data_at) {
			return ATTEST_MANIFEST_TOO_BIG;
		}
		__builtin_memcpy(e.guid, t->entries[i].guid, sizeof(e.guid));
		__builtin_memcpy(buf + sizeof(hdr) + (size_t)i * sizeof(e), &e, sizeof(e));
		if (e.length != 0U) {
			__builtin_memcpy(buf + data_at, data, e.length);
		}
		data_at += e.length;
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
		t->entries[i].manifest(&data, &data_len);
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
