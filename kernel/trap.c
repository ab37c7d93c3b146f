/* GDT, TSS, IDT and the exception report (vector, error code, registers, backtrace). */
#include "trap.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/user.h"
#include "console.h"
#include "kernel.h"
#include "percpu.h"

#define MAX_CPUS 8U
#define IST_STACK_SIZE 8192U
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18
/* SYSRET's base: its 64-bit CS is the base + 16, its SS the base + 8 (user.h). */
#define SEL_SYSRET_BASE 0x28ULL
#define USER_ENTRY_STACK 4096U
#define MSR_EFER 0xC0000080U
#define EFER_SCE (1ULL << 0)
#define CR4_UMIP (1ULL << 11)
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)
#define CPUID7_EBX_SMEP (1U << 7)
#define CPUID7_EBX_SMAP (1U << 20)
#define CPUID7_ECX_UMIP (1U << 2)
#define MSR_STAR 0xC0000081U
#define MSR_LSTAR 0xC0000082U
#define MSR_FMASK 0xC0000084U
#define MSR_GS_BASE 0xC0000101U
#define MSR_KERNEL_GS_BASE 0xC0000102U
/* What SYSCALL clears in RFLAGS: TF, IF, DF, IOPL, NT, AC. */
#define SYSCALL_FMASK 0x47700ULL

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "64-bit TSS");

struct cpu_tables {
	/* null, code, data, TSS (two slots), SYSRET's unused 32-bit code, user data, user
	 * code */
	uint64_t gdt[8];
	struct tss tss;
	struct user_cpu user;
	uint8_t ist_stack[3][IST_STACK_SIZE] __attribute__((aligned(16)));
	uint8_t user_stack[USER_ENTRY_STACK] __attribute__((aligned(16)));
};

extern const uint64_t trap_entries[32];
void tick_entry(void);
void tick_spurious_entry(void);

static struct cpu_tables cpus[MAX_CPUS];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static bool idt_ready;
static uint64_t expect_vector = ~0ULL;
static uint64_t expect_resume;
static uint64_t expect_hits;

static const char *const names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM no FPU",
	"#DF double fault",
	"coproc",
	"#TS invalid TSS",
	"#NP not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"15",
	"#MF x87",
	"#AC alignment",
	"#MC machine check",
	"#XM SIMD",
	"#VE",
	"#CP control protection",
	"22",
	"23",
	"24",
	"25",
	"26",
	"27",
	"#HV",
	"#VC",
	"#SX",
	"31",
};

static void idt_gate_set(unsigned v, uint64_t off, uint8_t ist)
{
	idt[v] = (struct idt_gate){
		.offset_low = (uint16_t)off,
		.selector = SEL_CODE,
		.ist = ist,
		.type = 0x8E,
		.offset_mid = (uint16_t)(off >> 16),
		.offset_high = (uint32_t)(off >> 32),
	};
}

static void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++) {
		/* NMI, #DF and #MC run on their own stacks: the faulting stack may be bad. */
		idt_gate_set(v, trap_entries[v], v == 2 ? 1 : v == 8 ? 2 : v == 18 ? 3 : 0);
	}
	idt_gate_set(TICK_VECTOR, (uint64_t)(uintptr_t)tick_entry, 0);
	idt_gate_set(TICK_SPURIOUS_VECTOR, (uint64_t)(uintptr_t)tick_spurious_entry, 0);
	idt_ready = true;
}

/* Where the CPU has them: SMEP (the kernel never runs a user page), SMAP (it never reads or
 * writes one through a user mapping: it copies through the physical addresses a service's
 * page tables give, kernel/service/uspace.c) and UMIP (ring 3 cannot read the GDT, IDT,
 * LDT or TR). A CR4 bit the CPU lacks is reserved, so each is asked of CPUID first. */
static void protect_supervisor(void)
{
	uint32_t r[4];
	uint64_t cr4 = 0;

	cpuid(0, 0, r);
	if (r[0] < 7U) {
		return;
	}
	cpuid(7, 0, r);
	cr4 |= (r[1] & CPUID7_EBX_SMEP) != 0U ? CR4_SMEP : 0U;
	cr4 |= (r[1] & CPUID7_EBX_SMAP) != 0U ? CR4_SMAP : 0U;
	cr4 |= (r[2] & CPUID7_ECX_UMIP) != 0U ? CR4_UMIP : 0U;
	if (cr4 != 0U) {
		write_cr4(read_cr4() | cr4);
	}
}

void trap_init_cpu(unsigned cpu)
{
	struct cpu_tables *t = &cpus[cpu];
	uint64_t tss = (uint64_t)(uintptr_t)&t->tss;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)t->gdt },
				  idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	if (!idt_ready) {
		idt_init();
	}
	for (unsigned i = 0; i < 3; i++) {
		t->tss.ist[i] = (uint64_t)(uintptr_t)&t->ist_stack[i][IST_STACK_SIZE];
	}
	t->tss.iomap_base = sizeof(struct tss);
	/* Exceptions and interrupts from ring 3 start on the entry stack, as SYSCALL does. */
	t->user.stack_top = (uint64_t)(uintptr_t)&t->user_stack[USER_ENTRY_STACK];
	t->tss.rsp[0] = t->user.stack_top;
	t->gdt[0] = 0;
	t->gdt[1] = 0x00AF9A000000FFFFULL;
	t->gdt[2] = 0x00CF92000000FFFFULL;
	t->gdt[3] = (sizeof(struct tss) - 1) | ((tss & 0xFFFFFF) << 16) | (0x89ULL << 40) |
		    ((tss >> 24 & 0xFF) << 56);
	t->gdt[4] = tss >> 32;
	t->gdt[5] = 0;
	t->gdt[6] = 0x00CFF2000000FFFFULL; /* 0x30: data, DPL 3 */
	t->gdt[7] = 0x00AFFA000000FFFFULL; /* 0x38: 64-bit code, DPL 3 */
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%ss\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gdtr), "i"(SEL_CODE), "r"(SEL_DATA), "r"(SEL_TSS), "m"(idtr)
			 : "rax", "memory");
	wrmsr(MSR_STAR, (SEL_SYSRET_BASE << 48) | ((uint64_t)SEL_CODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)user_syscall_entry);
	wrmsr(MSR_FMASK, SYSCALL_FMASK);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_GS_BASE, 0);
	wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)(uintptr_t)&t->user);
	protect_supervisor();
}

struct user_cpu *user_cpu_this(void)
{
	return &cpus[percpu_index()].user;
}

const char *trap_vector_name(uint64_t v)
{
	return v < 32U ? names[v] : "interrupt";
}

void trap_expect(uint64_t vector, uint64_t resume)
{
	expect_vector = vector;
	expect_resume = resume;
}

uint64_t trap_expected_hits(void)
{
	return expect_hits;
}

static void backtrace(uint64_t rbp)
{
	for (unsigned depth = 0; depth < 16 && rbp != 0U && (rbp & 7U) == 0U; depth++) {
		const uint64_t *frame = kernel_ptr(rbp, 16);
		char sym[64];

		if (frame == NULL || frame[1] == 0U) {
			break;
		}
		log_msg(LOG_ERR, "  #%u %016lx %s", depth, frame[1],
			kernel_symbol(frame[1], sym, sizeof(sym)));
		rbp = frame[0];
	}
}

void trap_handler(struct trap_frame *f);

void trap_handler(struct trap_frame *f)
{
	uint64_t cr2 = 0;

	/* NMIs only kick a CPU out of a guest (smp_send_nmi): nothing to do here. */
	if (f->vector == 2U) {
		return;
	}
	if (f->vector == expect_vector) {
		expect_vector = ~0ULL;
		expect_hits++;
		f->rip = expect_resume;
		return;
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	char sym[64];

	log_msg(LOG_ERR, "exception %u (%s), error code 0x%lx, on CPU %u", (unsigned)f->vector,
		names[f->vector & 31U], f->error, this_cpu());
	log_msg(LOG_ERR, "  rip %016lx %s", f->rip, kernel_symbol(f->rip, sym, sizeof(sym)));
	log_msg(LOG_ERR, "  rsp %016lx rflags %016lx cr2 %016lx cs %lx", f->rsp, f->rflags, cr2,
		f->cs);
	log_msg(LOG_ERR, "  rax %016lx rbx %016lx rcx %016lx rdx %016lx", f->rax, f->rbx, f->rcx,
		f->rdx);
	log_msg(LOG_ERR, "  rsi %016lx rdi %016lx rbp %016lx r8  %016lx", f->rsi, f->rdi, f->rbp,
		f->r8);
	log_msg(LOG_ERR, "  r9  %016lx r10 %016lx r11 %016lx r12 %016lx", f->r9, f->r10, f->r11,
		f->r12);
	log_msg(LOG_ERR, "  r13 %016lx r14 %016lx r15 %016lx", f->r13, f->r14, f->r15);
	log_msg(LOG_ERR, "backtrace:");
	backtrace(f->rbp);
	kernel_exit(false);
}
