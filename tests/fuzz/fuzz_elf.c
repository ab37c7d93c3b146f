/* libFuzzer target for the services loader's ELF checks (lib/elf/elf_image.c). Half the
 * inputs are parsed as they are; the other half are byte edits applied to a valid sample
 * (a static-pie with an R, an RX and an RW segment sharing pages, its program headers
 * loaded). Any input is either refused with a message, or described so that the loader
 * can only copy in bounds: every segment's file bytes inside the file, filesz <= memsz,
 * segments in order and apart, no page writable and executable, the entry in an
 * executable segment, the span within its limit and an ET_EXEC inside its window. */
#include <stdlib.h>
#include <string.h>

#include <donjon/bytes.h>
#include <donjon/elf_image.h>

#define SPAN (1ULL << 28)
#define WIN_LO 0x8000400000ULL
#define WIN_HI (WIN_LO + SPAN)
#define SAMPLE_LEN 0x3000U

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void phdr(uint8_t *f, unsigned i, uint32_t type, uint32_t flags, uint64_t off,
		 uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	uint8_t *p = f + 64 + (size_t)i * 56U;

	store32(p, 0, type);
	store32(p, 4, flags);
	store64(p, 8, off);
	store64(p, 16, vaddr);
	store64(p, 24, vaddr);
	store64(p, 32, filesz);
	store64(p, 40, memsz);
	store64(p, 48, 0x1000);
}

static void make_sample(uint8_t *f)
{
	memset(f, 0, SAMPLE_LEN);
	static const uint8_t ident[7] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };

	memcpy(f, ident, sizeof(ident));
	store16(f, 16, 3); /* ET_DYN */
	store16(f, 18, 62);
	store32(f, 20, 1);
	store64(f, 24, 0x1010); /* entry */
	store64(f, 32, 64);	/* phoff */
	store16(f, 52, 64);
	store16(f, 54, 56);
	store16(f, 56, 4);
	phdr(f, 0, 1, 4, 0, 0, 0x400, 0x400);		 /* R: headers */
	phdr(f, 1, 1, 5, 0x1000, 0x1000, 0x800, 0x800);	 /* RX */
	phdr(f, 2, 1, 6, 0x2800, 0x2800, 0x800, 0x1900); /* RW, its bss past the file */
	phdr(f, 3, 0x6474E551U, 6, 0, 0, 0, 0);		 /* PT_GNU_STACK, RW */
}

static void check_image(const struct elf_image *img, size_t len)
{
	if (img->count == 0U || img->count > ELF_IMAGE_MAX_SEGMENTS || img->hi <= img->lo ||
	    img->hi - img->lo > SPAN || (img->lo & 4095U) != 0U || (img->hi & 4095U) != 0U) {
		abort();
	}
	if (!img->pie && (img->lo < WIN_LO || img->hi > WIN_HI)) {
		abort();
	}
	bool entry = false;

	for (unsigned i = 0; i < img->count; i++) {
		const struct elf_segment *s = &img->seg[i];

		if (s->memsz == 0U || s->filesz > s->memsz || s->offset > len ||
		    s->filesz > len - s->offset || (s->writable && s->executable) ||
		    s->vaddr < img->lo || s->vaddr + s->memsz > img->hi ||
		    (s->vaddr & 4095U) != (s->offset & 4095U)) {
			abort();
		}
		if (i > 0U) {
			const struct elf_segment *p = &img->seg[i - 1U];

			if (s->vaddr < p->vaddr + p->memsz) {
				abort();
			}
			if (((p->vaddr + p->memsz - 1U) >> 12) == (s->vaddr >> 12) &&
			    ((p->writable && s->executable) || (p->executable && s->writable))) {
				abort();
			}
		}
		entry = entry || (s->executable && img->entry >= s->vaddr &&
				  img->entry - s->vaddr < s->memsz);
	}
	if (!entry) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t sample[SAMPLE_LEN];
	struct elf_image img;
	char err[96];
	const uint8_t *file = data;
	uint8_t *copy = NULL;
	size_t len = size;

	static bool sample_checked;

	if (!sample_checked) {
		/* The sample itself must be a valid image, or the edits test little. */
		make_sample(sample);
		if (!elf_image_parse(sample, SAMPLE_LEN, SPAN, WIN_LO, WIN_HI, &img, err,
				     sizeof(err)) ||
		    img.count != 3U || img.phdr != 64U) {
			abort();
		}
		sample_checked = true;
	}
	if (size > 0U && (data[0] & 1U) != 0U) {
		/* Edits: (offset u16, value u8) triples applied to the sample. */
		make_sample(sample);
		for (size_t i = 1; i + 3U <= size; i += 3U) {
			sample[load16(data, i) % SAMPLE_LEN] = data[i + 2U];
		}
		file = sample;
		len = SAMPLE_LEN;
	}
	copy = malloc(len != 0U ? len : 1U);
	memcpy(copy, file, len);
	err[0] = 'x';
	if (elf_image_parse(copy, len, SPAN, WIN_LO, WIN_HI, &img, err, sizeof(err))) {
		check_image(&img, len);
		/* Read every byte a loader would copy (ASan checks the bounds). */
		volatile uint8_t sum = 0;

		for (unsigned i = 0; i < img.count; i++) {
			for (uint64_t b = 0; b < img.seg[i].filesz; b++) {
				sum = (uint8_t)(sum + copy[img.seg[i].offset + b]);
			}
		}
		(void)sum;
	} else if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	free(copy);
	return 0;
}
