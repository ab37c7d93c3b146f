/* Stage 3 of live migration: the session's secret agreed by ECDH P-384 between the two
 * SVSMs, each side's ephemeral public key bound to its SNP attestation report (at VMPL0,
 * signed by its chip, whose key the manufacturer's root endorses), and the peer's report
 * checked against the launch policy. The engine never sees any of it: host.c turns the
 * secret into keys (keys.h). Callers hold the core lock. */
#ifndef CORE_MIGRATE_ATTESTED_H
#define CORE_MIGRATE_ATTESTED_H

#include <donjon/crypto.h>
#include <donjon/launch.h>
#include <donjon/migrate_host.h>

/* hello holds bytes 0-103 (magic to mode); write a fresh ephemeral public key and this
 * SVSM's report binding bytes 0-207. NULL, or why not. */
const char *mig_attest_hello(uint8_t hello[MIG_HELLO_SIZE]);

/* The peer's hello (a copy): its chip key's endorsement, its report's signature, chip,
 * VMPL and REPORT_DATA, then the policy's verdict on it; on success the ECDH secret and
 * the transcript of both hellos' keys and nonces. The ephemeral key is wiped either way.
 * NULL, or why the peer is refused. */
const char *mig_attest_peer(const uint8_t peer[MIG_HELLO_SIZE], bool source,
			    const struct launch_migrate_policy *policy,
			    uint8_t secret[CRYPTO_P384_SCALAR_SIZE],
			    uint8_t transcript[CRYPTO_SHA384_SIZE]);

/* Wipe the ephemeral key (a session that ends before PEER). */
void mig_attest_forget(void);

#endif
