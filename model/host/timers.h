/* Models of the time sources Linux calibrates the TSC against and reads the date from, for the
 * guest whose host Donjon plays on the native platform: the ACPI PM timer, the 8254 PIT with
 * port 0x61's channel-2 gate and OUT2, and the CMOS RTC (ports 0x70/0x71). Each is computed
 * from the TSC the caller passes, counted from the reference TSC given at init, so none
 * drifts however long the guest runs.
 *
 * What is left out, on purpose: interrupts. The platform gives Linux the TSC-deadline timer
 * with ARAT (linux-guest.md section 6.3, option A), so its boot needs no PIT IRQ 0, and it
 * reads the RTC by polling, without IRQ 8; the PIT's OUT pins are only computed, for port
 * 0x61 bit 5 and the read-back status. */
#ifndef MODEL_HOST_TIMERS_H
#define MODEL_HOST_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#define PMTIMER_HZ 3579545ULL
#define PIT_HZ 1193182ULL

#define PIT_PORT_CH0 0x40U
#define PIT_PORT_CONTROL 0x43U
#define PORT_61 0x61U
#define RTC_PORT_INDEX 0x70U
#define RTC_PORT_DATA 0x71U

enum pit_state {
	PIT_IDLE,    /* no count loaded since the control word (or waiting for a gate trigger) */
	PIT_LOADING, /* a count was written: the next clock edge loads it */
	PIT_COUNTING,
};

/* One 8254 counter. Clocks are counted from the timers' reference TSC. */
struct pit_channel {
	uint8_t control; /* the control word's low 6 bits: RW1 RW0 M2 M1 M0 BCD */
	uint8_t mode;	 /* 0-5 (6 and 7 are 2 and 3) */
	uint8_t access;	 /* 1 LSB only, 2 MSB only, 3 LSB then MSB */
	bool gate;
	bool count_written; /* a count has been written since the control word */
	bool null_count;    /* a count written (or a control word) not yet loaded: status bit 6 */
	bool write_msb;	    /* access 3: the next byte written is the MSB */
	bool read_msb;	    /* access 3: the next byte read is the MSB */
	uint8_t lsb;	    /* access 3: the LSB written, waiting for its MSB */
	uint32_t count;	    /* the count written, 1..modulus (a written 0 is the modulus) */
	uint32_t run;	    /* COUNTING: the count the load edge took */
	enum pit_state state;
	uint64_t at;	  /* LOADING: the clock of the write; COUNTING: clock accounted up to */
	uint64_t counted; /* COUNTING: clocks counted since the load */
	uint32_t hold;	  /* IDLE, LOADING: what the counter reads */
	bool hold_out;	  /* IDLE, LOADING: OUT */
	uint8_t latched;  /* bytes of latch still to read: 0, 1 or 2 */
	uint16_t latch;	  /* the latched count, as read (BCD in BCD mode) */
	bool status_latched;
	uint8_t status;
};

struct timers {
	uint64_t tsc_hz;
	uint64_t tsc_ref;   /* PM timer 0, PIT clock 0, RTC at epoch_ref */
	uint64_t epoch_ref; /* seconds since 1970-01-01 00:00 UTC at tsc_ref */
	struct pit_channel pit[3];
	uint8_t port61; /* bits 0-3 as written: gate 2, speaker data, parity/IOCHK enables */
	uint8_t rtc_index;
	uint8_t cmos[128]; /* status A and B, alarms, and the RAM at 0x0E-0x7F */
};

/* Every counter as after a control word for mode 0, LSB then MSB, with no count written;
 * port 0x61 0; RTC status A 0x26 (32.768 kHz divider, 1024 Hz rate), status B 0x02 (24-hour,
 * BCD), CMOS RAM 0. The RTC reads epoch_seconds at tsc. False, and nothing set, for a
 * tsc_hz outside [TSC_HZ_MIN, TSC_HZ_MAX] (ticks.h). Every later tsc must be >= this one. */
bool timers_init(struct timers *t, uint64_t tsc_hz, uint64_t tsc, uint64_t epoch_seconds);

/* The ACPI PM timer (FADT PM_TMR_BLK, a 32-bit port read): 24 bits at 3.579545 MHz, the
 * upper 8 bits 0 (FADT TMR_VAL_EXT must be 0). */
uint32_t pmtimer_read(const struct timers *t, uint64_t tsc);

/* A byte read or write of port 0x40-0x43, 0x61, 0x70 or 0x71 (wider accesses are the
 * caller's to split or refuse). False for any other port, and nothing changed.
 * PIT: control words for counters 0-2 (every mode, binary or BCD), counter latch and
 * read-back commands; counters 0 and 1 have their gates tied high as on a PC, counter 2's
 * is port 0x61 bit 0. Reading port 0x43 gives 0xFF (the 8254 leaves the bus floating).
 * Port 0x61: bits 0-3 read back as written, bit 5 is OUT2, the rest read 0 (no refresh
 * toggle, no parity or channel-check errors).
 * RTC: port 0x70 selects one of 128 registers (bit 7, the NMI mask, is ignored); reading
 * port 0x70 gives 0xFF. Time and date (0x00, 0x02, 0x04, 0x06-0x09) read the clock in
 * the format status B selects; writing them is ignored: the clock is the host's. Linux on
 * x86 always decodes BCD (RTC_ALWAYS_BCD), hence BCD at reset. The year register holds the
 * year modulo 100: there is no century register (FADT CENTURY must be 0). Status A: UIP
 * always reads 0, bits 0-6 as written; status B as written; status C reads 0 (no interrupt
 * flags: no RTC interrupts); status D reads 0x80 (valid RAM and time); C and D ignore
 * writes. The alarm registers and 0x0E-0x7F are RAM. */
bool timers_io_read(struct timers *t, uint16_t port, uint64_t tsc, uint8_t *value);
bool timers_io_write(struct timers *t, uint16_t port, uint8_t value, uint64_t tsc);

/* Seconds since 1970-01-01 00:00 UTC of a date and time in the proleptic Gregorian calendar
 * (year >= 1970, month 1-12, day 1-31, hour 0-23, minute and second 0-59; not checked). */
uint64_t timers_seconds_from_civil(uint64_t year, uint32_t month, uint32_t day, uint32_t hour,
				   uint32_t minute, uint32_t second);

#endif
