/* Tests that run inside the kernel under QEMU; one PASS/FAIL line each, then
 * "N passed, M failed". */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>

/* Runs the tests whose names contain `filter` ("all" for every test). */
bool ktest_run(const char *filter);

/* test=service: the ring-3 runtime against tests/services/hostile (ktest_service.c). */
__attribute__((noreturn)) void ktest_services(void);

#endif
