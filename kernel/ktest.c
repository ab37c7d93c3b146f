/* The kernel's own tests: formatting, exceptions, W^X page tables, the page allocator,
 * the boot memory map. */
#include "ktest.h"

#include <stdarg.h>
#include <stdint.h>

#include "console.h"
#include "kernel.h"
#include "mm.h"
#include "trap.h"

static unsigned failures;

static void check(bool ok, const char *what, int line)
{
	if (!ok) {
		if (failures++ < 5U) {
			kprintf("    ktest.c:%d: %s", line, what);
		}
	}
}
#define CHECK(x) check((x), #x, __LINE__)

static bool str_eq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static bool fmt_is(const char *want, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	(void)fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return str_eq(buf, want);
}

static size_t fmt_vsnprintf_args(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	size_t n = fmt_vsnprintf(buf, size, fmt, ap);

	va_end(ap);
	return n;
}

static void test_format(void)
{
	CHECK(fmt_is("x=42 y=-7", "x=%d y=%d", 42, -7));
	CHECK(fmt_is("00ff|ffffffffffffffff", "%04x|%lx", 255U, ~0ULL));
	CHECK(fmt_is("[  abc]", "[%s]", "  abc"));
	CHECK(fmt_is("18446744073709551615", "%lu", ~0ULL));
	char want[32];
	static int object;

	(void)fmt_vsnprintf_args(want, sizeof(want), "0x%016lx", (uint64_t)(uintptr_t)&object);
	CHECK(fmt_is(want, "%p", (void *)&object));
	CHECK(fmt_is("ab", "%c%c", 'a', 'b'));
	/* Truncation: the result is cut and terminated, the full length is returned. */
	char small[4];

	CHECK(fmt_vsnprintf_args(small, sizeof(small), "%s", "abcdef") == 6U);
	CHECK(str_eq(small, "abc"));
	CHECK(fmt_is("", "%s", ""));
}

/* Run one instruction that must raise `vector`; the handler resumes after it. */
#define FAULT_AND_RESUME(vector, insn)                                                             \
	__asm__ volatile("leaq 1f(%%rip), %%rsi\n\t"                                               \
			 "movq $" #vector ", %%rdi\n\t"                                            \
			 "call trap_expect\n\t" insn "\n"                                          \
			 "1:"                                                                      \
			 :                                                                         \
			 :                                                                         \
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory")

static void test_exceptions(void)
{
	uint64_t before = trap_expected_hits();

	FAULT_AND_RESUME(6, "ud2");
	CHECK(trap_expected_hits() == before + 1U);
	/* #PF: page 0 is not mapped. */
	FAULT_AND_RESUME(14, "movq 0, %%rax");
	CHECK(trap_expected_hits() == before + 2U);
}

static void test_wx(void)
{
	uint64_t text = (uint64_t)(uintptr_t)__text_start;
	uint64_t rodata = (uint64_t)(uintptr_t)__rodata_start;
	uint64_t data = (uint64_t)(uintptr_t)__data_start;
	struct page_flags f = paging_query(text);

	CHECK(f.present && f.executable && !f.writable);
	f = paging_query(rodata);
	CHECK(f.present && !f.executable && !f.writable);
	f = paging_query(data);
	CHECK(f.present && !f.executable && f.writable);
	CHECK(!paging_query(0).present);
	/* No page below 4 GiB is both writable and executable. */
	for (uint64_t va = 0; va < (4ULL << 30); va += 4096U) {
		f = paging_query(va);
		if (f.writable && f.executable) {
			CHECK(!(f.writable && f.executable));
			break;
		}
	}
}

static void test_allocator(void)
{
	uint64_t free_before = pmm_free_pages();
	uint64_t a = 0, b = 0;

	CHECK(pmm_alloc(&a) && pmm_alloc(&b));
	CHECK(a != b && (a & 4095U) == 0U && (b & 4095U) == 0U);
	CHECK(a >= (uint64_t)(uintptr_t)__kernel_end && b >= (uint64_t)(uintptr_t)__kernel_end);
	uint64_t *p = kernel_ptr(a, 4096);

	CHECK(p != NULL && p[0] == 0U && p[511] == 0U);
	CHECK(pmm_free_pages() == free_before - 2U);
	pmm_free(a);
	pmm_free(b);
	/* Exhaustion is an error the caller sees, not a panic. */
	uint64_t taken = 0, head = 0, pa = 0;

	while (pmm_alloc(&pa)) {
		uint64_t *page = kernel_ptr(pa, 8);

		page[0] = head;
		head = pa;
		taken++;
	}
	CHECK(taken == free_before && pmm_free_pages() == 0U);
	CHECK(!pmm_alloc(&pa));
	while (head != 0U) {
		uint64_t next = *(uint64_t *)kernel_ptr(head, 8);

		pmm_free(head);
		head = next;
	}
	CHECK(pmm_free_pages() == free_before);
	pmm_free(0x123);
	CHECK(pmm_free_pages() == free_before);
}

static void test_memory_map(void)
{
	const char *mem = cmdline_get("mem");
	uint64_t want = 0;

	for (; mem != NULL && *mem >= '0' && *mem <= '9'; mem++) {
		want = want * 10U + (uint64_t)(*mem - '0');
	}
	want <<= 20;
	/* QEMU reports all of -m as RAM except the legacy hole below 1 MiB and a few pages. */
	CHECK(want != 0U && mm_ram_bytes() <= want && mm_ram_bytes() > want - (1ULL << 20));
	CHECK(kernel_ram_contains(0x100000, 4096));
	CHECK(!kernel_ram_contains(want, 4096));
	CHECK(kernel_ptr(0, 8) == NULL);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "format", test_format },	 { "exceptions", test_exceptions }, { "wx", test_wx },
	{ "allocator", test_allocator }, { "memory_map", test_memory_map },
};

static bool contains(const char *s, const char *part)
{
	for (; *s != '\0'; s++) {
		const char *a = s, *b = part;

		while (*a != '\0' && *b != '\0' && *b != ' ' && *a == *b) {
			a++;
			b++;
		}
		if (*b == '\0' || *b == ' ') {
			return true;
		}
	}
	return false;
}

bool ktest_run(const char *filter)
{
	unsigned passed = 0, failed = 0;
	bool all = contains(filter, "all");

	for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (!all && !contains(tests[i].name, filter)) {
			continue;
		}
		failures = 0;
		tests[i].fn();
		kprintf("%s kernel/%s", failures == 0U ? "PASS" : "FAIL", tests[i].name);
		if (failures == 0U) {
			passed++;
		} else {
			failed++;
		}
	}
	kprintf("%u passed, %u failed", passed, failed);
	return failed == 0U;
}
