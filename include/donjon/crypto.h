/* The crypto Donjon uses, from well-kept libraries, never written by hand: OpenSSL's
 * libcrypto in hosted builds (lib/crypto/crypto_openssl.c), Debian's BearSSL in the kernel
 * (lib/crypto/crypto_bearssl.c). The same known-answer tests (tests/crypto) run against
 * both. Every function is safe to call from several CPUs at once; the DRBG is locked. */
#ifndef DONJON_CRYPTO_H
#define DONJON_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_GCM_IV_SIZE 12U
#define CRYPTO_GCM_TAG_SIZE 16U
#define CRYPTO_SHA384_SIZE 48U
#define CRYPTO_SHA512_SIZE 64U
#define CRYPTO_P384_SCALAR_SIZE 48U
#define CRYPTO_P384_POINT_SIZE 97U    /* uncompressed: 0x04, X, Y (big-endian) */
#define CRYPTO_P384_SIG_SIZE 96U      /* r then s, 48 bytes each, big-endian */
#define CRYPTO_HKDF_SHA384_MAX 12240U /* 255 * CRYPTO_SHA384_SIZE */

/* A piece of a message hashed in one call: parts are hashed in order, as if concatenated. */
struct crypto_span {
	const void *data;
	size_t len;
};

/* AES-256-GCM. seal: out = E(in), tag computed; open: false unless the tag verifies (out
 * is then not to be used). len may be 0; in and out may be the same buffer. */
bool crypto_aes256gcm_seal(const uint8_t key[32], const uint8_t iv[CRYPTO_GCM_IV_SIZE],
			   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			   uint8_t *out, uint8_t tag[CRYPTO_GCM_TAG_SIZE]);
bool crypto_aes256gcm_open(const uint8_t key[32], const uint8_t iv[CRYPTO_GCM_IV_SIZE],
			   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			   uint8_t *out, const uint8_t tag[CRYPTO_GCM_TAG_SIZE]);

bool crypto_sha384(const struct crypto_span *parts, unsigned count,
		   uint8_t out[CRYPTO_SHA384_SIZE]);
bool crypto_sha512(const struct crypto_span *parts, unsigned count,
		   uint8_t out[CRYPTO_SHA512_SIZE]);
bool crypto_hmac_sha384(const uint8_t *key, size_t key_len, const struct crypto_span *parts,
			unsigned count, uint8_t out[CRYPTO_SHA384_SIZE]);
/* HKDF (RFC 5869) with SHA-384: extract with salt (salt_len 0: no salt), expand with info
 * into out_len bytes, at most CRYPTO_HKDF_SHA384_MAX. */
bool crypto_hkdf_sha384(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
			const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* NIST P-384. A private key is a scalar in [1, n-1]; public keys are uncompressed points.
 * keygen draws the scalar from crypto_random. */
bool crypto_p384_keygen(uint8_t priv[CRYPTO_P384_SCALAR_SIZE], uint8_t pub[CRYPTO_P384_POINT_SIZE]);
bool crypto_p384_public(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
			uint8_t pub[CRYPTO_P384_POINT_SIZE]);
/* ECDSA over a SHA-384 digest. sign also verifies its own signature before it returns it
 * (a fault during signing must not leak the key). */
bool crypto_ecdsa_p384_sign(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
			    const uint8_t digest[CRYPTO_SHA384_SIZE],
			    uint8_t sig[CRYPTO_P384_SIG_SIZE]);
bool crypto_ecdsa_p384_verify(const uint8_t pub[CRYPTO_P384_POINT_SIZE],
			      const uint8_t digest[CRYPTO_SHA384_SIZE],
			      const uint8_t sig[CRYPTO_P384_SIG_SIZE]);
/* ECDH: the X coordinate of priv * peer. False if peer is not a point of the curve. */
bool crypto_ecdh_p384(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
		      const uint8_t peer[CRYPTO_P384_POINT_SIZE],
		      uint8_t shared[CRYPTO_P384_SCALAR_SIZE]);

/* Random bytes from a DRBG (HMAC-DRBG with SHA-384 in the kernel) seeded from the
 * platform's entropy (crypto_entropy) and reseeded from it regularly. False if there is
 * no entropy to seed it with. */
bool crypto_random(void *buf, size_t len);

/* Wipe a buffer holding key material (not optimised away). */
void crypto_wipe(void *buf, size_t len);

/* ---- what the environment provides the library glue ---- */

/* Fill buf with entropy from the hardware (RDSEED, else RDRAND) or the OS. */
bool crypto_entropy(void *buf, size_t len);
/* The library uses SSE registers: in the kernel, whatever a guest vCPU left in them is
 * saved before and restored after each call (an FPU section). */
void crypto_fpu_begin(void);
void crypto_fpu_end(void);

#endif
