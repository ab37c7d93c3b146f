/* What the crypto library (BearSSL, as in Donjon's kernel) needs of the test guest: entropy
 * from RDRAND, FPU sections (nothing to do: the guest owns its registers), and the
 * hardened-libc symbols Debian's libbearssl.a was built against. Its stack-protector
 * canary lives in guest_tcb, which guest_tables_load makes FS point at. */
#include <donjon/crypto.h>

#include "arch/x86/cpu.h"
#include "console.h"
#include "guest.h"

struct guest_tcb guest_tcb = { .canary = 0x6E6F6A6E6F64AA00ULL };

bool crypto_entropy(void *buf, size_t len)
{
	uint8_t *out = buf;

	for (size_t done = 0; done < len;) {
		uint64_t v = 0;
		uint8_t ok = 0;
		size_t n = len - done < sizeof(v) ? len - done : sizeof(v);

		for (unsigned tries = 0; tries < 100U; tries++) {
			__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
			if (ok != 0U) {
				break;
			}
		}
		if (ok == 0U) {
			return false;
		}
		__builtin_memcpy(out + done, &v, n);
		done += n;
	}
	return true;
}

void crypto_fpu_begin(void)
{
}

void crypto_fpu_end(void)
{
}

void __stack_chk_fail(void);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len);
void *__memset_chk(void *dst, int c, size_t n, size_t dst_len);

__attribute__((noreturn)) static void hardening_failed(const char *what)
{
	kprintf("FAIL guest/%s", what);
	outl(DEBUG_EXIT_PORT, 0x11U);
	for (;;) {
		__asm__ volatile("hlt");
	}
}

void __stack_chk_fail(void)
{
	hardening_failed("stack-protector");
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len)
{
	if (n > dst_len) {
		hardening_failed("memcpy-past-its-destination");
	}
	return __builtin_memcpy(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dst_len)
{
	if (n > dst_len) {
		hardening_failed("memset-past-its-destination");
	}
	return __builtin_memset(dst, c, n);
}
