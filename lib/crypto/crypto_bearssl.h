/* The BearSSL implementation of include/donjon/crypto.h (the kernel's). */
#ifndef LIB_CRYPTO_CRYPTO_BEARSSL_H
#define LIB_CRYPTO_CRYPTO_BEARSSL_H

#include <stdint.h>

/* Once, before any crypto call, with ECX of CPUID leaf 1 as the kernel found it. BearSSL's
 * AES-NI code also uses SSE4.1 (PINSRD) and its PCLMULQDQ GHASH also SSSE3 (PSHUFB): each is
 * used only with both features, else the constant-time portable code (ct64, ctmul64). */
void crypto_bearssl_init(uint32_t cpuid1_ecx);

#endif
