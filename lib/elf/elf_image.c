/* Checking a static x86-64 executable (include/donjon/elf_image.h). Field offsets are the
 * System V gABI's ELF64 header and program header. */
#include <donjon/bytes.h>
#include <donjon/elf_image.h>

#define EHDR_SIZE 64U
#define PHDR_SIZE 56U
#define EI_CLASS 4U
#define EI_DATA 5U
#define EI_VERSION 6U
#define ELFCLASS64 2U
#define ELFDATA2LSB 1U
#define E_TYPE 16U
#define E_MACHINE 18U
#define E_VERSION 20U
#define E_ENTRY 24U
#define E_PHOFF 32U
#define E_PHENTSIZE 54U
#define E_PHNUM 56U
#define ET_EXEC 2U
#define ET_DYN 3U
#define EM_X86_64 62U
#define P_TYPE 0U
#define P_FLAGS 4U
#define P_OFFSET 8U
#define P_VADDR 16U
#define P_FILESZ 32U
#define P_MEMSZ 40U
#define PT_LOAD 1U
#define PT_INTERP 3U
#define PT_PHDR 6U
#define PT_GNU_STACK 0x6474E551U
#define PF_X 1U
#define PF_W 2U
#define PAGE 4096ULL
#define MAX_PHNUM 64U

static bool fail(char *err, size_t err_len, const char *msg)
{
	size_t i = 0;

	for (; err_len != 0U && i + 1U < err_len && msg[i] != '\0'; i++) {
		err[i] = msg[i];
	}
	if (err_len != 0U) {
		err[i] = '\0';
	}
	return false;
}

static uint64_t page_down(uint64_t v)
{
	return v & ~(PAGE - 1U);
}

/* One PT_LOAD header into s; false if it is malformed on its own. */
static bool read_load(const uint8_t *ph, size_t len, struct elf_segment *s, const char **why)
{
	uint32_t flags = load32(ph, P_FLAGS);

	*s = (struct elf_segment){
		.vaddr = load64(ph, P_VADDR),
		.memsz = load64(ph, P_MEMSZ),
		.offset = load64(ph, P_OFFSET),
		.filesz = load64(ph, P_FILESZ),
		.writable = (flags & PF_W) != 0U,
		.executable = (flags & PF_X) != 0U,
	};
	if (s->memsz == 0U || s->filesz > s->memsz) {
		*why = "a PT_LOAD segment is empty or has filesz > memsz";
	} else if (s->offset > len || s->filesz > len - s->offset) {
		*why = "a PT_LOAD segment's bytes lie outside the file";
	} else if ((s->vaddr & (PAGE - 1U)) != (s->offset & (PAGE - 1U))) {
		*why = "a PT_LOAD segment's address and offset differ modulo 4096";
	} else if (s->memsz > UINT64_MAX - 2U * PAGE ||
		   s->vaddr > UINT64_MAX - 2U * PAGE - s->memsz) {
		*why = "a PT_LOAD segment wraps around";
	} else if (s->writable && s->executable) {
		*why = "a PT_LOAD segment is writable and executable";
	} else {
		return true;
	}
	return false;
}

/* Segments in address order, not overlapping; a page two of them share must not end up
 * writable and executable. */
static bool check_order(const struct elf_image *img, const char **why)
{
	for (unsigned i = 1; i < img->count; i++) {
		const struct elf_segment *a = &img->seg[i - 1U], *b = &img->seg[i];

		if (b->vaddr < a->vaddr + a->memsz) {
			*why = "PT_LOAD segments overlap or are out of order";
			return false;
		}
		if (page_down(b->vaddr) == page_down(a->vaddr + a->memsz - 1U) &&
		    ((a->writable && b->executable) || (a->executable && b->writable))) {
			*why = "a page would be writable and executable";
			return false;
		}
	}
	return true;
}

bool elf_image_parse(const uint8_t *file, size_t len, uint64_t max_span, uint64_t exec_lo,
		     uint64_t exec_hi, struct elf_image *img, char *err, size_t err_len)
{
	const char *why = NULL;

	*img = (struct elf_image){ 0 };
	if (len < EHDR_SIZE || file[0] != 0x7FU || file[1] != 'E' || file[2] != 'L' ||
	    file[3] != 'F') {
		return fail(err, err_len, "not an ELF file");
	}
	uint16_t type = load16(file, E_TYPE);

	if (file[EI_CLASS] != ELFCLASS64 || file[EI_DATA] != ELFDATA2LSB ||
	    file[EI_VERSION] != 1U || load32(file, E_VERSION) != 1U ||
	    load16(file, E_MACHINE) != EM_X86_64 || (type != ET_EXEC && type != ET_DYN)) {
		return fail(err, err_len, "not a little-endian ELF64 x86-64 executable");
	}
	uint64_t phoff = load64(file, E_PHOFF);
	uint16_t phnum = load16(file, E_PHNUM);

	if (load16(file, E_PHENTSIZE) != PHDR_SIZE || phnum == 0U || phnum > MAX_PHNUM ||
	    phoff > len || (uint64_t)phnum * PHDR_SIZE > len - phoff) {
		return fail(err, err_len, "bad program header table");
	}
	img->pie = type == ET_DYN;
	img->entry = load64(file, E_ENTRY);
	img->phnum = phnum;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = file + phoff + (size_t)i * PHDR_SIZE;
		uint32_t pt = load32(ph, P_TYPE);

		if (pt == PT_INTERP) {
			return fail(err, err_len,
				    "dynamically linked (PT_INTERP): link it -static-pie");
		}
		if (pt == PT_GNU_STACK && (load32(ph, P_FLAGS) & PF_X) != 0U) {
			return fail(err, err_len, "asks for an executable stack");
		}
		if (pt != PT_LOAD) {
			continue;
		}
		if (img->count == ELF_IMAGE_MAX_SEGMENTS) {
			return fail(err, err_len, "too many PT_LOAD segments");
		}
		if (!read_load(ph, len, &img->seg[img->count], &why)) {
			return fail(err, err_len, why);
		}
		img->count++;
	}
	if (img->count == 0U) {
		return fail(err, err_len, "no PT_LOAD segment");
	}
	if (!check_order(img, &why)) {
		return fail(err, err_len, why);
	}
	const struct elf_segment *last = &img->seg[img->count - 1U];

	img->lo = page_down(img->seg[0].vaddr);
	img->hi = page_down(last->vaddr + last->memsz + PAGE - 1U);
	if (img->hi - img->lo > max_span) {
		return fail(err, err_len, "its segments span more than the service may have");
	}
	if (!img->pie && (img->lo < exec_lo || img->hi > exec_hi)) {
		return fail(err, err_len,
			    "an ET_EXEC outside the services' address range: link it -static-pie");
	}
	bool entry_ok = false;

	for (unsigned i = 0; i < img->count; i++) {
		const struct elf_segment *s = &img->seg[i];

		entry_ok = entry_ok || (s->executable && img->entry >= s->vaddr &&
					img->entry - s->vaddr < s->memsz);
		/* The program headers, if a segment loads them from the file (AT_PHDR). */
		if (img->phdr == 0U && phoff >= s->offset &&
		    phoff + (uint64_t)phnum * PHDR_SIZE <= s->offset + s->filesz) {
			img->phdr = s->vaddr + (phoff - s->offset);
		}
	}
	if (!entry_ok) {
		return fail(err, err_len, "its entry point is not in an executable segment");
	}
	return true;
}
