/* include/donjon/crypto.h on BearSSL, as Debian ships it (libbearssl-dev), for Donjon's
 * kernel: no heap, constant-time code only (AES-NI CTR or ct64, PCLMUL GHASH or ctmul64,
 * the i31 P-384 code), every library call inside an FPU section, and one HMAC-DRBG
 * (SHA-384) seeded and reseeded from crypto_entropy. */
#include "crypto_bearssl.h"

#include <stdatomic.h>

#include <bearssl.h>

#include <donjon/crypto.h>

#define CURVE BR_EC_secp384r1
/* Reseed the DRBG after this many bytes of output (NIST SP 800-90A allows far more). */
#define RESEED_BYTES (1U << 20)
#define SEED_SIZE 48U

static const br_block_ctr_class *aes_ctr = &br_aes_ct64_ctr_vtable;
static br_ghash ghash = br_ghash_ctmul64;

static struct {
	atomic_flag lock;
	bool seeded;
	size_t since_seed;
	br_hmac_drbg_context ctx;
} drbg = { .lock = ATOMIC_FLAG_INIT };

/* CPUID leaf 1, ECX. */
#define CPUID1_PCLMUL (1U << 1)
#define CPUID1_SSSE3 (1U << 9)
#define CPUID1_SSE41 (1U << 19)
#define CPUID1_AESNI (1U << 25)

static bool has_all(uint32_t ecx, uint32_t bits)
{
	return (ecx & bits) == bits;
}

void crypto_bearssl_init(uint32_t cpuid1_ecx)
{
	aes_ctr = has_all(cpuid1_ecx, CPUID1_AESNI | CPUID1_SSE41) ? &br_aes_x86ni_ctr_vtable
								   : &br_aes_ct64_ctr_vtable;
	ghash = has_all(cpuid1_ecx, CPUID1_PCLMUL | CPUID1_SSSE3) ? br_ghash_pclmul
								  : br_ghash_ctmul64;
}

static bool gcm(bool seal, const uint8_t key[32], const uint8_t iv[CRYPTO_GCM_IV_SIZE],
		const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
		uint8_t tag[CRYPTO_GCM_TAG_SIZE])
{
	br_aes_gen_ctr_keys keys;
	br_gcm_context gc;
	uint32_t ok = 1;

	crypto_fpu_begin();
	aes_ctr->init(&keys.vtable, key, 32);
	br_gcm_init(&gc, &keys.vtable, ghash);
	br_gcm_reset(&gc, iv, CRYPTO_GCM_IV_SIZE);
	br_gcm_aad_inject(&gc, aad, aad_len);
	br_gcm_flip(&gc);
	/* BearSSL works in place. */
	if (len != 0U && out != in) {
		__builtin_memmove(out, in, len);
	}
	br_gcm_run(&gc, seal ? 1 : 0, out, len);
	if (seal) {
		br_gcm_get_tag(&gc, tag);
	} else {
		ok = br_gcm_check_tag(&gc, tag);
	}
	crypto_fpu_end();
	crypto_wipe(&keys, sizeof(keys));
	crypto_wipe(&gc, sizeof(gc));
	return ok == 1U;
}

bool crypto_aes256gcm_seal(const uint8_t key[32], const uint8_t iv[CRYPTO_GCM_IV_SIZE],
			   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			   uint8_t *out, uint8_t tag[CRYPTO_GCM_TAG_SIZE])
{
	return gcm(true, key, iv, aad, aad_len, in, len, out, tag);
}

bool crypto_aes256gcm_open(const uint8_t key[32], const uint8_t iv[CRYPTO_GCM_IV_SIZE],
			   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			   uint8_t *out, const uint8_t tag[CRYPTO_GCM_TAG_SIZE])
{
	uint8_t t[CRYPTO_GCM_TAG_SIZE];

	__builtin_memcpy(t, tag, sizeof(t));
	return gcm(false, key, iv, aad, aad_len, in, len, out, t);
}

static void digest(const br_hash_class *hc, const struct crypto_span *parts, unsigned count,
		   uint8_t *out)
{
	br_hash_compat_context ctx;

	crypto_fpu_begin();
	hc->init(&ctx.vtable);
	for (unsigned i = 0; i < count; i++) {
		hc->update(&ctx.vtable, parts[i].data, parts[i].len);
	}
	hc->out(&ctx.vtable, out);
	crypto_fpu_end();
}

bool crypto_sha384(const struct crypto_span *parts, unsigned count, uint8_t out[CRYPTO_SHA384_SIZE])
{
	digest(&br_sha384_vtable, parts, count, out);
	return true;
}

bool crypto_sha512(const struct crypto_span *parts, unsigned count, uint8_t out[CRYPTO_SHA512_SIZE])
{
	digest(&br_sha512_vtable, parts, count, out);
	return true;
}

bool crypto_hmac_sha384(const uint8_t *key, size_t key_len, const struct crypto_span *parts,
			unsigned count, uint8_t out[CRYPTO_SHA384_SIZE])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	crypto_fpu_begin();
	br_hmac_key_init(&kc, &br_sha384_vtable, key, key_len);
	br_hmac_init(&hc, &kc, 0);
	for (unsigned i = 0; i < count; i++) {
		br_hmac_update(&hc, parts[i].data, parts[i].len);
	}
	(void)br_hmac_out(&hc, out);
	crypto_fpu_end();
	crypto_wipe(&kc, sizeof(kc));
	crypto_wipe(&hc, sizeof(hc));
	return true;
}

bool crypto_hkdf_sha384(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
			const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	br_hkdf_context hc;

	if (out_len == 0U || out_len > CRYPTO_HKDF_SHA384_MAX) {
		return false;
	}
	crypto_fpu_begin();
	/* An empty salt is HashLen zero bytes (RFC 5869), which is what BearSSL's no-salt
	 * HKDF uses. */
	br_hkdf_init(&hc, &br_sha384_vtable, salt_len != 0U ? salt : BR_HKDF_NO_SALT, salt_len);
	br_hkdf_inject(&hc, ikm, ikm_len);
	br_hkdf_flip(&hc);
	(void)br_hkdf_produce(&hc, info, info_len, out, out_len);
	crypto_fpu_end();
	crypto_wipe(&hc, sizeof(hc));
	return true;
}

/* priv is a scalar in [1, n-1]: not zero, and below the curve order (both big-endian). */
static bool scalar_in_range(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE])
{
	size_t len = 0;
	const unsigned char *n = br_ec_prime_i31.order(CURVE, &len);
	uint8_t any = 0;
	int below = 0;
	int decided = 0;

	if (len != CRYPTO_P384_SCALAR_SIZE) {
		return false;
	}
	/* Branch-free on the secret: the first differing byte decides. */
	for (size_t i = 0; i < len; i++) {
		int lt = priv[i] < n[i];
		int gt = priv[i] > n[i];

		below |= lt & ~decided;
		decided |= lt | gt;
		any |= priv[i];
	}
	return any != 0U && below != 0;
}

bool crypto_p384_public(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
			uint8_t pub[CRYPTO_P384_POINT_SIZE])
{
	uint8_t x[CRYPTO_P384_SCALAR_SIZE];
	br_ec_private_key sk = { .curve = CURVE, .x = x, .xlen = sizeof(x) };
	br_ec_public_key pk;
	size_t n = 0;

	if (!scalar_in_range(priv)) {
		return false;
	}
	__builtin_memcpy(x, priv, sizeof(x));
	crypto_fpu_begin();
	n = br_ec_compute_pub(&br_ec_prime_i31, &pk, pub, &sk);
	crypto_fpu_end();
	crypto_wipe(x, sizeof(x));
	return n == CRYPTO_P384_POINT_SIZE;
}

bool crypto_ecdsa_p384_verify(const uint8_t pub[CRYPTO_P384_POINT_SIZE],
			      const uint8_t digest_in[CRYPTO_SHA384_SIZE],
			      const uint8_t sig[CRYPTO_P384_SIG_SIZE])
{
	uint8_t q[CRYPTO_P384_POINT_SIZE];
	br_ec_public_key pk = { .curve = CURVE, .q = q, .qlen = sizeof(q) };
	uint32_t ok = 0;

	__builtin_memcpy(q, pub, sizeof(q));
	crypto_fpu_begin();
	ok = br_ecdsa_i31_vrfy_raw(&br_ec_prime_i31, digest_in, CRYPTO_SHA384_SIZE, &pk, sig,
				   CRYPTO_P384_SIG_SIZE);
	crypto_fpu_end();
	return ok == 1U;
}

bool crypto_ecdsa_p384_sign(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
			    const uint8_t digest_in[CRYPTO_SHA384_SIZE],
			    uint8_t sig[CRYPTO_P384_SIG_SIZE])
{
	uint8_t x[CRYPTO_P384_SCALAR_SIZE];
	uint8_t pub[CRYPTO_P384_POINT_SIZE];
	br_ec_private_key sk = { .curve = CURVE, .x = x, .xlen = sizeof(x) };
	size_t n = 0;

	if (!crypto_p384_public(priv, pub)) {
		return false;
	}
	__builtin_memcpy(x, priv, sizeof(x));
	crypto_fpu_begin();
	/* RFC 6979: the nonce comes from the key and the digest, not from the DRBG. */
	n = br_ecdsa_i31_sign_raw(&br_ec_prime_i31, &br_sha384_vtable, digest_in, &sk, sig);
	crypto_fpu_end();
	crypto_wipe(x, sizeof(x));
	return n == CRYPTO_P384_SIG_SIZE && crypto_ecdsa_p384_verify(pub, digest_in, sig);
}

bool crypto_ecdh_p384(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
		      const uint8_t peer[CRYPTO_P384_POINT_SIZE],
		      uint8_t shared[CRYPTO_P384_SCALAR_SIZE])
{
	uint8_t point[CRYPTO_P384_POINT_SIZE];
	uint32_t ok = 0;

	if (!scalar_in_range(priv)) {
		return false;
	}
	__builtin_memcpy(point, peer, sizeof(point));
	crypto_fpu_begin();
	/* mul() checks that the point is on the curve and not the point at infinity. */
	ok = br_ec_prime_i31.mul(point, sizeof(point), priv, CRYPTO_P384_SCALAR_SIZE, CURVE);
	crypto_fpu_end();
	if (ok == 1U) {
		__builtin_memcpy(shared, point + 1, CRYPTO_P384_SCALAR_SIZE);
	}
	crypto_wipe(point, sizeof(point));
	return ok == 1U;
}

bool crypto_random(void *buf, size_t len)
{
	bool ok = true;

	while (atomic_flag_test_and_set_explicit(&drbg.lock, memory_order_acquire)) {
		__builtin_ia32_pause();
	}
	if (!drbg.seeded || drbg.since_seed > RESEED_BYTES) {
		uint8_t seed[SEED_SIZE];

		ok = crypto_entropy(seed, sizeof(seed));
		if (ok) {
			crypto_fpu_begin();
			if (drbg.seeded) {
				br_hmac_drbg_update(&drbg.ctx, seed, sizeof(seed));
			} else {
				br_hmac_drbg_init(&drbg.ctx, &br_sha384_vtable, seed, sizeof(seed));
			}
			crypto_fpu_end();
			drbg.seeded = true;
			drbg.since_seed = 0;
		}
		crypto_wipe(seed, sizeof(seed));
	}
	if (ok) {
		crypto_fpu_begin();
		br_hmac_drbg_generate(&drbg.ctx, buf, len);
		crypto_fpu_end();
		drbg.since_seed += len;
	}
	atomic_flag_clear_explicit(&drbg.lock, memory_order_release);
	return ok;
}

void crypto_wipe(void *buf, size_t len)
{
	volatile uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		p[i] = 0;
	}
}
