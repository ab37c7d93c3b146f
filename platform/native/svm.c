/* The guest vCPU under AMD SVM: Donjon enters it with VMRUN and handles its exits. An
 * SVSM call (VMMCALL, or the VMGEXIT encoding, which executes as VMMCALL outside SEV)
 * goes to the core exactly as a VMGEXIT does on SEV-SNP. The vCPU's state lives in the
 * CPU's copy (struct native_cpu.state, VMSA layout), whose first VMCB_SAVE_SHARED bytes
 * are copied to and from the VMCB's save area (at +0x400, the same layout up to there)
 * around each VMRUN; the general registers the VMCB lacks go through struct guest_gprs. */
#include "svm.h"

#include <donjon/bytes.h>
#include <donjon/svsm.h>
#include <donjon/svsm_abi.h>
#include <donjon/vmsa.h>

#include <stdatomic.h>

#include "arch/x86/cpu.h"
#include "cpu_sync.h"
#include "cpuid_policy.h"
#include "insn.h"
#include "machine.h"
#include "native.h"
#include "svm_snp.h"

#define MSR_EFER 0xC0000080U
#define MSR_VM_HSAVE_PA 0xC0010117U

#define VMCB_INTERCEPT_EXCEPTIONS 0x008U
#define VMCB_INTERCEPT_MISC1 0x00CU
#define VMCB_INTERCEPT_MISC2 0x010U
#define VMCB_INTERCEPT_MISC3 0x014U
#define VMCB_IOPM_BASE 0x040U
#define VMCB_MSRPM_BASE 0x048U
#define VMCB_ASID 0x058U
#define VMCB_TLB_CONTROL 0x05CU
#define VMCB_V_INTR 0x060U
#define VMCB_INT_STATE 0x068U
#define VMCB_EXIT_CODE 0x070U
#define VMCB_EXIT_INFO1 0x078U
#define VMCB_EXIT_INFO2 0x080U
#define VMCB_EXIT_INT_INFO 0x088U
#define VMCB_NP_ENABLE 0x090U
#define VMCB_EVENT_INJ 0x0A8U
#define VMCB_N_CR3 0x0B0U
#define VMCB_SAVE 0x400U
/* The part of the save area that VMSA and VMCB share: segments, control registers,
 * EFER, RFLAGS, RIP, RSP, RAX, the syscall MSRs, CR2, PAT, the debug-control and branch
 * records (unused: LBR virtualization is off). At 0x2E0 the VMCB has SPEC_CTRL where the
 * VMSA has a reserved field, which the guest must not reach. */
#define VMCB_SAVE_SHARED 0x2E0U

#define TLB_FLUSH_ALL 1U
/* Virtual interrupt masking: the guest's RFLAGS.IF and CR8 act on its virtual interrupt
 * state (V_TPR, in this VMCB), not on the CPU's: a vCPU can neither take a physical
 * interrupt through its own IDT nor leave a task priority behind for the next one. */
#define V_INTR_MASKING (1U << 24)

#define MISC1_INTR (1U << 0)
#define MISC1_NMI (1U << 1)
#define MISC1_CPUID (1U << 18)
#define MISC1_RSM (1U << 19)
#define MISC1_INVD (1U << 22)
#define MISC1_HLT (1U << 24)
#define MISC1_INVLPGA (1U << 26)
#define MISC1_IOIO (1U << 27)
#define MISC1_MSR (1U << 28)
#define MISC1_TASK_SWITCH (1U << 29)
#define MISC1_SHUTDOWN (1U << 31)
/* VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, RDTSCP. */
#define MISC2_SVM_AND_RDTSCP 0xFFU
#define MISC2_WBINVD (1U << 9)
#define MISC2_MONITOR (1U << 10)
#define MISC2_MWAIT (1U << 11)
#define MISC2_MWAIT_ARMED (1U << 12)
#define MISC2_XSETBV (1U << 13)
#define MISC2_RDPRU (1U << 14)
/* INVLPGB (both intercepts), MCOMMIT, TLBSYNC. */
#define MISC3_BROADCAST_AND_MCOMMIT 0x1BU

#define NPF_WRITE (1ULL << 1)
#define NPF_FETCH (1ULL << 4)
#define NPF_IN_WALK (1ULL << 33)

#define EVENT_VALID (1ULL << 31)
#define EVENT_VECTOR_MASK 0xFFULL
#define EVENT_TYPE_MASK (7ULL << 8)
#define EVENT_NMI (2ULL << 8)
#define EVENT_EXCEPTION (3ULL << 8)
#define EVENT_SOFT_INT (4ULL << 8)
#define EVENT_HAS_ERROR (1ULL << 11)
#define VECTOR_NMI 2U
#define VECTOR_BP 3U
#define VECTOR_OF 4U
#define VECTOR_UD 6U
#define VECTOR_GP 13U

#define IOIO_IN (1U << 0)
#define IOIO_STRING_OR_REP (1U << 2 | 1U << 3)
#define IOIO_SIZE8 (1U << 4)
#define IOIO_SIZE16 (1U << 5)
#define COM1 0x3F8U
#define DEBUG_EXIT_PORT 0xF4U
#define GUEST_OUTPUT_MAX (256U * 1024U)

#define CR4_OSXSAVE (1ULL << 18)
#define CPUID_EXT1_ECX_SVM (1U << 2)
#define CPUID_EXT1_EDX_1G_PAGES (1U << 26)

/* RBX, RCX, RDX, RSI, RDI, RBP, R8-R15: the order vmrun.S uses. */
struct guest_gprs {
	uint64_t r[14];
};

void svm_vmrun(uint64_t vmcb_pa, struct guest_gprs *gprs, uint64_t host_save_pa,
	       uint64_t host_interrupts);

/* Where each of struct guest_gprs' registers lives in a VMSA. */
static const uint16_t gpr_offsets[14] = {
	VMSA_RBX_OFF, VMSA_RCX_OFF, VMSA_RDX_OFF, VMSA_RSI_OFF, VMSA_RDI_OFF,
	VMSA_RBP_OFF, VMSA_R8_OFF,  VMSA_R9_OFF,  VMSA_R10_OFF, VMSA_R11_OFF,
	VMSA_R12_OFF, VMSA_R13_OFF, VMSA_R14_OFF, VMSA_R15_OFF,
};

static uint64_t iopm_pa;
static uint64_t msrpm_pa;
/* Linux's SEV-SNP machine (svm_snp_machine), or the test guest's. */
static struct {
	bool on;
	uint8_t c_bit;
	unsigned vcpus;
} snp;
static atomic_uint output_bytes;
static struct native_cpu cpus[SMP_MAX_CPUS];
/* By APIC ID: the vCPU creation the guest's AP_CREATION let that CPU run (0: none yet). */
static _Atomic uint64_t ap_released[SMP_MAX_CPUS];

bool svm_reserve(void)
{
	/* Intercept every port and every MSR: the guest reaches no device and no host MSR. */
	iopm_pa = mm_reserve(3 * PAGE_SIZE, NATIVE_SVSM_SIZE);
	msrpm_pa = mm_reserve(2 * PAGE_SIZE, NATIVE_SVSM_SIZE);
	if (iopm_pa == 0U || msrpm_pa == 0U) {
		return false;
	}
	uint8_t *io = kernel_ptr(iopm_pa, 3 * PAGE_SIZE);
	uint8_t *msr = kernel_ptr(msrpm_pa, 2 * PAGE_SIZE);

	for (unsigned i = 0; i < 3 * 4096; i++) {
		io[i] = 0xFF;
	}
	for (unsigned i = 0; i < 2 * 4096; i++) {
		msr[i] = 0xFF;
	}
	return true;
}

void svm_snp_machine(uint8_t c_bit, unsigned vcpus)
{
	snp.on = true;
	snp.c_bit = c_bit;
	snp.vcpus = vcpus;
	svm_snp_passthrough(kernel_ptr(msrpm_pa, 2 * PAGE_SIZE));
}

const struct native_cpu *svm_cpu(unsigned index)
{
	return index < SMP_MAX_CPUS ? &cpus[index] : NULL;
}

struct native_cpu *svm_cpu_init(unsigned index)
{
	uint32_t r[4];
	uint64_t hsave = 0, state = 0;
	struct native_cpu *c = &cpus[index];

	cpuid(0x80000001U, 0, r);
	if ((r[2] & CPUID_EXT1_ECX_SVM) == 0U) {
		log_msg(LOG_ERR, "svm: this CPU has no SVM (QEMU: -cpu qemu64,+npt,+rdrand)");
		return NULL;
	}
	cpuid(0x8000000AU, 0, r);
	if ((r[3] & 1U) == 0U) {
		log_msg(LOG_ERR, "svm: no nested paging (QEMU: -cpu qemu64,+npt,+rdrand)");
		return NULL;
	}
	*c = (struct native_cpu){ .index = index, .apic_id = smp_apic_id(index) };
	cpuid(0x80000001U, 0, r);
	c->pages_1g = (r[3] & CPUID_EXT1_EDX_1G_PAGES) != 0U;
	cpuid(0x80000008U, 0, r);
	c->maxphyaddr = (uint8_t)r[0];
	if (!pmm_alloc(&hsave) || !pmm_alloc(&c->vmcb) || !pmm_alloc(&c->host_save) ||
	    !pmm_alloc(&state) || (c->state = kernel_ptr(state, PAGE_SIZE)) == NULL) {
		log_msg(LOG_ERR, "svm: no memory for CPU %u's pages", index);
		return NULL;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	fpu_cpu_init();
	return c;
}

/* The VMCB for a vCPU at a VMPL whose nested page table is npt. */
static void vmcb_prepare(uint8_t *vmcb, uint64_t npt)
{
	__builtin_memset(vmcb, 0, PAGE_SIZE);
	/* Linux's machine: a physical interrupt (this CPU's timer) ends the guest's run. */
	store32(vmcb, VMCB_INTERCEPT_MISC1,
		(snp.on ? MISC1_INTR : 0U) | MISC1_NMI | MISC1_CPUID | MISC1_RSM | MISC1_INVD |
			MISC1_HLT | MISC1_INVLPGA | MISC1_IOIO | MISC1_MSR | MISC1_TASK_SWITCH |
			MISC1_SHUTDOWN);
	store32(vmcb, VMCB_INTERCEPT_MISC2,
		MISC2_SVM_AND_RDTSCP | MISC2_WBINVD | MISC2_MONITOR | MISC2_MWAIT |
			MISC2_MWAIT_ARMED | MISC2_XSETBV | MISC2_RDPRU);
	store32(vmcb, VMCB_INTERCEPT_MISC3, MISC3_BROADCAST_AND_MCOMMIT);
	store32(vmcb, VMCB_INTERCEPT_EXCEPTIONS, snp.on ? 1U << VECTOR_UD : 0U);
	store64(vmcb, VMCB_IOPM_BASE, iopm_pa);
	store64(vmcb, VMCB_MSRPM_BASE, msrpm_pa);
	store32(vmcb, VMCB_ASID, 1);
	store32(vmcb, VMCB_V_INTR, V_INTR_MASKING);
	store64(vmcb, VMCB_NP_ENABLE, 1);
	store64(vmcb, VMCB_N_CR3, npt);
}

void inject_exception(uint8_t *vmcb, unsigned vector, bool has_error, uint32_t error)
{
	uint64_t ev = EVENT_VALID | EVENT_EXCEPTION | vector;

	if (has_error) {
		ev |= EVENT_HAS_ERROR | ((uint64_t)error << 32);
	}
	store64(vmcb, VMCB_EVENT_INJ, ev);
}

bool inject_nmi(uint8_t *vmcb)
{
	if ((load64(vmcb, VMCB_EVENT_INJ) & EVENT_VALID) != 0U) {
		return false;
	}
	store64(vmcb, VMCB_EVENT_INJ, EVENT_VALID | EVENT_NMI | VECTOR_NMI);
	return true;
}

static uint64_t guest_rip(const struct native_cpu *c)
{
	return load64(c->state, VMSA_RIP_OFF);
}

/* Step over the instruction that exited, if it is the one the exit names. */
static bool skip_instruction(struct native_cpu *c, uint64_t exit_code)
{
	const char *why = NULL;
	unsigned len = insn_length(c, exit_code, &why);

	if (len == 0U) {
		log_guest("vCPU %u stopped: instruction at RIP 0x%lx (exit 0x%lx): %s", c->apic_id,
			  guest_rip(c), exit_code, why);
		return false;
	}
	store64(c->state, VMSA_RIP_OFF, guest_rip(c) + len);
	return true;
}

/* A cap so a guest cannot flood, and only printable characters so it cannot send escape
 * sequences to the console. */
void svm_guest_putc(struct native_cpu *c, char ch)
{
	if (ch != '\n' && (ch < 0x20 || ch > 0x7E)) {
		return;
	}
	unsigned n = atomic_fetch_add(&output_bytes, 1U);

	if (n >= GUEST_OUTPUT_MAX) {
		if (n == GUEST_OUTPUT_MAX) {
			log_msg(LOG_WARN, "guest output cap reached; the rest is dropped");
		}
		return;
	}
	if (ch != '\n' && c->line_len + 1U < sizeof(c->line)) {
		c->line[c->line_len++] = ch;
		return;
	}
	c->line[c->line_len] = '\0';
	/* Linux's console lines are marked as the guest's. */
	kprintf("%s%s", snp.on ? "linux| " : "", c->line);
	c->line_len = 0;
	/* A line longer than the buffer goes on in the next one. */
	if (ch != '\n') {
		c->line[c->line_len++] = ch;
	}
}

static bool handle_io(struct native_cpu *c, const uint8_t *vmcb)
{
	uint64_t info = load64(vmcb, VMCB_EXIT_INFO1);
	uint16_t port = (uint16_t)(info >> 16);
	uint64_t rax = load64(c->state, VMSA_RAX_OFF);

	if ((info & IOIO_STRING_OR_REP) != 0U) {
		log_guest("vCPU %u: string I/O on port 0x%x; guest stopped", c->apic_id, port);
		return false;
	}
	unsigned size = (info & IOIO_SIZE8) != 0U ? 1U : (info & IOIO_SIZE16) != 0U ? 2U : 4U;
	/* An 8- or 16-bit IN replaces only AL or AX; a 32-bit IN zero-extends into RAX. */
	uint64_t in_mask = size == 4U ? ~0ULL : (1ULL << (8U * size)) - 1U;

	if (snp.on && port != DEBUG_EXIT_PORT) {
		uint32_t v = (uint32_t)rax;

		if (!machine_io(c, port, size, (info & IOIO_IN) != 0U, &v)) {
			return false;
		}
		if ((info & IOIO_IN) != 0U) {
			store64(c->state, VMSA_RAX_OFF, (rax & ~in_mask) | (v & in_mask));
		}
	} else if ((info & IOIO_IN) != 0U) {
		/* IN: the UART's line status says "ready"; anything else reads as all ones. */
		uint64_t value = port == COM1 + 5U ? 0x60U : 0xFFFFFFFFU;

		store64(c->state, VMSA_RAX_OFF, (rax & ~in_mask) | (value & in_mask));
	} else if (port == COM1) {
		svm_guest_putc(c, (char)(rax & 0xFFU));
	} else if (port == DEBUG_EXIT_PORT) {
		c->verdict = (uint32_t)rax;
		c->has_verdict = true;
		/* Linux's /init ends the machine here. */
		if (snp.on) {
			return false;
		}
	}
	/* The IOIO exit gives the next RIP (EXITINFO2). */
	store64(c->state, VMSA_RIP_OFF, load64(vmcb, VMCB_EXIT_INFO2));
	return true;
}

/* The host model's view of the guest. On Linux's SEV-SNP machine, the host's: shared pages
 * only (the GHCB, the PSC buffer in it, the guest request pages). For the protocol test
 * guest, which has no shared pages, what the vCPU itself may read and write. Never Donjon's
 * memory, a VMSA or a deposit. */
static bool host_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	const struct native_cpu *c = ctx;

	if (snp.on) {
		return native_host_copy_in(gpa, buf, len);
	}
	return native_guest_copy_in(c->vmpl, gpa, buf, len, RMP_PERM_READ);
}

static bool host_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	const struct native_cpu *c = ctx;

	if (snp.on) {
		return native_host_copy_out(gpa, buf, len);
	}
	return native_guest_copy_out(c->vmpl, gpa, buf, len);
}

static uint32_t host_guest_request(void *ctx, const void *req, void *resp)
{
	(void)ctx;
	return plat_guest_request(req, resp);
}

static const char *host_psc(void *ctx, uint64_t gpa, bool size_2m, bool to_private)
{
	(void)ctx;
	return native_host_psc(gpa, size_2m ? PAGE_2M : PAGE_4K, to_private);
}

/* AP_CREATION: the host runs the VMSA the SVSM made current for apic_id (CREATE_VCPU), on
 * the CPU of that APIC ID, once per creation; never the caller's own, never another
 * VMPL's than the caller's, never with SEV features other than the machine's. */
static const char *host_ap_create(void *ctx, uint32_t apic_id, unsigned vmpl, uint64_t vmsa,
				  uint64_t features)
{
	const struct native_cpu *c = ctx;
	unsigned index = smp_index_of(apic_id);

	if (index >= smp_cpu_count() || apic_id >= snp.vcpus || apic_id == c->apic_id) {
		return "no other vCPU has that APIC ID";
	}
	if (vmpl != c->vmpl || features != SEV_FEATURE_SNP_ACTIVE) {
		return "a VMPL or SEV features other than the caller's";
	}
	uint64_t seq = svsm_vcpu_seq(apic_id);

	if (seq == 0U || gpa_val(svsm_vcpu_vmsa(apic_id)) != vmsa) {
		return "not the VMSA the SVSM made current for that APIC ID";
	}
	atomic_store(&ap_released[apic_id], seq);
	smp_send_wake(index);
	return NULL;
}

/* NMI_COMPLETE: the guest's NMI handler is done; the next NMI may go in. */
static void host_nmi_complete(void *ctx)
{
	struct native_cpu *c = ctx;

	c->nmi_masked = false;
}

uint64_t svm_ap_released(unsigned apic_id)
{
	return apic_id < SMP_MAX_CPUS ? atomic_load(&ap_released[apic_id]) : 0U;
}

/* bench=vtpm on Donjon's command line (read once). */
static bool bench_vtpm(void)
{
	static _Atomic int asked = -1;
	int v = atomic_load_explicit(&asked, memory_order_relaxed);

	if (v < 0) {
		v = cmdline_is("bench", "vtpm") ? 1 : 0;
		atomic_store_explicit(&asked, v, memory_order_relaxed);
	}
	return v == 1;
}

static bool handle_svsm_call(struct native_cpu *c)
{
	struct svsm_regs regs;

	svsm_regs_from_vmsa(c->state, &regs);
	enum svsm_exit_result res =
		svsm_handle_exit(c->apic_id, gpa_init(c->vmsa), c->seq, VMEXIT_VMGEXIT, &regs);

	if (res == SVSM_EXIT_VCPU_GONE) {
		log_msg(LOG_INFO, "vCPU %u deleted its own VMSA", c->apic_id);
		return false;
	}
	if (res == SVSM_EXIT_RESUME) {
		svsm_regs_to_vmsa(c->state, &regs);
	}
	return true;
}

/* VMMCALL, or the VMGEXIT encoding, which executes as VMMCALL outside SEV. With the GHCB
 * MSR at 0 it is an SVSM call (the protocol test guest's way); otherwise the host model
 * reads the GHCB protocol request, as SEV-SNP's host would. */
static bool handle_vmgexit(struct native_cpu *c)
{
	const char *why = NULL;
	/* VMMCALL (0F 01 D9) takes 3 bytes, the VMGEXIT encoding (F3 0F 01 D9) 4: read
	 * through the guest's own page tables, with its own permissions. */
	unsigned len = insn_length(c, EXIT_VMMCALL, &why);
	struct ghcb_env env = {
		.read = host_read,
		.write = host_write,
		.guest_request = host_guest_request,
		.psc = host_psc,
		.ap_create = host_ap_create,
		.nmi_complete = host_nmi_complete,
		.ctx = c,
		.c_bit = snp.c_bit,
	};
	bool by_ghcb = !ghcb_unused(&c->ghcb);

	if (len == 0U) {
		log_guest("vCPU %u stopped: VMMCALL at RIP 0x%lx: %s", c->apic_id, guest_rip(c),
			  why);
		return false;
	}
	switch (by_ghcb ? ghcb_vmgexit(&c->ghcb, &env) : GHCB_SVSM_CALL) {
	case GHCB_SVSM_CALL: {
		bool vtpm_cmd = load64(c->state, VMSA_RAX_OFF) ==
				((uint64_t)SVSM_PROTOCOL_VTPM << 32 | SVSM_VTPM_CMD);

		if (!handle_svsm_call(c)) {
			return false;
		}
		if (by_ghcb) {
			ghcb_svsm_done(&c->ghcb, &env);
		}
		/* make bench (bench=vtpm): all of Donjon's time for one SVSM_VTPM_CMD, from the
		 * exit to the guest's next entry but for the VMRUN itself, taken before the lines
		 * of the call's exchanges are printed; then those lines, then its own. */
		if (bench_vtpm()) {
			uint64_t took = rdtsc() - c->exit_tsc;

			native_services_bench_flush();
			if (vtpm_cmd) {
				log_msg(LOG_INFO, "vtpm: call %lu", took);
			}
		}
		break;
	}
	case GHCB_RESUME:
		break;
	case GHCB_AP_HLT:
		/* Offline: the CPU waits for the AP_CREATION that brings its APIC ID back. */
		log_msg(LOG_INFO, "vCPU %u is offline (AP_HLT_LOOP at RIP 0x%lx)", c->apic_id,
			guest_rip(c));
		c->parked = true;
		return false;
	case GHCB_TERMINATE:
		log_guest("vCPU %u asked to be terminated: reason set %u, code %u (%s)", c->apic_id,
			  c->ghcb.term_set, c->ghcb.term_code,
			  ghcb_term_reason(c->ghcb.term_set, c->ghcb.term_code));
		return false;
	case GHCB_REFUSED:
	default:
		log_guest("vCPU %u stopped: %s 0x%lx (registered GHCB: 0x%lx)", c->apic_id,
			  c->ghcb.why, c->ghcb.why_value, c->ghcb.ghcb_gpa);
		return false;
	}
	store64(c->state, VMSA_RIP_OFF, guest_rip(c) + len);
	return true;
}

/* RDMSR and WRMSR. The GHCB MSR is the host model's, per vCPU. On Linux's machine every other
 * MSR goes to the allowlist (svm_snp.c: emulated, or #GP); for the protocol test guest any
 * other MSR stops the vCPU. */
static bool handle_msr(struct native_cpu *c, uint8_t *vmcb)
{
	uint32_t msr = (uint32_t)load64(c->state, VMSA_RCX_OFF);
	bool write = load64(vmcb, VMCB_EXIT_INFO1) != 0U;

	if (snp.on && msr != GHCB_MSR) {
		uint64_t value = (load64(c->state, VMSA_RDX_OFF) << 32) |
				 (uint32_t)load64(c->state, VMSA_RAX_OFF);

		switch (svm_snp_msr(c, msr, write, &value)) {
		case SNP_MSR_GP:
			inject_exception(vmcb, VECTOR_GP, true, 0);
			return true;
		case SNP_MSR_STOP:
			return false;
		case SNP_MSR_DONE:
		default:
			break;
		}
		if (!skip_instruction(c, EXIT_MSR)) {
			return false;
		}
		if (!write) {
			store64(c->state, VMSA_RAX_OFF, (uint32_t)value);
			store64(c->state, VMSA_RDX_OFF, value >> 32);
		}
		return true;
	}
	if (msr != GHCB_MSR) {
		log_guest("vCPU %u stopped: %s of MSR 0x%x", c->apic_id, write ? "WRMSR" : "RDMSR",
			  msr);
		return false;
	}
	if (!skip_instruction(c, EXIT_MSR)) {
		return false;
	}
	if (write) {
		ghcb_msr_write(&c->ghcb, (load64(c->state, VMSA_RDX_OFF) << 32) |
						 (uint32_t)load64(c->state, VMSA_RAX_OFF));
	} else {
		uint64_t v = ghcb_msr_read(&c->ghcb);

		store64(c->state, VMSA_RAX_OFF, (uint32_t)v);
		store64(c->state, VMSA_RDX_OFF, v >> 32);
	}
	return true;
}

/* CPUID as the host's CPU answers it, with the guest machine's differences
 * (model/host/cpuid_policy.c); the XSAVE area size follows the guest's own XCR0. */
static bool handle_cpuid(struct native_cpu *c)
{
	uint32_t leaf = (uint32_t)load64(c->state, VMSA_RAX_OFF);
	uint32_t sub = (uint32_t)load64(c->state, VMSA_RCX_OFF);
	uint32_t host[4], r[4];
	const struct cpuid_policy policy = {
		.snp = snp.on,
		.osxsave = (load64(c->state, VMSA_CR4_OFF) & CR4_OSXSAVE) != 0U,
		.c_bit = snp.c_bit,
		.apic_id = c->apic_id,
		.vcpu_count = snp.vcpus,
	};

	if (!skip_instruction(c, EXIT_CPUID)) {
		return false;
	}
	fpu_xcr0_enter(c->xcr0);
	cpuid(leaf, sub, host);
	fpu_xcr0_leave(c->xcr0);
	cpuid_guest(&policy, leaf, sub, host, r);
	store64(c->state, VMSA_RAX_OFF, r[0]);
	store64(c->state, VMSA_RBX_OFF, r[1]);
	store64(c->state, VMSA_RCX_OFF, r[2]);
	store64(c->state, VMSA_RDX_OFF, r[3]);
	return true;
}

/* XSETBV: the vCPU's own XCR0, loaded around each VMRUN; what XSETBV would refuse is a
 * #GP(0) for the guest. */
static bool handle_xsetbv(struct native_cpu *c, uint8_t *vmcb)
{
	uint64_t value =
		(load64(c->state, VMSA_RDX_OFF) << 32) | (uint32_t)load64(c->state, VMSA_RAX_OFF);

	if ((uint32_t)load64(c->state, VMSA_RCX_OFF) != 0U || c->state[VMSA_CPL_OFF] != 0U ||
	    !fpu_xcr0_valid(value)) {
		inject_exception(vmcb, VECTOR_GP, true, 0);
		return true;
	}
	if (!skip_instruction(c, EXIT_XSETBV)) {
		return false;
	}
	c->xcr0 = value;
	return true;
}

static bool handle_rdtscp(struct native_cpu *c)
{
	uint64_t tsc = rdtsc();

	if (!skip_instruction(c, EXIT_RDTSCP)) {
		return false;
	}
	/* The guest's TSC is the host's (no offset); its TSC_AUX is 0. */
	store64(c->state, VMSA_RAX_OFF, (uint32_t)tsc);
	store64(c->state, VMSA_RDX_OFF, tsc >> 32);
	store64(c->state, VMSA_RCX_OFF, 0);
	return true;
}

static bool handle_npf(struct native_cpu *c, const uint8_t *vmcb)
{
	uint64_t info = load64(vmcb, VMCB_EXIT_INFO1);
	uint64_t gpa = load64(vmcb, VMCB_EXIT_INFO2);
	uint8_t need = (info & NPF_FETCH) != 0U	  ? RMP_PERM_EXEC_SUPER
		       : (info & NPF_WRITE) != 0U ? RMP_PERM_WRITE
						  : RMP_PERM_READ;
	const char *why = native_guest_access_fault(c->vmpl, gpa, 1, need);
	uint64_t page = gpa & ~(PAGE_SIZE - 1U);
	bool mmio = false;

	if (snp.on && why != NULL) {
		bool plain = (info & (NPF_FETCH | NPF_IN_WALK)) == 0U &&
			     (load64(vmcb, VMCB_EXIT_INT_INFO) & EVENT_VALID) == 0U;
		bool on = machine_mmio(c, gpa, (info & NPF_WRITE) != 0U, plain, &mmio);

		if (mmio) {
			return on;
		}
	}

	/* Allowed now: this CPU's TLB held a translation from before a permission was
	 * granted. Flush and retry once. */
	if (why == NULL && c->npf_retry != page) {
		c->npf_retry = page;
		c->flush = true;
		return true;
	}
	log_guest("vCPU %u stopped: %s of GPA 0x%lx%s at RIP 0x%lx: %s", c->apic_id,
		  (info & NPF_FETCH) != 0U   ? "fetch"
		  : (info & NPF_WRITE) != 0U ? "write"
					     : "read",
		  gpa, (info & NPF_IN_WALK) != 0U ? " (its page-table walk)" : "", guest_rip(c),
		  why != NULL ? why : "the nested page table disagrees with the RMP");
	return false;
}

static uint64_t reinjected_event(uint64_t info)
{
	uint64_t type = info & EVENT_TYPE_MASK;
	uint64_t vector = info & EVENT_VECTOR_MASK;

	if ((info & EVENT_VALID) == 0U || type == EVENT_SOFT_INT ||
	    (type == EVENT_EXCEPTION && (vector == VECTOR_BP || vector == VECTOR_OF))) {
		return 0;
	}
	return info;
}

/* One exit; false when the vCPU stops. */
static enum svm_exit_kind exit_kind(uint64_t code)
{
	switch (code) {
	case EXIT_NPF:
		return SVM_EXIT_K_NPF;
	case EXIT_MSR:
		return SVM_EXIT_K_MSR;
	case EXIT_IOIO:
		return SVM_EXIT_K_IO;
	case EXIT_CPUID:
		return SVM_EXIT_K_CPUID;
	case EXIT_VMMCALL:
		return SVM_EXIT_K_VMGEXIT;
	case EXIT_HLT:
		return SVM_EXIT_K_HLT;
	case EXIT_INTR:
		return SVM_EXIT_K_INTR;
	case EXIT_NMI:
		return SVM_EXIT_K_NMI;
	case EXIT_EXCP_UD:
		return SVM_EXIT_K_UD;
	default:
		return SVM_EXIT_K_OTHER;
	}
}

const char *svm_exit_kind_name(enum svm_exit_kind k)
{
	static const char *const names[SVM_EXIT_KINDS] = {
		[SVM_EXIT_K_NPF] = "nested page fault",
		[SVM_EXIT_K_MSR] = "MSR",
		[SVM_EXIT_K_IO] = "port I/O",
		[SVM_EXIT_K_CPUID] = "CPUID",
		[SVM_EXIT_K_VMGEXIT] = "VMGEXIT",
		[SVM_EXIT_K_HLT] = "HLT",
		[SVM_EXIT_K_INTR] = "interrupt",
		[SVM_EXIT_K_NMI] = "NMI (a kick)",
		[SVM_EXIT_K_UD] = "#UD (PVALIDATE, RMPADJUST)",
		[SVM_EXIT_K_OTHER] = "other",
	};

	return (unsigned)k < SVM_EXIT_KINDS ? names[k] : "?";
}

static bool handle_exit(struct native_cpu *c, uint8_t *vmcb)
{
	uint64_t code = load64(vmcb, VMCB_EXIT_CODE);
	uint64_t interrupted = load64(vmcb, VMCB_EXIT_INT_INFO);

	c->stats.exits[exit_kind(code)]++;

	/* An event whose delivery the exit interrupted is delivered at the next entry; but not
	 * one that an instruction raised (INTn, INT3, INTO): RIP is still at that instruction,
	 * which raises it again when it runs again; injected, it would be raised twice. */
	store64(vmcb, VMCB_EVENT_INJ, reinjected_event(interrupted));
	if (code != EXIT_NPF) {
		c->npf_retry = ~0ULL;
	}
	switch (code) {
	case EXIT_NMI:
		/* A kick (cpu_sync.c): the run loop checks the claim before entering again. */
		return true;
	case EXIT_INTR:
		machine_tick(c);
		return true;
	case EXIT_VMMCALL:
		return handle_vmgexit(c);
	case EXIT_MSR:
		return handle_msr(c, vmcb);
	case EXIT_IOIO:
		return handle_io(c, vmcb);
	case EXIT_CPUID:
		return handle_cpuid(c);
	case EXIT_XSETBV:
		return handle_xsetbv(c, vmcb);
	case EXIT_RDTSCP:
		return handle_rdtscp(c);
	case EXIT_INVD:
	case EXIT_WBINVD:
		/* Nothing to write back for the guest; INVD must not drop the host's writes. */
		return skip_instruction(c, code);
	case EXIT_RSM:
	case EXIT_INVLPGA:
	case EXIT_VMRUN:
	case EXIT_VMLOAD:
	case EXIT_VMSAVE:
	case EXIT_STGI:
	case EXIT_CLGI:
	case EXIT_SKINIT:
	case EXIT_MONITOR:
	case EXIT_MWAIT:
	case EXIT_MWAIT_ARMED:
	case EXIT_RDPRU:
	case EXIT_INVLPGB:
	case EXIT_INVLPGB_ILLEGAL:
	case EXIT_MCOMMIT:
	case EXIT_TLBSYNC:
		/* Instructions this guest's CPUID does not offer: #UD, as on such a CPU. */
		inject_exception(vmcb, VECTOR_UD, false, 0);
		return true;
	case EXIT_HLT:
		if (snp.on) {
			/* Past the HLT, out of STI's shadow, until an interrupt comes. */
			store64(vmcb, VMCB_INT_STATE, 0);
			return skip_instruction(c, code) && machine_halt(c);
		}
		log_msg(LOG_DEBUG, "vCPU %u halted", c->apic_id);
		return false;
	case EXIT_NPF:
		return handle_npf(c, vmcb);
	case EXIT_EXCP_UD:
		return svm_snp_ud(c, vmcb);
	case EXIT_SHUTDOWN:
		log_guest("vCPU %u stopped: shutdown (triple fault) at RIP 0x%lx", c->apic_id,
			  guest_rip(c));
		return false;
	default:
		log_guest("vCPU %u stopped: unhandled exit 0x%lx (info 0x%lx, 0x%lx)", c->apic_id,
			  code, load64(vmcb, VMCB_EXIT_INFO1), load64(vmcb, VMCB_EXIT_INFO2));
		return false;
	}
}

static void run_loop(struct native_cpu *c, uint8_t *vmcb)
{
	struct guest_gprs g;
	bool running = true;

	while (running) {
		uint64_t gen = 0;

		__builtin_memcpy(vmcb + VMCB_SAVE, c->state, VMCB_SAVE_SHARED);
		for (unsigned i = 0; i < 14; i++) {
			g.r[i] = load64(c->state, gpr_offsets[i]);
		}
		if (!cpusync_enter(c->index, &gen)) {
			break;
		}
		store32(vmcb, VMCB_TLB_CONTROL,
			gen != c->flushed_gen || c->flush ? TLB_FLUSH_ALL : 0U);
		c->flushed_gen = gen;
		c->flush = false;
		if (snp.on) {
			machine_enter(c, vmcb);
		}
		fpu_xcr0_enter(c->xcr0);
		uint64_t in = rdtsc();

		svm_vmrun(c->vmcb, &g, c->host_save, snp.on ? 1U : 0U);
		c->exit_tsc = rdtsc();
		c->stats.guest += c->exit_tsc - in;
		cpusync_leave(c->index);
		if (snp.on) {
			machine_leave(c, vmcb);
		}
		fpu_xcr0_leave(c->xcr0);
		/* Deleted while it ran: stop without acting on the exit. */
		if (cpusync_revoked(c->index)) {
			break;
		}
		__builtin_memcpy(c->state, vmcb + VMCB_SAVE, VMCB_SAVE_SHARED);
		c->state[VMSA_VMPL_OFF] = (uint8_t)c->vmpl;
		for (unsigned i = 0; i < 14; i++) {
			store64(c->state, gpr_offsets[i], g.r[i]);
		}
		running = handle_exit(c, vmcb);
		c->ended = !running && !c->parked;
	}
}

/* Called by the core with its lock held: the creation is current and was never started. */
static bool claim_vmsa(void *ctx, gpa_t vmsa)
{
	struct native_cpu *c = ctx;

	if (!native_vmsa_claim(c->index, gpa_val(vmsa), c->state)) {
		return false;
	}
	c->vmsa = gpa_val(vmsa);
	return true;
}

void svm_run_vcpu(struct native_cpu *c, uint64_t seq)
{
	uint8_t *vmcb = kernel_ptr(c->vmcb, PAGE_SIZE);

	/* Only the creation the core has as current for this CPU's APIC ID, once, and only
	 * while its page is an RMP VMSA page that nobody is stopping. */
	if (vmcb == NULL || !svsm_vcpu_start(c->apic_id, seq, claim_vmsa, c)) {
		log_msg(LOG_DEBUG, "CPU %u: vCPU creation %lu is not runnable", c->index, seq);
		return;
	}
	uint64_t vmsa = c->vmsa;
	uint64_t xcr0 = load64(c->state, VMSA_XCR0_OFF);

	c->seq = seq;
	c->ended = false;
	c->parked = false;
	c->vmpl = c->state[VMSA_VMPL_OFF];
	c->xcr0 = fpu_xcr0_valid(xcr0) ? xcr0 : XCR0_INIT;
	c->flush = true;
	c->npf_retry = ~0ULL;
	/* Linux's console line belongs to the machine (machine.c, under its lock). */
	if (!snp.on) {
		c->line_len = 0;
	}
	c->c_bit_mask = snp.on ? 1ULL << snp.c_bit : 0U;
	ghcb_vcpu_restart(&c->ghcb);
	uint64_t npt = native_npt_root(c->vmpl);

	if (snp.on && !machine_vcpu_init(c)) {
		log_guest("vCPU %u: no local APIC for it", c->apic_id);
	} else if (npt == 0U) {
		log_guest("vCPU %u: VMSA 0x%lx is at VMPL%u, which has no nested page table",
			  c->apic_id, vmsa, c->vmpl);
	} else {
		/* Each vCPU starts with init FPU and debug state and leaves none behind. */
		vmcb_prepare(vmcb, npt);
		fpu_scrub();
		clear_dr0_3();
		/* The counts and times add up over the vCPUs this CPU runs; the time between
		 * two (offline) counts as halted. */
		uint64_t now = rdtsc();

		if (c->stats.start == 0U) {
			c->stats.start = now;
		} else {
			c->stats.halted += now - c->stats.end;
		}
		c->stats.end = 0;
		run_loop(c, vmcb);
		c->stats.end = rdtsc();
		fpu_scrub();
		clear_dr0_3();
	}
	cpusync_release(c->index);
}
