/* The IGVM parser and writer: a file the writer makes parses; every kind of bad file is
 * refused with its own error naming the record's offset, and a file the simulator's launch
 * refuses is refused by the parser (so by donjon-igvm dump and measure) in the same words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <donjon/bytes.h>

#include "harness.h"
#include "igvm_file.h"
#include "igvm_sample.h"
#include "machine.h"

struct built {
	uint8_t *buf;
	size_t len;
};

static struct built build(void)
{
	struct built b = { NULL, 0 };

	EXPECT_TRUE(igvm_sample_build(&b.buf, &b.len));
	return b;
}

/* Offsets of the records in build(): each record is 8 + body, padded to 8. */
#define REC_SNP 24U
#define REC_NATIVE (REC_SNP + 24U)
#define REC_PAGE(i) (REC_NATIVE + 24U + 32U * (i))
#define REC_AREA REC_PAGE(4)
#define REC_VPCOUNT (REC_AREA + 24U)
#define REC_INSERT (REC_VPCOUNT + 16U)
#define REC_VP (REC_INSERT + 24U)

/* The checksum of a V1 file whose variable headers follow the fixed header, if they lie
 * inside the file. */
static void fix_crc(const struct built *b)
{
	struct igvm_fixed_header h;

	memcpy(&h, b->buf, IGVM_FIXED_HEADER_V1);
	if (h.variable_header_size > b->len - IGVM_FIXED_HEADER_V1) {
		return;
	}
	h.checksum = 0;
	memcpy(b->buf, &h, IGVM_FIXED_HEADER_V1);
	uLong crc =
		crc32(crc32(0L, Z_NULL, 0), b->buf, IGVM_FIXED_HEADER_V1 + h.variable_header_size);

	h.checksum = (uint32_t)crc;
	memcpy(b->buf, &h, IGVM_FIXED_HEADER_V1);
}

/* Parse must fail at `offset` with exactly `message`. */
static void expect_error(const struct built *b, uint32_t offset, const char *message)
{
	struct igvm_file f;
	struct igvm_error err = { 0, "" };
	bool parsed = igvm_parse(b->buf, b->len, &f, &err);

	EXPECT_TRUE(!parsed);
	if (parsed) {
		igvm_free(&f);
		return;
	}
	EXPECT_EQ(err.offset, offset);
	EXPECT_STR(err.message, message);
	EXPECT_TRUE(f.records == NULL);
}

TEST(igvm_writer_output_parses)
{
	struct built b = build();
	struct igvm_file f;
	struct igvm_error err;

	EXPECT_TRUE(igvm_parse(b.buf, b.len, &f, &err));
	EXPECT_EQ(f.count, 10);
	EXPECT_EQ(f.platform_masks, SNP_MASK | NATIVE_MASK);
	EXPECT_EQ(f.records[0].offset, REC_SNP);
	EXPECT_EQ(f.records[9].offset, REC_VP);
	EXPECT_EQ(f.records[9].type, IGVM_VHT_VP_CONTEXT);
	/* Pages 0 and 2 hold the same bytes: one blob, one offset. */
	struct igvm_page_data d0, d1, d2;

	memcpy(&d0, f.records[2].body, sizeof(d0));
	memcpy(&d1, f.records[3].body, sizeof(d1));
	memcpy(&d2, f.records[4].body, sizeof(d2));
	EXPECT_EQ(d0.file_offset, d2.file_offset);
	EXPECT_TRUE(d0.file_offset != d1.file_offset);
	EXPECT_EQ(igvm_page_at(&f, d1.file_offset)[0], 0x5A);
	EXPECT_EQ(igvm_page_at(&f, d0.file_offset)[4095], 0xA5);
	/* page_a (shared by pages 0 and 2), page_b, and the VP context page. */
	EXPECT_EQ(b.len, f.data_start + 3 * IGVM_PAGE);
	igvm_free(&f);
	free(b.buf);
}

TEST(igvm_rejects_bad_fixed_headers)
{
	struct built b = build();

	b.buf[0] ^= 1;
	expect_error(&b, 0, "bad magic 0x4d564748");
	b.buf[0] ^= 1;
	b.buf[REC_PAGE(0) + 8] ^= 1; /* a changed record without a new checksum */
	expect_error(&b, 0x14, "checksum 0x865a089e, computed 0x78da7323");
	b.buf[REC_PAGE(0) + 8] ^= 1;
	b.len -= 1;
	expect_error(&b, 0x10, "total_file_size 12584 but the file has 12583 bytes");
	b.len = 10;
	expect_error(&b, 0, "file of 10 bytes cannot be IGVM");
	free(b.buf);
}

TEST(igvm_rejects_bad_records_at_their_offset)
{
	struct built b = build();

	store32(b.buf, REC_PAGE(1) + 4, 20); /* wrong length */
	fix_crc(&b);
	expect_error(&b, REC_PAGE(1), "record type 0x302 (PAGE_DATA) with length 20: want 24");
	store32(b.buf, REC_PAGE(1) + 4, 24);
	b.buf[REC_PAGE(1) + 8] = 0x10; /* gpa not page aligned */
	fix_crc(&b);
	expect_error(&b, REC_PAGE(1), "PAGE_DATA: gpa 0x101010 not page aligned");
	b.buf[REC_PAGE(1) + 8] = 0;
	store32(b.buf, REC_PAGE(1) + 8 + 12, (uint32_t)b.len - 100); /* data past the end */
	fix_crc(&b);
	expect_error(&b, REC_PAGE(1),
		     "PAGE_DATA: file offset 0x30c4 is not a page inside the file data");
	free(b.buf);
}

TEST(igvm_rejects_overlap_order_masks_and_padding)
{
	struct built b = build();

	/* Page 1 loads the same GPA as page 0. */
	store32(b.buf, REC_PAGE(1) + 8 + 1, 0x1000);
	b.buf[REC_PAGE(1) + 9] = 0x00;
	b.buf[REC_PAGE(1) + 10] = 0x10;
	fix_crc(&b);
	expect_error(&b, REC_PAGE(1), "page 0x100000 already loaded by the record at 0x48");
	free(b.buf);

	b = build();
	store32(b.buf, REC_VP + 8 + 8, SNP_MASK | NATIVE_MASK); /* VP context for two platforms */
	fix_crc(&b);
	expect_error(&b, REC_VP, "VP_CONTEXT: compatibility mask 0x3 must be one platform's");
	store32(b.buf, REC_VP + 8 + 8, SNP_MASK);
	b.buf[REC_VP + 8 + 20] = 1; /* padding after the 20-byte body */
	fix_crc(&b);
	expect_error(&b, REC_VP, "non-zero padding after the record");
	free(b.buf);

	b = build();
	/* A platform record (same 16-byte body as the parameter area) among the directives. */
	store32(b.buf, REC_AREA, IGVM_VHT_SUPPORTED_PLATFORM);
	fix_crc(&b);
	expect_error(&b, REC_AREA, "SUPPORTED_PLATFORM after a later section");
	free(b.buf);

	b = build();
	store32(b.buf, REC_INSERT + 8 + 12, 8); /* an area never declared */
	fix_crc(&b);
	expect_error(&b, REC_INSERT, "PARAMETER_INSERT of undeclared area 8");
	free(b.buf);
}

/* One field of the sample changed (little-endian, width bytes) and the file it makes. */
struct patch {
	uint32_t at;
	unsigned width;
	uint64_t value;
	uint32_t offset; /* where the parser must refuse it */
	const char *message;
};

TEST(igvm_refuses_each_condition_with_its_own_message)
{
	static const struct patch patches[] = {
		{ REC_SNP + 8, 4, 0x3, REC_SNP,
		  "SUPPORTED_PLATFORM: compatibility mask 0x3 must have exactly one bit" },
		{ REC_NATIVE + 8, 4, SNP_MASK, REC_NATIVE,
		  "SUPPORTED_PLATFORM: compatibility mask 0x1 declared twice" },
		{ REC_NATIVE + 13, 1, 7, REC_NATIVE,
		  "SUPPORTED_PLATFORM: platform type 7 unknown" },
		{ REC_NATIVE + 13, 1, IGVM_PLATFORM_SEV_SNP, REC_NATIVE,
		  "SUPPORTED_PLATFORM: platform type 2 declared twice" },
		{ REC_SNP + 12, 1, 1, REC_SNP, "SUPPORTED_PLATFORM: highest VTL 1, want 0 or 2" },
		{ REC_SNP + 14, 2, 2, REC_SNP, "SUPPORTED_PLATFORM: platform version 2, want 1" },
		{ REC_NATIVE + 16, 8, 0x1000, REC_NATIVE,
		  "SUPPORTED_PLATFORM: native platform with shared GPA boundary 0x1000" },
		{ REC_PAGE(1) + 16, 4, 0, REC_PAGE(1),
		  "PAGE_DATA: compatibility mask 0 names no platform" },
		{ REC_PAGE(1) + 16, 4, 0x5, REC_PAGE(1),
		  "PAGE_DATA: compatibility mask 0x5 names undeclared platforms 0x4" },
		{ REC_PAGE(1) + 24, 4, IGVM_PAGE_DATA_FLAG_2MB, REC_PAGE(1),
		  "PAGE_DATA: flags 0x1 not accepted" },
		{ REC_PAGE(1) + 28, 2, 4, REC_PAGE(1), "PAGE_DATA: data type 4 unknown" },
		{ REC_PAGE(1) + 30, 2, 1, REC_PAGE(1), "PAGE_DATA: reserved 0x1 not zero" },
		{ REC_AREA + 8, 8, 0, REC_AREA, "PARAMETER_AREA 7 is empty" },
		{ REC_AREA + 8, 8, 0x1800, REC_AREA,
		  "PARAMETER_AREA 7: 0x1800 bytes is not whole pages" },
		{ REC_AREA + 20, 4, 8, REC_AREA,
		  "PARAMETER_AREA 7: data at 0x8 is not inside the file data" },
		{ REC_VPCOUNT, 4, 0x399, REC_VPCOUNT, "record type 0x399 unknown" },
		{ REC_VPCOUNT + 8, 4, 8, REC_VPCOUNT, "VP_COUNT_PARAMETER: area 8 undeclared" },
		{ REC_VPCOUNT + 12, 4, IGVM_PAGE, REC_VPCOUNT,
		  "VP_COUNT_PARAMETER: offset 0x1000 outside area 7" },
		{ REC_INSERT + 8, 8, 0x200800, REC_INSERT,
		  "PARAMETER_INSERT of area 7: gpa 0x200800 not page aligned" },
		{ REC_INSERT + 16, 4, 0, REC_INSERT,
		  "PARAMETER_INSERT: compatibility mask 0 names no platform" },
		{ REC_VP + 16, 4, 0x4, REC_VP,
		  "VP_CONTEXT: compatibility mask 0x4 names undeclared platforms 0x4" },
		{ REC_VP + 26, 2, 1, REC_VP, "VP_CONTEXT: reserved 0x1 not zero" },
		{ REC_VP + 20, 4, 8, REC_VP,
		  "VP_CONTEXT: file offset 0x8 is not a page inside the file data" },
		{ 0x04, 4, 3, 0x04, "format version 3, want 1 or 2" },
		{ 0x08, 4, 16, 0x08, "variable headers at 0x10 overlap the fixed header" },
		{ 0x08, 4, 28, 0x08, "variable headers at 0x1c not 8-byte aligned" },
		{ 0x0C, 4, 0x10000, 0x08, "variable headers [0x18, +0x10000) end past the file" },
		/* The variable headers end inside the last record. */
		{ 0x0C, 4, REC_VP + 24U - REC_SNP, REC_VP,
		  "VP_CONTEXT record runs past the variable headers" },
	};

	for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
		const struct patch *p = &patches[i];
		struct built b = build();

		memcpy(b.buf + p->at, &p->value, p->width);
		fix_crc(&b);
		expect_error(&b, p->offset, p->message);
		free(b.buf);
	}
	/* The file-data section must hold a byte. */
	struct built b = build();

	store32(b.buf, 0x0C, (uint32_t)b.len - IGVM_FIXED_HEADER_V1);
	expect_error(&b, 0x08, "variable headers [0x18, +0x3110) leave no file data");
	free(b.buf);
}

/* ---- files built record by record ---- */

struct rec {
	uint32_t type;
	uint32_t len;
	const void *body;
	const uint8_t *page; /* file data the u32 at byte 12 of the body points at, or NULL */
};

/* A file (format version 1 or 2) of the SNP and native platforms, then recs; at[i] receives
 * the offset of recs[i]. */
static struct built file_of(uint32_t version, const struct rec *recs, size_t n, uint32_t *at)
{
	struct igvm_supported_platform snp = { SNP_MASK, 2, IGVM_PLATFORM_SEV_SNP, 1, 0 };
	struct igvm_supported_platform native = { NATIVE_MASK, 0, IGVM_PLATFORM_NATIVE, 1, 0 };
	struct igvm_writer *w = igvm_writer_new();
	struct built b = { NULL, 0 };
	uint32_t next = (version == 1U ? IGVM_FIXED_HEADER_V1 : IGVM_FIXED_HEADER_V2) + 48U;
	bool ok = w != NULL && igvm_writer_add(w, IGVM_VHT_SUPPORTED_PLATFORM, &snp, sizeof(snp)) &&
		  igvm_writer_add(w, IGVM_VHT_SUPPORTED_PLATFORM, &native, sizeof(native));

	for (size_t i = 0; ok && i < n; i++) {
		at[i] = next;
		next += (8U + recs[i].len + 7U) & ~7U;
		ok = igvm_writer_add(w, recs[i].type, recs[i].body, recs[i].len) &&
		     (recs[i].page == NULL ||
		      igvm_writer_add_data(w, 12, recs[i].page, IGVM_PAGE, IGVM_PAGE));
	}
	ok = ok && igvm_writer_finish(w, version, &b.buf, &b.len);
	igvm_writer_free(w);
	EXPECT_TRUE(ok);
	return b;
}

/* The parser refuses b at offset with message, so donjon-igvm dump and measure print
 * "ERROR at offset ...: message"; and donjon-sim, launching it, refuses it the same way. */
static void expect_refused_by_all(const struct built *b, uint32_t offset, const char *message)
{
	char want[256], err[256];

	expect_error(b, offset, message);
	(void)snprintf(want, sizeof(want), "IGVM file: at offset 0x%x: %s", offset, message);
	struct sim_machine *m =
		sim_create_igvm(SIM_MEM_DEFAULT, 1, b->buf, b->len, err, sizeof(err));

	EXPECT_TRUE(m == NULL);
	if (m != NULL) {
		sim_destroy(m);
		return;
	}
	EXPECT_STR(err, want);
}

static void expect_parses(const struct built *b)
{
	struct igvm_file f;
	struct igvm_error err = { 0, "" };

	EXPECT_TRUE(igvm_parse(b->buf, b->len, &f, &err));
	EXPECT_STR(err.message, "");
	igvm_free(&f);
}

static const uint8_t data_page[IGVM_PAGE] = { 0xD0 };

TEST(igvm_refuses_every_page_of_an_insert_that_overlaps)
{
	struct igvm_parameter_area area3 = { (uint64_t)3 * IGVM_PAGE, 4, 0 };
	struct igvm_parameter_insert insert = { 0x202000, SNP_MASK, 4 };
	struct igvm_page_data page = { 0x203000, SNP_MASK, 0, 0, 0, 0 };
	uint32_t at[5];

	/* The insert's second page is a PAGE_DATA page: the launch loads it twice. */
	struct rec second[] = {
		{ IGVM_VHT_PARAMETER_AREA, sizeof(area3), &area3, NULL },
		{ IGVM_VHT_PARAMETER_INSERT, sizeof(insert), &insert, NULL },
		{ IGVM_VHT_PAGE_DATA, sizeof(page), &page, data_page },
	};
	struct built b = file_of(1, second, 3, at);

	EXPECT_EQ(at[1], 0x60);
	EXPECT_EQ(at[2], 0x78);
	expect_refused_by_all(&b, 0x78, "page 0x203000 already loaded by the record at 0x60");
	free(b.buf);

	/* Its third page, a PAGE_DATA earlier in the file (the launch measures the insert
	 * before the batch still open). */
	page.gpa = 0x204000;
	struct rec third[] = {
		{ IGVM_VHT_PAGE_DATA, sizeof(page), &page, data_page },
		{ IGVM_VHT_PARAMETER_AREA, sizeof(area3), &area3, NULL },
		{ IGVM_VHT_PARAMETER_INSERT, sizeof(insert), &insert, NULL },
	};

	b = file_of(1, third, 3, at);
	EXPECT_EQ(at[0], 0x48);
	EXPECT_EQ(at[2], 0x80);
	expect_refused_by_all(&b, 0x48, "page 0x204000 already loaded by the record at 0x80");
	free(b.buf);

	/* Two inserts: the second starts inside the first's area. */
	struct igvm_parameter_area area1 = { IGVM_PAGE, 5, 0 };
	struct igvm_parameter_insert insert2 = { 0x203000, SNP_MASK, 5 };
	struct rec inserts[] = {
		{ IGVM_VHT_PARAMETER_AREA, sizeof(area3), &area3, NULL },
		{ IGVM_VHT_PARAMETER_AREA, sizeof(area1), &area1, NULL },
		{ IGVM_VHT_PARAMETER_INSERT, sizeof(insert), &insert, NULL },
		{ IGVM_VHT_PARAMETER_INSERT, sizeof(insert2), &insert2, NULL },
	};

	b = file_of(1, inserts, 4, at);
	expect_refused_by_all(&b, at[3], "page 0x203000 already loaded by the record at 0x78");
	EXPECT_EQ(at[2], 0x78);
	free(b.buf);

	/* The page after the area, and an insert of another platform, do not overlap. */
	struct igvm_page_data after = { 0x205000, SNP_MASK, 0, 0, 0, 0 };
	struct igvm_parameter_insert native = { 0x202000, NATIVE_MASK, 5 };
	struct rec apart[] = {
		{ IGVM_VHT_PARAMETER_AREA, sizeof(area3), &area3, NULL },
		{ IGVM_VHT_PARAMETER_INSERT, sizeof(insert), &insert, NULL },
		{ IGVM_VHT_PAGE_DATA, sizeof(after), &after, data_page },
		{ IGVM_VHT_PARAMETER_AREA, sizeof(area1), &area1, NULL },
		{ IGVM_VHT_PARAMETER_INSERT, sizeof(native), &native, NULL },
	};

	b = file_of(1, apart, 5, at);
	expect_parses(&b);
	free(b.buf);
}

TEST(igvm_refuses_pages_and_ranges_past_2_64)
{
	struct igvm_page_data page = { 0xFFFFFFFFFFFFF000ULL, SNP_MASK, 0, 0, 0, 0 };
	struct rec one_page[] = { { IGVM_VHT_PAGE_DATA, sizeof(page), &page, data_page } };
	uint32_t at[3];

	/* The last page of the 64-bit space ends at 2^64: its end is no address. */
	struct built b = file_of(1, one_page, 1, at);

	expect_refused_by_all(&b, at[0],
			      "PAGE_DATA: gpa 0xfffffffffffff000 + 0x1000 does not fit in 64 bits");
	free(b.buf);
	page.gpa = 0xFFFFFFFFFFFFE000ULL;
	b = file_of(1, one_page, 1, at);
	expect_parses(&b);
	free(b.buf);

	/* An insert whose second page would wrap to gpa 0, where a PAGE_DATA is. */
	struct igvm_parameter_area area2 = { (uint64_t)2 * IGVM_PAGE, 4, 0 };
	struct igvm_parameter_insert insert = { 0xFFFFFFFFFFFFF000ULL, SNP_MASK, 4 };
	struct rec wrap[] = {
		{ IGVM_VHT_PAGE_DATA, sizeof(page), &page, data_page },
		{ IGVM_VHT_PARAMETER_AREA, sizeof(area2), &area2, NULL },
		{ IGVM_VHT_PARAMETER_INSERT, sizeof(insert), &insert, NULL },
	};

	page.gpa = 0;
	b = file_of(1, wrap, 3, at);
	expect_refused_by_all(
		&b, at[2],
		"PARAMETER_INSERT: gpa 0xfffffffffffff000 + 0x2000 does not fit in 64 bits");
	free(b.buf);

	/* Required memory past 2^64. */
	struct igvm_required_memory req = { 0xFFFFFFFFFFFFF000ULL, SNP_MASK, 2U * IGVM_PAGE, 0, 0 };
	struct rec required[] = { { IGVM_VHT_REQUIRED_MEMORY, sizeof(req), &req, NULL } };

	b = file_of(1, required, 1, at);
	expect_refused_by_all(
		&b, at[0],
		"REQUIRED_MEMORY: gpa 0xfffffffffffff000 + 0x2000 does not fit in 64 bits");
	free(b.buf);
}

/* A file of the platforms and recs must be refused at recs[which] with message. */
static void expect_record_refused(uint32_t version, const struct rec *recs, size_t n, size_t which,
				  const char *message)
{
	uint32_t at[80];
	struct built b = file_of(version, recs, n, at);

	expect_error(&b, at[which], message);
	free(b.buf);
}

TEST(igvm_refuses_each_condition_of_built_files)
{
	struct igvm_parameter_area area = { IGVM_PAGE, 4, 0 };
	struct igvm_parameter_insert insert = { 0x200000, SNP_MASK, 4 };
	struct igvm_parameter vp_count = { 4, 0 };
	struct rec areas[65];

	for (size_t i = 0; i < 65; i++) {
		areas[i] = (struct rec){ IGVM_VHT_PARAMETER_AREA, sizeof(area), &area, NULL };
	}
	expect_record_refused(1, areas, 2, 1, "PARAMETER_AREA 4 declared twice");
	struct igvm_parameter_area many[65];

	for (uint32_t i = 0; i < 65; i++) {
		many[i] = (struct igvm_parameter_area){ IGVM_PAGE, i, 0 };
		areas[i].body = &many[i];
	}
	expect_record_refused(1, areas, 65, 64, "PARAMETER_AREA 64: more than 64 areas");

	struct rec after_insert[] = {
		{ IGVM_VHT_PARAMETER_AREA, sizeof(area), &area, NULL },
		{ IGVM_VHT_PARAMETER_INSERT, sizeof(insert), &insert, NULL },
		{ IGVM_VHT_VP_COUNT_PARAMETER, sizeof(vp_count), &vp_count, NULL },
	};

	expect_record_refused(1, after_insert, 3, 2, "VP_COUNT_PARAMETER: area 4 already inserted");
	after_insert[2] = after_insert[1];
	expect_record_refused(1, after_insert, 3, 2, "PARAMETER_INSERT: area 4 inserted twice");

	struct igvm_guest_policy reserved = { 0x30000, SNP_MASK, 1 };
	struct igvm_guest_policy no_mask = { 0x30000, 0, 0 };
	struct rec policies[] = {
		{ IGVM_VHT_GUEST_POLICY, sizeof(reserved), &reserved, NULL },
		{ IGVM_VHT_GUEST_POLICY, sizeof(no_mask), &no_mask, NULL },
	};

	expect_record_refused(1, &policies[0], 1, 0, "GUEST_POLICY: reserved 0x1 not zero");
	expect_record_refused(1, &policies[1], 1, 0,
			      "GUEST_POLICY: compatibility mask 0 names no platform");

	static const struct {
		struct igvm_required_memory req;
		const char *message;
	} required[] = {
		{ { 0x100800, SNP_MASK, IGVM_PAGE, 0, 0 },
		  "REQUIRED_MEMORY: gpa 0x100800 not page aligned" },
		{ { 0x100000, SNP_MASK, 0x1800, 0, 0 },
		  "REQUIRED_MEMORY: 0x1800 bytes is not whole pages" },
		{ { 0x100000, SNP_MASK, IGVM_PAGE, 2, 0 },
		  "REQUIRED_MEMORY: flags 0x2 not accepted" },
		{ { 0x100000, SNP_MASK, IGVM_PAGE, 0, 1 },
		  "REQUIRED_MEMORY: reserved 0x1 not zero" },
	};

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		struct rec r = { IGVM_VHT_REQUIRED_MEMORY, sizeof(required[i].req),
				 &required[i].req, NULL };

		expect_record_refused(1, &r, 1, 0, required[i].message);
	}

	static uint8_t id_block[696];

	store32(id_block, 0, 0x4);
	struct rec ids[] = { { IGVM_VHT_SNP_ID_BLOCK, sizeof(id_block), id_block, NULL } };

	expect_record_refused(
		1, ids, 1, 0,
		"SNP_ID_BLOCK: compatibility mask 0x4 names undeclared platforms 0x4");

	/* Version 2's fixed header: x64 and 4 KiB pages only. */
	uint32_t at[1];
	struct built b = file_of(2, NULL, 0, at);

	store32(b.buf, 0x18, 1);
	expect_error(&b, 0x18, "V2 architecture 1, want 0 (x64)");
	store32(b.buf, 0x18, 0);
	store32(b.buf, 0x1C, 0x10000);
	expect_error(&b, 0x1C, "V2 page size 65536, want 4096");
	free(b.buf);
}
