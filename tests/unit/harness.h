/* A minimal test harness: TEST() registers a case; EXPECT_* record failures with the
 * exact values; the runner prints one line per case and "N passed, M failed". */
#ifndef TESTS_UNIT_HARNESS_H
#define TESTS_UNIT_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

void test_register(const char *name, void (*fn)(void));
void test_expect_u64(uint64_t got, uint64_t want, const char *expr, const char *file, int line);
void test_expect_true(bool ok, const char *expr, const char *file, int line);
void test_expect_mem(const void *got, const void *want, unsigned long len, const char *expr,
		     const char *file, int line);
void test_expect_str(const char *got, const char *want, const char *expr, const char *file,
		     int line);

#define TEST(name)                                                                                 \
	static void name(void);                                                                    \
	__attribute__((constructor)) static void register_##name(void)                             \
	{                                                                                          \
		test_register(#name, name);                                                        \
	}                                                                                          \
	static void name(void)

#define EXPECT_EQ(got, want)                                                                       \
	test_expect_u64((uint64_t)(got), (uint64_t)(want), #got " == " #want, __FILE__, __LINE__)
#define EXPECT_TRUE(x) test_expect_true((x), #x, __FILE__, __LINE__)
#define EXPECT_MEM(got, want, len) test_expect_mem((got), (want), (len), #got, __FILE__, __LINE__)
#define EXPECT_STR(got, want) test_expect_str((got), (want), #got, __FILE__, __LINE__)

#endif
