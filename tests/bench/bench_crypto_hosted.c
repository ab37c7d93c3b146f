/* make bench's crypto workload hosted: linked with OpenSSL (bench-crypto-openssl) or with
 * BearSSL (bench-crypto-bearssl, whose environment is below, as the kernel provides it).
 * Prints "gcm-seal-4k T sha384-4k T ecdsa-sign T" in TSC ticks per operation. */
#include <stdio.h>

#include <cpuid.h>
#include <sys/random.h>

#include <donjon/crypto.h>

#include "bench_crypto.h"

#ifdef BENCH_BEARSSL
#include "crypto_bearssl.h"

bool crypto_entropy(void *buf, size_t len)
{
	return getrandom(buf, len, 0) == (ssize_t)len;
}

/* A hosted process owns its registers: nothing to save. */
void crypto_fpu_begin(void)
{
}

void crypto_fpu_end(void)
{
}
#endif

int main(void)
{
	struct crypto_bench b;

#ifdef BENCH_BEARSSL
	unsigned a = 0, bx = 0, c = 0, d = 0;

	(void)__get_cpuid(1, &a, &bx, &c, &d);
	crypto_bearssl_init(c);
#endif
	if (!crypto_bench_run(&b)) {
		(void)fprintf(stderr, "bench-crypto: an operation failed\n");
		return 1;
	}
	printf("gcm-seal-4k %llu sha384-4k %llu ecdsa-sign %llu\n",
	       (unsigned long long)b.gcm_seal_4k, (unsigned long long)b.sha384_4k,
	       (unsigned long long)b.ecdsa_sign);
	return 0;
}
