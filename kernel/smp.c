/* Bringing up the APs. */
#include "smp.h"

#include <stdatomic.h>

#include "acpi.h"
#include "console.h"
#include "arch/x86/cpu.h"
#include "kernel.h"
#include "lapic.h"
#include "mm.h"
#include "percpu.h"
#include "trap.h"

#define TRAMPOLINE 0x8000ULL
#define ICR_PENDING (1U << 12)
#define ICR_INIT 0x00004500U
#define ICR_STARTUP 0x00004600U
#define ICR_NMI 0x00004400U
#define ICR_FIXED 0x00004000U
#define AP_STACK_SIZE 16384U
#define AP_WAIT_SPINS 100000000UL

extern const uint8_t ap_trampoline_start[], ap_trampoline_end[];
extern const uint8_t ap_tramp_cr3[], ap_tramp_stack[], ap_tramp_entry[], ap_tramp_cpu[];
extern char boot_tables[];

static uint32_t apic_ids[SMP_MAX_CPUS];
static unsigned cpu_count = 1;
static atomic_uint online = 1;
static void (*work)(unsigned index);
static uint8_t ap_stacks[SMP_MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));

static void send_ipi(uint32_t apic_id, uint32_t command)
{
	*lapic_reg(LAPIC_ICR_HIGH) = apic_id << 24;
	*lapic_reg(LAPIC_ICR_LOW) = command;
	while ((*lapic_reg(LAPIC_ICR_LOW) & ICR_PENDING) != 0U) {
		__builtin_ia32_pause();
	}
}

static void delay(unsigned long spins)
{
	for (unsigned long i = 0; i < spins; i++) {
		__builtin_ia32_pause();
	}
}

/* Where an AP lands in 64-bit mode (on the boot tables, with its stack). */
__attribute__((noreturn)) static void ap_main(unsigned index)
{
	paging_activate();
	trap_init_cpu(index);
	percpu_init(index);
	atomic_fetch_add(&online, 1U);
	work(index);
	for (;;) {
		__asm__ volatile("cli; hlt");
	}
}

static void put_slot(const uint8_t *slot, uint64_t v)
{
	uint8_t *base = kernel_ptr(TRAMPOLINE, 4096);

	__builtin_memcpy(base + (slot - ap_trampoline_start), &v, sizeof(v));
}

unsigned smp_start(void (*ap_work)(unsigned index))
{
	uint32_t bsp = this_cpu();
	uint8_t *tramp = kernel_ptr(TRAMPOLINE, 4096);
	uint64_t size = (uint64_t)((uintptr_t)ap_trampoline_end - (uintptr_t)ap_trampoline_start);
	uint32_t listed[SMP_MAX_CPUS];
	unsigned n = acpi_cpu_apic_ids(listed, SMP_MAX_CPUS);

	work = ap_work;
	for (unsigned i = 0; i < SMP_MAX_CPUS; i++) {
		apic_ids[i] = ~0U;
	}
	apic_ids[0] = bsp;
	if (tramp == NULL || size > 4096U) {
		log_msg(LOG_WARN, "smp: no room for the AP trampoline; running on one CPU");
		return 1;
	}
	__builtin_memcpy(tramp, ap_trampoline_start, size);
	put_slot(ap_tramp_cr3, (uint64_t)(uintptr_t)boot_tables);
	put_slot(ap_tramp_entry, (uint64_t)(uintptr_t)ap_main);
	for (unsigned i = 0; i < n; i++) {
		if (listed[i] == bsp) {
			continue;
		}
		unsigned index = cpu_count;

		apic_ids[index] = listed[i];
		/* The trampoline jumps to ap_main: the stack as a call leaves it, 8 bytes below
		 * a 16-byte boundary (the ABI's; the crypto library's SSE code relies on it), the
		 * return address a zero that ends backtraces. */
		put_slot(ap_tramp_stack,
			 (uint64_t)(uintptr_t)&ap_stacks[index][AP_STACK_SIZE - sizeof(uint64_t)]);
		put_slot(ap_tramp_cpu, index);
		send_ipi(listed[i], ICR_INIT);
		delay(10000);
		send_ipi(listed[i], ICR_STARTUP | (uint32_t)(TRAMPOLINE >> 12));
		delay(1000);
		send_ipi(listed[i], ICR_STARTUP | (uint32_t)(TRAMPOLINE >> 12));
		unsigned long spins = 0;

		while (atomic_load(&online) < index + 1U && spins++ < AP_WAIT_SPINS) {
			__builtin_ia32_pause();
		}
		if (atomic_load(&online) < index + 1U) {
			log_msg(LOG_ERR, "smp: CPU with APIC ID %u did not start", listed[i]);
			break;
		}
		cpu_count++;
	}
	return cpu_count;
}

void smp_send_nmi(unsigned index)
{
	if (index < cpu_count) {
		send_ipi(apic_ids[index], ICR_NMI);
	}
}

void smp_send_wake(unsigned index)
{
	if (index < cpu_count) {
		send_ipi(apic_ids[index], ICR_FIXED | TICK_VECTOR);
	}
}

unsigned smp_cpu_count(void)
{
	return cpu_count;
}

uint32_t smp_apic_id(unsigned index)
{
	/* An AP asks for its own ID as soon as it runs, before the BSP counts it online: the
	 * ID is recorded before the AP is started. */
	return index < SMP_MAX_CPUS ? apic_ids[index] : ~0U;
}

unsigned smp_index_of(uint32_t apic_id)
{
	for (unsigned i = 0; i < cpu_count; i++) {
		if (apic_ids[i] == apic_id) {
			return i;
		}
	}
	return SMP_MAX_CPUS;
}
