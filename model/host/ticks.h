/* Conversions between TSC cycles and the ticks of a slower clock (the APIC bus, the PIT, the
 * ACPI PM timer), exact and in 64-bit integers: a 128-bit division would need libgcc's
 * __udivti3, which the kernel does not link. */
#ifndef MODEL_HOST_TICKS_H
#define MODEL_HOST_TICKS_H

#include <stdbool.h>
#include <stdint.h>

/* The TSC frequencies the models accept. Together with TICKS_HZ_MAX they keep every partial
 * product below 2^64: r * hz < TSC_HZ_MAX * TICKS_HZ_MAX = 2^64. */
#define TSC_HZ_MIN 1000000ULL	  /* 1 MHz */
#define TSC_HZ_MAX (1ULL << 34)	  /* about 17.2 GHz */
#define TICKS_HZ_MAX (1ULL << 30) /* the fastest clock converted (the 1 GHz APIC bus) */

static inline bool ticks_tsc_hz_ok(uint64_t tsc_hz)
{
	return tsc_hz >= TSC_HZ_MIN && tsc_hz <= TSC_HZ_MAX;
}

/* How many ticks of a clock at hz have passed delta TSC cycles after its tick 0:
 * floor(delta * hz / tsc_hz), modulo 2^64. Splitting delta = q * tsc_hz + r makes it
 * q * hz + floor(r * hz / tsc_hz) exactly. tsc_hz passed ticks_tsc_hz_ok, hz <= TICKS_HZ_MAX. */
static inline uint64_t ticks_of_tsc(uint64_t delta, uint64_t tsc_hz, uint64_t hz)
{
	uint64_t q = delta / tsc_hz;
	uint64_t r = delta % tsc_hz;

	return q * hz + r * hz / tsc_hz;
}

/* The first TSC delta at which ticks_of_tsc() reaches ticks: ceil(ticks * tsc_hz / hz), or
 * UINT64_MAX when that is beyond 2^64 (never, for a deadline). Same split as above. */
static inline uint64_t tsc_of_ticks(uint64_t ticks, uint64_t tsc_hz, uint64_t hz)
{
	uint64_t q = ticks / hz;
	uint64_t r = ticks % hz;
	uint64_t part = r * tsc_hz / hz + (r * tsc_hz % hz != 0U ? 1U : 0U);
	uint64_t whole = 0;

	if (__builtin_mul_overflow(q, tsc_hz, &whole) ||
	    __builtin_add_overflow(whole, part, &whole)) {
		return UINT64_MAX;
	}
	return whole;
}

#endif
