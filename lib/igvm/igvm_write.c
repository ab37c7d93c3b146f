/* The IGVM writer: records in order, file data deduplicated (identical blobs share one
 * offset, as the reference serializer does), offsets fixed up once the variable-header
 * section's size is known, and the CRC-32 (zlib) over the headers. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "igvm_file.h"

struct fixup {
	size_t field; /* offset in the variable-header section of a u32 file_offset */
	size_t data;  /* offset of the blob inside the file-data section */
};

/* Page-sized blobs by content hash (open addressing), so dedup stays linear in the size
 * of the file: a 256 MiB payload is 65536 pages. */
struct blob_slot {
	uint32_t hash;
	uint32_t used;
	size_t off;
	size_t size;
};

struct igvm_writer {
	uint8_t *vh;
	size_t vh_len, vh_cap;
	uint8_t *data;
	size_t data_len, data_cap;
	struct fixup *fixups;
	size_t fixup_count, fixup_cap;
	size_t last_body; /* where the last record's body starts in vh */
	struct blob_slot *slots;
	size_t slot_count, slot_used; /* slot_count: a power of two */
};

static bool grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap) {
		return true;
	}
	size_t cap2 = *cap != 0U ? *cap : 64U;

	while (cap2 < need) {
		cap2 *= 2U;
	}
	void *p = realloc(*buf, cap2 * elem);

	if (p == NULL) {
		return false;
	}
	*buf = p;
	*cap = cap2;
	return true;
}

struct igvm_writer *igvm_writer_new(void)
{
	return calloc(1, sizeof(struct igvm_writer));
}

void igvm_writer_free(struct igvm_writer *w)
{
	if (w != NULL) {
		free(w->vh);
		free(w->data);
		free(w->fixups);
		free(w->slots);
		free(w);
	}
}

bool igvm_writer_add(struct igvm_writer *w, uint32_t type, const void *body, uint32_t len)
{
	size_t padded = (8U + (size_t)len + 7U) & ~(size_t)7U;

	if (!grow((void **)&w->vh, &w->vh_cap, w->vh_len + padded, 1)) {
		return false;
	}
	uint8_t *p = w->vh + w->vh_len;

	memset(p, 0, padded);
	memcpy(p, &type, 4);
	memcpy(p + 4, &len, 4);
	memcpy(p + 8, body, len);
	w->last_body = w->vh_len + 8U;
	w->vh_len += padded;
	return true;
}

static uint32_t blob_hash(const uint8_t *blob, size_t size)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), blob, (uInt)size);
}

/* The slot holding an identical blob, or the empty slot where it belongs. */
static struct blob_slot *find_slot(const struct igvm_writer *w, const uint8_t *blob, size_t size,
				   uint32_t hash)
{
	for (size_t i = hash & (w->slot_count - 1U);; i = (i + 1U) & (w->slot_count - 1U)) {
		struct blob_slot *s = &w->slots[i];

		if (s->used == 0U || (s->hash == hash && s->size == size &&
				      memcmp(w->data + s->off, blob, size) == 0)) {
			return s;
		}
	}
}

/* Keep the table at most half full. */
static bool grow_slots(struct igvm_writer *w)
{
	if (2U * (w->slot_used + 1U) <= w->slot_count) {
		return true;
	}
	size_t count = w->slot_count != 0U ? 2U * w->slot_count : 256U;
	struct blob_slot *old = w->slots;
	size_t old_count = w->slot_count;

	w->slots = calloc(count, sizeof(*w->slots));
	if (w->slots == NULL) {
		w->slots = old;
		return false;
	}
	w->slot_count = count;
	for (size_t i = 0; i < old_count; i++) {
		if (old[i].used != 0U) {
			*find_slot(w, w->data + old[i].off, old[i].size, old[i].hash) = old[i];
		}
	}
	free(old);
	return true;
}

bool igvm_writer_add_data(struct igvm_writer *w, uint32_t field_off, const void *data, size_t len,
			  size_t pad_to)
{
	size_t size = pad_to > len ? pad_to : len;
	uint8_t *blob = calloc(1, size);

	if (blob == NULL) {
		return false;
	}
	memcpy(blob, data, len);
	uint32_t hash = blob_hash(blob, size);

	if (!grow_slots(w)) {
		free(blob);
		return false;
	}
	struct blob_slot *slot = find_slot(w, blob, size, hash);
	size_t at = slot->off;

	/* Blobs start on page multiples inside the data section. */
	if (slot->used == 0U) {
		size_t aligned = (w->data_len + IGVM_PAGE - 1U) & ~(size_t)(IGVM_PAGE - 1U);

		if (!grow((void **)&w->data, &w->data_cap, aligned + size, 1)) {
			free(blob);
			return false;
		}
		memset(w->data + w->data_len, 0, aligned - w->data_len);
		memcpy(w->data + aligned, blob, size);
		at = aligned;
		w->data_len = aligned + size;
		*slot = (struct blob_slot){ .hash = hash, .used = 1, .off = at, .size = size };
		w->slot_used++;
	}
	free(blob);
	if (!grow((void **)&w->fixups, &w->fixup_cap, w->fixup_count + 1U, sizeof(struct fixup))) {
		return false;
	}
	w->fixups[w->fixup_count++] = (struct fixup){ w->last_body + field_off, at };
	return true;
}

bool igvm_writer_finish(struct igvm_writer *w, uint32_t version, uint8_t **out, size_t *out_len)
{
	uint32_t hsize = version == 2U ? IGVM_FIXED_HEADER_V2 : IGVM_FIXED_HEADER_V1;
	/* The data section holds at least one byte (QEMU's parser insists). */
	size_t data_len = w->data_len != 0U ? w->data_len : 1U;
	size_t total = hsize + w->vh_len + data_len;
	uint8_t *file = total <= UINT32_MAX ? calloc(1, total) : NULL;

	if (file == NULL) {
		return false;
	}
	uint32_t data_start = (uint32_t)(hsize + w->vh_len);

	for (size_t i = 0; i < w->fixup_count; i++) {
		uint32_t abs = data_start + (uint32_t)w->fixups[i].data;

		memcpy(w->vh + w->fixups[i].field, &abs, 4);
	}
	struct igvm_fixed_header h = {
		.magic = IGVM_MAGIC,
		.format_version = version,
		.variable_header_offset = hsize,
		.variable_header_size = (uint32_t)w->vh_len,
		.total_file_size = (uint32_t)total,
		.architecture = 0,
		.page_size = IGVM_PAGE,
	};

	memcpy(file, &h, hsize);
	memcpy(file + hsize, w->vh, w->vh_len);
	if (w->data_len != 0U) {
		memcpy(file + data_start, w->data, w->data_len);
	}
	uLong crc = crc32(crc32(0L, Z_NULL, 0), file, hsize + (uInt)w->vh_len);

	h.checksum = (uint32_t)crc;
	memcpy(file, &h, hsize);
	*out = file;
	*out_len = total;
	return true;
}
