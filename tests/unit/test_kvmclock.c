/* The paravirtual clock records (model/host/kvmclock.c): the layout Linux's pvclock code
 * reads, a scale that gives back the TSC's rate as Linux computes it, and exact times. */
#include "harness.h"
#include "kvmclock.h"
#include "timers.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* pvclock_tsc_khz: (10^6 << 32) / mul, shifted by tsc_shift. */
static uint64_t linux_tsc_khz(const uint8_t *rec)
{
	uint64_t khz = (1000000ULL << 32) / le32(rec + 24);
	int8_t shift = (int8_t)rec[28];

	return shift < 0 ? khz << -shift : khz >> shift;
}

TEST(kvmclock_time_record_layout_and_rate)
{
	uint8_t rec[32];

	EXPECT_TRUE(kvmclock_time(rec, 2114763000ULL, 5000));
	EXPECT_EQ(le32(rec), 2U);
	EXPECT_EQ(le32(rec + 4), 0U);
	EXPECT_EQ(le32(rec + 8), 5000U);
	EXPECT_EQ(le32(rec + 12), 0U);
	EXPECT_EQ(le32(rec + 16), 0U);
	EXPECT_EQ(le32(rec + 20), 0U);
	/* floor(10^9 * 2^32 / 2114763000) */
	EXPECT_EQ(le32(rec + 24), 2030944978U);
	EXPECT_EQ(rec[28], 0);
	EXPECT_EQ(rec[29], 1);
	EXPECT_EQ(linux_tsc_khz(rec), 2114763U);
	EXPECT_EQ(kvmclock_guest_khz(rec), 2114763U);
	/* One second of TSC is 10^9 ns, to the nanosecond the scale allows. */
	uint64_t ns = kvmclock_ns(rec, 5000 + 2114763000ULL);

	EXPECT_TRUE(ns <= 1000000000ULL && ns >= 999999999ULL);
	EXPECT_EQ(kvmclock_ns(rec, 4000), 0U);
}

TEST(kvmclock_slow_tsc_uses_a_shift)
{
	uint8_t rec[32];

	/* 250 MHz: 250 MHz << 2 is exactly 10^9, which would make mul 2^32: shifted by 3. */
	EXPECT_TRUE(kvmclock_time(rec, 250000000ULL, 0));
	EXPECT_EQ(rec[28], 3);
	EXPECT_EQ(le32(rec + 24), 2147483648U);
	EXPECT_EQ(linux_tsc_khz(rec), 250000U);
	EXPECT_TRUE(kvmclock_time(rec, 250000001ULL, 0));
	EXPECT_EQ(rec[28], 2);
	EXPECT_EQ(le32(rec + 24), 4294967278U);
	EXPECT_EQ(linux_tsc_khz(rec), 250000U);
	EXPECT_EQ(kvmclock_ns(rec, 250000001ULL), 999999999U);
	EXPECT_EQ(kvmclock_guest_khz(rec), 250000U);
	/* A rate whose scale rounds: the guest reads 1 kHz more than tsc_hz / 1000. */
	EXPECT_TRUE(kvmclock_time(rec, 2196536999ULL, 0));
	EXPECT_EQ(le32(rec + 24), 1955335738U);
	EXPECT_EQ(linux_tsc_khz(rec), 2196537U);
	EXPECT_EQ(kvmclock_guest_khz(rec), 2196537U);
	EXPECT_TRUE(!kvmclock_time(rec, 999999ULL, 0));
	EXPECT_TRUE(!kvmclock_time(rec, (1ULL << 34) + 1U, 0));
}

TEST(kvmclock_wall_record)
{
	uint8_t w[12];

	kvmclock_wall(w, 1796209333ULL);
	EXPECT_EQ(le32(w), 2U);
	EXPECT_EQ(le32(w + 4), 1796209333U);
	EXPECT_EQ(le32(w + 8), 0U);
}

TEST(timers_seconds_from_civil_known_dates)
{
	EXPECT_EQ(timers_seconds_from_civil(1970, 1, 1, 0, 0, 0), 0U);
	EXPECT_EQ(timers_seconds_from_civil(2000, 2, 29, 12, 0, 0), 951825600U);
	EXPECT_EQ(timers_seconds_from_civil(2026, 12, 2, 11, 2, 13), 1796209333U);
	EXPECT_EQ(timers_seconds_from_civil(2100, 3, 1, 0, 0, 0), 4107542400U);
}
