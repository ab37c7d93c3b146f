/* The simulated PSP's chip key as a verifier obtains it: PEM (SubjectPublicKeyInfo). */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string.h>

#include "machine.h"

bool sim_export_chip_key(const struct sim_machine *m, FILE *out)
{
	/* OpenSSL's parameters take a non-const buffer that it only reads. */
	uint8_t point[CRYPTO_P384_POINT_SIZE];
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-384", 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *key = NULL;
	bool ok = false;

	memcpy(point, m->psp.chip_pub, sizeof(point));
	if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1) {
		ok = PEM_write_PUBKEY(out, key) == 1;
	}
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}
