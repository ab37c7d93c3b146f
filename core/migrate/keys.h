/* The key schedule of a migration session, apart from the engine (stream.h takes its
 * keys from here and knows nothing of how they were agreed). Both SVSMs derive the same
 * keys from a shared secret, both sides' nonces and the handshake transcript:
 *   HKDF-SHA-384(secret, salt = source nonce || destination nonce,
 *                info = "donjon-migrate v1 keys" || transcript)
 * gives 32 bytes of source-to-destination key, 32 of destination-to-source key and the
 * 16-byte session identifier every record carries. The secret is either a pre-shared test
 * key (stage 1; a launch policy must allow it) or the ECDH P-384 secret of the two SVSMs'
 * ephemeral keys (stage 3, whose transcript the attestation reports then bind). */
#ifndef CORE_MIGRATE_KEYS_H
#define CORE_MIGRATE_KEYS_H

#include "migrate/stream.h"

#define MIG_NONCE_SIZE 32U
#define MIG_STREAM_S2D 1U /* the stream numbers of the two directions */
#define MIG_STREAM_D2S 2U

/* The transcript of an ECDH handshake: SHA-384("donjon-migrate v1 transcript" || source
 * public key || destination public key || source nonce || destination nonce). */
bool mig_transcript(const uint8_t src_pub[CRYPTO_P384_POINT_SIZE],
		    const uint8_t dst_pub[CRYPTO_P384_POINT_SIZE],
		    const uint8_t src_nonce[MIG_NONCE_SIZE],
		    const uint8_t dst_nonce[MIG_NONCE_SIZE], uint8_t out[CRYPTO_SHA384_SIZE]);

/* Both directions' keys from secret (at least 32 bytes), for streams sent from platform
 * (MIG_PLATFORM_*). False, with *s2d and *d2s zeroed, if the secret is too short or the
 * derivation fails. The caller wipes the secret. */
bool mig_keys_derive(const uint8_t *secret, size_t secret_len,
		     const uint8_t src_nonce[MIG_NONCE_SIZE],
		     const uint8_t dst_nonce[MIG_NONCE_SIZE],
		     const uint8_t transcript[CRYPTO_SHA384_SIZE], uint8_t platform,
		     struct mig_keys *s2d, struct mig_keys *d2s);

#endif
