/* The SNP ID block in an IGVM file (SNP_ID_BLOCK record, spec sheet 1.5 and 4): ECDSA
 * P-384 with SHA-384; R, S, Qx and Qy little-endian, zero-extended to 72 bytes. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include <donjon/bytes.h>

#include "igvm_measure.h"

/* Offsets in the 696-byte IGVM record. */
#define REC_MASK 0U
#define REC_AUTHOR_ENABLED 4U
#define REC_LD 8U
#define REC_FAMILY 56U
#define REC_IMAGE 72U
#define REC_VERSION 88U
#define REC_SVN 92U
#define REC_ID_ALGO 96U
#define REC_AUTHOR_ALGO 100U
#define REC_ID_SIG 104U
#define REC_ID_KEY 248U
#define REC_AUTHOR_SIG 400U
#define REC_AUTHOR_KEY 544U
#define COMPONENT 72U
#define P384_BYTES 48U

static bool say(char *why, size_t len, const char *msg)
{
	(void)snprintf(why, len, "%s", msg);
	return false;
}

void igvm_id_block_psp(const uint8_t rec[IGVM_ID_BLOCK_SIZE], uint64_t policy,
		       uint8_t block[SNP_ID_BLOCK_SIZE])
{
	memcpy(block, rec + REC_LD, SNP_DIGEST_SIZE);
	memcpy(block + 48, rec + REC_FAMILY, 16);
	memcpy(block + 64, rec + REC_IMAGE, 16);
	store32(block, 80, 1); /* QEMU always sends version 1 */
	store32(block, 84, load32(rec, REC_SVN));
	store64(block, 88, policy);
}

/* {curve, Qx, Qy} at 0, 4, 76; the IGVM record's reserved word is dropped. */
void igvm_id_block_key(const uint8_t rec[IGVM_ID_BLOCK_SIZE], bool author,
		       uint8_t key[SNP_ID_AUTH_KEY_SIZE])
{
	const uint8_t *k = rec + (author ? REC_AUTHOR_KEY : REC_ID_KEY);

	memset(key, 0, SNP_ID_AUTH_KEY_SIZE);
	memcpy(key, k, 4);
	memcpy(key + 4, k + 8, (size_t)2 * COMPONENT);
}

/* Qx, Qy of a P-384 key into the record's key structure at off. */
static bool put_key(EVP_PKEY *key, uint8_t *rec, unsigned off)
{
	BIGNUM *x = NULL, *y = NULL;
	char group[32];
	size_t glen = 0;
	bool ok = EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
						 sizeof(group), &glen) == 1 &&
		  (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) &&
		  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
		  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
		  BN_bn2lebinpad(x, rec + off + 8, COMPONENT) == COMPONENT &&
		  BN_bn2lebinpad(y, rec + off + 8 + COMPONENT, COMPONENT) == COMPONENT;

	store32(rec, off, SNP_CURVE_P384);
	BN_free(x);
	BN_free(y);
	return ok;
}

static bool sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t *rs)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[160];
	size_t der_len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	bool ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
		  EVP_DigestSign(md, der, &der_len, msg, len) == 1;

	if (ok) {
		const uint8_t *p = der;

		sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
		ok = sig != NULL &&
		     BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), rs, COMPONENT) == COMPONENT &&
		     BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), rs + COMPONENT, COMPONENT) == COMPONENT;
	}
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return ok;
}

bool igvm_id_block_sign(const uint8_t ld[SNP_DIGEST_SIZE], uint64_t policy,
			const struct id_block_input *in, EVP_PKEY *id_key, EVP_PKEY *author_key,
			uint8_t rec[IGVM_ID_BLOCK_SIZE], char *why, size_t why_len)
{
	uint8_t block[SNP_ID_BLOCK_SIZE];
	uint8_t key[SNP_ID_AUTH_KEY_SIZE];

	memset(rec, 0, IGVM_ID_BLOCK_SIZE);
	store32(rec, REC_MASK, in->mask);
	memcpy(rec + REC_LD, ld, SNP_DIGEST_SIZE);
	memcpy(rec + REC_FAMILY, in->family_id, 16);
	memcpy(rec + REC_IMAGE, in->image_id, 16);
	store32(rec, REC_VERSION, 1);
	store32(rec, REC_SVN, in->guest_svn);
	store32(rec, REC_ID_ALGO, SNP_ECDSA_P384_SHA384);
	if (!put_key(id_key, rec, REC_ID_KEY)) {
		return say(why, why_len, "the ID key is not an ECDSA P-384 key");
	}
	igvm_id_block_psp(rec, policy, block);
	if (!sign(id_key, block, sizeof(block), rec + REC_ID_SIG)) {
		return say(why, why_len, "signing with the ID key failed (no private key?)");
	}
	if (author_key == NULL) {
		return true;
	}
	rec[REC_AUTHOR_ENABLED] = 1;
	store32(rec, REC_AUTHOR_ALGO, SNP_ECDSA_P384_SHA384);
	if (!put_key(author_key, rec, REC_AUTHOR_KEY)) {
		return say(why, why_len, "the author key is not an ECDSA P-384 key");
	}
	igvm_id_block_key(rec, false, key);
	if (!sign(author_key, key, sizeof(key), rec + REC_AUTHOR_SIG)) {
		return say(why, why_len, "signing with the author key failed (no private key?)");
	}
	return true;
}

/* The P-384 public key in the record's key structure at off. */
static EVP_PKEY *get_key(const uint8_t *rec, unsigned off)
{
	uint8_t point[1 + 2 * P384_BYTES];
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;

	if (bld == NULL || load32(rec, off) != SNP_CURVE_P384) {
		OSSL_PARAM_BLD_free(bld);
		return NULL;
	}
	point[0] = 4; /* uncompressed: 04 || X || Y, big-endian */
	for (unsigned i = 0; i < P384_BYTES; i++) {
		point[1 + i] = rec[off + 8 + P384_BYTES - 1 - i];
		point[1 + P384_BYTES + i] = rec[off + 8 + COMPONENT + P384_BYTES - 1 - i];
	}
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ==
		    1 &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1) {
		(void)EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return key;
}

static bool verify(const uint8_t *rec, unsigned key_off, unsigned sig_off, const uint8_t *msg,
		   size_t len)
{
	EVP_PKEY *key = get_key(rec, key_off);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_lebin2bn(rec + sig_off, COMPONENT, NULL);
	BIGNUM *s = BN_lebin2bn(rec + sig_off + COMPONENT, COMPONENT, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *der = NULL;
	bool ok = false;

	if (key != NULL && sig != NULL && r != NULL && s != NULL && md != NULL &&
	    ECDSA_SIG_set0(sig, r, s) == 1) {
		r = s = NULL; /* owned by sig now */
		int der_len = i2d_ECDSA_SIG(sig, &der);

		ok = der_len > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
		     EVP_DigestVerify(md, der, (size_t)der_len, msg, len) == 1;
	}
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	EVP_PKEY_free(key);
	return ok;
}

bool igvm_id_block_check(const uint8_t rec[IGVM_ID_BLOCK_SIZE], const uint8_t ld[SNP_DIGEST_SIZE],
			 uint64_t policy, char *why, size_t why_len)
{
	uint8_t block[SNP_ID_BLOCK_SIZE];
	uint8_t key[SNP_ID_AUTH_KEY_SIZE];

	if (memcmp(rec + REC_LD, ld, SNP_DIGEST_SIZE) != 0) {
		return say(why, why_len, "the ID block's launch digest is not the file's");
	}
	if (load32(rec, REC_ID_ALGO) != SNP_ECDSA_P384_SHA384) {
		return say(why, why_len, "ID key algorithm is not ECDSA P-384 with SHA-384");
	}
	igvm_id_block_psp(rec, policy, block);
	if (!verify(rec, REC_ID_KEY, REC_ID_SIG, block, sizeof(block))) {
		return say(why, why_len, "the ID block's signature does not verify");
	}
	if (rec[REC_AUTHOR_ENABLED] == 0U) {
		return true;
	}
	igvm_id_block_key(rec, false, key);
	if (load32(rec, REC_AUTHOR_ALGO) != SNP_ECDSA_P384_SHA384 ||
	    !verify(rec, REC_AUTHOR_KEY, REC_AUTHOR_SIG, key, sizeof(key))) {
		return say(why, why_len,
			   "the author key's signature over the ID key does not verify");
	}
	return true;
}
