/* What the protocol test guest's files share: memory access, SVSM calls made as Linux
 * makes them, checks, the vCPUs it creates and its own CPU tables. */
#ifndef TESTS_GUEST_GUEST_H
#define TESTS_GUEST_GUEST_H

#include <donjon/svsm_abi.h>
#include <donjon/types.h>
#include <donjon/vmsa.h>

#include "guest_layout.h"

#define DEBUG_EXIT_PORT 0xF4
#define SCRATCH 0x2000000ULL	  /* guest memory, below 64 MiB: 4K RMP entries */
#define SCRATCH_2M 0x4000000ULL	  /* from 64 MiB: 2M RMP entries */
#define DONJON_MEMORY 0x100000ULL /* inside Donjon's range */
#define AP_WAIT_SPINS 200000000UL
/* How long (TSC ticks, a few tenths of a second) a stopped vCPU's counter is watched not
 * to move: long enough for QEMU to schedule every vCPU thread on a loaded host. */
#define STOPPED_WATCH_TICKS 500000000ULL

struct result {
	uint64_t rax, rcx, rdx, r8, r9;
	bool completed; /* call_pending was clear when the guest exchanged it */
};

/* The startup vCPU's calling area, found through the secrets page. */
extern uint64_t caa;
extern unsigned failures;

/* The guest maps 0-4 GiB 1:1 (its page tables come from Donjon's launch). */
volatile uint8_t *ptr(uint64_t gpa);
uint64_t read64(uint64_t gpa);
void write64(uint64_t gpa, uint64_t v);

/* An SVSM call exactly as Linux makes it: call_pending = 1, VMGEXIT, then exchange
 * call_pending with 0 (non-zero means the SVSM never ran the call). */
struct result call_via(uint64_t ca, uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8);
struct result call(uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8);
/* A core-protocol call through the startup vCPU's calling area: RAX, or ~0 if the call
 * did not complete. */
uint64_t core(uint32_t id, uint64_t rcx, uint64_t rdx, uint64_t r8);

void check(bool ok, const char *what, int line);
/* bytes as lines "TAG OFFSET HEX", 32 bytes a line, for make test to read back. */
void print_hex(const char *tag, const uint8_t *bytes, unsigned len);
#define CHECK(x) check((x), #x, __LINE__)

/* A PVALIDATE or DEPOSIT list at CAA+8: header (entries, next) then entries. */
uint64_t list(const uint64_t *entries, unsigned n, unsigned next);
uint16_t list_next(void);
uint64_t pvalidate(uint64_t gpa, bool size_2m, bool validate);
/* Validate [gpa, gpa + pages * 4K) at 4K; true if every page was validated. */
bool validate_4k(uint64_t gpa, unsigned pages);
uint32_t vcpu_count(void);

/* ---- vCPUs the guest creates: each runs a job on the CPU of its APIC ID ---- */

typedef void (*job_fn)(unsigned apic);

/* A VMSA page, its calling area and a stack page, at base + 0x1000 .. base + 0x4000 (the
 * VMSA is never 2 MiB aligned). */
struct vcpu_slot {
	uint64_t vmsa, caa, stack_top;
};
struct vcpu_slot slot_at(uint64_t base);

extern volatile uint64_t ap_arg[NATIVE_MAX_VCPUS];
extern volatile uint64_t ap_caa[NATIVE_MAX_VCPUS];
extern volatile uint64_t ap_progress[NATIVE_MAX_VCPUS];

/* Build the slot's VMSA (VMPL2, long mode, guest_ap_entry) to run job on apic. */
void prepare_vcpu(unsigned apic, struct vcpu_slot s, job_fn job, uint64_t arg);
/* prepare_vcpu, then CREATE_VCPU it for apic. Returns CREATE_VCPU's result. */
uint64_t start_vcpu(unsigned apic, struct vcpu_slot s, job_fn job, uint64_t arg);
uint64_t delete_vcpu(uint64_t vmsa);
/* Wait until ap_progress[apic] exceeds `above`; false after AP_WAIT_SPINS. */
bool progress_passes(unsigned apic, uint64_t above);
/* True if ap_progress[apic] never exceeds `limit` during `ticks` TSC ticks. */
bool progress_stays(unsigned apic, uint64_t limit, uint64_t ticks);
void wait_ticks(uint64_t ticks);

/* Jobs. */
void job_count_exits(unsigned apic); /* CPUID (an exit) and a count, forever */
void job_spin(unsigned apic);	     /* a count, forever, never leaving guest mode */
void build_vmsa(uint64_t vmsa, void (*entry)(void), uint64_t stack_top);

/* Assembly entry points (entry.S). */
void guest_ap_entry(void);
void guest_halt(void);

/* ---- the guest's own GDT and IDT: #UD and #GP come back as a recorded vector ---- */

#define GDT_CODE 0x08U
#define GDT_DATA 0x10U
#define GDT_TSS 0x18U
#define GDT_GS_DATA 0x28U /* a data segment whose base is guest_gs_page */
#define GDT_FS_TCB 0x30U  /* a data segment whose base is guest_tcb */

/* What FS points at: the layout stack-protector code expects (canary at 0x28). */
struct guest_tcb {
	uint64_t self;
	uint64_t unused[4];
	uint64_t canary;
};
extern struct guest_tcb guest_tcb;

extern uint64_t guest_gdt[8];
void guest_tables_load(void);
/* Run the instruction sequence `insn` (asm text); the vector of the exception it raised
 * lands in guest_trap_vector (~0 if none). RAX, RCX and RDX are clobbered. */
extern volatile uint64_t guest_trap_vector;
extern volatile uint64_t guest_trap_resume;
#define TRAP_NONE (~0ULL)
#define RUN_TRAPPING(insn, ...)                                                                    \
	do {                                                                                       \
		guest_trap_vector = TRAP_NONE;                                                     \
		__asm__ volatile("leaq 1f(%%rip), %%rax\n\t"                                       \
				 "movq %%rax, guest_trap_resume(%%rip)\n\t" insn "\n1:"            \
				 :                                                                 \
				 : __VA_ARGS__                                                     \
				 : "rax", "rcx", "rdx", "memory");                                 \
	} while (0)

/* The check suites: one PASS/FAIL line per check. */
struct guest_check {
	const char *name;
	void (*fn)(void);
};
void run_checks(const struct guest_check *checks, unsigned count, unsigned *passed,
		unsigned *failed);
extern const struct guest_check core_checks[];
extern const unsigned core_check_count;
extern const struct guest_check hostile_checks[];
extern const unsigned hostile_check_count;
/* Instructions a guest here must not execute, and CPUID's answer for them. */
void check_intercepted_instructions(void);
/* The host's side of the GHCB protocol and the guest's own attestation report. */
void check_ghcb_and_own_report(void);
/* The attestation protocol, as configfs-tsm uses it; the report printed. */
void check_attest_protocol(void);
/* True if Donjon runs a vTPM for this guest (the launch's parameters say so). */
bool guest_has_vtpm(void);
void check_vtpm_protocol(void);
void check_vtpm_broken(void);
void bench_calls(void);
void bench_shootdown(void);
void bench_attest(void);
void bench_vtpm(void);

#endif
