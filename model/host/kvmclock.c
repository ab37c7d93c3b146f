/* The KVM paravirtual clock records (kvmclock.h). */
#include "kvmclock.h"

#include "ticks.h"

#define NS_PER_S 1000000000ULL

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8U * i));
	}
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++) {
		v |= (uint64_t)p[i] << (8U * i);
	}
	return v;
}

bool kvmclock_time(uint8_t out[KVMCLOCK_TIME_SIZE], uint64_t tsc_hz, uint64_t tsc_ref)
{
	unsigned shift = 0;

	if (!ticks_tsc_hz_ok(tsc_hz)) {
		return false;
	}
	/* ns = ((delta << shift) * mul) >> 32: mul = 10^9 * 2^32 / (tsc_hz << shift) with the
	 * smallest shift that makes tsc_hz << shift exceed 10^9, so mul < 2^32 (and
	 * 10^9 * 2^32 < 2^62). */
	while ((tsc_hz << shift) <= NS_PER_S) {
		shift++;
	}
	uint64_t mul = (NS_PER_S << 32) / (tsc_hz << shift);
	for (unsigned i = 0; i < KVMCLOCK_TIME_SIZE; i++) {
		out[i] = 0;
	}
	put32(out + 0, 2);
	put64(out + 8, tsc_ref);
	put64(out + 16, 0);
	put32(out + 24, (uint32_t)mul);
	out[28] = (uint8_t)shift;
	out[29] = PVCLOCK_TSC_STABLE_BIT;
	return true;
}

void kvmclock_wall(uint8_t out[KVMCLOCK_WALL_SIZE], uint64_t epoch_seconds)
{
	put32(out + 0, 2);
	put32(out + 4, (uint32_t)epoch_seconds);
	put32(out + 8, 0);
}

uint64_t kvmclock_ns(const uint8_t rec[KVMCLOCK_TIME_SIZE], uint64_t tsc)
{
	uint64_t ref = get64(rec + 8);
	uint64_t delta = tsc > ref ? tsc - ref : 0U;
	uint32_t mul = (uint32_t)get64(rec + 24);
	int8_t shift = (int8_t)rec[28];

	delta = shift >= 0 ? delta << shift : delta >> -shift;
	/* (delta * mul) >> 32 without a 128-bit product: split delta into 32-bit halves. */
	uint64_t hi = (delta >> 32) * mul;
	uint64_t lo = ((delta & 0xFFFFFFFFULL) * mul) >> 32;

	return get64(rec + 16) + hi + lo;
}

uint64_t kvmclock_guest_khz(const uint8_t rec[KVMCLOCK_TIME_SIZE])
{
	uint32_t mul = (uint32_t)get64(rec + 24);
	int8_t shift = (int8_t)rec[28];
	uint64_t khz = mul != 0U ? (1000000ULL << 32) / mul : 0U;

	return shift >= 0 ? khz >> shift : khz << -shift;
}
