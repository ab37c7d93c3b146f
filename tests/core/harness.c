/* The portable test runner: no libc, output through ct_print. */
#include "harness.h"

static unsigned failures;

static char *append(char *p, const char *end, const char *s)
{
	while (*s != '\0' && p + 1 < end) {
		*p++ = *s++;
	}
	*p = '\0';
	return p;
}

static char *append_hex(char *p, const char *end, uint64_t v)
{
	char digits[17];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 0xFU];
		v >>= 4;
	} while (v != 0U);
	p = append(p, end, "0x");
	while (n > 0 && p + 1 < end) {
		*p++ = digits[--n];
	}
	*p = '\0';
	return p;
}

static char *append_dec(char *p, const char *end, uint64_t v)
{
	char digits[21];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10U);
		v /= 10U;
	} while (v != 0U);
	while (n > 0 && p + 1 < end) {
		*p++ = digits[--n];
	}
	*p = '\0';
	return p;
}

static void report(const char *file, int line, const char *expr, bool values, uint64_t got,
		   uint64_t want)
{
	char buf[256];
	char *end = buf + sizeof(buf);
	char *p = append(buf, end, "    ");

	if (failures++ >= 5U) {
		return;
	}
	p = append(p, end, file);
	p = append(p, end, ":");
	p = append_dec(p, end, (uint64_t)line);
	p = append(p, end, ": ");
	p = append(p, end, expr);
	if (values) {
		p = append(p, end, ": got ");
		p = append_hex(p, end, got);
		p = append(p, end, ", want ");
		(void)append_hex(p, end, want);
	}
	ct_print(buf);
}

void ct_check(bool ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		report(file, line, expr, false, 0, 0);
	}
}

void ct_check_eq(uint64_t got, uint64_t want, const char *expr, const char *file, int line)
{
	if (got != want) {
		report(file, line, expr, true, got, want);
	}
}

unsigned ct_run_tests(const char *prefix, const struct core_test *tests, unsigned count)
{
	unsigned passed = 0, failed = 0;
	char buf[128];
	char *end = buf + sizeof(buf);

	for (unsigned i = 0; i < count; i++) {
		failures = 0;
		tests[i].fn();
		char *p = append(buf, end, failures == 0U ? "PASS " : "FAIL ");

		p = append(p, end, prefix);
		p = append(p, end, "/");
		(void)append(p, end, tests[i].name);
		ct_print(buf);
		if (failures == 0U) {
			passed++;
		} else {
			failed++;
		}
	}
	char *p = append_dec(buf, end, passed);

	p = append(p, end, " passed, ");
	p = append_dec(p, end, failed);
	(void)append(p, end, " failed");
	ct_print(buf);
	return failed;
}
