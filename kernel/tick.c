/* This CPU's wake-ups at TSC deadlines (hostif.h, "time"): the local APIC timer in one-shot
 * mode at vector TICK_VECTOR, measured once against the PIT. Donjon runs with interrupts
 * disabled; they are enabled only inside the guest's VMRUN window (the platform intercepts
 * physical interrupts there), in tick_take and in tick_wait. The 8259 PICs and LINT0 are
 * masked, so nothing the firmware left armed reaches Donjon. */
#include "hostif.h"

#include "arch/x86/cpu.h"
#include "kernel.h"
#include "lapic.h"
#include "percpu.h"
#include "trap.h"

#define SVR_ENABLE (1U << 8)
#define LVT_MASKED (1U << 16)
#define DIVIDE_BY_1 0xBU

#define PIC1_DATA 0x21U
#define PIC2_DATA 0xA1U
#define PIT_CH2 0x42U
#define PIT_CONTROL 0x43U
#define PORT_61 0x61U
#define PORT_61_GATE2 0x01U
#define PORT_61_SPEAKER 0x02U
#define PORT_61_OUT2 0x20U
/* Channel 2, LSB then MSB, mode 0 (interrupt on terminal count), binary. */
#define PIT_CH2_MODE0 0xB0U
#define PIT_HZ 1193182ULL
/* 50 ms of the PIT. */
#define CALIBRATE_TICKS 59659U
#define CALIBRATE_SPINS 200000000UL

static uint64_t tsc_rate;
static uint64_t lapic_rate;
/* Each CPU's last tick_arm deadline (UINT64_MAX: stopped). */
static uint64_t armed_at[SMP_MAX_CPUS] = { [0 ... SMP_MAX_CPUS - 1] = UINT64_MAX };

uint64_t tsc_hz(void)
{
	return tsc_rate;
}

void tick_cpu_init(void)
{
	*lapic_reg(LAPIC_TIMER_INITIAL) = 0;
	*lapic_reg(LAPIC_LVT_LINT0) = LVT_MASKED;
	*lapic_reg(LAPIC_TPR) = 0;
	*lapic_reg(LAPIC_SVR) = SVR_ENABLE | TICK_SPURIOUS_VECTOR;
	*lapic_reg(LAPIC_TIMER_DIVIDE) = DIVIDE_BY_1;
	*lapic_reg(LAPIC_LVT_TIMER) = TICK_VECTOR;
}

bool tick_init(void)
{
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
	tick_cpu_init();
	/* The timer counts down from its maximum, masked, while the PIT counts 50 ms. */
	*lapic_reg(LAPIC_LVT_TIMER) = LVT_MASKED | TICK_VECTOR;
	outb(PORT_61, (uint8_t)((inb(PORT_61) & ~PORT_61_SPEAKER) | PORT_61_GATE2));
	outb(PIT_CONTROL, PIT_CH2_MODE0);
	outb(PIT_CH2, (uint8_t)CALIBRATE_TICKS);
	outb(PIT_CH2, (uint8_t)(CALIBRATE_TICKS >> 8));
	*lapic_reg(LAPIC_TIMER_INITIAL) = 0xFFFFFFFFU;
	uint64_t tsc0 = rdtsc();
	uint32_t count0 = *lapic_reg(LAPIC_TIMER_CURRENT);
	unsigned long spins = 0;

	while ((inb(PORT_61) & PORT_61_OUT2) == 0U && spins++ < CALIBRATE_SPINS) {
		__builtin_ia32_pause();
	}
	uint64_t tsc1 = rdtsc();
	uint32_t count1 = *lapic_reg(LAPIC_TIMER_CURRENT);

	*lapic_reg(LAPIC_TIMER_INITIAL) = 0;
	*lapic_reg(LAPIC_LVT_TIMER) = TICK_VECTOR;
	if (spins >= CALIBRATE_SPINS || count1 >= count0) {
		log_msg(LOG_ERR, "tick: the PIT or the local APIC timer does not count");
		return false;
	}
	tsc_rate = (tsc1 - tsc0) * PIT_HZ / CALIBRATE_TICKS;
	lapic_rate = (uint64_t)(count0 - count1) * PIT_HZ / CALIBRATE_TICKS;
	log_msg(LOG_INFO, "tick: TSC %lu kHz, local APIC timer %lu kHz", tsc_rate / 1000U,
		lapic_rate / 1000U);
	/* What tick_arm's arithmetic needs: both below 2^32 Hz. */
	if (tsc_rate < 1000000U || tsc_rate >= (1ULL << 32) || lapic_rate < 1000000U ||
	    lapic_rate >= (1ULL << 32)) {
		log_msg(LOG_ERR, "tick: rates outside 1 MHz to 4 GHz");
		tsc_rate = 0;
		return false;
	}
	return true;
}

void tick_arm(uint64_t deadline)
{
	uint64_t now = rdtsc();
	uint64_t delta = 0;

	armed_at[percpu_index()] = deadline;
	if (deadline == UINT64_MAX || tsc_rate == 0U) {
		*lapic_reg(LAPIC_TIMER_INITIAL) = 0;
		return;
	}
	delta = deadline > now ? deadline - now : 0U;
	/* At most 1/8 s at a time (a later wake-up re-arms): delta * lapic_rate stays below
	 * 2^61 and the count below 2^29. */
	if (delta > tsc_rate / 8U) {
		delta = tsc_rate / 8U;
	}
	uint64_t count = delta * lapic_rate / tsc_rate + 1U;

	*lapic_reg(LAPIC_TIMER_INITIAL) = (uint32_t)count;
}

uint64_t tick_armed(void)
{
	return armed_at[percpu_index()];
}

void tick_take(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

void tick_wait(uint64_t deadline)
{
	tick_arm(deadline);
	/* STI's shadow covers HLT: an interrupt that is already pending ends the halt. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}
