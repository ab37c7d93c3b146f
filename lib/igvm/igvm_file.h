/* Reading and writing IGVM files: a parser that checks everything QEMU's loader (libigvm)
 * checks, reporting each problem with the file offset of the record, and a writer. */
#ifndef TOOLS_IGVM_IGVM_FILE_H
#define TOOLS_IGVM_IGVM_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <donjon/igvm.h>

struct igvm_record {
	uint32_t type;
	uint32_t length;
	uint32_t offset; /* of the record (its type field) in the file */
	const uint8_t *body;
};

struct igvm_file {
	const uint8_t *data;
	size_t len;
	struct igvm_fixed_header header;
	uint32_t header_size;
	uint32_t data_start; /* the file-data section */
	struct igvm_record *records;
	size_t count;
	uint32_t platform_masks; /* every declared platform's bit */
};

struct igvm_error {
	uint32_t offset;
	char message[160];
};

/* Parse and check buf. On failure, err says what is wrong and at which offset; the file
 * holds nothing to free. A parsed file points into buf. */
bool igvm_parse(const uint8_t *buf, size_t len, struct igvm_file *f, struct igvm_error *err);
void igvm_free(struct igvm_file *f);

/* The 4 KiB of file data a PAGE_DATA or VP_CONTEXT refers to (NULL for offset 0). */
const uint8_t *igvm_page_at(const struct igvm_file *f, uint32_t file_offset);

/* Read a whole file (at most 1 GiB) into a malloc'd buffer; NULL with errno set. */
uint8_t *igvm_read_file(const char *path, size_t *len);

/* Fill err (offset and printf-style message); returns false. */
__attribute__((format(printf, 3, 4))) bool igvm_fail(struct igvm_error *err, uint32_t offset,
						     const char *fmt, ...);

/* Human-readable name of a variable-header type. */
const char *igvm_type_name(uint32_t type);

struct igvm_writer;

struct igvm_writer *igvm_writer_new(void);
void igvm_writer_free(struct igvm_writer *w);
/* Append a record; returns false when out of memory. */
bool igvm_writer_add(struct igvm_writer *w, uint32_t type, const void *body, uint32_t len);
/* Add file data (deduplicated) and make the u32 at byte field_off of the last record point
 * at it. len bytes are stored, zero-padded to pad_to. */
bool igvm_writer_add_data(struct igvm_writer *w, uint32_t field_off, const void *data, size_t len,
			  size_t pad_to);
/* The whole file (version 1 or 2): *out is malloc'd. */
bool igvm_writer_finish(struct igvm_writer *w, uint32_t version, uint8_t **out, size_t *out_len);

#endif
