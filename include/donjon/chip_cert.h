/* A chip key's endorsement, the simulated machine's stand-in for AMD's VCEK certificate
 * chain: the manufacturer's root key (plat_chip_root) signs, with ECDSA P-384,
 *   SHA-384("donjon model chip endorsement v1" || CHIP_ID (64 bytes) || chip public key)
 * where the public key is an uncompressed P-384 point (97 bytes). The host hands it on
 * with a report, as it would a VCEK certificate. */
#ifndef DONJON_CHIP_CERT_H
#define DONJON_CHIP_CERT_H

#include <donjon/crypto.h>

#define CHIP_ID_SIZE 64U

static inline bool chip_endorsement_digest(const uint8_t chip_id[CHIP_ID_SIZE],
					   const uint8_t chip_pub[CRYPTO_P384_POINT_SIZE],
					   uint8_t digest[CRYPTO_SHA384_SIZE])
{
	const struct crypto_span parts[] = {
		{ "donjon model chip endorsement v1", 32 },
		{ chip_id, CHIP_ID_SIZE },
		{ chip_pub, CRYPTO_P384_POINT_SIZE },
	};

	return crypto_sha384(parts, 3, digest);
}

#endif
