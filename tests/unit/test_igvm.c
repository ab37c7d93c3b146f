/* The IGVM parser and writer: a file the writer makes parses; every kind of bad file is
 * refused with an error naming the record's offset. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <donjon/bytes.h>

#include "harness.h"
#include "igvm_file.h"
#include "igvm_sample.h"

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

static void fix_crc(uint8_t *buf)
{
	struct igvm_fixed_header h;

	memcpy(&h, buf, IGVM_FIXED_HEADER_V1);
	h.checksum = 0;
	memcpy(buf, &h, IGVM_FIXED_HEADER_V1);
	uLong crc = crc32(crc32(0L, Z_NULL, 0), buf, IGVM_FIXED_HEADER_V1 + h.variable_header_size);

	h.checksum = (uint32_t)crc;
	memcpy(buf, &h, IGVM_FIXED_HEADER_V1);
}

/* Parse must fail at `offset` with a message containing `words`. */
static void expect_error(const struct built *b, uint32_t offset, const char *words)
{
	struct igvm_file f;
	struct igvm_error err;

	EXPECT_TRUE(!igvm_parse(b->buf, b->len, &f, &err));
	EXPECT_EQ(err.offset, offset);
	EXPECT_TRUE(strstr(err.message, words) != NULL);
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
	expect_error(&b, 0, "magic");
	b.buf[0] ^= 1;
	b.buf[REC_PAGE(0) + 8] ^= 1; /* a changed record without a new checksum */
	expect_error(&b, 0x14, "checksum");
	b.buf[REC_PAGE(0) + 8] ^= 1;
	b.len -= 1;
	expect_error(&b, 0x10, "total_file_size");
	b.len = 10;
	expect_error(&b, 0, "cannot be IGVM");
	free(b.buf);
}

TEST(igvm_rejects_bad_records_at_their_offset)
{
	struct built b = build();

	store32(b.buf, REC_PAGE(1) + 4, 20); /* wrong length */
	fix_crc(b.buf);
	expect_error(&b, REC_PAGE(1), "length 20");
	store32(b.buf, REC_PAGE(1) + 4, 24);
	b.buf[REC_PAGE(1) + 8] = 0x10; /* gpa not page aligned */
	fix_crc(b.buf);
	expect_error(&b, REC_PAGE(1), "not page aligned");
	b.buf[REC_PAGE(1) + 8] = 0;
	store32(b.buf, REC_PAGE(1) + 8 + 12, (uint32_t)b.len - 100); /* data past the end */
	fix_crc(b.buf);
	expect_error(&b, REC_PAGE(1), "file offset");
	free(b.buf);
}

TEST(igvm_rejects_overlap_order_masks_and_padding)
{
	struct built b = build();

	/* Page 1 loads the same GPA as page 0. */
	store32(b.buf, REC_PAGE(1) + 8 + 1, 0x1000);
	b.buf[REC_PAGE(1) + 9] = 0x00;
	b.buf[REC_PAGE(1) + 10] = 0x10;
	fix_crc(b.buf);
	expect_error(&b, REC_PAGE(1), "already loaded by the record at 0x48");
	free(b.buf);

	b = build();
	store32(b.buf, REC_VP + 8 + 8, SNP_MASK | NATIVE_MASK); /* VP context for two platforms */
	fix_crc(b.buf);
	expect_error(&b, REC_VP, "one platform");
	store32(b.buf, REC_VP + 8 + 8, SNP_MASK);
	b.buf[REC_VP + 8 + 20] = 1; /* padding after the 20-byte body */
	fix_crc(b.buf);
	expect_error(&b, REC_VP, "padding");
	free(b.buf);

	b = build();
	/* A platform record (same 16-byte body as the parameter area) among the directives. */
	store32(b.buf, REC_AREA, IGVM_VHT_SUPPORTED_PLATFORM);
	fix_crc(b.buf);
	expect_error(&b, REC_AREA, "after a later section");
	free(b.buf);

	b = build();
	store32(b.buf, REC_INSERT + 8 + 12, 8); /* an area never declared */
	fix_crc(b.buf);
	expect_error(&b, REC_INSERT, "area 8");
	free(b.buf);
}
