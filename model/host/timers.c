/* The ACPI PM timer, the 8254 PIT (with port 0x61) and the CMOS RTC, each computed from the
 * TSC: a counter's state is brought up to the current PIT clock whenever it is touched. The
 * 8254's behaviour follows Intel's 82C54 data sheet ("Mode Definitions", "Read-Back
 * Command"); the RTC's, the MC146818's register map as Linux's drivers use it. */
#include "timers.h"

#include "ticks.h"

_Static_assert(PIT_HZ <= TICKS_HZ_MAX && PMTIMER_HZ <= TICKS_HZ_MAX, "see ticks.h");

#define PIT_MODULUS 65536U
#define PIT_MODULUS_BCD 10000U
#define PIT_READ_BACK 3U /* the counter-select value of a read-back command */

#define RTC_STATUS_A 0x0AU
#define RTC_STATUS_B 0x0BU
#define RTC_STATUS_C 0x0CU
#define RTC_STATUS_D 0x0DU
#define RTC_A_UIP 0x80U
#define RTC_B_BINARY 0x04U /* DM: binary, else BCD */
#define RTC_B_24H 0x02U
#define RTC_D_VRT 0x80U

#define PORT61_WRITABLE 0x0FU
#define PORT61_GATE2 0x01U
#define PORT61_OUT2 0x20U

bool timers_init(struct timers *t, uint64_t tsc_hz, uint64_t tsc, uint64_t epoch_seconds)
{
	if (!ticks_tsc_hz_ok(tsc_hz)) {
		return false;
	}
	*t = (struct timers){ 0 };
	t->tsc_hz = tsc_hz;
	t->tsc_ref = tsc;
	t->epoch_ref = epoch_seconds;
	for (int i = 0; i < 3; i++) {
		struct pit_channel *c = &t->pit[i];

		c->control = 0x30U;
		c->access = 3U;
		c->null_count = true;
		c->gate = i != 2; /* counter 2's gate is port 0x61 bit 0, clear at reset */
	}
	t->cmos[RTC_STATUS_A] = 0x26U;
	t->cmos[RTC_STATUS_B] = RTC_B_24H;
	return true;
}

static uint64_t tsc_since_ref(const struct timers *t, uint64_t tsc)
{
	return tsc > t->tsc_ref ? tsc - t->tsc_ref : 0U;
}

uint32_t pmtimer_read(const struct timers *t, uint64_t tsc)
{
	/* ticks_of_tsc is exact modulo 2^64, so its low 24 bits are too. */
	return (uint32_t)(ticks_of_tsc(tsc_since_ref(t, tsc), t->tsc_hz, PMTIMER_HZ) & 0xFFFFFFU);
}

/* ---- the 8254 ---- */

static uint64_t pit_clock(const struct timers *t, uint64_t tsc)
{
	return ticks_of_tsc(tsc_since_ref(t, tsc), t->tsc_hz, PIT_HZ);
}

static bool pit_bcd(const struct pit_channel *c)
{
	return (c->control & 1U) != 0U;
}

static uint32_t pit_modulus(const struct pit_channel *c)
{
	return pit_bcd(c) ? PIT_MODULUS_BCD : PIT_MODULUS;
}

/* Whether clock edges decrement a loaded counter: the gate enables counting in modes 0, 2,
 * 3 and 4; in modes 1 and 5 it only triggers. */
static bool pit_counts(const struct pit_channel *c)
{
	return c->mode == 1U || c->mode == 5U || c->gate;
}

/* Brings a counter to PIT clock now: the load edge of a written count (the first edge after
 * the write), then the edges counted since. */
static void pit_sync(struct pit_channel *c, uint64_t now)
{
	if (c->state == PIT_LOADING && now > c->at) {
		c->state = PIT_COUNTING;
		c->at++;
		c->counted = 0;
		c->run = c->count;
		c->null_count = false;
	}
	if (c->state == PIT_COUNTING && now > c->at) {
		if (pit_counts(c)) {
			c->counted += now - c->at;
		}
		c->at = now;
	}
}

/* The counter's value, 0 standing for the modulus as in the 16-bit (or 4-digit) counter. */
static uint32_t pit_value(const struct pit_channel *c)
{
	uint64_t m = pit_modulus(c);
	uint64_t n = c->run;
	uint64_t v = c->hold;

	if (c->state == PIT_COUNTING) {
		uint64_t p = c->counted % n;

		switch (c->mode) {
		case 2: /* n, n-1, ..., 1, then n again */
			v = n - p;
			break;
		case 3: /* by twos, each half-period; an odd n counts n-1 down to 0 first */
			if ((n & 1U) == 0U) {
				v = n - 2U * (p < n / 2U ? p : p - n / 2U);
			} else {
				v = n - 1U - 2U * (p < (n + 1U) / 2U ? p : p - (n + 1U) / 2U);
			}
			break;
		default: /* 0, 1, 4, 5: down through 0 and on from the modulus */
			v = (n + m - c->counted % m) % m;
			break;
		}
	}
	return (uint32_t)(v % m);
}

static bool pit_out(const struct pit_channel *c)
{
	uint64_t n = c->run;

	if (c->state != PIT_COUNTING) {
		return c->hold_out;
	}
	switch (c->mode) {
	case 0:
	case 1: /* low until the terminal count, then high */
		return c->counted >= n;
	case 2: /* low for the clock the count is 1; high while the gate is low */
		return !c->gate || c->counted % n != n - 1U;
	case 3: /* high for the first (n + 1) / 2 clocks of each period; high while gated off */
		return !c->gate || c->counted % n < (n + 1U) / 2U;
	default: /* 4, 5: low for the one clock after the terminal count */
		return c->counted != n;
	}
}

/* Stops the counter where it is: it reads, and OUT stays, as now until the next load. */
static void pit_freeze(struct pit_channel *c, enum pit_state state)
{
	c->hold = pit_value(c);
	c->hold_out = pit_out(c);
	c->state = state;
}

static uint16_t pit_encode(const struct pit_channel *c, uint32_t v)
{
	if (!pit_bcd(c)) {
		return (uint16_t)v;
	}
	return (uint16_t)((v / 1000U) << 12 | (v / 100U % 10U) << 8 | (v / 10U % 10U) << 4 |
			  v % 10U);
}

/* A count as written, 0 standing for the modulus. BCD digits above 9 are undefined on an
 * 8254; here they weigh their value, reduced modulo 10000. */
static uint32_t pit_decode(const struct pit_channel *c, uint16_t raw)
{
	uint32_t v = raw;

	if (pit_bcd(c)) {
		v = ((raw >> 12) & 15U) * 1000U + ((raw >> 8) & 15U) * 100U +
		    ((raw >> 4) & 15U) * 10U + (raw & 15U);
		v %= PIT_MODULUS_BCD;
	}
	return v == 0U ? pit_modulus(c) : v;
}

static void pit_latch_count(struct pit_channel *c)
{
	/* A second latch before the first is read is ignored. */
	if (c->latched == 0U) {
		c->latch = pit_encode(c, pit_value(c));
		c->latched = c->access == 3U ? 2U : 1U;
	}
}

static void pit_latch_status(struct pit_channel *c)
{
	if (!c->status_latched) {
		c->status = (uint8_t)((pit_out(c) ? 0x80U : 0U) | (c->null_count ? 0x40U : 0U) |
				      c->control);
		c->status_latched = true;
	}
}

static void pit_control(struct timers *t, uint8_t v, uint64_t now)
{
	uint32_t select = v >> 6;
	uint32_t access = (v >> 4) & 3U;

	if (select == PIT_READ_BACK) {
		/* Bit 5 clear latches the counts, bit 4 clear the statuses, of the counters
		 * bits 1-3 select. */
		for (uint32_t i = 0; i < 3U; i++) {
			struct pit_channel *c = &t->pit[i];

			if ((v & (2U << i)) == 0U) {
				continue;
			}
			pit_sync(c, now);
			if ((v & 0x20U) == 0U) {
				pit_latch_count(c);
			}
			if ((v & 0x10U) == 0U) {
				pit_latch_status(c);
			}
		}
		return;
	}
	struct pit_channel *c = &t->pit[select];
	uint8_t mode = (uint8_t)((v >> 1) & 7U);

	pit_sync(c, now);
	if (access == 0U) {
		pit_latch_count(c);
		return;
	}
	/* A control word resets the counter's logic: no count, OUT low in mode 0 and high in
	 * the others, until a count is written. The counter keeps its value meanwhile. */
	pit_freeze(c, PIT_IDLE);
	c->control = (uint8_t)(v & 0x3FU);
	c->mode = mode >= 6U ? (uint8_t)(mode - 4U) : mode;
	c->access = (uint8_t)access;
	c->hold_out = c->mode != 0U;
	c->count_written = false;
	c->null_count = true;
	c->write_msb = false;
	c->read_msb = false;
	c->latched = 0;
	c->status_latched = false;
}

static void pit_write_count(struct pit_channel *c, uint16_t raw, uint64_t now)
{
	pit_sync(c, now);
	c->count = pit_decode(c, raw);
	c->count_written = true;
	c->null_count = true;
	if (c->mode == 1U || c->mode == 5U) {
		return; /* loaded by the next gate trigger */
	}
	/* Modes 0, 2, 3, 4: the next clock edge loads it. Mode 0's OUT goes low. An 8254 in
	 * mode 2 or 3 loads a count written while it counts only at the end of the period;
	 * this one does not wait (Linux writes a control word before each such count). */
	pit_freeze(c, PIT_LOADING);
	c->at = now;
	if (c->mode == 0U) {
		c->hold_out = false;
	}
}

static void pit_write(struct pit_channel *c, uint8_t v, uint64_t now)
{
	switch (c->access) {
	case 1:
		pit_write_count(c, v, now);
		break;
	case 2:
		pit_write_count(c, (uint16_t)(v << 8), now);
		break;
	default:
		if (!c->write_msb) {
			c->lsb = v;
			c->write_msb = true;
			if (c->mode == 0U) {
				/* Mode 0: the first byte stops the count and sets OUT low. */
				pit_sync(c, now);
				pit_freeze(c, PIT_IDLE);
				c->hold_out = false;
			}
			break;
		}
		c->write_msb = false;
		pit_write_count(c, (uint16_t)(c->lsb | v << 8), now);
		break;
	}
}

static uint8_t pit_read(struct pit_channel *c, uint64_t now)
{
	pit_sync(c, now);
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched != 0U) {
		bool msb = c->access == 2U || (c->access == 3U && c->latched == 1U);

		c->latched--;
		return (uint8_t)(msb ? c->latch >> 8 : c->latch);
	}
	uint16_t live = pit_encode(c, pit_value(c));
	bool msb = c->access == 2U || (c->access == 3U && c->read_msb);

	if (c->access == 3U) {
		c->read_msb = !c->read_msb;
	}
	return (uint8_t)(msb ? live >> 8 : live);
}

static void pit_set_gate2(struct timers *t, bool gate, uint64_t now)
{
	struct pit_channel *c = &t->pit[2];

	if (gate == c->gate) {
		return;
	}
	pit_sync(c, now);
	if (gate && c->count_written && c->mode != 0U && c->mode != 4U) {
		/* A rising edge triggers modes 1 and 5 and restarts modes 2 and 3: the count
		 * loads at the next clock edge. OUT is high until then (forced high while the
		 * gate was low in modes 2 and 3). */
		pit_freeze(c, PIT_LOADING);
		c->at = now;
	}
	c->gate = gate;
}

/* ---- the RTC ---- */

struct civil {
	uint64_t year;
	uint32_t month, day, hour, minute, second, weekday; /* weekday: 1 = Sunday */
};

/* Seconds since 1970-01-01 to the proleptic Gregorian calendar, by whole 400-year eras
 * counted from 0000-03-01 (so that a leap day ends its year). */
static struct civil civil_from_seconds(uint64_t s)
{
	struct civil c = { 0 };
	uint64_t days = s / 86400U;
	uint32_t in_day = (uint32_t)(s % 86400U);
	uint64_t z = days + 719468U; /* days from 0000-03-01 to 1970-01-01 */
	uint64_t era = z / 146097U;
	uint64_t doe = z - era * 146097U;
	uint64_t yoe = (doe - doe / 1460U + doe / 36524U - doe / 146096U) / 365U;
	uint64_t doy = doe - (365U * yoe + yoe / 4U - yoe / 100U);
	uint64_t mp = (5U * doy + 2U) / 153U; /* months from March */

	c.day = (uint32_t)(doy - (153U * mp + 2U) / 5U + 1U);
	c.month = (uint32_t)(mp < 10U ? mp + 3U : mp - 9U);
	c.year = yoe + era * 400U + (c.month <= 2U ? 1U : 0U);
	c.hour = in_day / 3600U;
	c.minute = in_day / 60U % 60U;
	c.second = in_day % 60U;
	c.weekday = (uint32_t)((days + 4U) % 7U) + 1U; /* 1970-01-01 was a Thursday */
	return c;
}

uint64_t timers_seconds_from_civil(uint64_t year, uint32_t month, uint32_t day, uint32_t hour,
				   uint32_t minute, uint32_t second)
{
	/* The inverse of civil_from_seconds, over the same eras from 0000-03-01. */
	uint64_t y = month <= 2U ? year - 1U : year;
	uint64_t era = y / 400U;
	uint64_t yoe = y - era * 400U;
	uint64_t mp = month > 2U ? month - 3U : month + 9U;
	uint64_t doy = (153U * mp + 2U) / 5U + day - 1U;
	uint64_t doe = yoe * 365U + yoe / 4U - yoe / 100U + doy;
	uint64_t days = era * 146097U + doe - 719468U;

	return days * 86400U + (uint64_t)hour * 3600U + (uint64_t)minute * 60U + second;
}

static uint8_t rtc_encode(const struct timers *t, uint32_t v)
{
	if ((t->cmos[RTC_STATUS_B] & RTC_B_BINARY) != 0U) {
		return (uint8_t)v;
	}
	return (uint8_t)((v / 10U) << 4 | v % 10U);
}

static uint8_t rtc_read(const struct timers *t, uint64_t tsc)
{
	uint8_t i = t->rtc_index;

	switch (i) {
	case 0x00:
	case 0x02:
	case 0x04:
	case 0x06:
	case 0x07:
	case 0x08:
	case 0x09:
		break;
	case RTC_STATUS_A:
		return (uint8_t)(t->cmos[i] & ~RTC_A_UIP);
	case RTC_STATUS_C:
		return 0;
	case RTC_STATUS_D:
		return RTC_D_VRT;
	default:
		return t->cmos[i];
	}
	struct civil c = civil_from_seconds(t->epoch_ref + tsc_since_ref(t, tsc) / t->tsc_hz);

	switch (i) {
	case 0x00:
		return rtc_encode(t, c.second);
	case 0x02:
		return rtc_encode(t, c.minute);
	case 0x04:
		if ((t->cmos[RTC_STATUS_B] & RTC_B_24H) == 0U) {
			uint32_t h12 = c.hour % 12U == 0U ? 12U : c.hour % 12U;

			return (uint8_t)(rtc_encode(t, h12) | (c.hour >= 12U ? 0x80U : 0U));
		}
		return rtc_encode(t, c.hour);
	case 0x06:
		return rtc_encode(t, c.weekday);
	case 0x07:
		return rtc_encode(t, c.day);
	case 0x08:
		return rtc_encode(t, c.month);
	default:
		return rtc_encode(t, (uint32_t)(c.year % 100U));
	}
}

static void rtc_write(struct timers *t, uint8_t v)
{
	uint8_t i = t->rtc_index;

	switch (i) {
	case 0x00:
	case 0x02:
	case 0x04:
	case 0x06:
	case 0x07:
	case 0x08:
	case 0x09:
	case RTC_STATUS_C:
	case RTC_STATUS_D:
		return;
	case RTC_STATUS_A:
		t->cmos[i] = (uint8_t)(v & ~RTC_A_UIP);
		return;
	default:
		t->cmos[i] = v;
		return;
	}
}

/* ---- the ports ---- */

bool timers_io_read(struct timers *t, uint16_t port, uint64_t tsc, uint8_t *value)
{
	uint64_t now = pit_clock(t, tsc);

	switch (port) {
	case PIT_PORT_CH0:
	case PIT_PORT_CH0 + 1U:
	case PIT_PORT_CH0 + 2U:
		*value = pit_read(&t->pit[port - PIT_PORT_CH0], now);
		return true;
	case PIT_PORT_CONTROL:
	case RTC_PORT_INDEX:
		*value = 0xFF;
		return true;
	case PORT_61:
		pit_sync(&t->pit[2], now);
		*value = (uint8_t)((t->port61 & PORT61_WRITABLE) |
				   (pit_out(&t->pit[2]) ? PORT61_OUT2 : 0U));
		return true;
	case RTC_PORT_DATA:
		*value = rtc_read(t, tsc);
		return true;
	default:
		return false;
	}
}

bool timers_io_write(struct timers *t, uint16_t port, uint8_t value, uint64_t tsc)
{
	uint64_t now = pit_clock(t, tsc);

	switch (port) {
	case PIT_PORT_CH0:
	case PIT_PORT_CH0 + 1U:
	case PIT_PORT_CH0 + 2U:
		pit_write(&t->pit[port - PIT_PORT_CH0], value, now);
		return true;
	case PIT_PORT_CONTROL:
		pit_control(t, value, now);
		return true;
	case PORT_61:
		t->port61 = (uint8_t)(value & PORT61_WRITABLE);
		pit_set_gate2(t, (value & PORT61_GATE2) != 0U, now);
		return true;
	case RTC_PORT_INDEX:
		t->rtc_index = (uint8_t)(value & 0x7FU);
		return true;
	case RTC_PORT_DATA:
		rtc_write(t, value);
		return true;
	default:
		return false;
	}
}
