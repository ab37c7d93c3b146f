/* The guest's migration policy (include/donjon/launch.h), fixed at launch: what it allows,
 * checked before a session begins, apart from the engine (which knows no policy) and from
 * how keys are agreed (keys.h, attested.h). */
#ifndef CORE_MIGRATE_POLICY_H
#define CORE_MIGRATE_POLICY_H

#include <donjon/crypto.h>
#include <donjon/launch.h>
#include <donjon/snp.h>

#define MIG_POLICY_DIGEST_SIZE CRYPTO_SHA384_SIZE

/* Why policy refuses that this SVSM takes role (MIG_ROLE_*) in a session of mode
 * (MIG_MODE_*), or NULL if it allows it. A test-key session proves nothing about the
 * peer, so a policy naming peer requirements refuses it; an attested one needs the
 * policy to name the peers it accepts. */
const char *mig_policy_refuses(const struct launch_migrate_policy *p, uint32_t role, uint32_t mode);

/* Why policy refuses the peer whose verified report this is (launch digest, TCB), given
 * this SVSM's own launch digest, or NULL if it accepts it. */
const char *mig_policy_refuses_peer(const struct launch_migrate_policy *p,
				    const uint8_t own_measurement[SNP_DIGEST_SIZE],
				    const uint8_t peer_report[SNP_REPORT_SIZE]);

/* SHA-384 over the policy's fields, little-endian in their launch.h order: what a hello
 * carries so that both sides see that the guest keeps its policy across the move. */
bool mig_policy_digest(const struct launch_migrate_policy *p, uint8_t out[MIG_POLICY_DIGEST_SIZE]);

#endif
