/* The migration policy's checks (policy.h). */
#include <donjon/bytes.h>
#include <donjon/migrate_host.h>

#include "migrate/policy.h"

const char *mig_policy_refuses_test_session(const struct launch_migrate_policy *p, uint32_t role)
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
	if ((p->flags & LAUNCH_MIGRATE_TEST_KEY) == 0U) {
		return "the launch policy does not allow the pre-shared test key";
	}
	/* The test key proves nothing about the peer: no launch digest, no TCB. */
	if ((p->flags & LAUNCH_MIGRATE_SAME_MEASUREMENT) != 0U || p->measurement_count != 0U ||
	    p->min_tcb != 0U) {
		return "the launch policy names the peer's measurement or TCB, which a test-key "
		       "session cannot attest";
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
