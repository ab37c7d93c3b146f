/* make bench's crypto workload, written once against include/donjon/crypto.h: the same
 * loops run on OpenSSL and BearSSL hosted and on BearSSL inside Donjon's kernel. Times are
 * TSC ticks (under QEMU's TCG the guest's TSC counts the host's), so the three compare. */
#ifndef TESTS_BENCH_BENCH_CRYPTO_H
#define TESTS_BENCH_BENCH_CRYPTO_H

#include <stdbool.h>
#include <stdint.h>

/* Ticks per operation, the fastest of several rounds. */
struct crypto_bench {
	uint64_t gcm_seal_4k; /* AES-256-GCM seal of a 4 KiB record, 16 bytes of AAD */
	uint64_t sha384_4k;   /* SHA-384 of 4 KiB */
	uint64_t ecdsa_sign;  /* ECDSA P-384 sign of a digest (it verifies its own result) */
};

/* False if an operation failed. */
bool crypto_bench_run(struct crypto_bench *out);

#endif
