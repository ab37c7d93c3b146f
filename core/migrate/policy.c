/* The migration policy's checks (policy.h). */
#include <donjon/bytes.h>
#include <donjon/migrate_host.h>

#include "migrate/policy.h"

static bool names_peers(const struct launch_migrate_policy *p)
{
	return (p->flags & LAUNCH_MIGRATE_SAME_MEASUREMENT) != 0U || p->measurement_count != 0U;
}

const char *mig_policy_refuses(const struct launch_migrate_policy *p, uint32_t role, uint32_t mode)
{
	if ((p->flags & ~LAUNCH_MIGRATE_FLAGS_KNOWN) != 0U ||
	    p->measurement_count > LAUNCH_MIGRATE_MEASUREMENTS) {
		return "the launch policy is malformed";
	}
	if (role == MIG_ROLE_SOURCE && (p->flags & LAUNCH_MIGRATE_OUT) == 0U) {
		return "the launch policy does not let the guest migrate out";
	}
	if (role == MIG_ROLE_DEST && (p->flags & LAUNCH_MIGRATE_IN) == 0U) {
		return "the launch policy does not let a guest migrate in";
	}
	if (mode == MIG_MODE_ATTESTED) {
		return names_peers(p) ? NULL
				      : "the launch policy names no peer measurement to accept";
	}
	if (mode != MIG_MODE_TEST_KEY) {
		return "no such session mode";
	}
	if ((p->flags & LAUNCH_MIGRATE_TEST_KEY) == 0U) {
		return "the launch policy does not allow the pre-shared test key";
	}
	/* The test key proves nothing about the peer: no launch digest, no TCB. */
	if (names_peers(p) || p->min_tcb != 0U) {
		return "the launch policy names the peer's measurement or TCB, which a test-key "
		       "session cannot attest";
	}
	return NULL;
}

/* Every byte of the TCB version (boot loader, TEE, reserved, SNP, microcode SVNs) at
 * least the policy's. */
static bool tcb_at_least(uint64_t tcb, uint64_t min)
{
	for (unsigned i = 0; i < 8U; i++) {
		if (((tcb >> (8U * i)) & 0xFFU) < ((min >> (8U * i)) & 0xFFU)) {
			return false;
		}
	}
	return true;
}

const char *mig_policy_refuses_peer(const struct launch_migrate_policy *p,
				    const uint8_t own_measurement[SNP_DIGEST_SIZE],
				    const uint8_t peer_report[SNP_REPORT_SIZE])
{
	const uint8_t *m = peer_report + SNP_REPORT_MEASUREMENT_OFF;
	bool allowed = (p->flags & LAUNCH_MIGRATE_SAME_MEASUREMENT) != 0U &&
		       __builtin_memcmp(m, own_measurement, SNP_DIGEST_SIZE) == 0;

	for (uint32_t i = 0; i < p->measurement_count && i < LAUNCH_MIGRATE_MEASUREMENTS; i++) {
		allowed = allowed || __builtin_memcmp(m, p->measurements[i], SNP_DIGEST_SIZE) == 0;
	}
	if (!allowed) {
		return "the peer's launch digest is not one the launch policy accepts";
	}
	if (!tcb_at_least(load64(peer_report, SNP_REPORT_REPORTED_TCB_OFF), p->min_tcb)) {
		return "the peer's reported TCB is below the launch policy's";
	}
	return NULL;
}

bool mig_policy_digest(const struct launch_migrate_policy *p, uint8_t out[MIG_POLICY_DIGEST_SIZE])
{
	uint8_t fixed[16];
	const struct crypto_span parts[] = {
		{ "donjon-migrate v1 policy", 24 },
		{ fixed, sizeof(fixed) },
		{ p->measurements, sizeof(p->measurements) },
	};

	store32(fixed, 0, p->flags);
	store32(fixed, 4, p->measurement_count);
	store64(fixed, 8, p->min_tcb);
	return crypto_sha384(parts, 3, out);
}
