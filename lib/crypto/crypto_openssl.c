/* include/donjon/crypto.h on OpenSSL's libcrypto (hosted builds: the simulator, the tools,
 * the tests). */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <donjon/crypto.h>

static bool gcm(bool seal, const uint8_t key[32], const uint8_t *iv, const uint8_t *aad,
		size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;
	bool ok = ctx != NULL && len <= INT_MAX && aad_len <= INT_MAX &&
		  EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, seal ? 1 : 0) == 1 &&
		  EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1 &&
		  (len == 0U || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1) &&
		  (seal ||
		   EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_SIZE, tag) == 1) &&
		  EVP_CipherFinal_ex(ctx, out + len, &n) == 1 &&
		  (!seal ||
		   EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_SIZE, tag) == 1);

	EVP_CIPHER_CTX_free(ctx);
	return ok;
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

	memcpy(t, tag, sizeof(t));
	return gcm(false, key, iv, aad, aad_len, in, len, out, t);
}

static bool digest(const EVP_MD *md, const struct crypto_span *parts, unsigned count, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;

	for (unsigned i = 0; ok && i < count; i++) {
		ok = EVP_DigestUpdate(ctx, parts[i].data, parts[i].len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

bool crypto_sha384(const struct crypto_span *parts, unsigned count, uint8_t out[CRYPTO_SHA384_SIZE])
{
	return digest(EVP_sha384(), parts, count, out);
}

bool crypto_sha512(const struct crypto_span *parts, unsigned count, uint8_t out[CRYPTO_SHA512_SIZE])
{
	return digest(EVP_sha512(), parts, count, out);
}

bool crypto_hmac_sha384(const uint8_t *key, size_t key_len, const struct crypto_span *parts,
			unsigned count, uint8_t out[CRYPTO_SHA384_SIZE])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA384", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t n = 0;
	bool ok = ctx != NULL && EVP_MAC_init(ctx, key, key_len, params) == 1;

	for (unsigned i = 0; ok && i < count; i++) {
		ok = EVP_MAC_update(ctx, parts[i].data, parts[i].len) == 1;
	}
	ok = ok && EVP_MAC_final(ctx, out, &n, CRYPTO_SHA384_SIZE) == 1 && n == CRYPTO_SHA384_SIZE;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

/* OpenSSL's parameters take non-const pointers to buffers it only reads. */
static void *readonly(const void *p)
{
	void *q = NULL;

	memcpy(&q, &p, sizeof(q));
	return q;
}

bool crypto_hkdf_sha384(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
			const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	/* Without a salt, HKDF's extract uses HashLen zero bytes (RFC 5869), OpenSSL's default
	 * when the parameter is absent. */
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA384", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, readonly(ikm), ikm_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, readonly(info), info_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, readonly(salt), salt_len),
		OSSL_PARAM_construct_end(),
	};

	if (salt_len == 0U) {
		params[3] = OSSL_PARAM_construct_end();
	}
	bool ok = ctx != NULL && out_len != 0U && out_len <= CRYPTO_HKDF_SHA384_MAX &&
		  EVP_KDF_derive(ctx, out, out_len, params) == 1;

	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

/* An EVP_PKEY for a P-384 private scalar (with its public point) or a public point. */
static EVP_PKEY *p384_key(const uint8_t *priv, const uint8_t *pub)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	BIGNUM *d = priv != NULL ? BN_bin2bn(priv, CRYPTO_P384_SCALAR_SIZE, NULL) : NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *key = NULL;
	bool ok =
		bld != NULL && ctx != NULL && (priv == NULL || d != NULL) &&
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0) == 1 &&
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
						 CRYPTO_P384_POINT_SIZE) == 1 &&
		(d == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) == 1) &&
		(params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1;

	if (ok && EVP_PKEY_fromdata(ctx, &key, d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
				    params) != 1) {
		key = NULL;
	}
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

bool crypto_p384_public(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
			uint8_t pub[CRYPTO_P384_POINT_SIZE])
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
	EC_POINT *q = g != NULL ? EC_POINT_new(g) : NULL;
	BIGNUM *d = BN_bin2bn(priv, CRYPTO_P384_SCALAR_SIZE, NULL);
	bool ok = q != NULL && d != NULL && !BN_is_zero(d) &&
		  BN_cmp(d, EC_GROUP_get0_order(g)) < 0 &&
		  EC_POINT_mul(g, q, d, NULL, NULL, NULL) == 1 &&
		  EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pub,
				     CRYPTO_P384_POINT_SIZE, NULL) == CRYPTO_P384_POINT_SIZE;

	BN_clear_free(d);
	EC_POINT_free(q);
	EC_GROUP_free(g);
	return ok;
}

/* Raw r||s and OpenSSL's DER form of an ECDSA signature. */
static bool sig_from_der(const uint8_t *der, size_t der_len, uint8_t sig[CRYPTO_P384_SIG_SIZE])
{
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &der, (long)der_len);
	bool ok = s != NULL &&
		  BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, CRYPTO_P384_SCALAR_SIZE) ==
			  (int)CRYPTO_P384_SCALAR_SIZE &&
		  BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + CRYPTO_P384_SCALAR_SIZE,
			       CRYPTO_P384_SCALAR_SIZE) == (int)CRYPTO_P384_SCALAR_SIZE;

	ECDSA_SIG_free(s);
	return ok;
}

static int sig_to_der(const uint8_t sig[CRYPTO_P384_SIG_SIZE], uint8_t *der)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, CRYPTO_P384_SCALAR_SIZE, NULL);
	BIGNUM *t = BN_bin2bn(sig + CRYPTO_P384_SCALAR_SIZE, CRYPTO_P384_SCALAR_SIZE, NULL);
	int len = -1;

	if (s != NULL && r != NULL && t != NULL && ECDSA_SIG_set0(s, r, t) == 1) {
		r = t = NULL;
		len = i2d_ECDSA_SIG(s, &der);
	}
	BN_free(r);
	BN_free(t);
	ECDSA_SIG_free(s);
	return len;
}

bool crypto_ecdsa_p384_verify(const uint8_t pub[CRYPTO_P384_POINT_SIZE],
			      const uint8_t digest[CRYPTO_SHA384_SIZE],
			      const uint8_t sig[CRYPTO_P384_SIG_SIZE])
{
	uint8_t der[128];
	int der_len = sig_to_der(sig, der);
	EVP_PKEY *key = der_len > 0 ? p384_key(NULL, pub) : NULL;
	EVP_PKEY_CTX *ctx = key != NULL ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	bool ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
		  EVP_PKEY_verify(ctx, der, (size_t)der_len, digest, CRYPTO_SHA384_SIZE) == 1;

	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

bool crypto_ecdsa_p384_sign(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
			    const uint8_t digest[CRYPTO_SHA384_SIZE],
			    uint8_t sig[CRYPTO_P384_SIG_SIZE])
{
	uint8_t pub[CRYPTO_P384_POINT_SIZE];
	uint8_t der[128];
	size_t der_len = sizeof(der);
	EVP_PKEY *key = crypto_p384_public(priv, pub) ? p384_key(priv, pub) : NULL;
	EVP_PKEY_CTX *ctx = key != NULL ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	bool ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
		  EVP_PKEY_sign(ctx, der, &der_len, digest, CRYPTO_SHA384_SIZE) == 1 &&
		  sig_from_der(der, der_len, sig) && crypto_ecdsa_p384_verify(pub, digest, sig);

	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

bool crypto_ecdh_p384(const uint8_t priv[CRYPTO_P384_SCALAR_SIZE],
		      const uint8_t peer[CRYPTO_P384_POINT_SIZE],
		      uint8_t shared[CRYPTO_P384_SCALAR_SIZE])
{
	uint8_t pub[CRYPTO_P384_POINT_SIZE];
	size_t len = CRYPTO_P384_SCALAR_SIZE;
	EVP_PKEY *mine = crypto_p384_public(priv, pub) ? p384_key(priv, pub) : NULL;
	EVP_PKEY *theirs = mine != NULL ? p384_key(NULL, peer) : NULL;
	EVP_PKEY_CTX *ctx = theirs != NULL ? EVP_PKEY_CTX_new(mine, NULL) : NULL;
	bool ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
		  EVP_PKEY_derive_set_peer(ctx, theirs) == 1 &&
		  EVP_PKEY_derive(ctx, shared, &len) == 1 && len == CRYPTO_P384_SCALAR_SIZE;

	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(theirs);
	EVP_PKEY_free(mine);
	return ok;
}

bool crypto_random(void *buf, size_t len)
{
	/* OpenSSL's own DRBG, seeded and reseeded from the OS. */
	return len <= INT_MAX && RAND_bytes(buf, (int)len) == 1;
}

void crypto_wipe(void *buf, size_t len)
{
	OPENSSL_cleanse(buf, len);
}
