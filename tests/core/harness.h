/* The core's portable tests: written once, run hosted (on the simulator, under ASan and
 * UBSan) and inside the kernel (on the native platform under QEMU). Freestanding: each
 * environment provides ct_print. */
#ifndef TESTS_CORE_HARNESS_H
#define TESTS_CORE_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

struct core_test {
	const char *name;
	void (*fn)(void);
};

extern const struct core_test core_tests[];
extern const unsigned core_test_count;

/* One line of output, without the newline; provided by the environment. */
void ct_print(const char *line);

void ct_check(bool ok, const char *expr, const char *file, int line);
void ct_check_eq(uint64_t got, uint64_t want, const char *expr, const char *file, int line);
#define CT_TRUE(x) ct_check((x), #x, __FILE__, __LINE__)
#define CT_EQ(got, want)                                                                           \
	ct_check_eq((uint64_t)(got), (uint64_t)(want), #got " == " #want, __FILE__, __LINE__)

/* Runs every test of a table, one "PASS <prefix>/<name>" or "FAIL ..." line each, then
 * "N passed, M failed"; returns the number failed. */
unsigned ct_run_tests(const char *prefix, const struct core_test *tests, unsigned count);

/* The crypto library's known answers (tests/crypto), the same set hosted and in the kernel. */
extern const struct core_test crypto_tests[];
extern const unsigned crypto_test_count;

#endif
