/* The attestation protocol (protocol 1) as Linux's configfs-tsm uses it: the operation
 * structure at CAA+8, a 64-byte nonce, report and manifest buffers; a call with buffers
 * too small first, which answers the sizes needed, then the real one. The guest checks
 * REPORT_DATA = SHA-512(nonce || manifest) itself, and prints the report, the manifest and
 * the nonce so that make test verifies the chip's signature apart from Donjon's C. */
#include <donjon/bytes.h>
#include <donjon/crypto.h>
#include <donjon/snp.h>

#include "arch/x86/cpu.h"
#include "console.h"
#include "guest.h"

#define ATTEST_REPORT (SCRATCH + 0x70000ULL)
#define ATTEST_MANIFEST (SCRATCH + 0x71000ULL)
#define ATTEST_NONCE (SCRATCH + 0x72040ULL)
#define ATTEST_PAGES 3U
#define UNTOUCHED 0xA5U

static uint64_t attest_id(uint32_t call_id)
{
	return ((uint64_t)SVSM_PROTOCOL_ATTEST << 32) | call_id;
}

/* The operation at CAA+8, as Linux fills it (no certificates wanted). */
static uint64_t attest_op(uint32_t report_size, uint32_t manifest_size)
{
	volatile uint8_t *op = ptr(caa + 8);

	for (unsigned i = 0; i < sizeof(struct svsm_attest_single_op); i++) {
		op[i] = 0;
	}
	write64(caa + 8, ATTEST_REPORT);
	*(volatile uint32_t *)ptr(caa + 8 + 0x08) = report_size;
	write64(caa + 8 + 0x10, ATTEST_NONCE);
	*(volatile uint16_t *)ptr(caa + 8 + 0x18) = SVSM_ATTEST_NONCE_SIZE;
	write64(caa + 8 + 0x20, ATTEST_MANIFEST);
	*(volatile uint32_t *)ptr(caa + 8 + 0x28) = manifest_size;
	return caa + 8;
}

static void fill(uint64_t gpa, uint8_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		ptr(gpa)[i] = v;
	}
}

static bool untouched(uint64_t gpa, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		if (ptr(gpa)[i] != UNTOUCHED) {
			return false;
		}
	}
	return true;
}

void check_attest_protocol(void)
{
	static uint8_t report[SNP_REPORT_SIZE];
	static uint8_t manifest[1024];
	static const uint8_t manifest_guid[16] = { SVSM_MANIFEST_GUID_BYTES };
	static const uint8_t vtpm_guid[16] = { SVSM_VTPM_SERVICE_GUID_BYTES };
	/* With a vTPM: one entry, the EK's TPMT_PUBLIC (RSA 2048, template L-1: 314 bytes). */
	const bool vtpm = guest_has_vtpm();
	const unsigned entries = vtpm ? 1U : 0U;
	const unsigned want_len = (unsigned)sizeof(struct svsm_manifest_header) +
				  entries * ((unsigned)sizeof(struct svsm_manifest_entry) + 314U);
	uint8_t report_data[CRYPTO_SHA512_SIZE];

	CHECK(validate_4k(ATTEST_REPORT, ATTEST_PAGES));
	for (unsigned i = 0; i < SVSM_ATTEST_NONCE_SIZE; i++) {
		ptr(ATTEST_NONCE)[i] = (uint8_t)(0xC0U ^ (i * 7U));
	}
	/* Protocol 1, version 1 is there. */
	CHECK(call(SVSM_CORE_QUERY_PROTOCOL, ((uint64_t)SVSM_PROTOCOL_ATTEST << 32) | 1U, 0, 0)
		      .rcx == 0x100000001ULL);

	/* Buffers too small (Linux's first try can be): the sizes needed, nothing written. */
	fill(ATTEST_REPORT, UNTOUCHED, 2U * PAGE_SIZE);
	struct result r =
		call(attest_id(SVSM_ATTEST_SERVICES), attest_op(SNP_REPORT_SIZE, 0), ~0ULL, ~0ULL);

	CHECK(r.completed && r.rax == SVSM_ERR_INVALID_PARAMETER);
	CHECK(r.rcx == want_len && r.rdx == 0U && r.r8 == SNP_REPORT_SIZE);
	CHECK(untouched(ATTEST_REPORT, 2U * PAGE_SIZE));

	/* A report buffer in Donjon's memory, or on the calling area itself: refused before
	 * the PSP is asked, nothing written. */
	(void)attest_op(SNP_REPORT_SIZE, PAGE_SIZE);
	write64(caa + 8, DONJON_MEMORY);
	CHECK(call(attest_id(SVSM_ATTEST_SERVICES), caa + 8, ~0ULL, ~0ULL).rax ==
	      SVSM_ERR_INVALID_ADDRESS);
	(void)attest_op(SNP_REPORT_SIZE, PAGE_SIZE);
	write64(caa + 8, caa);
	CHECK(call(attest_id(SVSM_ATTEST_SERVICES), caa + 8, ~0ULL, ~0ULL).rax ==
	      SVSM_ERR_INVALID_ADDRESS);
	CHECK(untouched(ATTEST_REPORT, 2U * PAGE_SIZE));

	/* No service has the GUID asked for. */
	(void)attest_op(SNP_REPORT_SIZE, PAGE_SIZE);
	for (unsigned i = 0; i < 16U; i++) {
		ptr(caa + 8 + 0x40)[i] = (uint8_t)(0x11U * i);
	}
	CHECK(call(attest_id(SVSM_ATTEST_SINGLE_SERVICE), caa + 8, ~0ULL, ~0ULL).rax ==
	      SVSM_ERR_INVALID_REQUEST);
	CHECK(untouched(ATTEST_REPORT, 2U * PAGE_SIZE));

	/* The call with the sizes it asked for. */
	r = call(attest_id(SVSM_ATTEST_SERVICES), attest_op((uint32_t)r.r8, (uint32_t)r.rcx), ~0ULL,
		 ~0ULL);
	CHECK(r.completed && r.rax == SVSM_SUCCESS && r.rcx == want_len && r.rdx == 0U &&
	      r.r8 == SNP_REPORT_SIZE);
	unsigned manifest_len = (unsigned)r.rcx;

	for (unsigned i = 0; i < SNP_REPORT_SIZE; i++) {
		report[i] = ptr(ATTEST_REPORT)[i];
	}
	for (unsigned i = 0; i < manifest_len && i < sizeof(manifest); i++) {
		manifest[i] = ptr(ATTEST_MANIFEST)[i];
	}
	CHECK(__builtin_memcmp(manifest, manifest_guid, sizeof(manifest_guid)) == 0 &&
	      load32(manifest, 16) == manifest_len && load32(manifest, 20) == entries);
	/* The vTPM's entry: its GUID, its data right after the table, an RSA TPMT_PUBLIC
	 * with SHA-256 as its name algorithm. */
	CHECK(!vtpm || (__builtin_memcmp(manifest + 24, vtpm_guid, sizeof(vtpm_guid)) == 0 &&
			load32(manifest, 40) == 48U && load32(manifest, 44) == 314U &&
			load16_be(manifest, 48) == 0x0001U && load16_be(manifest, 50) == 0x000BU));
	CHECK(ptr(ATTEST_MANIFEST)[manifest_len] == UNTOUCHED);
	uint8_t nonce[SVSM_ATTEST_NONCE_SIZE];

	for (unsigned i = 0; i < sizeof(nonce); i++) {
		nonce[i] = ptr(ATTEST_NONCE)[i];
	}
	const struct crypto_span parts[] = { { nonce, sizeof(nonce) }, { manifest, manifest_len } };

	CHECK(crypto_sha512(parts, 2, report_data));
	CHECK(__builtin_memcmp(report + SNP_REPORT_DATA_OFF, report_data, sizeof(report_data)) ==
	      0);
	CHECK(load32(report, SNP_REPORT_VMPL_OFF) == 0U);
	print_hex("guest-attest-nonce", nonce, sizeof(nonce));
	print_hex("guest-attest-manifest", manifest, manifest_len);
	print_hex("guest-attest-report", report, sizeof(report));
}

/* make bench: SVSM_ATTEST_SERVICES's round trip against QUERY_PROTOCOL's, in TSC ticks,
 * the fastest of a few rounds each. */
void bench_attest(void)
{
	enum { ROUNDS = 3, CALLS = 8, QUERIES = 2000 };
	uint64_t best_attest = ~0ULL, best_query = ~0ULL;
	bool ok = validate_4k(ATTEST_REPORT, ATTEST_PAGES);

	for (unsigned round = 0; ok && round < ROUNDS; round++) {
		uint64_t t0 = rdtsc();

		for (unsigned i = 0; i < CALLS; i++) {
			ok = call(attest_id(SVSM_ATTEST_SERVICES),
				  attest_op(SNP_REPORT_SIZE, PAGE_SIZE), ~0ULL, ~0ULL)
					     .rax == SVSM_SUCCESS &&
			     ok;
		}
		uint64_t t1 = rdtsc();

		for (unsigned i = 0; i < QUERIES; i++) {
			(void)call(SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0);
		}
		uint64_t t2 = rdtsc();

		best_attest = t1 - t0 < best_attest ? t1 - t0 : best_attest;
		best_query = t2 - t1 < best_query ? t2 - t1 : best_query;
	}
	if (!ok) {
		kprintf("bench: attest failed");
		return;
	}
	kprintf("bench: attest-services %lu query-protocol %lu ticks", best_attest / CALLS,
		best_query / QUERIES);
}
