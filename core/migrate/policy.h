/* The guest's migration policy (include/donjon/launch.h), fixed at launch: what it allows,
 * checked before a session begins, apart from the engine (which knows no policy) and from
 * how keys are agreed (keys.h). */
#ifndef CORE_MIGRATE_POLICY_H
#define CORE_MIGRATE_POLICY_H

#include <donjon/crypto.h>
#include <donjon/launch.h>

#define MIG_POLICY_DIGEST_SIZE CRYPTO_SHA384_SIZE

/* Why policy refuses that this SVSM takes role (MIG_ROLE_*) in a session keyed by the
 * pre-shared test key, or NULL if it allows it. */
const char *mig_policy_refuses_test_session(const struct launch_migrate_policy *p, uint32_t role);

/* SHA-384 over the policy's fields, little-endian in their launch.h order: what a hello
 * carries so that both sides see that the guest keeps its policy across the move. */
bool mig_policy_digest(const struct launch_migrate_policy *p, uint8_t out[MIG_POLICY_DIGEST_SIZE]);

#endif
