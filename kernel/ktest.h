/* Tests that run inside the kernel under QEMU; one PASS/FAIL line each, then
 * "N passed, M failed". */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>

/* Runs the tests whose names contain `filter` ("all" for every test). */
bool ktest_run(const char *filter);

#endif
