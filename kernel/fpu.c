/* x87/SSE/AVX state: scrubbing with XRSTOR (or FXRSTOR) from an image of the init state,
 * XCR0 switched around VMRUN, and FPU sections for the crypto library. */
#include "fpu.h"

#include "arch/x86/cpu.h"
#include "percpu.h"

#define CPUID1_ECX_XSAVE (1U << 26)
#define CR4_OSXSAVE (1ULL << 18)
#define XCR0_X87 (1ULL << 0)
#define XCR0_SSE (1ULL << 1)
#define XCR0_AVX (1ULL << 2)
#define XCR0_BNDREGS (1ULL << 3)
#define XCR0_BNDCSR (1ULL << 4)
#define XCR0_AVX512 (7ULL << 5) /* opmask, ZMM_Hi256, Hi16_ZMM: all or none */
#define FXSAVE_MXCSR_OFF 24U
#define FXSAVE_FCW_OFF 0U
#define MXCSR_INIT 0x1F80U
#define FCW_INIT 0x037FU

/* The init state: FCW and MXCSR at their reset values, every register zero, and an XSAVE
 * header (at 512) whose XSTATE_BV is zero, so that XRSTOR initialises every component.
 * XRSTOR reads MXCSR from here even for components it initialises. 4 KiB holds every
 * component of the CPUs QEMU models. */
static const uint8_t init_image[4096] __attribute__((aligned(64))) = {
	[FXSAVE_FCW_OFF] = (uint8_t)FCW_INIT,
	[FXSAVE_FCW_OFF + 1U] = (uint8_t)(FCW_INIT >> 8),
	[FXSAVE_MXCSR_OFF] = (uint8_t)MXCSR_INIT,
	[FXSAVE_MXCSR_OFF + 1U] = (uint8_t)(MXCSR_INIT >> 8),
};
static bool has_xsave;
static uint64_t host_xcr0;

void fpu_cpu_init(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	has_xsave = (r[2] & CPUID1_ECX_XSAVE) != 0U;
	/* QEMU 7.2 (TCG) takes CR4.OSXSAVE for a reserved bit unless CPUID.(0xD,1).EAX is
	 * non-zero (it tests that word, not CPUID.1:ECX.XSAVE), and a reserved CR4 bit
	 * written outside a guest makes it perform a #VMEXIT onto the host save area. Such a
	 * CPU is treated as one without XSAVE: x87 and SSE state only. */
	cpuid(0xD, 1, r);
	has_xsave = has_xsave && r[0] != 0U;
	if (!has_xsave) {
		return;
	}
	cpuid(0xD, 0, r);
	/* The components XCR0 can enable (EDX:EAX), as long as the init image holds them all
	 * (ECX: the XSAVE area's size with every one enabled). Every CPU computes the same. */
	uint64_t supported = ((uint64_t)r[3] << 32) | r[0];

	host_xcr0 = r[2] <= sizeof(init_image) ? supported
					       : supported & (XCR0_X87 | XCR0_SSE | XCR0_AVX);
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv0(host_xcr0);
}

void fpu_scrub(void)
{
	if (has_xsave) {
		__asm__ volatile("xrstor %0" : : "m"(init_image), "a"(~0U), "d"(~0U) : "memory");
	} else {
		__asm__ volatile("fxrstor %0" : : "m"(init_image) : "memory");
	}
}

bool fpu_has_xsave(void)
{
	return has_xsave;
}

bool fpu_xcr0_valid(uint64_t v)
{
	/* The SDM's XSETBV rules: x87 always on; no component the CPU lacks; AVX needs SSE;
	 * MPX's two components together; AVX-512's three together and with AVX. */
	if ((v & XCR0_X87) == 0U || (v & ~host_xcr0) != 0U ||
	    ((v & XCR0_AVX) != 0U && (v & XCR0_SSE) == 0U) ||
	    ((v & XCR0_BNDREGS) != 0U) != ((v & XCR0_BNDCSR) != 0U)) {
		return false;
	}
	uint64_t avx512 = v & XCR0_AVX512;

	return avx512 == 0U || (avx512 == XCR0_AVX512 && (v & XCR0_AVX) != 0U);
}

void fpu_xcr0_enter(uint64_t guest)
{
	if (has_xsave && guest != host_xcr0) {
		xsetbv0(guest);
	}
}

void fpu_xcr0_leave(uint64_t guest)
{
	if (has_xsave && guest != host_xcr0) {
		xsetbv0(host_xcr0);
	}
}

/* Per CPU: the registers of whatever an FPU section interrupted. 4 KiB holds every
 * component host_xcr0 enables (fpu_cpu_init made sure of it). */
static struct {
	uint8_t area[4096] __attribute__((aligned(64)));
	unsigned depth;
} sections[SMP_MAX_CPUS];

void fpu_section_begin(void)
{
	unsigned cpu = percpu_index();

	if (sections[cpu].depth++ != 0U) {
		return;
	}
	if (has_xsave) {
		__asm__ volatile("xsave64 %0" : "=m"(sections[cpu].area) : "a"(~0U), "d"(~0U));
	} else {
		__asm__ volatile("fxsave64 %0" : "=m"(sections[cpu].area));
	}
}

void fpu_section_end(void)
{
	unsigned cpu = percpu_index();

	if (--sections[cpu].depth != 0U) {
		return;
	}
	if (has_xsave) {
		__asm__ volatile("xrstor64 %0" : : "m"(sections[cpu].area), "a"(~0U), "d"(~0U));
	} else {
		__asm__ volatile("fxrstor64 %0" : : "m"(sections[cpu].area));
	}
}

void fpu_state_save(void *area)
{
	if (has_xsave) {
		__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"(~0U), "d"(~0U) : "memory");
	} else {
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
	}
}

void fpu_state_load(const void *area)
{
	if (has_xsave) {
		__asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"(~0U), "d"(~0U) : "memory");
	} else {
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
	}
}
