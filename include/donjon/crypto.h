/* The crypto core/ uses, from a well-kept library: OpenSSL in hosted builds
 * (platform/sim/crypto_openssl.c). The kernel has no implementation yet (a Debian-packaged
 * library built for it, see the architecture page), so core/attest is not in the kernel. */
#ifndef DONJON_CRYPTO_H
#define DONJON_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_GCM_IV_SIZE 12U
#define CRYPTO_GCM_TAG_SIZE 16U

/* AES-256-GCM. seal: out = E(in), tag computed; open: false unless the tag verifies (out
 * is then not to be used). len may be 0. */
bool crypto_aes256gcm_seal(const uint8_t key[32], const uint8_t iv[CRYPTO_GCM_IV_SIZE],
			   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			   uint8_t *out, uint8_t tag[CRYPTO_GCM_TAG_SIZE]);
bool crypto_aes256gcm_open(const uint8_t key[32], const uint8_t iv[CRYPTO_GCM_IV_SIZE],
			   const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			   uint8_t *out, const uint8_t tag[CRYPTO_GCM_TAG_SIZE]);

/* Wipe a buffer holding key material (not optimised away). */
void crypto_wipe(void *buf, size_t len);

#endif
