/* make bench: donjon-igvm measure's throughput on a 256 MiB payload against the limit,
 * the raw SHA-384 throughput of the same library (OpenSSL) over the same bytes, measured
 * in the same run. The file is built in memory (65536 pages of pseudo-random data and an
 * SVSM VMSA); parsing is counted as part of measuring. Best of five runs each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include <donjon/vmsa.h>

#include "igvm_measure.h"

#define PAYLOAD (256ULL << 20)
#define RUNS 5

static double now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool build(const uint8_t *payload, uint8_t **file, size_t *len)
{
	struct igvm_writer *w = igvm_writer_new();
	struct igvm_supported_platform snp = { 1, 0, IGVM_PLATFORM_SEV_SNP, 1, 0 };
	struct igvm_vp_context vp = { SNP_VMSA_MEASURE_GPA, 1, 0, 0, 0 };
	uint8_t vmsa[IGVM_PAGE];
	bool ok = w != NULL && igvm_writer_add(w, IGVM_VHT_SUPPORTED_PLATFORM, &snp, sizeof(snp));

	for (uint64_t off = 0; ok && off < PAYLOAD; off += IGVM_PAGE) {
		struct igvm_page_data d = { 0x1000000ULL + off, 1, 0, 0, 0, 0 };

		ok = igvm_writer_add(w, IGVM_VHT_PAGE_DATA, &d, sizeof(d)) &&
		     igvm_writer_add_data(w, 12, payload + off, IGVM_PAGE, IGVM_PAGE);
	}
	igvm_reset_vmsa(vmsa, SEV_FEATURE_SNP_ACTIVE, IGVM_VCPU_SIG_EPYC_V4);
	ok = ok && igvm_writer_add(w, IGVM_VHT_VP_CONTEXT, &vp, sizeof(vp)) &&
	     igvm_writer_add_data(w, 12, vmsa, IGVM_PAGE, IGVM_PAGE) &&
	     igvm_writer_finish(w, 1, file, len);
	igvm_writer_free(w);
	return ok;
}

int main(void)
{
	uint8_t *payload = malloc(PAYLOAD);
	uint8_t *file = NULL;
	size_t len = 0;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	uint8_t out[SNP_DIGEST_SIZE];
	double raw = 1e9, meas = 1e9;

	if (payload == NULL) {
		return 1;
	}
	for (uint64_t i = 0; i < PAYLOAD / 8U; i++) { /* xorshift: distinct pages */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(payload + 8U * i, &x, 8);
	}
	if (!build(payload, &file, &len)) {
		(void)fprintf(stderr, "bench-measure: building the file failed\n");
		return 1;
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = now();

		if (EVP_Digest(payload, PAYLOAD, out, NULL, EVP_sha384(), NULL) != 1) {
			return 1;
		}
		double t1 = now();
		struct igvm_file f;
		struct igvm_error err;
		struct igvm_launch launch;
		struct igvm_host host = { .vcpus = 1, .mem_size = 1ULL << 30 };

		if (!igvm_parse(file, len, &f, &err) ||
		    !igvm_measure(&f, &host, NULL, out, &launch, &err)) {
			(void)fprintf(stderr, "bench-measure: %s\n", err.message);
			return 1;
		}
		double t2 = now();

		igvm_free(&f);
		raw = t1 - t0 < raw ? t1 - t0 : raw;
		meas = t2 - t1 < meas ? t2 - t1 : meas;
	}
	double mb = (double)PAYLOAD / 1e6;

	printf("%.1f %.1f\n", mb / raw, mb / meas);
	free(payload);
	free(file);
	return 0;
}
