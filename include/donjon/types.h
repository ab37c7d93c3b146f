/* Address types shared by core, platforms and tools: a guest physical address cannot be
 * mixed up with a plain integer or a host pointer without an explicit conversion. */
#ifndef DONJON_TYPES_H
#define DONJON_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12U
#define PAGE_SIZE ((uint64_t)1 << PAGE_SHIFT)
#define PAGE_SIZE_2M ((uint64_t)1 << 21)
#define PAGES_PER_2M 512U

typedef struct {
	uint64_t gpa;
} gpa_t;

static inline gpa_t gpa_init(uint64_t v)
{
	return (gpa_t){ .gpa = v };
}

static inline uint64_t gpa_val(gpa_t g)
{
	return g.gpa;
}

static inline uint64_t gpa_pfn(gpa_t g)
{
	return g.gpa >> PAGE_SHIFT;
}

static inline bool gpa_is_aligned(gpa_t g, uint64_t align)
{
	return (g.gpa & (align - 1U)) == 0U;
}

/* The range check: true if [base, base + len) is not empty, does not wrap past 2^64 and
 * ends at or below limit. Every bound on a guest- or host-controlled range uses it. */
static inline bool range_within(uint64_t base, uint64_t len, uint64_t limit)
{
	uint64_t end = 0;

	return len != 0U && !__builtin_add_overflow(base, len, &end) && end <= limit;
}

/* Page sizes as PVALIDATE, RMPADJUST and the SVSM lists encode them. */
enum page_size {
	PAGE_4K = 0,
	PAGE_2M = 1,
};

static inline uint64_t page_size_bytes(enum page_size s)
{
	return s == PAGE_2M ? PAGE_SIZE_2M : PAGE_SIZE;
}

#endif
