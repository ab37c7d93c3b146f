/* donjon-igvm: Donjon's IGVM tool. `dump FILE` lists every header of an IGVM file and
 * checks it the way QEMU's loader does; each problem is reported with the file offset of
 * the record. (build and measure come with the IGVM builder.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igvm_file.h"

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (f == NULL) {
		return NULL;
	}
	for (;;) {
		if (*len == cap) {
			size_t cap2 = cap != 0U ? cap * 2U : 65536U;
			uint8_t *p = realloc(buf, cap2);

			if (p == NULL) {
				free(buf);
				(void)fclose(f);
				return NULL;
			}
			buf = p;
			cap = cap2;
		}
		size_t n = fread(buf + *len, 1, cap - *len, f);

		if (n == 0U) {
			break;
		}
		*len += n;
	}
	bool bad = ferror(f) != 0;

	(void)fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	return buf != NULL ? buf : malloc(1);
}

static void print_record(const struct igvm_record *r)
{
	uint64_t gpa = 0;
	uint32_t a = 0, b = 0;

	printf("0x%06x %-26s", r->offset, igvm_type_name(r->type));
	switch (r->type) {
	case IGVM_VHT_SUPPORTED_PLATFORM: {
		struct igvm_supported_platform p;

		memcpy(&p, r->body, sizeof(p));
		printf(" mask=0x%x type=%u vtl=%u version=%u\n", p.compatibility_mask,
		       p.platform_type, p.highest_vtl, p.platform_version);
		return;
	}
	case IGVM_VHT_PAGE_DATA: {
		struct igvm_page_data d;

		memcpy(&d, r->body, sizeof(d));
		printf(" gpa=0x%llx mask=0x%x data=0x%x flags=0x%x type=%u\n",
		       (unsigned long long)d.gpa, d.compatibility_mask, d.file_offset, d.flags,
		       d.data_type);
		return;
	}
	case IGVM_VHT_VP_CONTEXT: {
		struct igvm_vp_context v;

		memcpy(&v, r->body, sizeof(v));
		printf(" gpa=0x%llx mask=0x%x data=0x%x vp=%u\n", (unsigned long long)v.gpa,
		       v.compatibility_mask, v.file_offset, v.vp_index);
		return;
	}
	default:
		memcpy(&gpa, r->body, r->length >= 8U ? 8U : r->length);
		if (r->length >= 16U) {
			memcpy(&a, r->body + 8, 4);
			memcpy(&b, r->body + 12, 4);
		}
		printf(" 0x%llx 0x%x 0x%x\n", (unsigned long long)gpa, a, b);
		return;
	}
}

static int dump(const char *path)
{
	size_t len = 0;
	uint8_t *buf = read_file(path, &len);
	struct igvm_file f;
	struct igvm_error err;

	if (buf == NULL) {
		(void)fprintf(stderr, "donjon-igvm: cannot read %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (!igvm_parse(buf, len, &f, &err)) {
		printf("ERROR at offset 0x%x: %s\n", err.offset, err.message);
		free(buf);
		return 1;
	}
	printf("IGVM version %u, %zu bytes, variable headers [0x%x, +0x%x), file data from 0x%x\n",
	       f.header.format_version, f.len, f.header.variable_header_offset,
	       f.header.variable_header_size, f.data_start);
	for (size_t i = 0; i < f.count; i++) {
		print_record(&f.records[i]);
	}
	printf("OK: %zu records\n", f.count);
	igvm_free(&f);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "dump") == 0) {
		return dump(argv[2]);
	}
	(void)fprintf(stderr,
		      "usage: donjon-igvm dump FILE\n"
		      "  dump FILE   list every header of FILE and check it as QEMU would\n");
	return 2;
}
