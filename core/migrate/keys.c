/* The migration session's key schedule (keys.h). */
#include "migrate/keys.h"

#define KEYS_LABEL "donjon-migrate v1 keys"
#define TRANSCRIPT_LABEL "donjon-migrate v1 transcript"
#define MIN_SECRET 32U

bool mig_transcript(const uint8_t src_pub[CRYPTO_P384_POINT_SIZE],
		    const uint8_t dst_pub[CRYPTO_P384_POINT_SIZE],
		    const uint8_t src_nonce[MIG_NONCE_SIZE],
		    const uint8_t dst_nonce[MIG_NONCE_SIZE], uint8_t out[CRYPTO_SHA384_SIZE])
{
	const struct crypto_span parts[] = {
		{ TRANSCRIPT_LABEL, sizeof(TRANSCRIPT_LABEL) - 1U },
		{ src_pub, CRYPTO_P384_POINT_SIZE },
		{ dst_pub, CRYPTO_P384_POINT_SIZE },
		{ src_nonce, MIG_NONCE_SIZE },
		{ dst_nonce, MIG_NONCE_SIZE },
	};

	return crypto_sha384(parts, sizeof(parts) / sizeof(parts[0]), out);
}

bool mig_keys_derive(const uint8_t *secret, size_t secret_len,
		     const uint8_t src_nonce[MIG_NONCE_SIZE],
		     const uint8_t dst_nonce[MIG_NONCE_SIZE],
		     const uint8_t transcript[CRYPTO_SHA384_SIZE], uint8_t platform,
		     struct mig_keys *s2d, struct mig_keys *d2s)
{
	uint8_t salt[2U * MIG_NONCE_SIZE];
	uint8_t info[sizeof(KEYS_LABEL) - 1U + CRYPTO_SHA384_SIZE];
	uint8_t okm[32U + 32U + MIG_SESSION_SIZE];
	bool ok = false;

	*s2d = (struct mig_keys){ 0 };
	*d2s = (struct mig_keys){ 0 };
	if (secret_len < MIN_SECRET) {
		return false;
	}
	__builtin_memcpy(salt, src_nonce, MIG_NONCE_SIZE);
	__builtin_memcpy(salt + MIG_NONCE_SIZE, dst_nonce, MIG_NONCE_SIZE);
	__builtin_memcpy(info, KEYS_LABEL, sizeof(KEYS_LABEL) - 1U);
	__builtin_memcpy(info + sizeof(KEYS_LABEL) - 1U, transcript, CRYPTO_SHA384_SIZE);
	if (crypto_hkdf_sha384(secret, secret_len, salt, sizeof(salt), info, sizeof(info), okm,
			       sizeof(okm))) {
		__builtin_memcpy(s2d->key, okm, 32);
		__builtin_memcpy(d2s->key, okm + 32, 32);
		__builtin_memcpy(s2d->session, okm + 64, MIG_SESSION_SIZE);
		__builtin_memcpy(d2s->session, okm + 64, MIG_SESSION_SIZE);
		s2d->stream = MIG_STREAM_S2D;
		d2s->stream = MIG_STREAM_D2S;
		s2d->platform = platform;
		d2s->platform = platform;
		ok = true;
	}
	crypto_wipe(okm, sizeof(okm));
	return ok;
}
