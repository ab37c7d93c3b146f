/* A static x86-64 Linux executable, checked before anything of it is loaded: what the
 * kernel's service loader needs (lib/elf/elf_image.c). The file is untrusted input: every
 * offset, size and address is checked here, so the loader only copies. */
#ifndef DONJON_ELF_IMAGE_H
#define DONJON_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_IMAGE_MAX_SEGMENTS 8U

struct elf_segment {
	uint64_t vaddr;	 /* relative to the load base for ET_DYN, absolute for ET_EXEC */
	uint64_t memsz;	 /* > 0 */
	uint64_t offset; /* in the file */
	uint64_t filesz; /* <= memsz; [offset, offset + filesz) inside the file */
	bool writable, executable;
};

struct elf_image {
	bool pie;	/* ET_DYN (static-pie): loaded at any page-aligned base */
	uint64_t entry; /* inside an executable segment */
	uint64_t phdr;	/* where the program headers are loaded, or 0 if nowhere */
	uint16_t phnum;
	uint64_t lo, hi; /* the page-aligned span of the PT_LOAD segments */
	unsigned count;
	struct elf_segment seg[ELF_IMAGE_MAX_SEGMENTS];
};

/* Checks the file and describes its PT_LOAD segments, in address order, in *img. Refused:
 * anything but a little-endian ELF64 x86-64 ET_EXEC or ET_DYN; a PT_INTERP (it needs a
 * dynamic loader); no PT_LOAD, or more than ELF_IMAGE_MAX_SEGMENTS; a segment whose file
 * bytes lie outside the file, with filesz > memsz, with vaddr and offset not congruent
 * modulo 4096, overlapping another (pages two segments share must agree on being writable
 * and executable: W^X holds page by page); writable and executable at once; an executable
 * stack (PT_GNU_STACK with X); a span larger than max_span; for ET_EXEC, a segment outside
 * [exec_lo, exec_hi). False with a message in err. */
bool elf_image_parse(const uint8_t *file, size_t len, uint64_t max_span, uint64_t exec_lo,
		     uint64_t exec_hi, struct elf_image *img, char *err, size_t err_len);

#endif
