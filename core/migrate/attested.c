/* The attested handshake (attested.h). */
#include <donjon/bytes.h>
#include <donjon/chip_cert.h>
#include <donjon/platform.h>
#include <donjon/snp.h>

#include "attest/attest.h"
#include "migrate/attested.h"
#include "migrate/keys.h"
#include "migrate/policy.h"

static struct {
	bool live;
	uint8_t priv[CRYPTO_P384_SCALAR_SIZE];
	uint8_t pub[CRYPTO_P384_POINT_SIZE];
	uint8_t nonce[MIG_NONCE_SIZE];
	uint8_t measurement[SNP_DIGEST_SIZE]; /* this SVSM's launch digest, from its report */
} eph;

void mig_attest_forget(void)
{
	crypto_wipe(&eph, sizeof(eph));
}

/* SHA-512("donjon-migrate v1 hello" || the hello's first MIG_HELLO_BOUND bytes). */
static bool hello_binding(const uint8_t *hello, uint8_t out[CRYPTO_SHA512_SIZE])
{
	const struct crypto_span parts[] = {
		{ "donjon-migrate v1 hello", 23 },
		{ hello, MIG_HELLO_BOUND },
	};

	return crypto_sha512(parts, 2, out);
}

const char *mig_attest_hello(uint8_t hello[MIG_HELLO_SIZE])
{
	uint8_t data[CRYPTO_SHA512_SIZE];
	uint8_t report[SNP_REPORT_SIZE];
	uint32_t fw = 0;

	mig_attest_forget();
	if (!crypto_p384_keygen(eph.priv, eph.pub)) {
		return "no ephemeral key";
	}
	__builtin_memcpy(hello + MIG_HELLO_PUB, eph.pub, CRYPTO_P384_POINT_SIZE);
	if (!hello_binding(hello, data) ||
	    attest_report_locked(data, report, &fw) != SVSM_REPORT_OK) {
		mig_attest_forget();
		return "the PSP gave this SVSM no report";
	}
	__builtin_memcpy(hello + MIG_HELLO_REPORT, report, SNP_REPORT_SIZE);
	__builtin_memcpy(eph.nonce, hello + 16, MIG_NONCE_SIZE);
	__builtin_memcpy(eph.measurement, report + SNP_REPORT_MEASUREMENT_OFF, SNP_DIGEST_SIZE);
	eph.live = true;
	return NULL;
}

/* The report's signature (R and S little-endian in 72-byte fields) under chip_pub. */
static bool report_signed(const uint8_t *report, const uint8_t chip_pub[CRYPTO_P384_POINT_SIZE])
{
	struct crypto_span signed_part = { report, SNP_REPORT_SIGNED_SIZE };
	uint8_t digest[CRYPTO_SHA384_SIZE];
	uint8_t sig[CRYPTO_P384_SIG_SIZE];

	for (unsigned i = CRYPTO_P384_SCALAR_SIZE; i < SNP_REPORT_SIG_COMPONENT; i++) {
		if (report[SNP_REPORT_SIG_R_OFF + i] != 0U ||
		    report[SNP_REPORT_SIG_S_OFF + i] != 0U) {
			return false;
		}
	}
	for (unsigned i = 0; i < CRYPTO_P384_SCALAR_SIZE; i++) {
		sig[CRYPTO_P384_SCALAR_SIZE - 1U - i] = report[SNP_REPORT_SIG_R_OFF + i];
		sig[CRYPTO_P384_SIG_SIZE - 1U - i] = report[SNP_REPORT_SIG_S_OFF + i];
	}
	return crypto_sha384(&signed_part, 1, digest) &&
	       crypto_ecdsa_p384_verify(chip_pub, digest, sig);
}

/* Why the peer's hello does not prove an SVSM on an endorsed chip sent it, or NULL. */
static const char *peer_evidence(const uint8_t *peer)
{
	const uint8_t *report = peer + MIG_HELLO_REPORT;
	const uint8_t *chip_id = peer + MIG_HELLO_CHIP_ID;
	const uint8_t *chip_pub = peer + MIG_HELLO_CHIP_PUB;
	uint8_t root[CRYPTO_P384_POINT_SIZE];
	uint8_t digest[CRYPTO_SHA384_SIZE];
	uint8_t binding[CRYPTO_SHA512_SIZE];

	if (!plat_chip_root(root) || !chip_endorsement_digest(chip_id, chip_pub, digest) ||
	    !crypto_ecdsa_p384_verify(root, digest, peer + MIG_HELLO_ENDORSEMENT)) {
		return "the peer's chip key is not endorsed by the manufacturer's root";
	}
	if (__builtin_memcmp(report + SNP_REPORT_CHIP_ID_OFF, chip_id, CHIP_ID_SIZE) != 0) {
		return "the peer's report names another chip";
	}
	if (!report_signed(report, chip_pub)) {
		return "the peer's report is not signed by its chip";
	}
	if (load32(report, SNP_REPORT_VMPL_OFF) != 0U) {
		return "the peer's report is not an SVSM's (VMPL0)";
	}
	if (!hello_binding(peer, binding) ||
	    __builtin_memcmp(report + SNP_REPORT_DATA_OFF, binding, sizeof(binding)) != 0) {
		return "the peer's report does not bind its hello";
	}
	return NULL;
}

const char *mig_attest_peer(const uint8_t peer[MIG_HELLO_SIZE], bool source,
			    const struct launch_migrate_policy *policy,
			    uint8_t secret[CRYPTO_P384_SCALAR_SIZE],
			    uint8_t transcript[CRYPTO_SHA384_SIZE])
{
	const char *why = eph.live ? peer_evidence(peer) : "no hello of this SVSM's";

	if (why == NULL) {
		why = mig_policy_refuses_peer(policy, eph.measurement, peer + MIG_HELLO_REPORT);
	}
	const uint8_t *peer_pub = peer + MIG_HELLO_PUB;

	if (why == NULL &&
	    (!crypto_ecdh_p384(eph.priv, peer_pub, secret) ||
	     !mig_transcript(source ? eph.pub : peer_pub, source ? peer_pub : eph.pub,
			     source ? eph.nonce : peer + 16, source ? peer + 16 : eph.nonce,
			     transcript))) {
		why = "the peer's ephemeral key is not a P-384 point";
	}
	mig_attest_forget();
	return why;
}
