/* The test guest's library: memory, SVSM calls, checks, the vCPUs it creates, its CPU
 * tables. */
#include "guest.h"

#include "arch/x86/cpu.h"
#include "console.h"
#include "vmsa_init.h"

uint64_t caa;
unsigned failures;
volatile uint64_t ap_arg[NATIVE_MAX_VCPUS];
volatile uint64_t ap_caa[NATIVE_MAX_VCPUS];
volatile uint64_t ap_progress[NATIVE_MAX_VCPUS];
static volatile job_fn ap_job[NATIVE_MAX_VCPUS];

volatile uint8_t *ptr(uint64_t gpa)
{
	/* SAFETY: the guest's page tables map every guest physical address below 4 GiB to
	 * the same virtual address; a page the guest may not use faults in the NPT instead. */
	return (volatile uint8_t *)(uintptr_t)gpa;
}

uint64_t read64(uint64_t gpa)
{
	/* SAFETY: as ptr(); the callers pass 8-byte aligned addresses. */
	return *(volatile uint64_t *)(uintptr_t)gpa;
}

void write64(uint64_t gpa, uint64_t v)
{
	/* SAFETY: as ptr(); the callers pass 8-byte aligned addresses. */
	*(volatile uint64_t *)(uintptr_t)gpa = v;
}

struct result call_via(uint64_t ca, uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8v)
{
	register uint64_t r8 __asm__("r8") = r8v;
	register uint64_t r9 __asm__("r9") = 0;
	struct result res;

	ptr(ca)[SVSM_CA_CALL_PENDING_OFF] = 1;
	__asm__ volatile("rep; vmmcall"
			 : "+a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8), "+r"(r9)
			 :
			 : "memory");
	uint8_t pending =
		__atomic_exchange_n(&ptr(ca)[SVSM_CA_CALL_PENDING_OFF], 0, __ATOMIC_SEQ_CST);

	res = (struct result){ rax, rcx, rdx, r8, r9, pending == 0U };
	return res;
}

struct result call(uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8v)
{
	return call_via(caa, rax, rcx, rdx, r8v);
}

uint64_t core(uint32_t id, uint64_t rcx, uint64_t rdx, uint64_t r8v)
{
	/* The core protocol is protocol 0: RAX is just the call ID. */
	struct result r = call((uint64_t)id, rcx, rdx, r8v);

	return r.completed ? r.rax : ~0ULL;
}

void check(bool ok, const char *what, int line)
{
	if (!ok && failures++ < 5U) {
		kprintf("    guest:%d: %s", line, what);
	}
}

void print_hex(const char *tag, const uint8_t *bytes, unsigned len)
{
	char line[2 * 32 + 1];

	for (unsigned off = 0; off < len; off += 32U) {
		fmt_hex(line, bytes + off, len - off < 32U ? len - off : 32U);
		kprintf("%s %03x %s", tag, off, line);
	}
}

uint64_t list(const uint64_t *entries, unsigned n, unsigned next)
{
	uint64_t at = caa + 8;

	write64(at, n | (uint64_t)next << 16);
	for (unsigned i = 0; i < n; i++) {
		write64(at + 8 + 8 * (uint64_t)i, entries[i]);
	}
	return at;
}

uint16_t list_next(void)
{
	return (uint16_t)(read64(caa + 8) >> 16);
}

uint64_t pvalidate(uint64_t gpa, bool size_2m, bool validate)
{
	uint64_t e = gpa | (size_2m ? 1U : 0U) | (validate ? PVAL_ENTRY_VALIDATE : 0U);

	return core(SVSM_CORE_PVALIDATE, list(&e, 1, 0), 0, 0);
}

bool validate_4k(uint64_t gpa, unsigned pages)
{
	uint64_t e[64];
	unsigned n = 0;

	/* Lists of up to 64 entries. */
	for (unsigned p = 0; p < pages; p++) {
		e[n++] = (gpa + (uint64_t)p * PAGE_SIZE) | PVAL_ENTRY_VALIDATE;
		if ((n == 64U || p + 1U == pages) &&
		    core(SVSM_CORE_PVALIDATE, list(e, n, 0), 0, 0) != SVSM_SUCCESS) {
			return false;
		}
		n = n == 64U ? 0U : n;
	}
	return true;
}

uint32_t vcpu_count(void)
{
	return *(volatile uint32_t *)ptr(GUEST_PARAMS);
}

struct vcpu_slot slot_at(uint64_t base)
{
	return (struct vcpu_slot){ base + 0x1000, base + 0x2000, base + 0x4000 };
}

void build_vmsa(uint64_t vmsa, void (*entry)(void), uint64_t stack_top)
{
	vmsa_init_long_mode((uint8_t *)ptr(vmsa), (uint64_t)(uintptr_t)entry, stack_top,
			    GUEST_PAGE_TABLES);
}

void prepare_vcpu(unsigned apic, struct vcpu_slot s, job_fn job, uint64_t arg)
{
	ap_job[apic] = job;
	ap_arg[apic] = arg;
	ap_caa[apic] = s.caa;
	ap_progress[apic] = 0;
	build_vmsa(s.vmsa, guest_ap_entry, s.stack_top);
}

uint64_t start_vcpu(unsigned apic, struct vcpu_slot s, job_fn job, uint64_t arg)
{
	prepare_vcpu(apic, s, job, arg);
	return core(SVSM_CORE_CREATE_VCPU, s.vmsa, s.caa, apic);
}

uint64_t delete_vcpu(uint64_t vmsa)
{
	return core(SVSM_CORE_DELETE_VCPU, vmsa, 0, 0);
}

bool progress_passes(unsigned apic, uint64_t above)
{
	for (unsigned long i = 0; i < AP_WAIT_SPINS; i++) {
		if (ap_progress[apic] > above) {
			return true;
		}
		__builtin_ia32_pause();
	}
	return false;
}

bool progress_stays(unsigned apic, uint64_t limit, uint64_t ticks)
{
	for (uint64_t start = rdtsc(); rdtsc() - start < ticks;) {
		if (ap_progress[apic] > limit) {
			return false;
		}
		__builtin_ia32_pause();
	}
	return ap_progress[apic] <= limit;
}

void wait_ticks(uint64_t ticks)
{
	for (uint64_t start = rdtsc(); rdtsc() - start < ticks;) {
		__builtin_ia32_pause();
	}
}

void job_count_exits(unsigned apic)
{
	uint32_t r[4];

	for (;;) {
		cpuid(0, 0, r);
		ap_progress[apic]++;
	}
}

void job_spin(unsigned apic)
{
	for (;;) {
		ap_progress[apic]++;
	}
}

void guest_ap_main(void);

/* A vCPU the guest created, on the CPU with its APIC ID (entry.S calls this). */
void guest_ap_main(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	unsigned apic = r[1] >> 24;

	if (apic >= NATIVE_MAX_VCPUS || ap_job[apic] == NULL) {
		return;
	}
	guest_tables_load();
	ap_job[apic](apic);
}

/* ---- CPU tables ---- */

void guest_trap_ud(void);
void guest_trap_gp(void);

volatile uint64_t guest_trap_vector = TRAP_NONE;
volatile uint64_t guest_trap_resume;
uint64_t guest_gdt[8] __attribute__((aligned(16)));
static struct idt_gate idt[32] __attribute__((aligned(16)));

static struct idt_gate gate(void (*handler)(void))
{
	uint64_t off = (uint64_t)(uintptr_t)handler;

	return (struct idt_gate){ .offset_low = (uint16_t)off,
				  .selector = GDT_CODE,
				  .type = 0x8E,
				  .offset_mid = (uint16_t)(off >> 16),
				  .offset_high = (uint32_t)(off >> 32) };
}

void guest_tables_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(guest_gdt) - 1, (uint64_t)(uintptr_t)guest_gdt },
				  idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	uint64_t tcb = (uint64_t)(uintptr_t)&guest_tcb;
	uint16_t fs = GDT_FS_TCB;

	if (guest_gdt[1] == 0U) {
		guest_gdt[1] = 0x00AF9A000000FFFFULL;
		guest_gdt[2] = 0x00CF92000000FFFFULL;
		/* A data segment based at guest_tcb (below 4 GiB): loading FS with it sets the
		 * FS base without a WRMSR, which the host would not allow. */
		guest_gdt[GDT_FS_TCB / 8U] = 0x00CF92000000FFFFULL | ((tcb & 0xFFFFFFU) << 16) |
					     ((tcb >> 24 & 0xFFU) << 56);
		guest_tcb.self = tcb;
		idt[6] = gate(guest_trap_ud);
		idt[13] = gate(guest_trap_gp);
	}
	/* The selectors Donjon's launch gave (CS 0x08, data 0x10) are this table's too. */
	__asm__ volatile("lgdt %0\n\tlidt %1\n\tmov %2, %%fs"
			 :
			 : "m"(gdtr), "m"(idtr), "r"(fs)
			 : "memory");
}
