/* include/donjon/crypto.h on OpenSSL's libcrypto. */
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

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

	for (unsigned i = 0; i < CRYPTO_GCM_TAG_SIZE; i++) {
		t[i] = tag[i];
	}
	return gcm(false, key, iv, aad, aad_len, in, len, out, t);
}

void crypto_wipe(void *buf, size_t len)
{
	OPENSSL_cleanse(buf, len);
}
