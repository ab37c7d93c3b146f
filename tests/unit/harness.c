/* The unit-test runner. Optional argument: run only cases whose name contains it. */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_TESTS 256

static struct {
	const char *name;
	void (*fn)(void);
} tests[MAX_TESTS];
static unsigned test_count;
static unsigned failures_in_case;

void test_register(const char *name, void (*fn)(void))
{
	if (test_count < MAX_TESTS) {
		tests[test_count].name = name;
		tests[test_count].fn = fn;
		test_count++;
	}
}

static void fail_line(const char *file, int line, const char *what)
{
	if (failures_in_case++ < 5U) {
		printf("    %s:%d: %s\n", file, line, what);
	}
}

void test_expect_u64(uint64_t got, uint64_t want, const char *expr, const char *file, int line)
{
	if (got != want) {
		char msg[512];

		(void)snprintf(msg, sizeof(msg), "%s: got 0x%" PRIx64 ", want 0x%" PRIx64, expr,
			       got, want);
		fail_line(file, line, msg);
	}
}

void test_expect_true(bool ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		char msg[512];

		(void)snprintf(msg, sizeof(msg), "expected: %s", expr);
		fail_line(file, line, msg);
	}
}

void test_expect_mem(const void *got, const void *want, unsigned long len, const char *expr,
		     const char *file, int line)
{
	if (memcmp(got, want, len) != 0) {
		char msg[512];

		(void)snprintf(msg, sizeof(msg), "%s: %lu bytes differ", expr, len);
		fail_line(file, line, msg);
	}
}

void test_expect_str(const char *got, const char *want, const char *expr, const char *file,
		     int line)
{
	if (strcmp(got, want) != 0) {
		char msg[512];

		(void)snprintf(msg, sizeof(msg), "%s: got '%s', want '%s'", expr, got, want);
		fail_line(file, line, msg);
	}
}

int main(int argc, char **argv)
{
	unsigned passed = 0;
	unsigned failed = 0;

	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; i < test_count; i++) {
		if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL) {
			continue;
		}
		failures_in_case = 0;
		tests[i].fn();
		if (failures_in_case == 0U) {
			printf("PASS unit/%s\n", tests[i].name);
			passed++;
		} else {
			printf("FAIL unit/%s\n", tests[i].name);
			failed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed == 0U ? 0 : 1;
}
