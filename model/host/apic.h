/* A model of one vCPU's local APIC in x2APIC mode (Intel SDM vol. 3, "Advanced Programmable
 * Interrupt Controller"), for the guest whose host Donjon plays on the native platform. The
 * guest reaches it through intercepted RDMSR/WRMSR of APIC_BASE (0x1B), the x2APIC registers
 * (0x800-0x8FF) and IA32_TSC_DEADLINE (0x6E0); the caller injects what apic_pending_vector()
 * names and delivers the IPIs an ICR write produces. Time is the TSC the caller passes.
 *
 * Choices where the SDM leaves room, or where the model is smaller than a processor:
 * - The APIC timer counts a 1 GHz bus clock (KVM's default too) divided by the divide
 *   configuration, derived exactly from the TSC at the configured tsc_hz.
 * - The model never leaves x2APIC mode: an APIC_BASE write that changes anything is refused
 *   (see apic_msr_write).
 * - While software-disabled (SVR bit 8 clear), fixed interrupts are dropped, as KVM does; the
 *   LVT entries are all masked then, as the SDM requires.
 * - LINT0, LINT1, thermal, performance and CMCI entries are stored; nothing here raises them.
 * - No spurious interrupts: the caller takes the vector the model names, atomically. */
#ifndef MODEL_HOST_APIC_H
#define MODEL_HOST_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_BASE_MSR 0x1BU
#define APIC_TSC_DEADLINE_MSR 0x6E0U
#define APIC_X2APIC_MSR_FIRST 0x800U
#define APIC_X2APIC_MSR_LAST 0x8FFU
#define APIC_BUS_HZ 1000000000ULL
/* Version 0x14 (an integrated APIC), max LVT entry 6: timer, thermal, perf, LINT0, LINT1,
 * error and CMCI. */
#define APIC_VERSION 0x00060014U
#define APIC_BASE_ADDRESS 0xFEE00000ULL
#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_EN (1ULL << 11)

/* The ESR's bits in x2APIC mode (the others are reserved there). */
#define APIC_ESR_REDIRECTABLE_IPI (1U << 4)
#define APIC_ESR_SEND_ILLEGAL (1U << 5)
#define APIC_ESR_RECV_ILLEGAL (1U << 6)

enum apic_lvt {
	APIC_LVT_CMCI,
	APIC_LVT_TIMER,
	APIC_LVT_THERMAL,
	APIC_LVT_PERF,
	APIC_LVT_LINT0,
	APIC_LVT_LINT1,
	APIC_LVT_ERROR,
	APIC_LVT_COUNT,
};

enum apic_ipi_mode { APIC_IPI_FIXED, APIC_IPI_NMI, APIC_IPI_INIT, APIC_IPI_SIPI };

enum apic_ipi_dest {
	APIC_IPI_PHYSICAL,    /* dest is an x2APIC ID, or 0xFFFFFFFF for every APIC */
	APIC_IPI_LOGICAL,     /* dest is cluster << 16 | member bits, or 0xFFFFFFFF for all */
	APIC_IPI_SELF,	      /* the sender only */
	APIC_IPI_ALL,	      /* every APIC, the sender included */
	APIC_IPI_ALL_BUT_SELF /* every APIC but the sender */
};

/* An IPI an ICR write sends; apic_ipi_targets() says which APICs receive it. A fixed IPI is
 * edge-triggered whatever the ICR's trigger mode (the SDM's xAPIC issues a level one as
 * edge): deliver it with apic_accept(..., false). */
struct apic_ipi {
	enum apic_ipi_mode mode;
	enum apic_ipi_dest dest_kind;
	uint32_t dest;	 /* for APIC_IPI_PHYSICAL and APIC_IPI_LOGICAL; 0 for the shorthands */
	uint32_t source; /* the sender's x2APIC ID */
	uint8_t vector;	 /* FIXED: the vector (16-255); SIPI: the start page; NMI, INIT: 0 */
};

/* One vCPU's local APIC. Fields are the model's; read them only in tests. */
struct apic {
	uint32_t id;
	uint64_t base_msr;
	uint64_t tsc_hz;
	uint32_t tpr;
	uint32_t svr;
	uint32_t esr;	      /* as the guest last latched it by writing the ESR */
	uint32_t esr_pending; /* errors since that write */
	uint32_t lvt[APIC_LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t level_eoi[8]; /* level-triggered vectors an EOI retired, for apic_take_level_eoi */
	uint32_t offered[8];   /* out of IRR while offered to the running guest (apic_offer) */
	uint64_t icr;
	bool nmi_pending;
	/* The timer. One-shot and periodic count from seg_count at seg_tsc; a divide or mode
	 * change starts a new segment at the count then current. */
	uint32_t initial_count;
	uint32_t divide_config;
	bool counting;	       /* one-shot or periodic, and not yet expired (one-shot) */
	uint64_t seg_tsc;      /* TSC at which the current count segment began */
	uint32_t seg_count;    /* the current count at seg_tsc */
	uint64_t next_ticks;   /* bus ticks after seg_tsc at which the next expiry happens */
	uint64_t tsc_deadline; /* TSC-deadline mode: the armed deadline, 0 if disarmed */
};

/* The state after power-up (SDM "Local APIC State After Power-Up or Reset"), in x2APIC mode
 * as the platform boots the guest: APIC_BASE = 0xFEE00000 | EN | EXTD (| BSP), SVR 0xFF
 * (software-disabled), every LVT masked, everything else 0. False, and nothing set, for the
 * reserved ID 0xFFFFFFFF or a tsc_hz outside [TSC_HZ_MIN, TSC_HZ_MAX] (ticks.h). */
bool apic_init(struct apic *a, uint32_t id, bool bsp, uint64_t tsc_hz);

/* RDMSR and WRMSR of APIC_BASE, 0x800-0x8FF or IA32_TSC_DEADLINE at TSC tsc. Each first
 * brings the timer up to tsc (apic_poll_timer). False means the caller injects #GP(0); the
 * access itself then changed nothing. What real x2APIC hardware answers with
 * #GP (SDM "x2APIC Register Address Space", "Reserved Bit Checking"): a reserved register
 * (including the xAPIC-only APR, RRD, DFR and ICR-high), a read of EOI or SELF IPI, a write
 * to a read-only register (ID, version, PPR, LDR, ISR, TMR, IRR, current count), a non-zero
 * EOI or ESR write, non-zero reserved bits (the upper 32 bits of everything but the ICR; SVR
 * bits 10-31 (EOI-broadcast suppression is not offered); the reserved LVT bits, and the
 * timer mode 11b; divide configuration bit 2 and bits 4-31; ICR bits 13, 16, 17 and 20-31).
 * Read-only bits inside writable registers (LVT delivery status and remote IRR, ICR bit 12)
 * are ignored on writes. The model's own refusals: an APIC_BASE write that is not the
 * current value (leaving x2APIC mode for xAPIC or EN=0 with EXTD=1 is #GP per the SDM;
 * disabling the APIC or moving its base is legal on hardware, but this model has no xAPIC
 * or disabled mode: Linux does it only in x2apic_disable(), when it believes x2APIC
 * unavailable), and any MSR outside those three ranges.
 * A write to the ICR sets *ipi and fills *ipi_out when it sends an IPI; *ipi is false after
 * every other write. An ICR write sends nothing (and is not refused) for: a fixed vector
 * below 16 (ESR send-illegal-vector), lowest priority (ESR redirectable-IPI, as x2APIC
 * processors without it do), SMI (no SMM here), the reserved modes 011b and 111b, INIT
 * level de-assert, and the SDM's invalid combinations of the self and all-including-self
 * shorthands with anything but fixed. A SELF IPI write is delivered to this APIC directly. */
bool apic_msr_read(struct apic *a, uint32_t msr, uint64_t tsc, uint64_t *value);
bool apic_msr_write(struct apic *a, uint32_t msr, uint64_t value, uint64_t tsc,
		    struct apic_ipi *ipi_out, bool *ipi);

/* A fixed interrupt arrives (from an IPI or the IOAPIC): IRR, and TMR for level. A vector
 * below 16 sets ESR receive-illegal-vector instead; a software-disabled APIC drops it. */
void apic_accept(struct apic *a, uint8_t vector, bool level);
/* An NMI arrives; apic_take_nmi() reports and clears the pending NMI. */
void apic_accept_nmi(struct apic *a);
bool apic_take_nmi(struct apic *a);
bool apic_nmi_pending(const struct apic *a);

/* Fires the timer if it expired by tsc; a periodic timer re-arms (expiries it missed
 * collapse into one, IRR being one bit). True if IRR gained a bit (the timer's vector, or
 * the error vector for an illegal timer vector): the caller re-checks apic_pending_vector. */
bool apic_poll_timer(struct apic *a, uint64_t tsc);
/* The TSC value at which the caller must call apic_poll_timer() for the timer to interrupt
 * in time; UINT64_MAX if the timer is disarmed or masked (a masked timer's expiries change
 * only what the registers read, and those are computed when read). It changes only in
 * apic_msr_read, apic_msr_write and apic_poll_timer. */
uint64_t apic_next_deadline(const struct apic *a);

/* The highest IRR vector whose priority class (vector >> 4) is above PPR's, or -1. Guest
 * RFLAGS.IF and interrupt shadows are the caller's to check. */
int apic_pending_vector(const struct apic *a);
/* The caller injected vector (apic_pending_vector's): IRR to ISR. Nothing if it is not in IRR. */
void apic_ack(struct apic *a, uint8_t vector);
/* For a caller that offers vector (apic_pending_vector's) to a running guest, which takes
 * it when it can: it leaves IRR at once, so that the same vector sent again while the guest
 * runs is pending again (as on hardware, where the guest accepted the first one at some
 * moment of the run); apic_offer_end, after the run, puts it in ISR if the guest took it,
 * back in IRR if not. Nothing if vector is not in IRR. */
void apic_offer(struct apic *a, uint8_t vector);
void apic_offer_end(struct apic *a, uint8_t vector, bool taken);
/* Whether this APIC is one of ipi's destinations (physical ID, x2APIC logical cluster and
 * member bits, or the shorthands relative to ipi->source). */
bool apic_ipi_targets(const struct apic *a, const struct apic_ipi *ipi);
/* The highest level-triggered vector an EOI retired since the last call, or -1: an IOAPIC
 * model clears that vector's remote IRR. */
int apic_take_level_eoi(struct apic *a);

#endif
