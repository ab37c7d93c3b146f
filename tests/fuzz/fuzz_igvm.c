/* libFuzzer target for the IGVM parser and the SEV-SNP launch walk (what donjon-igvm
 * measure and the simulator run on a parsed file). Half the inputs are parsed as they are (with
 * their checksum made right, so the records are reached); the other half are byte edits
 * applied to a valid sample file. Any input either parses, and then every record body
 * and every page it refers to is read in bounds (ASan checks), or is refused with an
 * error naming an offset inside the file; a parsed file then goes through the SNP launch
 * walk and the native checks, which either hand out only pages inside the file or refuse
 * it, naming a record inside the file. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "igvm_file.h"
#include "igvm_launch.h"
#include "igvm_sample.h"

static uint8_t *sample;
static size_t sample_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Make the checksum match the header and variable headers the file claims, if those
 * lie inside it. */
static void fix_checksum(uint8_t *buf, size_t len)
{
	struct igvm_fixed_header h;

	if (len < IGVM_FIXED_HEADER_V1) {
		return;
	}
	memcpy(&h, buf, IGVM_FIXED_HEADER_V1);
	size_t hsize = h.format_version == 2U ? IGVM_FIXED_HEADER_V2 : IGVM_FIXED_HEADER_V1;

	if (len < hsize || h.variable_header_offset > len ||
	    h.variable_header_size > len - h.variable_header_offset) {
		return;
	}
	memset(buf + 0x14, 0, 4);
	uLong crc = crc32(crc32(0L, Z_NULL, 0), buf, (uInt)hsize);

	crc = crc32(crc, buf + h.variable_header_offset, h.variable_header_size);
	memcpy(buf + 0x14, &(uint32_t){ (uint32_t)crc }, 4);
}

static bool touch_page(void *ctx, const struct igvm_launch_page *p, struct igvm_error *err)
{
	volatile uint8_t *sink = ctx;

	(void)err;
	for (unsigned j = 0; p->data != NULL && j < IGVM_PAGE; j++) {
		*sink ^= p->data[j];
	}
	return true;
}

static void launch(const struct igvm_file *f, size_t len)
{
	static const struct igvm_host host = { .vcpus = 3, .mem_size = 1ULL << 30 };
	struct igvm_error err;
	struct igvm_launch out;
	volatile uint8_t sink = 0;

	if (!igvm_snp_launch(f, &host, touch_page, (void *)&sink, &out, &err) &&
	    err.offset >= len) {
		abort();
	}
	if (!igvm_native_check(f, &err) && err.offset >= len) {
		abort();
	}
}

static void check(uint8_t *buf, size_t len)
{
	struct igvm_file f;
	struct igvm_error err;
	volatile uint8_t sink = 0;

	if (!igvm_parse(buf, len, &f, &err)) {
		if (len != 0U && err.offset >= len) {
			abort();
		}
		return;
	}
	for (size_t i = 0; i < f.count; i++) {
		const struct igvm_record *r = &f.records[i];
		uint32_t off = 0;

		for (uint32_t j = 0; j < r->length; j++) {
			sink ^= r->body[j];
		}
		if (r->type == IGVM_VHT_PAGE_DATA || r->type == IGVM_VHT_VP_CONTEXT) {
			memcpy(&off, r->body + 12, sizeof(off));
			const uint8_t *page = igvm_page_at(&f, off);

			for (unsigned j = 0; page != NULL && j < IGVM_PAGE; j++) {
				sink ^= page[j];
			}
		}
	}
	(void)sink;
	launch(&f, len);
	igvm_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sample == NULL && !igvm_sample_build(&sample, &sample_len)) {
		abort();
	}
	bool edit = size != 0U && (data[0] & 1U) != 0U;
	size_t len = edit ? sample_len : size;
	/* A private copy, so ASan sees reads past the end. */
	uint8_t *buf = malloc(len != 0U ? len : 1U);

	if (buf == NULL) {
		return 0;
	}
	if (edit) {
		/* Edits: (u16 offset into the headers, u8 value) triples. */
		memcpy(buf, sample, len);
		for (size_t i = 1; i + 3 <= size; i += 3) {
			size_t at = ((size_t)data[i] | (size_t)data[i + 1] << 8) % 0x200U;

			buf[at] = data[i + 2];
		}
	} else if (size != 0U) {
		memcpy(buf, data, size);
	}
	fix_checksum(buf, len);
	check(buf, len);
	free(buf);
	return 0;
}
