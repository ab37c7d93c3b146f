/* The IGVM parser: the fixed header, the variable headers in section order with their
 * exact lengths and zero padding, every field rule the reference parser (and so QEMU)
 * applies, and overlapping pages. Every read of the buffer is bounds-checked first. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <donjon/bytes.h>

#include "igvm_file.h"

#define MAX_AREAS 64U

bool igvm_fail(struct igvm_error *err, uint32_t offset, const char *fmt, ...)
{
	va_list ap;

	err->offset = offset;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return false;
}

#define MAX_FILE (1ULL << 30)

uint8_t *igvm_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n = -1;

	*len = 0;
	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    (uint64_t)n <= MAX_FILE && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1U)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		if (*len != (size_t)n) {
			free(buf);
			buf = NULL;
			errno = EIO;
		}
	} else if (f != NULL && n > (long)MAX_FILE) {
		errno = EFBIG;
	}
	if (f != NULL) {
		(void)fclose(f);
	}
	return buf;
}

const char *igvm_type_name(uint32_t type)
{
	switch (type) {
	case IGVM_VHT_SUPPORTED_PLATFORM:
		return "SUPPORTED_PLATFORM";
	case IGVM_VHT_GUEST_POLICY:
		return "GUEST_POLICY";
	case IGVM_VHT_PARAMETER_AREA:
		return "PARAMETER_AREA";
	case IGVM_VHT_PAGE_DATA:
		return "PAGE_DATA";
	case IGVM_VHT_PARAMETER_INSERT:
		return "PARAMETER_INSERT";
	case IGVM_VHT_VP_CONTEXT:
		return "VP_CONTEXT";
	case IGVM_VHT_REQUIRED_MEMORY:
		return "REQUIRED_MEMORY";
	case IGVM_VHT_VP_COUNT_PARAMETER:
		return "VP_COUNT_PARAMETER";
	case IGVM_VHT_SNP_ID_BLOCK:
		return "SNP_ID_BLOCK";
	case IGVM_VHT_MEMORY_MAP:
		return "MEMORY_MAP";
	case IGVM_VHT_COMMAND_LINE:
		return "COMMAND_LINE";
	case IGVM_VHT_ENVIRONMENT_INFO_PARAMETER:
		return "ENVIRONMENT_INFO_PARAMETER";
	default:
		return "unknown";
	}
}

/* The body size each record type must have, 0 for a type Donjon's tools do not know. */
static uint32_t body_size(uint32_t type)
{
	switch (type) {
	case IGVM_VHT_SUPPORTED_PLATFORM:
	case IGVM_VHT_GUEST_POLICY:
	case IGVM_VHT_PARAMETER_AREA:
	case IGVM_VHT_PARAMETER_INSERT:
		return 16;
	case IGVM_VHT_PAGE_DATA:
	case IGVM_VHT_REQUIRED_MEMORY:
		return 24;
	case IGVM_VHT_VP_CONTEXT:
		return 20;
	case IGVM_VHT_SNP_ID_BLOCK:
		return 696;
	case IGVM_VHT_VP_COUNT_PARAMETER:
	case IGVM_VHT_MEMORY_MAP:
	case IGVM_VHT_COMMAND_LINE:
	case IGVM_VHT_ENVIRONMENT_INFO_PARAMETER:
		return 8;
	default:
		return 0;
	}
}

static unsigned section_of(uint32_t type)
{
	return type <= 0x100U ? 0U : type <= 0x200U ? 1U : 2U;
}

/* State while walking the records. */
struct walk {
	uint32_t platform_types; /* bit per platform type seen */
	uint32_t area_index[MAX_AREAS];
	uint64_t area_bytes[MAX_AREAS];
	bool area_inserted[MAX_AREAS];
	unsigned areas;
};

static int find_area(const struct walk *w, uint32_t index)
{
	for (unsigned i = 0; i < w->areas; i++) {
		if (w->area_index[i] == index) {
			return (int)i;
		}
	}
	return -1;
}

/* A directive's compatibility mask: non-zero and made of declared platforms only. */
static bool check_mask(const struct igvm_file *f, const struct igvm_record *r, uint32_t mask,
		       struct igvm_error *err)
{
	if (mask == 0U) {
		return igvm_fail(err, r->offset, "%s: compatibility mask 0 names no platform",
				 igvm_type_name(r->type));
	}
	if ((mask & ~f->platform_masks) != 0U) {
		return igvm_fail(err, r->offset,
				 "%s: compatibility mask 0x%x names undeclared platforms 0x%x",
				 igvm_type_name(r->type), mask, mask & ~f->platform_masks);
	}
	return true;
}

/* [gpa, gpa + size) must be addresses: a range that wraps past 2^64 would load its last
 * pages at gpa 0 (and every later gpa + offset would wrap with it). */
static bool check_range(const struct igvm_record *r, uint64_t gpa, uint64_t size,
			struct igvm_error *err)
{
	uint64_t end = 0;

	if (__builtin_add_overflow(gpa, size, &end)) {
		return igvm_fail(err, r->offset, "%s: gpa 0x%llx + 0x%llx does not fit in 64 bits",
				 igvm_type_name(r->type), (unsigned long long)gpa,
				 (unsigned long long)size);
	}
	return true;
}

/* file_offset of a page-sized blob: inside the file-data section. */
static bool data_ok(const struct igvm_file *f, uint32_t file_offset, uint64_t size)
{
	return file_offset >= f->data_start && (uint64_t)file_offset + size <= f->len;
}

static bool check_platform(struct igvm_file *f, struct walk *w, const struct igvm_record *r,
			   struct igvm_error *err)
{
	struct igvm_supported_platform p;

	memcpy(&p, r->body, sizeof(p));
	if (p.compatibility_mask == 0U ||
	    (p.compatibility_mask & (p.compatibility_mask - 1U)) != 0U) {
		return igvm_fail(
			err, r->offset,
			"SUPPORTED_PLATFORM: compatibility mask 0x%x must have exactly one bit",
			p.compatibility_mask);
	}
	if ((p.compatibility_mask & f->platform_masks) != 0U) {
		return igvm_fail(err, r->offset,
				 "SUPPORTED_PLATFORM: compatibility mask 0x%x declared twice",
				 p.compatibility_mask);
	}
	if (p.platform_type > 6U) {
		return igvm_fail(err, r->offset, "SUPPORTED_PLATFORM: platform type %u unknown",
				 p.platform_type);
	}
	if ((w->platform_types & (1U << p.platform_type)) != 0U) {
		return igvm_fail(err, r->offset,
				 "SUPPORTED_PLATFORM: platform type %u declared twice",
				 p.platform_type);
	}
	if (p.highest_vtl != 0U && p.highest_vtl != 2U) {
		return igvm_fail(err, r->offset, "SUPPORTED_PLATFORM: highest VTL %u, want 0 or 2",
				 p.highest_vtl);
	}
	if (p.platform_version != 1U) {
		return igvm_fail(err, r->offset, "SUPPORTED_PLATFORM: platform version %u, want 1",
				 p.platform_version);
	}
	if (p.platform_type == IGVM_PLATFORM_NATIVE && p.shared_gpa_boundary != 0U) {
		return igvm_fail(
			err, r->offset,
			"SUPPORTED_PLATFORM: native platform with shared GPA boundary 0x%llx",
			(unsigned long long)p.shared_gpa_boundary);
	}
	f->platform_masks |= p.compatibility_mask;
	w->platform_types |= 1U << p.platform_type;
	return true;
}

static bool check_page_data(const struct igvm_file *f, const struct igvm_record *r,
			    struct igvm_error *err)
{
	struct igvm_page_data d;

	memcpy(&d, r->body, sizeof(d));
	if ((d.gpa & (IGVM_PAGE - 1U)) != 0U) {
		return igvm_fail(err, r->offset, "PAGE_DATA: gpa 0x%llx not page aligned",
				 (unsigned long long)d.gpa);
	}
	if (!check_range(r, d.gpa, IGVM_PAGE, err) ||
	    !check_mask(f, r, d.compatibility_mask, err)) {
		return false;
	}
	uint32_t flags = IGVM_PAGE_DATA_FLAG_UNMEASURED | IGVM_PAGE_DATA_FLAG_SHARED;

	if ((d.flags & ~flags) != 0U) {
		return igvm_fail(err, r->offset, "PAGE_DATA: flags 0x%x not accepted", d.flags);
	}
	if (d.data_type > IGVM_PAGE_DATA_CPUID_XF) {
		return igvm_fail(err, r->offset, "PAGE_DATA: data type %u unknown", d.data_type);
	}
	if (d.reserved != 0U) {
		return igvm_fail(err, r->offset, "PAGE_DATA: reserved 0x%x not zero", d.reserved);
	}
	if (d.file_offset != 0U && !data_ok(f, d.file_offset, IGVM_PAGE)) {
		return igvm_fail(err, r->offset,
				 "PAGE_DATA: file offset 0x%x is not a page inside the file data",
				 d.file_offset);
	}
	return true;
}

static bool check_directive(const struct igvm_file *f, struct walk *w, const struct igvm_record *r,
			    struct igvm_error *err)
{
	switch (r->type) {
	case IGVM_VHT_PAGE_DATA:
		return check_page_data(f, r, err);
	case IGVM_VHT_PARAMETER_AREA: {
		struct igvm_parameter_area a;

		memcpy(&a, r->body, sizeof(a));
		if (a.number_of_bytes == 0U) {
			return igvm_fail(err, r->offset, "PARAMETER_AREA %u is empty",
					 a.parameter_area_index);
		}
		if ((a.number_of_bytes & (IGVM_PAGE - 1U)) != 0U) {
			return igvm_fail(err, r->offset,
					 "PARAMETER_AREA %u: 0x%llx bytes is not whole pages",
					 a.parameter_area_index,
					 (unsigned long long)a.number_of_bytes);
		}
		if (find_area(w, a.parameter_area_index) >= 0) {
			return igvm_fail(err, r->offset, "PARAMETER_AREA %u declared twice",
					 a.parameter_area_index);
		}
		if (w->areas == MAX_AREAS) {
			return igvm_fail(err, r->offset, "PARAMETER_AREA %u: more than %u areas",
					 a.parameter_area_index, MAX_AREAS);
		}
		if (a.file_offset != 0U && !data_ok(f, a.file_offset, a.number_of_bytes)) {
			return igvm_fail(
				err, r->offset,
				"PARAMETER_AREA %u: data at 0x%x is not inside the file data",
				a.parameter_area_index, a.file_offset);
		}
		w->area_index[w->areas] = a.parameter_area_index;
		w->area_bytes[w->areas] = a.number_of_bytes;
		w->area_inserted[w->areas++] = false;
		return true;
	}
	case IGVM_VHT_PARAMETER_INSERT: {
		struct igvm_parameter_insert p;

		memcpy(&p, r->body, sizeof(p));
		int a = find_area(w, p.parameter_area_index);

		if ((p.gpa & (IGVM_PAGE - 1U)) != 0U) {
			return igvm_fail(err, r->offset,
					 "PARAMETER_INSERT of area %u: gpa 0x%llx not page aligned",
					 p.parameter_area_index, (unsigned long long)p.gpa);
		}
		if (!check_mask(f, r, p.compatibility_mask, err)) {
			return false;
		}
		if (a < 0) {
			return igvm_fail(err, r->offset, "PARAMETER_INSERT of undeclared area %u",
					 p.parameter_area_index);
		}
		if (w->area_inserted[a]) {
			return igvm_fail(err, r->offset, "PARAMETER_INSERT: area %u inserted twice",
					 p.parameter_area_index);
		}
		/* Every page of the area is loaded: the whole area must lie below 2^64. */
		if (!check_range(r, p.gpa, w->area_bytes[a], err)) {
			return false;
		}
		w->area_inserted[a] = true;
		return true;
	}
	case IGVM_VHT_VP_CONTEXT: {
		struct igvm_vp_context v;

		memcpy(&v, r->body, sizeof(v));
		if ((v.compatibility_mask & (v.compatibility_mask - 1U)) != 0U) {
			return igvm_fail(err, r->offset,
					 "VP_CONTEXT: compatibility mask 0x%x must be one "
					 "platform's",
					 v.compatibility_mask);
		}
		if (!check_mask(f, r, v.compatibility_mask, err)) {
			return false;
		}
		if (v.reserved != 0U) {
			return igvm_fail(err, r->offset, "VP_CONTEXT: reserved 0x%x not zero",
					 v.reserved);
		}
		if (!data_ok(f, v.file_offset, IGVM_PAGE)) {
			return igvm_fail(err, r->offset,
					 "VP_CONTEXT: file offset 0x%x is not a page inside the "
					 "file data",
					 v.file_offset);
		}
		return true;
	}
	case IGVM_VHT_REQUIRED_MEMORY: {
		struct igvm_required_memory m;

		memcpy(&m, r->body, sizeof(m));
		if ((m.gpa & (IGVM_PAGE - 1U)) != 0U) {
			return igvm_fail(err, r->offset,
					 "REQUIRED_MEMORY: gpa 0x%llx not page aligned",
					 (unsigned long long)m.gpa);
		}
		if ((m.number_of_bytes & (IGVM_PAGE - 1U)) != 0U) {
			return igvm_fail(err, r->offset,
					 "REQUIRED_MEMORY: 0x%x bytes is not whole pages",
					 m.number_of_bytes);
		}
		if (!check_range(r, m.gpa, m.number_of_bytes, err) ||
		    !check_mask(f, r, m.compatibility_mask, err)) {
			return false;
		}
		if (m.flags > 1U) {
			return igvm_fail(err, r->offset, "REQUIRED_MEMORY: flags 0x%x not accepted",
					 m.flags);
		}
		if (m.reserved != 0U) {
			return igvm_fail(err, r->offset, "REQUIRED_MEMORY: reserved 0x%x not zero",
					 m.reserved);
		}
		return true;
	}
	case IGVM_VHT_SNP_ID_BLOCK:
		return check_mask(f, r, load32(r->body, 0), err);
	default: {
		/* The parameter directives: an area declared and not yet inserted. */
		struct igvm_parameter p;

		memcpy(&p, r->body, sizeof(p));
		int a = find_area(w, p.parameter_area_index);

		if (a < 0) {
			return igvm_fail(err, r->offset, "%s: area %u undeclared",
					 igvm_type_name(r->type), p.parameter_area_index);
		}
		if (w->area_inserted[a]) {
			return igvm_fail(err, r->offset, "%s: area %u already inserted",
					 igvm_type_name(r->type), p.parameter_area_index);
		}
		if (p.byte_offset >= w->area_bytes[a]) {
			return igvm_fail(err, r->offset, "%s: offset 0x%x outside area %u",
					 igvm_type_name(r->type), p.byte_offset,
					 p.parameter_area_index);
		}
		return true;
	}
	}
}

static bool check_record(struct igvm_file *f, struct walk *w, const struct igvm_record *r,
			 struct igvm_error *err)
{
	switch (r->type) {
	case IGVM_VHT_SUPPORTED_PLATFORM:
		return check_platform(f, w, r, err);
	case IGVM_VHT_GUEST_POLICY: {
		struct igvm_guest_policy p;

		memcpy(&p, r->body, sizeof(p));
		if (!check_mask(f, r, p.compatibility_mask, err)) {
			return false;
		}
		return p.reserved == 0U ||
		       igvm_fail(err, r->offset, "GUEST_POLICY: reserved 0x%x not zero",
				 p.reserved);
	}
	default:
		return check_directive(f, w, r, err);
	}
}

/* The pages a PAGE_DATA or PARAMETER_INSERT loads, [gpa, end), to find two that overlap:
 * an insert loads every page of its area. The record checks keep end within 64 bits. */
struct placed {
	uint64_t gpa;
	uint64_t end;
	uint32_t mask;
	uint32_t offset;
};

static int by_gpa(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa ? 1 : (x->offset < y->offset ? -1 : 1);
}

static bool check_overlaps(const struct igvm_file *f, const struct walk *w, struct igvm_error *err)
{
	struct placed *p = calloc(f->count + 1U, sizeof(*p));
	size_t n = 0;
	bool ok = true;

	if (p == NULL) {
		return igvm_fail(err, 0, "out of memory");
	}
	for (size_t i = 0; i < f->count; i++) {
		const struct igvm_record *r = &f->records[i];

		if (r->type != IGVM_VHT_PAGE_DATA && r->type != IGVM_VHT_PARAMETER_INSERT) {
			continue;
		}
		uint64_t gpa = load64(r->body, 0);
		uint64_t size = IGVM_PAGE;

		if (r->type == IGVM_VHT_PARAMETER_INSERT) {
			size = w->area_bytes[find_area(w, load32(r->body, 12))];
		}
		p[n++] = (struct placed){ gpa, gpa + size, load32(r->body, 8), r->offset };
	}
	qsort(p, n, sizeof(*p), by_gpa);
	/* Platform by platform (a mask holds declared platforms only), the ranges in gpa
	 * order: while none overlap, the one before reaches furthest, so a range starting
	 * below its end overlaps it. */
	for (uint32_t bit = 1; bit != 0U && ok; bit <<= 1) {
		const struct placed *prev = NULL;

		for (size_t i = 0; i < n && ok; i++) {
			if ((p[i].mask & bit) == 0U) {
				continue;
			}
			if (prev != NULL && p[i].gpa < prev->end) {
				ok = igvm_fail(err, p[i].offset,
					       "page 0x%llx already loaded by the record at 0x%x",
					       (unsigned long long)p[i].gpa, prev->offset);
			}
			prev = &p[i];
		}
	}
	free(p);
	return ok;
}

static bool parse_fixed_header(const uint8_t *buf, size_t len, struct igvm_file *f,
			       struct igvm_error *err)
{
	struct igvm_fixed_header *h = &f->header;

	memset(h, 0, sizeof(*h));
	if (len < IGVM_FIXED_HEADER_V1 || len > UINT32_MAX) {
		return igvm_fail(err, 0, "file of %zu bytes cannot be IGVM", len);
	}
	memcpy(h, buf, IGVM_FIXED_HEADER_V1);
	if (h->magic != IGVM_MAGIC) {
		return igvm_fail(err, 0, "bad magic 0x%x", h->magic);
	}
	if (h->format_version != 1U && h->format_version != 2U) {
		return igvm_fail(err, 0x04, "format version %u, want 1 or 2", h->format_version);
	}
	f->header_size = h->format_version == 1U ? IGVM_FIXED_HEADER_V1 : IGVM_FIXED_HEADER_V2;
	if (len < f->header_size) {
		return igvm_fail(err, 0, "truncated fixed header");
	}
	memcpy(h, buf, f->header_size);
	if (h->format_version == 2U && h->architecture != 0U) {
		return igvm_fail(err, 0x18, "V2 architecture %u, want 0 (x64)", h->architecture);
	}
	if (h->format_version == 2U && h->page_size != IGVM_PAGE) {
		return igvm_fail(err, 0x1C, "V2 page size %u, want 4096", h->page_size);
	}
	uint64_t end = (uint64_t)h->variable_header_offset + h->variable_header_size;

	if (h->total_file_size != len) {
		return igvm_fail(err, 0x10, "total_file_size %u but the file has %zu bytes",
				 h->total_file_size, len);
	}
	if (h->variable_header_offset < f->header_size) {
		return igvm_fail(err, 0x08, "variable headers at 0x%x overlap the fixed header",
				 h->variable_header_offset);
	}
	if ((h->variable_header_offset & 7U) != 0U) {
		return igvm_fail(err, 0x08, "variable headers at 0x%x not 8-byte aligned",
				 h->variable_header_offset);
	}
	if (end > len) {
		return igvm_fail(err, 0x08, "variable headers [0x%x, +0x%x) end past the file",
				 h->variable_header_offset, h->variable_header_size);
	}
	/* The file-data section must hold at least one byte (the reference parser's test). */
	if (end == len) {
		return igvm_fail(err, 0x08, "variable headers [0x%x, +0x%x) leave no file data",
				 h->variable_header_offset, h->variable_header_size);
	}
	uint8_t fixed[IGVM_FIXED_HEADER_V2];

	memcpy(fixed, buf, f->header_size);
	memset(fixed + 0x14, 0, 4);
	uLong crc = crc32(crc32(0L, Z_NULL, 0), fixed, f->header_size);

	crc = crc32(crc, buf + h->variable_header_offset, h->variable_header_size);
	if ((uint32_t)crc != h->checksum) {
		return igvm_fail(err, 0x14, "checksum 0x%x, computed 0x%x", h->checksum,
				 (uint32_t)crc);
	}
	f->data_start = (uint32_t)end;
	return true;
}

bool igvm_parse(const uint8_t *buf, size_t len, struct igvm_file *f, struct igvm_error *err)
{
	struct walk w;

	memset(f, 0, sizeof(*f));
	memset(&w, 0, sizeof(w));
	f->data = buf;
	f->len = len;
	if (!parse_fixed_header(buf, len, f, err)) {
		return false;
	}
	uint32_t off = f->header.variable_header_offset;
	uint32_t end = f->data_start;
	unsigned section = 0;

	f->records = calloc(f->header.variable_header_size / 8U + 1U, sizeof(*f->records));
	if (f->records == NULL) {
		return igvm_fail(err, off, "out of memory");
	}
	while (off < end) {
		if (end - off < 8U) {
			igvm_free(f);
			return igvm_fail(err, off, "truncated record header");
		}
		struct igvm_record r = { load32(buf + off, 0), load32(buf + off + 4, 0), off,
					 buf + off + 8 };
		uint32_t want = body_size(r.type);
		uint64_t next = ((uint64_t)off + 8U + r.length + 7U) & ~7ULL;

		if (want == 0U) {
			igvm_free(f);
			return igvm_fail(err, off, "record type 0x%x unknown", r.type);
		}
		if (r.length != want) {
			igvm_free(f);
			return igvm_fail(err, off, "record type 0x%x (%s) with length %u: want %u",
					 r.type, igvm_type_name(r.type), r.length, want);
		}
		if (next > end) {
			igvm_free(f);
			return igvm_fail(err, off, "%s record runs past the variable headers",
					 igvm_type_name(r.type));
		}
		if (section_of(r.type) < section) {
			igvm_free(f);
			return igvm_fail(err, off, "%s after a later section",
					 igvm_type_name(r.type));
		}
		section = section_of(r.type);
		for (uint64_t pad = off + 8U + r.length; pad < next; pad++) {
			if (buf[pad] != 0U) {
				igvm_free(f);
				return igvm_fail(err, off, "non-zero padding after the record");
			}
		}
		if (!check_record(f, &w, &r, err)) {
			igvm_free(f);
			return false;
		}
		f->records[f->count++] = r;
		off = (uint32_t)next;
	}
	if (f->platform_masks == 0U) {
		igvm_free(f);
		return igvm_fail(err, f->header.variable_header_offset,
				 "no SUPPORTED_PLATFORM record");
	}
	if (!check_overlaps(f, &w, err)) {
		igvm_free(f);
		return false;
	}
	return true;
}

void igvm_free(struct igvm_file *f)
{
	free(f->records);
	f->records = NULL;
	f->count = 0;
}

const uint8_t *igvm_page_at(const struct igvm_file *f, uint32_t file_offset)
{
	return file_offset == 0U ? NULL : f->data + file_offset;
}
