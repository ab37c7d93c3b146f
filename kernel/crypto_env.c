/* What the crypto library needs of the kernel: entropy, FPU sections around its calls,
 * and the hardened-libc symbols Debian's libbearssl.a was built against (it uses
 * -fstack-protector-strong and _FORTIFY_SOURCE). */
#include <donjon/crypto.h>

#include "arch/x86/cpu.h"
#include "console.h"
#include "crypto_bearssl.h"
#include "fpu.h"
#include "kernel.h"

#define CPUID1_ECX_RDRAND (1U << 30)
#define CPUID7_EBX_RDSEED (1U << 18)
#define HW_RANDOM_TRIES 128U

static bool has_rdseed;
static bool has_rdrand;

void crypto_env_init(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	has_rdrand = (r[2] & CPUID1_ECX_RDRAND) != 0U;
	crypto_bearssl_init(r[2]);
	cpuid(7, 0, r);
	has_rdseed = (r[1] & CPUID7_EBX_RDSEED) != 0U;
}

/* One 64-bit word from RDSEED (true entropy) where the CPU has it, else from RDRAND (a
 * DRBG the CPU reseeds itself); both may fail for a while, so each is retried. */
static bool hw_random64(uint64_t *out)
{
	for (unsigned i = 0; i < HW_RANDOM_TRIES; i++) {
		uint8_t ok = 0;

		if (has_rdseed) {
			__asm__ volatile("rdseed %0; setc %1" : "=r"(*out), "=qm"(ok));
		} else if (has_rdrand) {
			__asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
		} else {
			return false;
		}
		if (ok != 0U) {
			return true;
		}
		__builtin_ia32_pause();
	}
	return false;
}

bool crypto_entropy(void *buf, size_t len)
{
	uint8_t *out = buf;

	for (size_t done = 0; done < len;) {
		uint64_t v = 0;
		size_t n = len - done < sizeof(v) ? len - done : sizeof(v);

		if (!hw_random64(&v)) {
			return false;
		}
		__builtin_memcpy(out + done, &v, n);
		done += n;
	}
	return true;
}

void crypto_fpu_begin(void)
{
	fpu_section_begin();
}

void crypto_fpu_end(void)
{
	fpu_section_end();
}

/* The symbols glibc's hardening expects. A failed check stops the machine: something
 * overwrote a stack frame or a buffer bound. */
void __stack_chk_fail(void);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len);
void *__memset_chk(void *dst, int c, size_t n, size_t dst_len);

__attribute__((noreturn)) static void hardening_failed(const char *what)
{
	log_msg(LOG_ERR, "%s: stopping", what);
	kernel_exit(false);
}

void __stack_chk_fail(void)
{
	hardening_failed("stack protector: a stack frame was overwritten");
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len)
{
	if (n > dst_len) {
		hardening_failed("memcpy past the end of its destination");
	}
	return __builtin_memcpy(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dst_len)
{
	if (n > dst_len) {
		hardening_failed("memset past the end of its destination");
	}
	return __builtin_memset(dst, c, n);
}
