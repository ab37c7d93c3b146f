/* The vTPM protocol (protocol 2) as Linux's tpm_svsm driver uses it: SVSM_VTPM_QUERY, then
 * TPM commands in a 4096-byte buffer through SVSM_VTPM_CMD (TPM_SEND_COMMAND: u32 command,
 * u8 locality, u32 size, the command; the response replaces it: u32 size, the response).
 * With a vTPM (GUEST_PARAMS_VTPM_OFF) the guest checks exact answers: GetRandom; PCR_Extend
 * of PCR 16 then PCR_Read with the digest computed here; a P-384 signing key and a quote of
 * PCR 16 with the guest's nonce, whose signature and PCR digest the guest verifies; the
 * refused calls, which change nothing. Without one, the protocol is not offered. */
#include <donjon/bytes.h>
#include <donjon/crypto.h>

#include "arch/x86/cpu.h"
#include "console.h"
#include "guest.h"

#define VTPM_BUF (SCRATCH + 0x74000ULL)
#define VTPM_PAGES 3U
#define TPM_RC_SUCCESS 0U
#define TPM_RC_FAILURE 0x101U
#define TPM_RC_YIELDED 0x908U
#define TPM_RC_TESTING 0x90AU
#define TPM_RC_RETRY 0x922U
#define PCR_INDEX 16U
#define SHA384_SIZE 48U
#define P384_COORD 48U
#define QUOTE_NONCE_SIZE 32U
#define UNTOUCHED 0x5AU

static uint64_t vtpm_id(uint32_t call_id)
{
	return ((uint64_t)SVSM_PROTOCOL_VTPM << 32) | call_id;
}

bool guest_has_vtpm(void)
{
	return *(volatile uint32_t *)ptr(GUEST_PARAMS + GUEST_PARAMS_VTPM_OFF) != 0U;
}

/* A TPM command's bytes, built big-endian. */
struct cmd {
	uint8_t b[512];
	unsigned len;
};

static void put8(struct cmd *c, uint8_t v)
{
	c->b[c->len++] = v;
}

static void put16(struct cmd *c, uint16_t v)
{
	put8(c, (uint8_t)(v >> 8));
	put8(c, (uint8_t)v);
}

static void put32(struct cmd *c, uint32_t v)
{
	put16(c, (uint16_t)(v >> 16));
	put16(c, (uint16_t)v);
}

static void put_bytes(struct cmd *c, const uint8_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		put8(c, p[i]);
	}
}

/* tag, size (patched by finish), command code */
static void begin(struct cmd *c, uint16_t tag, uint32_t code)
{
	c->len = 0;
	put16(c, tag);
	put32(c, 0);
	put32(c, code);
}

static void finish(struct cmd *c)
{
	store32_be(c->b, 2, c->len);
}

/* An empty password session for one handle: TPM_RS_PW, no nonce, continueSession, no
 * password. */
static void password_session(struct cmd *c)
{
	static const uint8_t pw[] = { 0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 1, 0, 0 };

	put_bytes(c, pw, sizeof(pw));
}

/* PCR 16 of the SHA-384 bank: one selection, SHA-384, three bytes of bitmap. */
static void pcr_selection(struct cmd *c)
{
	static const uint8_t sel[] = { 0, 0, 0, 1, 0x00, 0x0C, 3, 0x00, 0x00, 0x01 };

	put_bytes(c, sel, sizeof(sel));
}

/* TPM2_PCR_Extend of PCR 16's SHA-384 bank with digest. */
static void build_extend(struct cmd *c, const uint8_t digest[SHA384_SIZE])
{
	begin(c, 0x8002U, 0x182U);
	put32(c, PCR_INDEX);
	password_session(c);
	put32(c, 1);
	put16(c, 0x000CU);
	put_bytes(c, digest, SHA384_SIZE);
	finish(c);
}

static uint8_t resp[4096];
static unsigned resp_len;

/* SVSM_VTPM_CMD with the command at gpa: the call's RAX; the response in resp. */
static uint64_t send_at(uint64_t gpa, const struct cmd *c, uint8_t locality)
{
	volatile uint8_t *p = ptr(gpa);

	*(volatile uint32_t *)p = SVSM_VTPM_SEND_COMMAND;
	p[4] = locality;
	*(volatile uint32_t *)(p + 5) = c->len;
	for (unsigned i = 0; i < c->len; i++) {
		p[9 + i] = c->b[i];
	}
	struct result r = call(vtpm_id(SVSM_VTPM_CMD), gpa, 0, 0);

	resp_len = 0;
	if (!r.completed || r.rax != SVSM_SUCCESS) {
		return r.completed ? r.rax : ~0ULL;
	}
	uint32_t n = *(volatile uint32_t *)p;

	resp_len = n <= sizeof(resp) ? n : 0U;
	for (unsigned i = 0; i < resp_len; i++) {
		resp[i] = p[4 + i];
	}
	return r.rax;
}

/* The response code of a well-formed response, or ~0. As Linux's TPM driver does, a
 * command the TPM answers with TPM_RC_RETRY, TPM_RC_TESTING or TPM_RC_YIELDED is sent
 * again (a fresh vTPM answers the first quote with a P-384 key TPM_RC_RETRY). */
static uint32_t tpm(const struct cmd *c)
{
	uint32_t rc = ~0U;

	for (unsigned tries = 0; tries < 5U; tries++) {
		if (send_at(VTPM_BUF, c, 0) != SVSM_SUCCESS || resp_len < 10U ||
		    load32_be(resp, 2) != resp_len) {
			return ~0U;
		}
		rc = load32_be(resp, 6);
		if (rc != TPM_RC_RETRY && rc != TPM_RC_TESTING && rc != TPM_RC_YIELDED) {
			break;
		}
	}
	return rc;
}

static bool sha384(const void *a, size_t a_len, const void *b, size_t b_len, uint8_t *out)
{
	const struct crypto_span parts[] = { { a, a_len }, { b, b_len } };

	return crypto_sha384(parts, b_len != 0U ? 2U : 1U, out);
}

static void check_random(void)
{
	struct cmd c;

	begin(&c, 0x8001U, 0x17BU);
	put16(&c, 16);
	finish(&c);
	CHECK(tpm(&c) == TPM_RC_SUCCESS && resp_len == 28U && load16_be(resp, 10) == 16U);
	uint8_t first[16];

	__builtin_memcpy(first, resp + 12, sizeof(first));
	CHECK(tpm(&c) == TPM_RC_SUCCESS && resp_len == 28U &&
	      __builtin_memcmp(first, resp + 12, sizeof(first)) != 0);
}

/* PCR_Read of PCR 16: its value in out. */
static bool read_pcr(uint8_t out[SHA384_SIZE])
{
	struct cmd c;

	begin(&c, 0x8001U, 0x17EU);
	pcr_selection(&c);
	finish(&c);
	/* updateCounter, the selection read (as asked), one digest of 48 bytes. */
	if (tpm(&c) != TPM_RC_SUCCESS || resp_len != 78U || load32_be(resp, 14) != 1U ||
	    load16_be(resp, 18) != 0x000CU || load32_be(resp, 24) != 1U ||
	    load16_be(resp, 28) != SHA384_SIZE) {
		return false;
	}
	__builtin_memcpy(out, resp + 30, SHA384_SIZE);
	return true;
}

static void check_pcr_extend(uint8_t pcr[SHA384_SIZE])
{
	static const uint8_t zeros[SHA384_SIZE];
	uint8_t digest[SHA384_SIZE], want[SHA384_SIZE];
	struct cmd c;

	CHECK(read_pcr(pcr) && __builtin_memcmp(pcr, zeros, SHA384_SIZE) == 0);
	CHECK(sha384("donjon", 6, NULL, 0, digest));
	build_extend(&c, digest);
	CHECK(tpm(&c) == TPM_RC_SUCCESS && resp_len == 19U);
	CHECK(sha384(zeros, SHA384_SIZE, digest, SHA384_SIZE, want));
	CHECK(read_pcr(pcr) && __builtin_memcmp(pcr, want, SHA384_SIZE) == 0);
}

/* CreatePrimary in the owner hierarchy: ECC NIST P-384, restricted signing, ECDSA with
 * SHA-384. Its handle, and its public point (0x04, X, Y) in pub. */
static uint32_t create_signing_key(uint8_t pub[CRYPTO_P384_POINT_SIZE])
{
	struct cmd c;

	begin(&c, 0x8002U, 0x131U);
	put32(&c, 0x40000001U);
	password_session(&c);
	put16(&c, 4); /* inSensitive: no password, no data */
	put16(&c, 0);
	put16(&c, 0);
	put16(&c, 24);	  /* inPublic */
	put16(&c, 0x23U); /* TPM_ALG_ECC */
	put16(&c, 0x0CU); /* nameAlg SHA-384 */
	/* fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign */
	put32(&c, 0x00050072U);
	put16(&c, 0);	  /* no policy */
	put16(&c, 0x10U); /* no symmetric */
	put16(&c, 0x18U); /* ECDSA */
	put16(&c, 0x0CU); /* with SHA-384 */
	put16(&c, 0x04U); /* TPM_ECC_NIST_P384 */
	put16(&c, 0x10U); /* no KDF */
	put16(&c, 0);
	put16(&c, 0);
	put16(&c, 0); /* outsideInfo */
	put32(&c, 0); /* creationPCR */
	finish(&c);
	/* handle, parameterSize, TPM2B_PUBLIC: the point at 40 (X) and 90 (Y). */
	if (tpm(&c) != TPM_RC_SUCCESS || resp_len < 140U || load16_be(resp, 40) != P384_COORD ||
	    load16_be(resp, 90) != P384_COORD) {
		return 0;
	}
	pub[0] = 0x04;
	__builtin_memcpy(pub + 1, resp + 42, P384_COORD);
	__builtin_memcpy(pub + 1 + P384_COORD, resp + 92, P384_COORD);
	return load32_be(resp, 10);
}

static bool flush_handle(uint32_t handle)
{
	struct cmd c;

	begin(&c, 0x8001U, 0x165U);
	put32(&c, handle);
	finish(&c);
	return tpm(&c) == TPM_RC_SUCCESS;
}

/* TPM2_Quote of PCR 16 with a nonce; the TPMS_ATTEST is checked field by field (magic,
 * type, the nonce as extraData, the selection, pcrDigest = SHA-384 of PCR 16) and its
 * signature verified with the key's public point. */
static void check_quote(const uint8_t pcr[SHA384_SIZE])
{
	uint8_t pub[CRYPTO_P384_POINT_SIZE], nonce[QUOTE_NONCE_SIZE], digest[SHA384_SIZE];
	uint8_t sig[CRYPTO_P384_SIG_SIZE], pcr_digest[SHA384_SIZE];
	uint32_t key = create_signing_key(pub);
	struct cmd c;

	CHECK(key != 0U);
	for (unsigned i = 0; i < sizeof(nonce); i++) {
		nonce[i] = (uint8_t)(0x30U + i);
	}
	begin(&c, 0x8002U, 0x158U);
	put32(&c, key);
	password_session(&c);
	put16(&c, QUOTE_NONCE_SIZE);
	put_bytes(&c, nonce, QUOTE_NONCE_SIZE);
	put16(&c, 0x10U); /* the key's own scheme */
	pcr_selection(&c);
	finish(&c);
	CHECK(tpm(&c) == TPM_RC_SUCCESS);
	/* parameterSize at 10, TPM2B_ATTEST at 14. */
	unsigned alen = resp_len >= 16U ? load16_be(resp, 14) : 0U;
	const uint8_t *a = resp + 16;
	/* magic, type, qualifiedSigner (2 + 50), extraData (2 + 32), clockInfo (17),
	 * firmwareVersion (8), the selection (10), pcrDigest (2 + 48). */
	unsigned extra = 6U + 2U + 50U, sel = extra + 2U + QUOTE_NONCE_SIZE + 17U + 8U;

	CHECK(alen == sel + 10U + 2U + SHA384_SIZE && 16U + alen + 104U <= resp_len);
	if (alen != sel + 10U + 2U + SHA384_SIZE || 16U + alen + 104U > resp_len) {
		return;
	}
	CHECK(load32_be(a, 0) == 0xFF544347U && load16_be(a, 4) == 0x8018U);
	CHECK(load16_be(a, 6) == 50U && load16_be(a, extra) == QUOTE_NONCE_SIZE &&
	      __builtin_memcmp(a + extra + 2U, nonce, QUOTE_NONCE_SIZE) == 0);
	CHECK(load32_be(a, sel) == 1U && load16_be(a, sel + 4U) == 0x000CU && a[sel + 6U] == 3U &&
	      a[sel + 9U] == 0x01U);
	CHECK(sha384(pcr, SHA384_SIZE, NULL, 0, pcr_digest));
	CHECK(load16_be(a, sel + 10U) == SHA384_SIZE &&
	      __builtin_memcmp(a + sel + 12U, pcr_digest, SHA384_SIZE) == 0);
	/* TPMT_SIGNATURE: ECDSA, SHA-384, r and s. */
	const uint8_t *s = a + alen;

	CHECK(load16_be(s, 0) == 0x18U && load16_be(s, 2) == 0x0CU &&
	      load16_be(s, 4) == P384_COORD && load16_be(s, 6 + P384_COORD) == P384_COORD);
	__builtin_memcpy(sig, s + 6, P384_COORD);
	__builtin_memcpy(sig + P384_COORD, s + 8 + P384_COORD, P384_COORD);
	CHECK(sha384(a, alen, NULL, 0, digest) && crypto_ecdsa_p384_verify(pub, digest, sig));
	/* The same signature over another nonce does not verify. */
	digest[0] ^= 1U;
	CHECK(!crypto_ecdsa_p384_verify(pub, digest, sig));
	CHECK(flush_handle(key));
}

/* An SVSM_VTPM_CMD with this header (and c's bytes after it, as far as they go) that must
 * be refused with want: the buffer's first span bytes (all the guest may write) are as the
 * guest left them. */
static bool refused_span(uint64_t gpa, unsigned span, uint32_t platform_cmd, uint8_t locality,
			 uint32_t size, const struct cmd *c, uint64_t want)
{
	static uint8_t before[4096];
	volatile uint8_t *p = ptr(gpa);

	for (unsigned i = 0; i < span; i++) {
		p[i] = i >= 9U && i - 9U < c->len ? c->b[i - 9U] : UNTOUCHED;
	}
	*(volatile uint32_t *)p = platform_cmd;
	p[4] = locality;
	*(volatile uint32_t *)(p + 5) = size;
	for (unsigned i = 0; i < span; i++) {
		before[i] = p[i];
	}
	if (call(vtpm_id(SVSM_VTPM_CMD), gpa, 0, 0).rax != want) {
		return false;
	}
	for (unsigned i = 0; i < span; i++) {
		if (p[i] != before[i]) {
			return false;
		}
	}
	return true;
}

static bool refused(uint64_t gpa, uint32_t platform_cmd, uint8_t locality, uint32_t size,
		    const struct cmd *c, uint64_t want)
{
	return refused_span(gpa, 4096, platform_cmd, locality, size, c, want);
}

/* What Linux must never get through: each refused with the spec's error, the buffer as it
 * was, and the TPM still the same (PCR 16 unchanged afterwards). */
static void check_refused(const uint8_t pcr[SHA384_SIZE])
{
	uint8_t now[SHA384_SIZE], digest[SHA384_SIZE];
	struct cmd c;

	/* A PCR_Extend that would change PCR 16, sent in ways the SVSM must refuse. */
	__builtin_memset(digest, 0xEE, sizeof(digest));
	build_extend(&c, digest);
	const uint32_t send = SVSM_VTPM_SEND_COMMAND, inval = SVSM_ERR_INVALID_PARAMETER;

	CHECK(refused(VTPM_BUF, send, 1, c.len, &c, inval)); /* locality 1 */
	CHECK(refused(VTPM_BUF, send, 4, c.len, &c, inval));
	CHECK(refused(VTPM_BUF, send, 0, 0, &c, inval)); /* no command */
	/* One byte more than the page holds after the header. */
	CHECK(refused(VTPM_BUF, send, 0, 4096U - 9U + 1U, &c, inval));
	CHECK(refused(VTPM_BUF, send, 0, ~0U, &c, inval));
	/* Another platform command than TPM_SEND_COMMAND. */
	CHECK(refused(VTPM_BUF, 7, 0, c.len, &c, SVSM_ERR_UNSUPPORTED_CALL));
	CHECK(refused(VTPM_BUF, 0, 0, c.len, &c, SVSM_ERR_UNSUPPORTED_CALL));
	/* Buffers the guest may not hand over: Donjon's memory, one that runs on into memory
	 * the guest never validated, its own calling area. */
	CHECK(call(vtpm_id(SVSM_VTPM_CMD), DONJON_MEMORY, 0, 0).rax == SVSM_ERR_INVALID_ADDRESS);
	CHECK(refused_span(VTPM_BUF + (VTPM_PAGES - 1U) * 4096ULL - 2048U, 2048, send, 0, c.len, &c,
			   SVSM_ERR_INVALID_ADDRESS));
	CHECK(call(vtpm_id(SVSM_VTPM_CMD), caa, 0, 0).rax == SVSM_ERR_INVALID_ADDRESS);
	CHECK(call(vtpm_id(7), VTPM_BUF, 0, 0).rax == SVSM_ERR_UNSUPPORTED_CALL);
	CHECK(read_pcr(now) && __builtin_memcmp(now, pcr, SHA384_SIZE) == 0);
	/* Any alignment is accepted (an older OVMF's buffer was not page-aligned). */
	begin(&c, 0x8001U, 0x17BU);
	put16(&c, 8);
	finish(&c);
	CHECK(send_at(VTPM_BUF + 0x123U, &c, 0) == SVSM_SUCCESS && resp_len == 20U &&
	      load32_be(resp, 6) == TPM_RC_SUCCESS);
}

void check_vtpm_protocol(void)
{
	struct result r = call(vtpm_id(SVSM_VTPM_QUERY), 0, 0, 0);
	uint8_t pcr[SHA384_SIZE];

	if (!guest_has_vtpm()) {
		CHECK(r.completed && r.rax == SVSM_ERR_UNSUPPORTED_PROTOCOL);
		return;
	}
	CHECK(r.completed && r.rax == SVSM_SUCCESS && r.rcx == 0x100U && r.rdx == 0U);
	CHECK(validate_4k(VTPM_BUF, VTPM_PAGES - 1U));
	check_random();
	check_pcr_extend(pcr);
	check_quote(pcr);
	check_refused(pcr);
}

/* mode=vtpm-broken (with service-budget=20): Donjon's own start of the vTPM (TPM2_Startup,
 * the EK) has the start budget, and a GetRandom fits in 20 ms; the TPM's first ECC P-384
 * primary key (about 50 ms under TCG) does not, so the service is stopped in the middle of
 * it. That command and each one after it then get TPM_RC_FAILURE inside SVSM_SUCCESS, as
 * Linux expects of a TPM in failure mode, and the rest of Donjon goes on. */
void check_vtpm_broken(void)
{
	uint8_t pub[CRYPTO_P384_POINT_SIZE];
	struct cmd c;

	CHECK(validate_4k(VTPM_BUF, 1));
	begin(&c, 0x8001U, 0x17BU);
	put16(&c, 16);
	finish(&c);
	CHECK(tpm(&c) == TPM_RC_SUCCESS && resp_len == 28U);
	CHECK(create_signing_key(pub) == 0U);
	CHECK(load32_be(resp, 6) == TPM_RC_FAILURE && resp_len == 10U);
	for (unsigned i = 0; i < 3U; i++) {
		CHECK(tpm(&c) == TPM_RC_FAILURE && resp_len == 10U);
	}
	CHECK(call(vtpm_id(SVSM_VTPM_QUERY), 0, 0, 0).rax == SVSM_SUCCESS);
	CHECK(pvalidate(VTPM_BUF + 4096U, false, true) == SVSM_SUCCESS);
	CHECK(call(SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0).rcx == 0x100000001ULL);
}

/* make bench (bench=vtpm): each command's SVSM_VTPM_CMD round trip, summed over its timed
 * runs (the last of their kind), in TSC ticks; the kernel prints where each exchange
 * with the service spent its time (platform/native/services.c), so make bench can tell
 * ring 3 from Donjon. */
void bench_vtpm(void)
{
	enum { SMALL = 40, LARGE = 4 };
	static const uint8_t pcr_digest[SHA384_SIZE] = { 1, 2, 3 };
	uint8_t pub[CRYPTO_P384_POINT_SIZE], nonce[QUOTE_NONCE_SIZE] = { 0 };
	struct cmd rnd, ext, quote;
	uint64_t t[4] = { 0, 0, 0, 0 };
	bool ok = validate_4k(VTPM_BUF, 1);

	begin(&rnd, 0x8001U, 0x17BU);
	put16(&rnd, 16);
	finish(&rnd);
	build_extend(&ext, pcr_digest);
	/* The vTPM's first command starts it (TPM2_Startup, the EK): not timed. */
	ok = ok && tpm(&rnd) == TPM_RC_SUCCESS;
	for (unsigned i = 0; ok && i < SMALL; i++) {
		uint64_t t0 = rdtsc();

		ok = tpm(&rnd) == TPM_RC_SUCCESS;
		uint64_t t1 = rdtsc();

		ok = ok && tpm(&ext) == TPM_RC_SUCCESS;
		t[0] += t1 - t0;
		t[1] += rdtsc() - t1;
	}
	/* The key's first quote is answered TPM_RC_RETRY once (tpm() resends): one untimed
	 * quote first. */
	for (unsigned i = 0; ok && i <= LARGE; i++) {
		uint64_t t0 = rdtsc();
		uint32_t key = create_signing_key(pub);
		uint64_t t1 = rdtsc();

		begin(&quote, 0x8002U, 0x158U);
		put32(&quote, key);
		password_session(&quote);
		put16(&quote, QUOTE_NONCE_SIZE);
		put_bytes(&quote, nonce, QUOTE_NONCE_SIZE);
		put16(&quote, 0x10U);
		pcr_selection(&quote);
		finish(&quote);
		uint64_t t2 = rdtsc();

		ok = key != 0U && tpm(&quote) == TPM_RC_SUCCESS;
		uint64_t t3 = rdtsc();

		ok = ok && flush_handle(key);
		if (i != 0U) {
			t[2] += t1 - t0;
			t[3] += t3 - t2;
		}
	}
	if (!ok) {
		kprintf("bench: vtpm failed");
		return;
	}
	kprintf("bench: vtpm 0x17b %u %lu", (unsigned)SMALL, t[0]);
	kprintf("bench: vtpm 0x182 %u %lu", (unsigned)SMALL, t[1]);
	kprintf("bench: vtpm 0x131 %u %lu", (unsigned)LARGE, t[2]);
	kprintf("bench: vtpm 0x158 %u %lu", (unsigned)LARGE, t[3]);
}
