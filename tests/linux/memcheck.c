/*
 * memcheck: a memory test for the Linux-guest initramfs. It maps SIZE MiB (64 unless given),
 * and for each of three patterns writes every 64-bit word, then reads every word back and
 * compares it with the pattern:
 *   addr     the word's virtual address mixed with a constant (a word written to the wrong
 *            place, or two pages that share a frame, read back as another address's value)
 *   ~addr    the same, inverted (every bit is 0 in one pass and 1 in the other)
 *   random   a xorshift64 sequence, regenerated for the read-back
 * The whole area is written before any of it is read back, so a page that aliases another
 * page of the area is found. It prints the first few mismatches and then exactly
 *   memcheck: BYTES bytes, 3 patterns, N mismatches
 * and exits 0 when N is 0, 1 otherwise (2 on a usage or mapping error).
 *
 *   memcheck [SIZE_MIB] [--corrupt WORD]
 * --corrupt flips one bit of word WORD after the first pattern is written: the self-test of
 * the checker itself, which must then report exactly 1 mismatch and exit 1.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PATTERNS 3
#define SHOW_MAX 8

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Address-derived value of the word at p: the address times an odd constant, so neighbouring
 * words differ in many bits, not only the low ones. */
static uint64_t addr_value(const volatile uint64_t *p)
{
	return (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;
}

static uint64_t expected(int pattern, const volatile uint64_t *p, uint64_t *seed)
{
	switch (pattern) {
	case 0:
		return addr_value(p);
	case 1:
		return ~addr_value(p);
	default:
		return xorshift64(seed);
	}
}

static const char *const pattern_name[PATTERNS] = { "addr", "~addr", "random" };

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 0);
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t size_mib = 64, corrupt = UINT64_MAX, mismatches = 0;
	int shown = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--corrupt") && i + 1 < argc) {
			if (parse_u64(argv[++i], &corrupt))
				goto usage;
		} else if (parse_u64(argv[i], &size_mib) || size_mib == 0 || size_mib > 65536) {
			goto usage;
		}
	}

	size_t bytes = (size_t)size_mib << 20;
	size_t words = bytes / sizeof(uint64_t);

	if (corrupt != UINT64_MAX && corrupt >= words)
		goto usage;
	void *area = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		perror("memcheck: mmap");
		return 2;
	}
	volatile uint64_t *w = area;

	for (int pat = 0; pat < PATTERNS; pat++) {
		uint64_t seed = 0x2545f4914f6cdd1dULL + (uint64_t)pat;

		for (size_t i = 0; i < words; i++)
			w[i] = expected(pat, &w[i], &seed);
		if (pat == 0 && corrupt != UINT64_MAX)
			w[corrupt] ^= 1ULL << 17;
		seed = 0x2545f4914f6cdd1dULL + (uint64_t)pat;
		for (size_t i = 0; i < words; i++) {
			uint64_t want = expected(pat, &w[i], &seed);
			uint64_t got = w[i];

			if (got == want)
				continue;
			mismatches++;
			if (shown++ < SHOW_MAX)
				printf("memcheck: mismatch pattern %s word %zu (%p): read "
				       "%016" PRIx64 " expected %016" PRIx64 "\n",
				       pattern_name[pat], i, (void *)&w[i], got, want);
		}
	}
	munmap(area, bytes);
	printf("memcheck: %zu bytes, %d patterns, %" PRIu64 " mismatches\n", bytes, PATTERNS,
	       mismatches);
	return mismatches ? 1 : 0;

usage:
	(void)fprintf(stderr,
		      "usage: memcheck [SIZE_MIB (1..65536, default 64)] [--corrupt WORD]\n");
	return 2;
}
