/* The host's time sources (model/host/timers.c): the ACPI PM timer, the 8254 PIT with port
 * 0x61, and the CMOS RTC, at exact TSC values; and Linux's two PIT calibrations, run
 * against the model as Linux runs them, finding the TSC frequency. */
#include <stddef.h>

#include "harness.h"
#include "ticks.h"
#include "timers.h"

#define HZ_3G 3000000000ULL
/* Twice the PIT's clock: PIT edge k happens exactly at TSC 2k. */
#define HZ_2PIT (2 * PIT_HZ)
#define HZ_ODD_RTC 2593907117ULL

static uint8_t in_at(struct timers *t, uint16_t port, uint64_t tsc, int line)
{
	uint8_t v = 0x5A;

	test_expect_true(timers_io_read(t, port, tsc, &v), "timers_io_read", __FILE__, line);
	return v;
}

static void out_at(struct timers *t, uint16_t port, uint8_t v, uint64_t tsc, int line)
{
	test_expect_true(timers_io_write(t, port, v, tsc), "timers_io_write", __FILE__, line);
}

#define IN(t, port, tsc) in_at((t), (port), (tsc), __LINE__)
#define OUT(t, port, v, tsc) out_at((t), (port), (v), (tsc), __LINE__)

static struct timers t_timers(uint64_t hz, uint64_t tsc, uint64_t epoch)
{
	struct timers t;

	EXPECT_TRUE(timers_init(&t, hz, tsc, epoch));
	return t;
}

TEST(pmtimer_exact_values)
{
	static const struct {
		uint64_t hz, tick1, wrap;
	} cases[] = {
		/* tick1 = ceil(hz / 3579545), wrap = ceil(2^24 * hz / 3579545) */
		{ 3000000000ULL, 839, 14060906624ULL },
		{ 2593907117ULL, 725, 12157561921ULL },
		{ 1234567891ULL, 345, 5786381279ULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t hz = cases[i].hz;
		struct timers t = t_timers(hz, 0, 0);

		EXPECT_EQ(pmtimer_read(&t, 0), 0);
		EXPECT_EQ(pmtimer_read(&t, cases[i].tick1 - 1), 0);
		EXPECT_EQ(pmtimer_read(&t, cases[i].tick1), 1);
		EXPECT_EQ(pmtimer_read(&t, hz), 3579545);     /* one second */
		EXPECT_EQ(pmtimer_read(&t, 5 * hz), 1120509); /* 17897725 mod 2^24 */
		EXPECT_EQ(pmtimer_read(&t, cases[i].wrap - 1), 0xFFFFFF);
		EXPECT_EQ(pmtimer_read(&t, cases[i].wrap), 0);
		EXPECT_EQ(pmtimer_read(&t, 3600 * hz), 1460112);
		/* Ten years and 7 cycles: the absolute delta, no accumulated rounding. */
		EXPECT_EQ(pmtimer_read(&t, 10ULL * 365 * 86400 * hz + 7), 13093632);
	}
	/* Counted from the reference TSC given at init. */
	struct timers t = t_timers(HZ_3G, 1000000, 0);

	EXPECT_EQ(pmtimer_read(&t, 1000000), 0);
	EXPECT_EQ(pmtimer_read(&t, 1000000 + 838), 0);
	EXPECT_EQ(pmtimer_read(&t, 1000000 + 839), 1);
	EXPECT_EQ(pmtimer_read(&t, 1000000 + 15000012345ULL), 1120523);
	/* A 1 MHz TSC: over 3 PM ticks a cycle. */
	struct timers slow = t_timers(TSC_HZ_MIN, 0, 0);

	EXPECT_EQ(pmtimer_read(&slow, 1), 3);
	EXPECT_EQ(pmtimer_read(&slow, 5012345), 1164698);
	EXPECT_TRUE(!timers_init(&slow, TSC_HZ_MIN - 1, 0, 0));
	EXPECT_TRUE(!timers_init(&slow, TSC_HZ_MAX + 1, 0, 0));
	EXPECT_EQ(slow.tsc_hz, TSC_HZ_MIN);
}

TEST(pit_channel2_mode0_countdown)
{
	/* 3 GHz: PIT edge k at ceil(k * 3e9 / 1193182): 1 -> 2515, 2 -> 5029, 100 -> 251429,
	 * 101 -> 253943, 102 -> 256458. */
	struct timers t = t_timers(HZ_3G, 0, 0);

	EXPECT_EQ(IN(&t, PORT_61, 0), 0);
	OUT(&t, PORT_61, 0x01, 0);	    /* gate 2 high, speaker off */
	OUT(&t, PIT_PORT_CONTROL, 0xB0, 0); /* counter 2, LSB then MSB, mode 0, binary */
	OUT(&t, 0x42, 100, 500);
	OUT(&t, 0x42, 0, 1000); /* the count is complete in PIT clock 0 */
	EXPECT_EQ(IN(&t, PORT_61, 1000), 0x01);
	/* Before the load edge the counter still reads what it held (0 after reset). */
	EXPECT_EQ(IN(&t, 0x42, 2514), 0);
	EXPECT_EQ(IN(&t, 0x42, 2514), 0);
	EXPECT_EQ(IN(&t, 0x42, 2515), 100);
	EXPECT_EQ(IN(&t, 0x42, 2515), 0);
	EXPECT_EQ(IN(&t, 0x42, 5029), 99);
	EXPECT_EQ(IN(&t, 0x42, 5029), 0);
	EXPECT_EQ(IN(&t, 0x42, 251429), 1);
	EXPECT_EQ(IN(&t, 0x42, 251429), 0);
	EXPECT_EQ(IN(&t, PORT_61, 253942), 0x01);
	EXPECT_EQ(IN(&t, PORT_61, 253943), 0x21); /* OUT2 high at the terminal count */
	EXPECT_EQ(IN(&t, 0x42, 253943), 0);
	EXPECT_EQ(IN(&t, 0x42, 253943), 0);
	/* It counts on through 0xFFFF; OUT stays high. */
	EXPECT_EQ(IN(&t, 0x42, 256458), 0xFF);
	EXPECT_EQ(IN(&t, 0x42, 256458), 0xFF);
	EXPECT_EQ(IN(&t, PORT_61, 256458), 0x21);
	/* Speaker and the other writable bits read back; the read-only ones do not stick. */
	OUT(&t, PORT_61, 0xFF, 256459);
	EXPECT_EQ(IN(&t, PORT_61, 256459), 0x2F);

	/* The gate pauses counting in mode 0: low from edge 51 (count 50) to edge 100. */
	struct timers g = t_timers(HZ_3G, 0, 0);

	OUT(&g, PORT_61, 0x01, 0);
	OUT(&g, PIT_PORT_CONTROL, 0xB0, 0);
	OUT(&g, 0x42, 100, 0);
	OUT(&g, 0x42, 0, 0);
	OUT(&g, PORT_61, 0x00, 128229);
	EXPECT_EQ(IN(&g, 0x42, 251429), 50);
	EXPECT_EQ(IN(&g, 0x42, 251429), 0);
	OUT(&g, PORT_61, 0x01, 251429);
	EXPECT_EQ(IN(&g, PORT_61, 374628), 0x01); /* edge 149: count 1 */
	EXPECT_EQ(IN(&g, PORT_61, 377143), 0x21); /* edge 150: 50 more counted */

	/* Mode 0's first count byte stops the counter, and OUT goes low. */
	OUT(&g, 0x42, 10, 400000);
	EXPECT_EQ(IN(&g, PORT_61, 400000), 0x01);
	uint8_t held = IN(&g, 0x42, 400000);

	EXPECT_EQ(IN(&g, 0x42, 600000), 0xFF); /* the MSB of the stopped value */
	EXPECT_EQ(IN(&g, 0x42, 600000), held);
}

TEST(pit_latch_and_read_back)
{
	struct timers t = t_timers(HZ_2PIT, 0, 0);

	OUT(&t, PORT_61, 0x01, 0);
	OUT(&t, PIT_PORT_CONTROL, 0xB0, 0);
	/* Right after the control word: OUT low, null count, RW 11, mode 0. */
	OUT(&t, PIT_PORT_CONTROL, 0xE8, 0); /* read-back: status of counter 2 */
	EXPECT_EQ(IN(&t, 0x42, 0), 0x70);
	OUT(&t, 0x42, 0x34, 0);
	OUT(&t, 0x42, 0x12, 0); /* 0x1234, loaded at edge 1 (TSC 2) */
	OUT(&t, PIT_PORT_CONTROL, 0xE8, 0);
	EXPECT_EQ(IN(&t, 0x42, 1), 0x70); /* not loaded yet */
	OUT(&t, PIT_PORT_CONTROL, 0xE8, 2);
	EXPECT_EQ(IN(&t, 0x42, 2), 0x30);
	/* Counter latch: the value at the command, whatever the time of the reads; a second
	 * latch before they are done is ignored. */
	OUT(&t, PIT_PORT_CONTROL, 0x80, 20); /* edge 10: 0x1234 - 9 */
	OUT(&t, PIT_PORT_CONTROL, 0x80, 40);
	EXPECT_EQ(IN(&t, 0x42, 60), 0x2B);
	EXPECT_EQ(IN(&t, 0x42, 80), 0x12);
	EXPECT_EQ(IN(&t, 0x42, 80), 0x0D); /* live again: edge 40, 0x1234 - 39 */
	EXPECT_EQ(IN(&t, 0x42, 80), 0x12);
	/* Read-back of count and status together: status first. */
	OUT(&t, PIT_PORT_CONTROL, 0xC8, 100); /* edge 50: 0x1234 - 49 = 0x1203 */
	EXPECT_EQ(IN(&t, 0x42, 200), 0x30);
	EXPECT_EQ(IN(&t, 0x42, 200), 0x03);
	EXPECT_EQ(IN(&t, 0x42, 200), 0x12);
	/* Past the terminal count (edge 0x1235), the status shows OUT high. */
	OUT(&t, PIT_PORT_CONTROL, 0xE8, 2ULL * 0x1235);
	EXPECT_EQ(IN(&t, 0x42, 2ULL * 0x1235), 0xB0);
	/* The control port reads 0xFF; other ports are not the model's. */
	EXPECT_EQ(IN(&t, PIT_PORT_CONTROL, 0), 0xFF);
	uint8_t v = 0x77;

	EXPECT_TRUE(!timers_io_read(&t, 0x44, 0, &v));
	EXPECT_TRUE(!timers_io_write(&t, 0x60, 0, 0));
	EXPECT_EQ(v, 0x77);
}

/* Reads counter 0's LSB and OUT0 (by read-back) at each PIT edge from 1 to n. */
static void pit_trace(struct timers *t, uint8_t *values, uint8_t *outs, int n)
{
	for (int k = 1; k <= n; k++) {
		uint64_t tsc = 2ULL * (uint64_t)k;

		values[k - 1] = IN(t, 0x40, tsc);
		OUT(t, PIT_PORT_CONTROL, 0xE2, tsc); /* read-back: status of counter 0 */
		outs[k - 1] = (uint8_t)(IN(t, 0x40, tsc) >> 7);
	}
}

TEST(pit_counter0_other_modes)
{
	uint8_t v[8];
	uint8_t o[8];

	/* Mode 2, count 5: 5 4 3 2 1 5 4 3, OUT low while the count is 1. */
	struct timers t = t_timers(HZ_2PIT, 0, 0);

	OUT(&t, PIT_PORT_CONTROL, 0x14, 0); /* counter 0, LSB only, mode 2 */
	OUT(&t, 0x40, 5, 0);
	pit_trace(&t, v, o, 8);
	EXPECT_MEM(v, ((uint8_t[]){ 5, 4, 3, 2, 1, 5, 4, 3 }), 8);
	EXPECT_MEM(o, ((uint8_t[]){ 1, 1, 1, 1, 0, 1, 1, 1 }), 8);

	/* Mode 3, count 6: by twos, OUT high three clocks, low three. */
	t = t_timers(HZ_2PIT, 0, 0);
	OUT(&t, PIT_PORT_CONTROL, 0x16, 0);
	OUT(&t, 0x40, 6, 0);
	pit_trace(&t, v, o, 8);
	EXPECT_MEM(v, ((uint8_t[]){ 6, 4, 2, 6, 4, 2, 6, 4 }), 8);
	EXPECT_MEM(o, ((uint8_t[]){ 1, 1, 1, 0, 0, 0, 1, 1 }), 8);

	/* Mode 3, odd count 5: high (5 + 1) / 2 clocks, low (5 - 1) / 2. Written as mode 7,
	 * which is mode 3. */
	t = t_timers(HZ_2PIT, 0, 0);
	OUT(&t, PIT_PORT_CONTROL, 0x1E, 0);
	OUT(&t, 0x40, 5, 0);
	pit_trace(&t, v, o, 8);
	EXPECT_MEM(v, ((uint8_t[]){ 4, 2, 0, 4, 2, 4, 2, 0 }), 8);
	EXPECT_MEM(o, ((uint8_t[]){ 1, 1, 1, 0, 0, 1, 1, 1 }), 8);

	/* Mode 4, count 3: OUT high but for one clock after the terminal count. */
	t = t_timers(HZ_2PIT, 0, 0);
	OUT(&t, PIT_PORT_CONTROL, 0x18, 0);
	OUT(&t, 0x40, 3, 0);
	pit_trace(&t, v, o, 6);
	EXPECT_MEM(v, ((uint8_t[]){ 3, 2, 1, 0, 0xFF, 0xFE }), 6);
	EXPECT_MEM(o, ((uint8_t[]){ 1, 1, 1, 0, 1, 1 }), 6);

	/* BCD, mode 0, count 10: 0x10 0x09 ...; count 1 wraps to 9999. */
	t = t_timers(HZ_2PIT, 0, 0);
	OUT(&t, PIT_PORT_CONTROL, 0x11, 0);
	OUT(&t, 0x40, 0x10, 0);
	pit_trace(&t, v, o, 3);
	EXPECT_MEM(v, ((uint8_t[]){ 0x10, 0x09, 0x08 }), 3);
	OUT(&t, 0x40, 0x01, 10); /* loaded at edge 6 */
	EXPECT_EQ(IN(&t, 0x40, 12), 0x01);
	EXPECT_EQ(IN(&t, 0x40, 14), 0x00);
	EXPECT_EQ(IN(&t, 0x40, 16), 0x99);

	/* MSB-only access: a written byte is the MSB. */
	t = t_timers(HZ_2PIT, 0, 0);
	OUT(&t, PIT_PORT_CONTROL, 0x20, 0);
	OUT(&t, 0x40, 0x02, 0); /* 0x0200 */
	EXPECT_EQ(IN(&t, 0x40, 2), 0x02);
	EXPECT_EQ(IN(&t, 0x40, 4), 0x01); /* 0x01FF */

	/* Mode 1 on counter 2 waits for a gate trigger, then OUT is low until the count
	 * runs out. */
	t = t_timers(HZ_2PIT, 0, 0);
	OUT(&t, PIT_PORT_CONTROL, 0x92, 0); /* counter 2, LSB only, mode 1 */
	OUT(&t, 0x42, 3, 0);
	EXPECT_EQ(IN(&t, PORT_61, 10), 0x20); /* not triggered: OUT high */
	EXPECT_EQ(IN(&t, 0x42, 10), 0);
	OUT(&t, PORT_61, 0x01, 10); /* the trigger: loads at edge 6 */
	EXPECT_EQ(IN(&t, 0x42, 12), 3);
	EXPECT_EQ(IN(&t, PORT_61, 12), 0x01);
	EXPECT_EQ(IN(&t, PORT_61, 16), 0x01);
	EXPECT_EQ(IN(&t, PORT_61, 18), 0x21);
	EXPECT_EQ(IN(&t, 0x42, 18), 0);
}

/* ---- Linux's calibrations (arch/x86/kernel/tsc.c), against the model ---- */

/* A guest whose every port access is an exit costing about a microsecond. */
struct sim {
	struct timers t;
	uint64_t tsc;
	uint64_t io_cost;
	uint32_t seed;
};

static void sim_pass(struct sim *s, uint64_t cycles)
{
	s->seed = s->seed * 1103515245U + 12345U;
	s->tsc += cycles + ((s->seed >> 16) & 63U);
}

static uint8_t sim_inb(struct sim *s, uint16_t port)
{
	uint8_t v = 0;

	sim_pass(s, s->io_cost / 2);
	EXPECT_TRUE(timers_io_read(&s->t, port, s->tsc, &v));
	sim_pass(s, s->io_cost / 2);
	return v;
}

static void sim_outb(struct sim *s, uint8_t v, uint16_t port)
{
	sim_pass(s, s->io_cost / 2);
	EXPECT_TRUE(timers_io_write(&s->t, port, v, s->tsc));
	sim_pass(s, s->io_cost / 2);
}

static uint64_t sim_rdtsc(struct sim *s)
{
	uint64_t v = s->tsc;

	sim_pass(s, 30);
	return v;
}

static uint32_t sim_pm_read(struct sim *s)
{
	sim_pass(s, s->io_cost / 2);
	uint32_t v = pmtimer_read(&s->t, s->tsc);

	sim_pass(s, s->io_cost / 2);
	return v;
}

static bool sim_verify_msb(struct sim *s, uint8_t val)
{
	(void)sim_inb(s, 0x42); /* the LSB, ignored */
	return sim_inb(s, 0x42) == val;
}

static bool sim_expect_msb(struct sim *s, uint8_t val, uint64_t *tscp, uint64_t *deltap)
{
	int count = 0;
	uint64_t tsc = 0;
	uint64_t prev_tsc = 0;

	for (count = 0; count < 50000; count++) {
		if (!sim_verify_msb(s, val)) {
			break;
		}
		prev_tsc = tsc;
		tsc = sim_rdtsc(s);
	}
	*deltap = sim_rdtsc(s) - prev_tsc;
	*tscp = tsc;
	return count > 5;
}

#define MAX_QUICK_PIT_ITERATIONS (50 * PIT_HZ / 1000 / 256)

/* quick_pit_calibrate(): the TSC at successive MSB changes of a mode-0 count from 0xFFFF,
 * until the error is under 500 ppm. kHz, or 0 on failure. */
static uint64_t sim_quick_pit_calibrate(struct sim *s)
{
	uint64_t tsc = 0;
	uint64_t delta = 0;
	uint64_t d1 = 0;
	uint64_t d2 = 0;

	sim_outb(s, (uint8_t)((sim_inb(s, 0x61) & ~0x02) | 0x01), 0x61);
	sim_outb(s, 0xB0, 0x43);
	sim_outb(s, 0xFF, 0x42);
	sim_outb(s, 0xFF, 0x42);
	(void)sim_verify_msb(s, 0);
	if (!sim_expect_msb(s, 0xFF, &tsc, &d1)) {
		return 0;
	}
	for (uint64_t i = 1; i <= MAX_QUICK_PIT_ITERATIONS; i++) {
		if (!sim_expect_msb(s, (uint8_t)(0xFF - i), &delta, &d2)) {
			return 0;
		}
		delta -= tsc;
		if (i == 1 && d1 + d2 >= (delta * MAX_QUICK_PIT_ITERATIONS) >> 11) {
			return 0;
		}
		if (d1 + d2 >= delta >> 11) {
			continue;
		}
		if (!sim_verify_msb(s, (uint8_t)(0xFE - i))) {
			return 0;
		}
		return delta * PIT_HZ / (i * 256 * 1000);
	}
	return 0;
}

/* pit_calibrate_tsc(): a mode-0 count of latch, timed until OUT2 rises. kHz, or
 * UINT64_MAX when the loop ran too few times or unevenly. */
static uint64_t sim_pit_calibrate_tsc(struct sim *s, uint32_t latch, uint64_t ms, int loopmin)
{
	uint64_t tscmin = UINT64_MAX;
	uint64_t tscmax = 0;
	int pitcnt = 0;

	sim_outb(s, (uint8_t)((sim_inb(s, 0x61) & ~0x02) | 0x01), 0x61);
	sim_outb(s, 0xB0, 0x43);
	sim_outb(s, (uint8_t)(latch & 0xFF), 0x42);
	sim_outb(s, (uint8_t)(latch >> 8), 0x42);
	uint64_t t1 = sim_rdtsc(s);
	uint64_t t2 = t1;
	uint64_t tsc = t1;

	while ((sim_inb(s, 0x61) & 0x20) == 0) {
		t2 = sim_rdtsc(s);
		uint64_t delta = t2 - tsc;

		tsc = t2;
		tscmin = delta < tscmin ? delta : tscmin;
		tscmax = delta > tscmax ? delta : tscmax;
		pitcnt++;
	}
	if (pitcnt < loopmin || tscmax > 10 * tscmin) {
		return UINT64_MAX;
	}
	return (t2 - t1) / ms;
}

static uint64_t sim_read_refs(struct sim *s, uint64_t *ref)
{
	for (int i = 0; i < 5; i++) {
		uint64_t t1 = sim_rdtsc(s);

		*ref = sim_pm_read(s);
		uint64_t t2 = sim_rdtsc(s);

		if (t2 - t1 < 50000) {
			return t2;
		}
	}
	return UINT64_MAX;
}

/* pit_hpet_ptimer_calibrate_cpu() without an HPET: the PIT loop, bracketed by PM timer
 * reads. The kHz it returns; *pit_khz the PIT loop's own best value. */
static uint64_t sim_pit_pmtimer_calibrate(struct sim *s, uint64_t *pit_khz)
{
	uint64_t pit_min = UINT64_MAX;
	uint64_t ref_min = UINT64_MAX;
	uint32_t latch = PIT_HZ / (1000 / 10);
	uint64_t ms = 10;
	int loopmin = 1000;

	for (int i = 0; i < 3; i++) {
		uint64_t ref1 = 0;
		uint64_t ref2 = 0;
		uint64_t tsc1 = sim_read_refs(s, &ref1);
		uint64_t khz = sim_pit_calibrate_tsc(s, latch, ms, loopmin);
		uint64_t tsc2 = sim_read_refs(s, &ref2);

		pit_min = khz < pit_min ? khz : pit_min;
		if (ref1 == ref2 || tsc1 == UINT64_MAX || tsc2 == UINT64_MAX) {
			continue;
		}
		/* calc_pmtimer_ref() */
		uint64_t pm = ref2 < ref1 ? ref2 + 0x1000000 - ref1 : ref2 - ref1;
		uint64_t ns = pm * 1000000000ULL / PMTIMER_HZ;
		uint64_t ref_khz = (tsc2 - tsc1) * 1000000ULL / ns;

		ref_min = ref_khz < ref_min ? ref_khz : ref_min;
		uint64_t ratio = pit_min * 100 / ref_min;

		if (ratio >= 90 && ratio <= 110) {
			break;
		}
		if (i == 1 && pit_min == UINT64_MAX) {
			latch = PIT_HZ / (1000 / 50);
			ms = 50;
			loopmin = 5000;
		}
	}
	*pit_khz = pit_min;
	return ref_min;
}

/* |got - want| <= want / 1000 */
static bool within_permille(uint64_t got, uint64_t want)
{
	uint64_t diff = got > want ? got - want : want - got;

	return diff <= want / 1000;
}

TEST(pit_linux_calibrations_find_tsc_hz)
{
	static const uint64_t hzs[] = { 2000000000ULL, 2593907117ULL, 3600000001ULL, 1234567891ULL,
					4100000000ULL };

	for (size_t i = 0; i < sizeof(hzs) / sizeof(hzs[0]); i++) {
		uint64_t hz = hzs[i];
		uint64_t khz = hz / 1000;
		struct sim s = { .tsc = 987654321, .io_cost = hz / 1000000, .seed = 7 };

		EXPECT_TRUE(timers_init(&s.t, hz, 123456789, 0));
		uint64_t quick = sim_quick_pit_calibrate(&s);

		EXPECT_TRUE(quick != 0);
		EXPECT_TRUE(within_permille(quick, khz));
		uint64_t pit_khz = 0;
		uint64_t ref_khz = sim_pit_pmtimer_calibrate(&s, &pit_khz);

		EXPECT_TRUE(pit_khz != UINT64_MAX);
		EXPECT_TRUE(within_permille(pit_khz, khz));
		EXPECT_TRUE(ref_khz != UINT64_MAX);
		EXPECT_TRUE(within_permille(ref_khz, khz));
	}
}

/* ---- the RTC ---- */

static uint8_t cmos_at(struct timers *t, uint8_t index, uint64_t tsc, int line)
{
	out_at(t, RTC_PORT_INDEX, index, tsc, line);
	return in_at(t, RTC_PORT_DATA, tsc, line);
}

#define CMOS(t, index, tsc) cmos_at((t), (index), (tsc), __LINE__)

/* Seconds, minutes, hours, weekday, day, month, year, as read. */
static void rtc_fields(struct timers *t, uint64_t tsc, uint8_t f[7])
{
	static const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09 };

	for (int i = 0; i < 7; i++) {
		f[i] = CMOS(t, regs[i], tsc);
	}
}

TEST(rtc_date_and_time)
{
	uint8_t f[7];
	/* 1700000000: Tuesday 2023-11-14 22:13:20 UTC. */
	struct timers t = t_timers(HZ_ODD_RTC, 5000, 1700000000);

	rtc_fields(&t, 5000, f);
	EXPECT_MEM(f, ((uint8_t[]){ 0x20, 0x13, 0x22, 0x03, 0x14, 0x11, 0x23 }), 7);
	EXPECT_EQ(CMOS(&t, 0x0A, 5000), 0x26);
	EXPECT_EQ(CMOS(&t, 0x0B, 5000), 0x02);
	EXPECT_EQ(CMOS(&t, 0x0C, 5000), 0x00);
	EXPECT_EQ(CMOS(&t, 0x0D, 5000), 0x80);
	/* It moves with the TSC: 39 s and a cycle short of 40 s, then 40 s. */
	EXPECT_EQ(CMOS(&t, 0x00, 5000 + 40 * HZ_ODD_RTC - 1), 0x59);
	rtc_fields(&t, 5000 + 40 * HZ_ODD_RTC, f);
	EXPECT_MEM(f, ((uint8_t[]){ 0x00, 0x14, 0x22, 0x03, 0x14, 0x11, 0x23 }), 7);
	/* Binary, then 12-hour (BCD, bit 7 for PM). */
	OUT(&t, RTC_PORT_INDEX, 0x0B, 5000);
	OUT(&t, RTC_PORT_DATA, 0x06, 5000);
	rtc_fields(&t, 5000, f);
	EXPECT_MEM(f, ((uint8_t[]){ 20, 13, 22, 3, 14, 11, 23 }), 7);
	OUT(&t, RTC_PORT_INDEX, 0x0B, 5000);
	OUT(&t, RTC_PORT_DATA, 0x00, 5000);
	EXPECT_EQ(CMOS(&t, 0x04, 5000), 0x90);				   /* 10 PM */
	EXPECT_EQ(CMOS(&t, 0x04, 5000 + 2ULL * 3600 * HZ_ODD_RTC), 0x12);  /* midnight: 12 AM */
	EXPECT_EQ(CMOS(&t, 0x04, 5000 + 14ULL * 3600 * HZ_ODD_RTC), 0x92); /* noon: 12 PM */
	/* Writes to the clock are ignored; to status A only bits 0-6 stick; C and D are
	 * read-only; the NMI-mask bit of port 0x70 is ignored. */
	OUT(&t, RTC_PORT_INDEX, 0x02, 5000);
	OUT(&t, RTC_PORT_DATA, 0x45, 5000);
	EXPECT_EQ(CMOS(&t, 0x02, 5000), 0x13);
	OUT(&t, RTC_PORT_INDEX, 0x80 | 0x0A, 5000);
	OUT(&t, RTC_PORT_DATA, 0xA0, 5000);
	EXPECT_EQ(CMOS(&t, 0x0A, 5000), 0x20);
	OUT(&t, RTC_PORT_INDEX, 0x0D, 5000);
	OUT(&t, RTC_PORT_DATA, 0x00, 5000);
	EXPECT_EQ(CMOS(&t, 0x0D, 5000), 0x80);
	OUT(&t, RTC_PORT_INDEX, 0x0C, 5000);
	OUT(&t, RTC_PORT_DATA, 0xF0, 5000);
	EXPECT_EQ(CMOS(&t, 0x0C, 5000), 0x00);
	EXPECT_EQ(IN(&t, RTC_PORT_INDEX, 5000), 0xFF);
	/* Alarms and the RAM: 0 at reset, then as written. */
	EXPECT_EQ(CMOS(&t, 0x01, 5000), 0);
	EXPECT_EQ(CMOS(&t, 0x0E, 5000), 0);
	EXPECT_EQ(CMOS(&t, 0x7F, 5000), 0);
	for (uint8_t i = 0x0E; i < 0x80; i++) {
		OUT(&t, RTC_PORT_INDEX, i, 5000);
		OUT(&t, RTC_PORT_DATA, (uint8_t)(i ^ 0xA5), 5000);
	}
	OUT(&t, RTC_PORT_INDEX, 0x01, 5000);
	OUT(&t, RTC_PORT_DATA, 0x30, 5000);
	EXPECT_EQ(CMOS(&t, 0x01, 5000), 0x30);
	EXPECT_EQ(CMOS(&t, 0x0E, 5000), 0x0E ^ 0xA5);
	EXPECT_EQ(CMOS(&t, 0x32, 5000), 0x32 ^ 0xA5);
	EXPECT_EQ(CMOS(&t, 0x7F, 5000), 0x7F ^ 0xA5);
	EXPECT_EQ(CMOS(&t, 0x00, 5000), 0x20); /* the clock untouched */
}

TEST(rtc_calendar_boundaries)
{
	static const struct {
		uint64_t epoch;
		uint8_t f[7]; /* BCD: s, min, h, weekday (1 = Sunday), day, month, year */
	} cases[] = {
		{ 0, { 0x00, 0x00, 0x00, 0x05, 0x01, 0x01, 0x70 } },	      /* 1970-01-01 Thu */
		{ 951782400, { 0x00, 0x00, 0x00, 0x03, 0x29, 0x02, 0x00 } },  /* 2000-02-29 Tue */
		{ 1709164800, { 0x00, 0x00, 0x00, 0x05, 0x29, 0x02, 0x24 } }, /* 2024-02-29 Thu */
		{ 1735689599, { 0x59, 0x59, 0x23, 0x03, 0x31, 0x12, 0x24 } }, /* 2024-12-31 Tue */
		{ 1735689600, { 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x25 } }, /* 2025-01-01 Wed */
		{ 4102444800, { 0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00 } }, /* 2100-01-01 Fri */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t f[7];
		struct timers t = t_timers(HZ_3G, 0, cases[i].epoch);

		rtc_fields(&t, 0, f);
		EXPECT_MEM(f, cases[i].f, 7);
	}
	/* One second before 2025 seen from the earlier base: the TSC carries the date over. */
	uint8_t f[7];
	struct timers t = t_timers(HZ_3G, 0, 1735689599);

	rtc_fields(&t, HZ_3G, f);
	EXPECT_MEM(f, ((uint8_t[]){ 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x25 }), 7);
}
