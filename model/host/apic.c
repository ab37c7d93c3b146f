/* One vCPU's local APIC in x2APIC mode: the registers behind the x2APIC MSRs, interrupt
 * acceptance and priority, the timer's three modes computed from the TSC, and IPIs decoded
 * from the ICR for the caller to deliver. */
#include "apic.h"

#include "ticks.h"

_Static_assert(APIC_BUS_HZ <= TICKS_HZ_MAX, "see ticks.h");

#define LVT_MASKED (1U << 16)
#define LVT_VECTOR 0xFFU
#define LVT_DELIVERY_STATUS (1U << 12)
#define LVT_REMOTE_IRR (1U << 14)
/* The bits software may write in each kind of LVT entry; delivery status and remote IRR
 * are read-only and ignored on writes. */
#define LVT_TIMER_BITS (LVT_VECTOR | LVT_MASKED | (3U << 17))
#define LVT_LINT_BITS (0x7FFU | (1U << 13) | (1U << 15) | LVT_MASKED)
#define LVT_ERROR_BITS (LVT_VECTOR | LVT_MASKED)
#define LVT_OTHER_BITS (0x7FFU | LVT_MASKED) /* CMCI, thermal, perf: vector, delivery mode */

#define TIMER_MODE(lvt) (((lvt) >> 17) & 3U)
#define TIMER_ONESHOT 0U
#define TIMER_PERIODIC 1U
#define TIMER_DEADLINE 2U

#define SVR_ENABLE (1U << 8)
#define SVR_BITS 0x3FFU /* vector, software enable, focus checking */
#define DCR_BITS 0xBU	/* bits 0, 1 and 3 */

#define ICR_VECTOR 0xFFULL
#define ICR_MODE(icr) (((icr) >> 8) & 7U)
#define ICR_LOGICAL (1ULL << 11)
#define ICR_IGNORED (1ULL << 12) /* delivery status: gone in x2APIC mode, ignored on write */
#define ICR_ASSERT (1ULL << 14)
#define ICR_LEVEL (1ULL << 15)
#define ICR_SHORTHAND(icr) (((icr) >> 18) & 3U)
#define ICR_RESERVED ((1ULL << 13) | (3ULL << 16) | (0xFFFULL << 20))

#define MODE_FIXED 0U
#define MODE_LOWEST 1U
#define MODE_NMI 4U
#define MODE_INIT 5U
#define MODE_SIPI 6U

#define BROADCAST 0xFFFFFFFFU

static void bit_set(uint32_t *set, uint8_t v)
{
	set[v >> 5] |= 1U << (v & 31U);
}

static void bit_clear(uint32_t *set, uint8_t v)
{
	set[v >> 5] &= ~(1U << (v & 31U));
}

static bool bit_test(const uint32_t *set, uint8_t v)
{
	return (set[v >> 5] & (1U << (v & 31U))) != 0U;
}

/* The highest vector in a 256-bit set, or -1. */
static int bit_highest(const uint32_t *set)
{
	for (int w = 7; w >= 0; w--) {
		if (set[w] != 0U) {
			return w * 32 + 31 - __builtin_clz(set[w]);
		}
	}
	return -1;
}

static bool sw_enabled(const struct apic *a)
{
	return (a->svr & SVR_ENABLE) != 0U;
}

static uint32_t timer_mode(const struct apic *a)
{
	return TIMER_MODE(a->lvt[APIC_LVT_TIMER]);
}

/* Divide configuration bits 3, 1, 0: 000b divides by 2 ... 110b by 128, 111b by 1. */
static uint64_t timer_divisor(const struct apic *a)
{
	uint32_t code = (a->divide_config & 3U) | ((a->divide_config >> 1) & 4U);

	return code == 7U ? 1U : 2ULL << code;
}

bool apic_init(struct apic *a, uint32_t id, bool bsp, uint64_t tsc_hz)
{
	if (id == BROADCAST || !ticks_tsc_hz_ok(tsc_hz)) {
		return false;
	}
	*a = (struct apic){ 0 };
	a->id = id;
	a->base_msr =
		APIC_BASE_ADDRESS | APIC_BASE_EN | APIC_BASE_EXTD | (bsp ? APIC_BASE_BSP : 0U);
	a->tsc_hz = tsc_hz;
	a->svr = 0xFFU;
	for (int i = 0; i < APIC_LVT_COUNT; i++) {
		a->lvt[i] = LVT_MASKED;
	}
	return true;
}

/* Sets an IRR bit for an interrupt whose vector is legal; true if it was clear. */
static bool irr_set(struct apic *a, uint8_t vector, bool level)
{
	bool fresh = !bit_test(a->irr, vector);

	bit_set(a->irr, vector);
	if (level) {
		bit_set(a->tmr, vector);
	} else {
		bit_clear(a->tmr, vector);
	}
	return fresh;
}

/* Errors are logged whatever the error LVT's mask; an unmasked one interrupts. An illegal
 * error vector is itself a receive-illegal-vector error, with no further interrupt. */
static bool record_error(struct apic *a, uint32_t bits)
{
	uint32_t lvt = a->lvt[APIC_LVT_ERROR];
	uint8_t vector = (uint8_t)(lvt & LVT_VECTOR);

	a->esr_pending |= bits;
	if ((lvt & LVT_MASKED) != 0U) {
		return false;
	}
	if (vector < 16U) {
		a->esr_pending |= APIC_ESR_RECV_ILLEGAL;
		return false;
	}
	return irr_set(a, vector, false);
}

/* An interrupt from an unmasked LVT entry or a self IPI: edge-triggered; a vector below 16
 * is an error instead. */
static bool deliver_local(struct apic *a, uint8_t vector)
{
	if (vector < 16U) {
		return record_error(a, APIC_ESR_RECV_ILLEGAL);
	}
	return irr_set(a, vector, false);
}

void apic_accept(struct apic *a, uint8_t vector, bool level)
{
	if (!sw_enabled(a)) {
		return;
	}
	if (vector < 16U) {
		(void)record_error(a, APIC_ESR_RECV_ILLEGAL);
		return;
	}
	(void)irr_set(a, vector, level);
}

void apic_accept_nmi(struct apic *a)
{
	a->nmi_pending = true;
}

bool apic_take_nmi(struct apic *a)
{
	bool pending = a->nmi_pending;

	a->nmi_pending = false;
	return pending;
}

bool apic_nmi_pending(const struct apic *a)
{
	return a->nmi_pending;
}

/* ---- the timer ---- */

static uint64_t bus_ticks_since(const struct apic *a, uint64_t tsc)
{
	return ticks_of_tsc(tsc > a->seg_tsc ? tsc - a->seg_tsc : 0U, a->tsc_hz, APIC_BUS_HZ);
}

static uint64_t count_expiry_tsc(const struct apic *a)
{
	uint64_t after = tsc_of_ticks(a->next_ticks, a->tsc_hz, APIC_BUS_HZ);
	uint64_t at = 0;

	return __builtin_add_overflow(a->seg_tsc, after, &at) ? UINT64_MAX : at;
}

static void start_segment(struct apic *a, uint64_t tsc, uint32_t count)
{
	a->counting = true;
	a->seg_tsc = tsc;
	a->seg_count = count;
	a->next_ticks = (uint64_t)count * timer_divisor(a);
}

/* The current count of a one-shot or periodic timer whose expiries up to tsc have been
 * processed. A periodic timer reads the initial count at the instant it reloads. */
static uint32_t current_count(const struct apic *a, uint64_t tsc)
{
	if (!a->counting || timer_mode(a) == TIMER_DEADLINE) {
		return 0;
	}
	uint64_t ticks = bus_ticks_since(a, tsc) / timer_divisor(a);

	if (ticks < a->seg_count) {
		return (uint32_t)(a->seg_count - ticks);
	}
	if (timer_mode(a) != TIMER_PERIODIC || a->initial_count == 0U) {
		return 0;
	}
	return a->initial_count - (uint32_t)((ticks - a->seg_count) % a->initial_count);
}

static bool timer_fire(struct apic *a)
{
	uint32_t lvt = a->lvt[APIC_LVT_TIMER];

	if ((lvt & LVT_MASKED) != 0U) {
		return false;
	}
	return deliver_local(a, (uint8_t)(lvt & LVT_VECTOR));
}

bool apic_poll_timer(struct apic *a, uint64_t tsc)
{
	if (timer_mode(a) == TIMER_DEADLINE) {
		if (a->tsc_deadline == 0U || tsc < a->tsc_deadline) {
			return false;
		}
		a->tsc_deadline = 0;
		return timer_fire(a);
	}
	if (!a->counting || tsc < count_expiry_tsc(a)) {
		return false;
	}
	if (timer_mode(a) == TIMER_PERIODIC && a->initial_count != 0U) {
		/* The first expiry after tsc: first + k * period with k past the ticks so far. */
		uint64_t first = (uint64_t)a->seg_count * timer_divisor(a);
		uint64_t period = (uint64_t)a->initial_count * timer_divisor(a);
		uint64_t k = (bus_ticks_since(a, tsc) - first) / period + 1U;
		uint64_t next = 0;

		if (__builtin_mul_overflow(k, period, &next) ||
		    __builtin_add_overflow(next, first, &next)) {
			next = UINT64_MAX;
		}
		a->next_ticks = next;
	} else {
		a->counting = false;
	}
	return timer_fire(a);
}

uint64_t apic_next_deadline(const struct apic *a)
{
	if ((a->lvt[APIC_LVT_TIMER] & LVT_MASKED) != 0U) {
		return UINT64_MAX;
	}
	if (timer_mode(a) == TIMER_DEADLINE) {
		return a->tsc_deadline != 0U ? a->tsc_deadline : UINT64_MAX;
	}
	return a->counting ? count_expiry_tsc(a) : UINT64_MAX;
}

/* A divide or one-shot/periodic change while counting: the count goes on from its value
 * now, at the new rate or under the new mode (the fraction of a tick already counted is
 * dropped). */
static void rebase_count(struct apic *a, uint64_t tsc)
{
	if (a->counting && timer_mode(a) != TIMER_DEADLINE) {
		start_segment(a, tsc, current_count(a, tsc));
	}
}

static void write_lvt_timer(struct apic *a, uint32_t value, uint64_t tsc)
{
	uint32_t old_mode = timer_mode(a);
	uint32_t new_mode = TIMER_MODE(value);

	if ((old_mode == TIMER_DEADLINE) != (new_mode == TIMER_DEADLINE)) {
		/* SDM: a transition between TSC-deadline and the other modes disarms the timer;
		 * like KVM, the initial count is cleared too. */
		a->tsc_deadline = 0;
		a->counting = false;
		a->initial_count = 0;
	} else if (old_mode != new_mode) {
		rebase_count(a, tsc);
	}
	a->lvt[APIC_LVT_TIMER] = value;
}

/* ---- priority, EOI, IPIs ---- */

static uint32_t ppr(const struct apic *a)
{
	int isrv = bit_highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0U : (uint32_t)isrv & 0xF0U;

	return (a->tpr & 0xF0U) >= isr_class ? a->tpr : isr_class;
}

int apic_pending_vector(const struct apic *a)
{
	int v = bit_highest(a->irr);

	if (v < 0 || ((uint32_t)v & 0xF0U) <= (ppr(a) & 0xF0U)) {
		return -1;
	}
	return v;
}

void apic_ack(struct apic *a, uint8_t vector)
{
	if (!bit_test(a->irr, vector)) {
		return;
	}
	bit_clear(a->irr, vector);
	bit_set(a->isr, vector);
}

void apic_offer(struct apic *a, uint8_t vector)
{
	if (bit_test(a->irr, vector)) {
		bit_clear(a->irr, vector);
		bit_set(a->offered, vector);
	}
}

void apic_offer_end(struct apic *a, uint8_t vector, bool taken)
{
	if (!bit_test(a->offered, vector)) {
		return;
	}
	bit_clear(a->offered, vector);
	bit_set(taken ? a->isr : a->irr, vector);
}

static void eoi(struct apic *a)
{
	int v = bit_highest(a->isr);

	if (v < 0) {
		return;
	}
	bit_clear(a->isr, (uint8_t)v);
	if (bit_test(a->tmr, (uint8_t)v)) {
		bit_set(a->level_eoi, (uint8_t)v);
	}
}

int apic_take_level_eoi(struct apic *a)
{
	int v = bit_highest(a->level_eoi);

	if (v >= 0) {
		bit_clear(a->level_eoi, (uint8_t)v);
	}
	return v;
}

static uint32_t ldr(const struct apic *a)
{
	/* SDM: logical x2APIC ID = x2APIC ID[19:4] << 16 | 1 << x2APIC ID[3:0]. */
	return ((a->id >> 4) & 0xFFFFU) << 16 | 1U << (a->id & 15U);
}

bool apic_ipi_targets(const struct apic *a, const struct apic_ipi *ipi)
{
	switch (ipi->dest_kind) {
	case APIC_IPI_PHYSICAL:
		return ipi->dest == BROADCAST || ipi->dest == a->id;
	case APIC_IPI_LOGICAL: {
		uint32_t mine = ldr(a);

		return ipi->dest == BROADCAST ||
		       ((ipi->dest >> 16) == (mine >> 16) && (ipi->dest & mine & 0xFFFFU) != 0U);
	}
	case APIC_IPI_SELF:
		return ipi->source == a->id;
	case APIC_IPI_ALL:
		return true;
	case APIC_IPI_ALL_BUT_SELF:
		return ipi->source != a->id;
	default:
		return false;
	}
}

/* Decodes an ICR value already checked for reserved bits; false if it sends nothing. */
static bool icr_send(struct apic *a, uint64_t icr, struct apic_ipi *out)
{
	uint32_t mode = ICR_MODE(icr);
	uint32_t shorthand = ICR_SHORTHAND(icr);
	uint8_t vector = (uint8_t)(icr & ICR_VECTOR);

	*out = (struct apic_ipi){ .source = a->id };
	switch (mode) {
	case MODE_FIXED:
		if (vector < 16U) {
			(void)record_error(a, APIC_ESR_SEND_ILLEGAL);
			return false;
		}
		out->mode = APIC_IPI_FIXED;
		out->vector = vector;
		break;
	case MODE_LOWEST:
		(void)record_error(a, APIC_ESR_REDIRECTABLE_IPI);
		return false;
	case MODE_NMI:
		out->mode = APIC_IPI_NMI;
		break;
	case MODE_INIT:
		if ((icr & ICR_LEVEL) != 0U && (icr & ICR_ASSERT) == 0U) {
			return false; /* INIT level de-assert: it only resyncs arbitration IDs */
		}
		out->mode = APIC_IPI_INIT;
		break;
	case MODE_SIPI:
		out->mode = APIC_IPI_SIPI;
		out->vector = vector;
		break;
	default:
		return false; /* SMI, and the reserved 011b and 111b */
	}
	switch (shorthand) {
	case 0:
		out->dest_kind = (icr & ICR_LOGICAL) != 0U ? APIC_IPI_LOGICAL : APIC_IPI_PHYSICAL;
		out->dest = (uint32_t)(icr >> 32);
		return true;
	case 1:
		out->dest_kind = APIC_IPI_SELF;
		return mode == MODE_FIXED;
	case 2:
		out->dest_kind = APIC_IPI_ALL;
		return mode == MODE_FIXED;
	default:
		out->dest_kind = APIC_IPI_ALL_BUT_SELF;
		return true;
	}
}

/* ---- the MSR interface ---- */

bool apic_msr_read(struct apic *a, uint32_t msr, uint64_t tsc, uint64_t *value)
{
	(void)apic_poll_timer(a, tsc);
	if (msr == APIC_BASE_MSR) {
		*value = a->base_msr;
		return true;
	}
	if (msr == APIC_TSC_DEADLINE_MSR) {
		/* SDM: reads 0 outside TSC-deadline mode, and once the deadline has passed. */
		*value = timer_mode(a) == TIMER_DEADLINE ? a->tsc_deadline : 0U;
		return true;
	}
	if (msr >= 0x810U && msr <= 0x827U) {
		uint32_t w = (msr - 0x810U) & 7U;
		const uint32_t *set = msr < 0x818U ? a->isr : msr < 0x820U ? a->tmr : a->irr;

		*value = set[w];
		return true;
	}
	if (msr >= 0x832U && msr <= 0x837U) {
		*value = a->lvt[APIC_LVT_TIMER + (msr - 0x832U)];
		return true;
	}
	switch (msr) {
	case 0x802U:
		*value = a->id;
		return true;
	case 0x803U:
		*value = APIC_VERSION;
		return true;
	case 0x808U:
		*value = a->tpr;
		return true;
	case 0x80AU:
		*value = ppr(a);
		return true;
	case 0x80DU:
		*value = ldr(a);
		return true;
	case 0x80FU:
		*value = a->svr;
		return true;
	case 0x828U:
		*value = a->esr;
		return true;
	case 0x82FU:
		*value = a->lvt[APIC_LVT_CMCI];
		return true;
	case 0x830U:
		*value = a->icr;
		return true;
	case 0x838U:
		*value = a->initial_count;
		return true;
	case 0x839U:
		*value = current_count(a, tsc);
		return true;
	case 0x83EU:
		*value = a->divide_config;
		return true;
	default:
		/* EOI and SELF IPI are write-only; everything else is reserved. */
		return false;
	}
}

/* The writable bits of an LVT entry, or 0 if msr is not one. */
static uint32_t lvt_writable(uint32_t msr)
{
	switch (msr) {
	case 0x832U:
		return LVT_TIMER_BITS;
	case 0x835U:
	case 0x836U:
		return LVT_LINT_BITS;
	case 0x837U:
		return LVT_ERROR_BITS;
	case 0x82FU:
	case 0x833U:
	case 0x834U:
		return LVT_OTHER_BITS;
	default:
		return 0;
	}
}

static bool write_lvt(struct apic *a, uint32_t msr, uint32_t value, uint64_t tsc)
{
	uint32_t bits = lvt_writable(msr);

	value &= ~(LVT_DELIVERY_STATUS | LVT_REMOTE_IRR);
	if ((value & ~bits) != 0U || (msr == 0x832U && TIMER_MODE(value) == 3U)) {
		return false;
	}
	if (!sw_enabled(a)) {
		value |= LVT_MASKED; /* SDM: the mask cannot be cleared while software-disabled */
	}
	if (msr == 0x832U) {
		write_lvt_timer(a, value, tsc);
	} else if (msr == 0x82FU) {
		a->lvt[APIC_LVT_CMCI] = value;
	} else {
		a->lvt[APIC_LVT_TIMER + (msr - 0x832U)] = value;
	}
	return true;
}

static bool write_x2apic(struct apic *a, uint32_t msr, uint32_t v, uint64_t tsc)
{
	if (lvt_writable(msr) != 0U) {
		return write_lvt(a, msr, v, tsc);
	}
	switch (msr) {
	case 0x808U: /* TPR */
		if ((v & ~0xFFU) != 0U) {
			return false;
		}
		a->tpr = v;
		return true;
	case 0x80BU: /* EOI */
		if (v != 0U) {
			return false;
		}
		eoi(a);
		return true;
	case 0x80FU: /* SVR */
		if ((v & ~SVR_BITS) != 0U) {
			return false;
		}
		a->svr = v;
		if (!sw_enabled(a)) {
			for (int i = 0; i < APIC_LVT_COUNT; i++) {
				a->lvt[i] |= LVT_MASKED;
			}
		}
		return true;
	case 0x828U: /* ESR: a write latches the errors since the last one */
		if (v != 0U) {
			return false;
		}
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		return true;
	case 0x838U: /* initial count: ignored in TSC-deadline mode */
		if (timer_mode(a) == TIMER_DEADLINE) {
			return true;
		}
		a->initial_count = v;
		if (v == 0U) {
			a->counting = false;
		} else {
			start_segment(a, tsc, v);
		}
		return true;
	case 0x83EU: /* divide configuration */
		if ((v & ~DCR_BITS) != 0U) {
			return false;
		}
		rebase_count(a, tsc); /* the count so far, at the old divisor */
		a->divide_config = v;
		if (a->counting && timer_mode(a) != TIMER_DEADLINE) {
			a->next_ticks = (uint64_t)a->seg_count * timer_divisor(a);
		}
		return true;
	case 0x83FU: /* SELF IPI */
		if ((v & ~0xFFU) != 0U) {
			return false;
		}
		if (v < 16U) {
			(void)record_error(a, APIC_ESR_SEND_ILLEGAL | APIC_ESR_RECV_ILLEGAL);
		} else if (sw_enabled(a)) {
			(void)deliver_local(a, (uint8_t)v);
		}
		return true;
	default:
		/* ID, version, PPR, LDR, ISR, TMR, IRR, current count: read-only; the rest
		 * reserved. */
		return false;
	}
}

bool apic_msr_write(struct apic *a, uint32_t msr, uint64_t value, uint64_t tsc,
		    struct apic_ipi *ipi_out, bool *ipi)
{
	*ipi = false;
	(void)apic_poll_timer(a, tsc);
	if (msr == APIC_BASE_MSR) {
		return value == a->base_msr;
	}
	if (msr == APIC_TSC_DEADLINE_MSR) {
		/* SDM: ignored outside TSC-deadline mode; 0 disarms; a deadline already passed
		 * fires at once. */
		if (timer_mode(a) == TIMER_DEADLINE) {
			a->tsc_deadline = value;
			(void)apic_poll_timer(a, tsc);
		}
		return true;
	}
	if (msr == 0x830U) {
		if ((value & ICR_RESERVED) != 0U) {
			return false;
		}
		a->icr = value & ~ICR_IGNORED;
		*ipi = icr_send(a, a->icr, ipi_out);
		return true;
	}
	if (msr < APIC_X2APIC_MSR_FIRST || msr > APIC_X2APIC_MSR_LAST || (value >> 32) != 0U) {
		return false;
	}
	return write_x2apic(a, msr, (uint32_t)value, tsc);
}
