/* What crypto.h offers on top of either back end (crypto_openssl.c, crypto_bearssl.c). */
#include <donjon/crypto.h>

bool crypto_p384_keygen(uint8_t priv[CRYPTO_P384_SCALAR_SIZE], uint8_t pub[CRYPTO_P384_POINT_SIZE])
{
	/* A uniform scalar in [1, n-1]: draw until one falls in range (n is close to 2^384). */
	for (unsigned tries = 0; tries < 64; tries++) {
		if (!crypto_random(priv, CRYPTO_P384_SCALAR_SIZE)) {
			break;
		}
		if (crypto_p384_public(priv, pub)) {
			return true;
		}
	}
	crypto_wipe(priv, CRYPTO_P384_SCALAR_SIZE);
	return false;
}
