/* The BearSSL implementation of include/donjon/crypto.h (the kernel's). */
#ifndef LIB_CRYPTO_CRYPTO_BEARSSL_H
#define LIB_CRYPTO_CRYPTO_BEARSSL_H

#include <stdbool.h>

/* Once, before any crypto call, with the CPU features the kernel found: AES-NI, PCLMULQDQ.
 * Without them the constant-time portable code (ct64) is used. */
void crypto_bearssl_init(bool aes_ni, bool pclmul);

#endif
