/* The crypto known answers (kat.c) against OpenSSL, hosted (ASan, UBSan). */
#include <stdio.h>

#include "harness.h"

void ct_print(const char *line)
{
	(void)puts(line);
}

int main(void)
{
	return ct_run_tests("crypto-openssl", crypto_tests, crypto_test_count) == 0U ? 0 : 1;
}
