/* Known answers for include/donjon/crypto.h, run against OpenSSL (hosted) and BearSSL (in
 * the kernel) alike. Sources: SHA-384/512 of "abc" (FIPS 180-4 examples), HMAC-SHA-384 RFC
 * 4231 test case 2, AES-256-GCM test case 14 of the GCM specification; the rest (HKDF-SHA-384
 * with RFC 5869 test case 1's inputs, GCM with AAD, the P-384 points, ECDH secret and
 * ECDSA signature) computed with Python's hashlib/hmac and python3-cryptography from
 * Debian, a third implementation. */
#include <donjon/crypto.h>

#include "harness.h"

#define HEX_MAX 128U

static unsigned nibble(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

/* A lowercase hex string (an even number of digits) as bytes, at most HEX_MAX. */
static const uint8_t *unhex(const char *s, uint8_t *out)
{
	for (size_t i = 0; i < HEX_MAX && s[0] != '\0' && s[1] != '\0'; i++, s += 2) {
		out[i] = (uint8_t)(nibble(s[0]) << 4 | nibble(s[1]));
	}
	return out;
}

static bool same(const uint8_t *a, const char *want_hex, size_t len)
{
	uint8_t want[HEX_MAX];

	unhex(want_hex, want);
	for (size_t i = 0; i < len; i++) {
		if (a[i] != want[i]) {
			return false;
		}
	}
	return true;
}

#define ABC_SHA384                                                                                 \
	"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca1" \
	"34c825a7"
#define ABC_SHA512                                                                                 \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23" \
	"a3fe"                                                                                     \
	"ebbd454d4423643ce80e2a9ac94fa54ca49f"

static void sha2(void)
{
	uint8_t out[CRYPTO_SHA512_SIZE];
	struct crypto_span abc = { "abc", 3 };
	struct crypto_span split[3] = { { "a", 1 }, { "", 0 }, { "bc", 2 } };

	CT_TRUE(crypto_sha384(&abc, 1, out) && same(out, ABC_SHA384, CRYPTO_SHA384_SIZE));
	CT_TRUE(crypto_sha384(split, 3, out) && same(out, ABC_SHA384, CRYPTO_SHA384_SIZE));
	CT_TRUE(crypto_sha512(&abc, 1, out) && same(out, ABC_SHA512, CRYPTO_SHA512_SIZE));
	CT_TRUE(crypto_sha512(split, 3, out) && same(out, ABC_SHA512, CRYPTO_SHA512_SIZE));
}

static void hmac_and_hkdf(void)
{
	uint8_t out[64];
	uint8_t ikm[22], salt[13], info[10];
	struct crypto_span msg = { "what do ya want for nothing?", 28 };

	CT_TRUE(crypto_hmac_sha384((const uint8_t *)"Jefe", 4, &msg, 1, out) &&
		same(out,
		     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e"
		     "2"
		     "c78b3239ecfab21649",
		     CRYPTO_SHA384_SIZE));
	for (unsigned i = 0; i < sizeof(ikm); i++) {
		ikm[i] = 0x0B;
	}
	for (unsigned i = 0; i < sizeof(salt); i++) {
		salt[i] = (uint8_t)i;
	}
	for (unsigned i = 0; i < sizeof(info); i++) {
		info[i] = (uint8_t)(0xF0U + i);
	}
	CT_TRUE(crypto_hkdf_sha384(ikm, sizeof(ikm), salt, sizeof(salt), info, sizeof(info), out,
				   42) &&
		same(out,
		     "9b5097a86038b805309076a44b3a9f38063e25b516dcbf369f394cfab43685f748b6457763e4f"
		     "0"
		     "204fc5",
		     42));
	CT_TRUE(crypto_hkdf_sha384(ikm, sizeof(ikm), NULL, 0, info, sizeof(info), out, 42) &&
		same(out,
		     "6bdcdc9fdaf458c805ffd57fe975f67580c797164e598e32619b9333bb4a74c07f1c3d5331b70"
		     "f"
		     "bd812c",
		     42));
	CT_TRUE(!crypto_hkdf_sha384(ikm, sizeof(ikm), NULL, 0, info, sizeof(info), out, 0));
	CT_TRUE(!crypto_hkdf_sha384(ikm, sizeof(ikm), NULL, 0, info, sizeof(info), out,
				    CRYPTO_HKDF_SHA384_MAX + 1U));
}

#define GCM_CT                                                                                     \
	"8aa2a225ae7f491c4e0257d6771087301d31d242cb0c7c6356c61e6aa2947be08d71e365e5f16f450e720243" \
	"1ea"                                                                                      \
	"e0e4a69659b6297bfbee71bab4b0782d9897d"

static void aes256gcm(void)
{
	uint8_t key[32] = { 0 }, iv[CRYPTO_GCM_IV_SIZE] = { 0 }, aad[32];
	uint8_t pt[64], ct[64], back[64], tag[CRYPTO_GCM_TAG_SIZE];

	/* Test case 14: zero key, IV and 16-byte plaintext, no AAD. */
	for (unsigned i = 0; i < sizeof(pt); i++) {
		pt[i] = 0;
	}
	CT_TRUE(crypto_aes256gcm_seal(key, iv, NULL, 0, pt, 16, ct, tag) &&
		same(ct, "cea7403d4d606b6e074ec5d3baf39d18", 16) &&
		same(tag, "d0d1c8a799996bf0265b98b5d48ab919", 16));
	for (unsigned i = 0; i < 32; i++) {
		key[i] = (uint8_t)i;
		aad[i] = (uint8_t)(0xA0U + i);
	}
	for (unsigned i = 0; i < sizeof(pt); i++) {
		pt[i] = (uint8_t)i;
	}
	unhex("cafebabefacedbaddecaf888", iv);
	CT_TRUE(crypto_aes256gcm_seal(key, iv, aad, sizeof(aad), pt, sizeof(pt), ct, tag) &&
		same(ct, GCM_CT, sizeof(ct)) && same(tag, "3125e14ff68c3f16d624ae3968a7205c", 16));
	CT_TRUE(crypto_aes256gcm_open(key, iv, aad, sizeof(aad), ct, sizeof(ct), back, tag) &&
		same(back, "000102030405060708090a0b0c0d0e0f", 16) && back[63] == 63U);
	/* In place. */
	for (unsigned i = 0; i < sizeof(back); i++) {
		back[i] = ct[i];
	}
	CT_TRUE(crypto_aes256gcm_open(key, iv, aad, sizeof(aad), back, sizeof(back), back, tag) &&
		back[1] == 1U && back[63] == 63U);
	/* Any change to the ciphertext, the AAD or the tag is refused. */
	ct[40] ^= 1U;
	CT_TRUE(!crypto_aes256gcm_open(key, iv, aad, sizeof(aad), ct, sizeof(ct), back, tag));
	ct[40] ^= 1U;
	aad[0] ^= 0x80U;
	CT_TRUE(!crypto_aes256gcm_open(key, iv, aad, sizeof(aad), ct, sizeof(ct), back, tag));
	aad[0] ^= 0x80U;
	tag[15] ^= 1U;
	CT_TRUE(!crypto_aes256gcm_open(key, iv, aad, sizeof(aad), ct, sizeof(ct), back, tag));
}

#define SCALAR_A                                                                                   \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567" \
	"89abcdef"
#define SCALAR_B                                                                                   \
	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210fedcba98" \
	"76543210"
#define PUB_A                                                                                      \
	"045c86a47f40f6edcd68ca1e3d112522dc8ac91ce4c10b743ad3e8e2538f30be488d50037a01b940ddc6df8d" \
	"7465a"                                                                                    \
	"e1626789e5cd6244c79a83bb7d3a3e7138eb9d1f216aafd215b9debc8950d86cc401a11ebc929d03e3aae321" \
	"f3756"                                                                                    \
	"08aa3143"
#define PUB_B                                                                                      \
	"048b40a2bbce88083e8b8f35219c6b5e35782995ea3fa4ce48b6c7bb0ce65b808dc74a24531e60e080c95c33" \
	"21ba2"                                                                                    \
	"228a1e5aedeb6d5234e00d257a4f6cb95a47feade17e88ad881c35c65a1b83af5d3c14f973699132a58b6f50" \
	"0940"                                                                                     \
	"5f96fc7fc"
#define ECDH_AB                                                                                    \
	"e72bae28e29aaba0785f13aac57c73c6547c014f121927b1e54b5fb22ab0234f944459054f9ab1e68a446106" \
	"d98e"                                                                                     \
	"af7f"
/* SHA-384("donjon") and an ECDSA signature of it under SCALAR_A (r || s). */
#define DIGEST                                                                                     \
	"72dba3f9a658a3dc559c9df825e231fde64dcb0d7d6552e71cf22e08e7fdb336d942750939abef02fbdeeb3f" \
	"365c"                                                                                     \
	"13bd"
#define SIG_A                                                                                      \
	"20ee55b570bdf483189f326c3162013333ea5d2537c7b722e0e15c1789215aaa56d28484c67fdc1a3e6a689f" \
	"6f28"                                                                                     \
	"6b5c1c3faeb6eb05a687861e5fc3bf41b903130cb4de6ca398ed81dad49444ae688ddcac0013cd57d5789e6d" \
	"a4f3"                                                                                     \
	"f0f987c6"
/* The order n of P-384. */
#define ORDER                                                                                      \
	"ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196a" \
	"ccc5"                                                                                     \
	"2973"

static void p384_keys_and_ecdh(void)
{
	uint8_t a[48], b[48], pa[97], pb[97], pub[97], shared[48];
	uint8_t zero[48] = { 0 }, order[48];

	unhex(SCALAR_A, a);
	unhex(SCALAR_B, b);
	unhex(PUB_A, pa);
	unhex(PUB_B, pb);
	unhex(ORDER, order);
	CT_TRUE(crypto_p384_public(a, pub) && same(pub, PUB_A, sizeof(pub)));
	CT_TRUE(crypto_p384_public(b, pub) && same(pub, PUB_B, sizeof(pub)));
	/* 0 and n are not private keys. */
	CT_TRUE(!crypto_p384_public(zero, pub) && !crypto_p384_public(order, pub));
	CT_TRUE(crypto_ecdh_p384(a, pb, shared) && same(shared, ECDH_AB, sizeof(shared)));
	CT_TRUE(crypto_ecdh_p384(b, pa, shared) && same(shared, ECDH_AB, sizeof(shared)));
	/* A point off the curve is refused. */
	pb[96] ^= 1U;
	CT_TRUE(!crypto_ecdh_p384(a, pb, shared));
}

static void ecdsa(void)
{
	uint8_t a[48], pa[97], digest[48], sig[96];

	unhex(SCALAR_A, a);
	unhex(PUB_A, pa);
	unhex(DIGEST, digest);
	unhex(SIG_A, sig);
	CT_TRUE(crypto_ecdsa_p384_verify(pa, digest, sig));
	digest[0] ^= 1U;
	CT_TRUE(!crypto_ecdsa_p384_verify(pa, digest, sig));
	digest[0] ^= 1U;
	sig[95] ^= 1U;
	CT_TRUE(!crypto_ecdsa_p384_verify(pa, digest, sig));
	/* A signature this library makes verifies (its nonce is its own: random or RFC 6979). */
	CT_TRUE(crypto_ecdsa_p384_sign(a, digest, sig) &&
		crypto_ecdsa_p384_verify(pa, digest, sig));
}

static void random_and_keygen(void)
{
	uint8_t r1[32] = { 0 }, r2[32] = { 0 }, priv[48], pub[97], derived[97];
	bool differ = false;

	CT_TRUE(crypto_random(r1, sizeof(r1)) && crypto_random(r2, sizeof(r2)));
	for (unsigned i = 0; i < sizeof(r1); i++) {
		differ = differ || r1[i] != r2[i];
	}
	CT_TRUE(differ);
	CT_TRUE(crypto_p384_keygen(priv, pub) && crypto_p384_public(priv, derived));
	CT_TRUE(same(pub, "04", 1));
	for (unsigned i = 0; i < sizeof(pub); i++) {
		CT_EQ(pub[i], derived[i]);
	}
}

const struct core_test crypto_tests[] = {
	{ "sha2", sha2 },	    { "hmac_and_hkdf", hmac_and_hkdf },
	{ "aes256gcm", aes256gcm }, { "p384_keys_and_ecdh", p384_keys_and_ecdh },
	{ "ecdsa", ecdsa },	    { "random_and_keygen", random_and_keygen },
};
const unsigned crypto_test_count = sizeof(crypto_tests) / sizeof(crypto_tests[0]);
