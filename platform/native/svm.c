/* The guest vCPU under AMD SVM: Donjon enters it with VMRUN and handles its exits. An
 * SVSM call (VMMCALL, or the VMGEXIT encoding, which executes as VMMCALL outside SEV)
 * goes to the core exactly as a VMGEXIT does on SEV-SNP; the guest's state lives in its
 * VMSA page, copied to the VMCB's save area (same layout at +0x400) around each VMRUN. */
#include "svm.h"

#include <donjon/svsm.h>
#include <donjon/vmsa.h>

#include <stdatomic.h>

#include "console.h"
#include "lock.h"
#include "io.h"
#include "kernel.h"
#include "mm.h"
#include "smp.h"

#define MSR_EFER 0xC0000080U
#define MSR_VM_HSAVE_PA 0xC0010117U

#define VMCB_INTERCEPT_CR_READ 0x000U
#define VMCB_INTERCEPT_MISC1 0x00CU
#define VMCB_INTERCEPT_MISC2 0x010U
#define VMCB_IOPM_BASE 0x040U
#define VMCB_MSRPM_BASE 0x048U
#define VMCB_ASID 0x058U
#define VMCB_TLB_CONTROL 0x05CU
#define VMCB_EXIT_CODE 0x070U
#define VMCB_EXIT_INFO1 0x078U
#define VMCB_EXIT_INFO2 0x080U
#define VMCB_NP_ENABLE 0x090U
#define VMCB_N_CR3 0x0B0U
#define VMCB_SAVE 0x400U
/* The part of the save area that VMSA and VMCB share: segments, control registers,
 * EFER, RFLAGS, RIP, RSP, RAX, PAT. */
#define VMCB_SAVE_SHARED 0x2E8U

#define MISC1_NMI (1U << 1)
#define MISC1_CPUID (1U << 18)
#define MISC1_HLT (1U << 24)
#define MISC1_IOIO (1U << 27)
#define MISC1_MSR (1U << 28)
#define MISC1_SHUTDOWN (1U << 31)
#define MISC2_ALL_SVM 0xFFU /* VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, RDTSCP */

#define EXIT_NMI 0x61U
#define EXIT_CPUID 0x72U
#define EXIT_HLT 0x78U
#define EXIT_IOIO 0x7BU
#define EXIT_MSR 0x7CU
#define EXIT_SHUTDOWN 0x7FU
#define EXIT_VMMCALL 0x81U
#define EXIT_NPF 0x400U

#define IOIO_SIZE8 (1U << 4)
#define IOIO_SIZE16 (1U << 5)
#define COM1 0x3F8U
#define DEBUG_EXIT_PORT 0xF4U
#define GUEST_OUTPUT_MAX (256U * 1024U)

/* RBX, RCX, RDX, RSI, RDI, RBP, R8-R15: the order vmrun.S uses. */
struct guest_gprs {
	uint64_t r[14];
};

void svm_vmrun(uint64_t vmcb_pa, struct guest_gprs *gprs);

/* The VMSA offsets of the registers VMRUN does not load from the VMCB. */
static const uint16_t gpr_offsets[14] = { 0x318, 0x308, 0x310, 0x330, 0x338, 0x328, 0x340,
					  0x348, 0x350, 0x358, 0x360, 0x368, 0x370, 0x378 };

static uint64_t iopm_pa;
static uint64_t msrpm_pa;
static atomic_uint output_bytes;

/* Guest VMSAs for the APs: posted by whichever CPU handled the CREATE_VCPU, taken by the
 * AP when it is idle. posted[] remembers what was posted (so it is posted once) until
 * the VMSA is deleted. Atomics only: plat_vmsa_stop runs under the core lock, and posting
 * calls into the core. */
static _Atomic uint64_t pending[SMP_MAX_CPUS];
static _Atomic uint64_t posted[SMP_MAX_CPUS];
/* The VMSA each CPU is executing (0: none), for plat_vmsa_stop. */
static _Atomic uint64_t running_on[SMP_MAX_CPUS];

#define STOP_WAIT_SPINS 100000000UL

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

bool svm_enable_cpu(void)
{
	uint32_t r[4];
	uint64_t hsave = 0;

	cpuid(0x80000001U, 0, r);
	if ((r[2] & (1U << 2)) == 0U) {
		log_msg(LOG_ERR, "svm: this CPU has no SVM (QEMU: -cpu qemu64,+npt)");
		return false;
	}
	cpuid(0x8000000AU, 0, r);
	if ((r[3] & 1U) == 0U) {
		log_msg(LOG_ERR, "svm: no nested paging (QEMU: -cpu qemu64,+npt)");
		return false;
	}
	if (!pmm_alloc(&hsave)) {
		return false;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	return true;
}

bool svm_vcpu_init(struct native_vcpu *v, unsigned apic_id, uint64_t vmsa)
{
	uint64_t vmcb = 0;

	if (!pmm_alloc(&vmcb)) {
		return false;
	}
	uint8_t *c = kernel_ptr(vmcb, 4096);

	store32(c, VMCB_INTERCEPT_MISC1,
		MISC1_NMI | MISC1_CPUID | MISC1_HLT | MISC1_IOIO | MISC1_MSR | MISC1_SHUTDOWN);
	store32(c, VMCB_INTERCEPT_MISC2, MISC2_ALL_SVM);
	store64(c, VMCB_IOPM_BASE, iopm_pa);
	store64(c, VMCB_MSRPM_BASE, msrpm_pa);
	store32(c, VMCB_ASID, 1);
	/* Flush the guest's TLB on every entry: nested mappings change under it. */
	store32(c, VMCB_TLB_CONTROL, 1);
	store64(c, VMCB_NP_ENABLE, 1);
	store64(c, VMCB_N_CR3, native_npt_root());
	*v = (struct native_vcpu){ .apic_id = apic_id, .vmcb = vmcb, .vmsa = vmsa };
	return true;
}

/* Guest output on COM1, a line at a time, with a cap so a guest cannot flood, and only
 * printable characters so it cannot send escape sequences to the console. */
static void guest_putc(struct native_vcpu *v, char ch)
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
	if (ch != '\n' && v->line_len + 1U < sizeof(v->line)) {
		v->line[v->line_len++] = ch;
		return;
	}
	v->line[v->line_len] = '\0';
	kprintf("%s", v->line);
	v->line_len = 0;
}

static bool handle_io(struct native_vcpu *v, uint8_t *vmsa, const uint8_t *c)
{
	uint64_t info = load64(c, VMCB_EXIT_INFO1);
	uint16_t port = (uint16_t)(info >> 16);
	uint64_t rax = load64(vmsa, VMSA_RAX_OFF);

	/* String and REP forms are not emulated. */
	if ((info & (1U << 2 | 1U << 3)) != 0U) {
		log_guest("vCPU %u: string I/O on port 0x%x; guest stopped", v->apic_id, port);
		return false;
	}
	if ((info & 1U) != 0U) {
		/* IN: the UART's line status says "ready"; anything else reads as all ones. An
		 * 8- or 16-bit IN (EXITINFO1 bit 4 or 5) replaces only AL or AX; a 32-bit IN
		 * zero-extends into RAX. */
		uint64_t value = port == COM1 + 5U ? 0x60U : 0xFFFFFFFFU;
		uint64_t mask = (info & IOIO_SIZE8) != 0U    ? 0xFFU
				: (info & IOIO_SIZE16) != 0U ? 0xFFFFU
							     : ~0ULL;

		store64(vmsa, VMSA_RAX_OFF, (rax & ~mask) | (value & mask));
	} else if (port == COM1) {
		guest_putc(v, (char)(rax & 0xFFU));
	} else if (port == DEBUG_EXIT_PORT) {
		v->verdict = (uint32_t)rax;
		v->has_verdict = true;
	}
	store64(vmsa, VMSA_RIP_OFF, load64(c, VMCB_EXIT_INFO2));
	return true;
}

/* The host's AP creation, done by Donjon itself on this platform: a VMSA the core now
 * has as current for an AP's APIC ID, and that was not posted before, goes to that CPU. */
static void native_post_created_vcpus(void)
{
	for (unsigned i = 1; i < smp_cpu_count(); i++) {
		uint64_t cur = gpa_val(svsm_vcpu_vmsa(smp_apic_id(i)));
		uint64_t old = atomic_load(&posted[i]);

		if (cur != 0U && cur != old &&
		    atomic_compare_exchange_strong(&posted[i], &old, cur)) {
			atomic_store(&pending[i], cur);
		}
	}
}

static bool handle_svsm_call(struct native_vcpu *v, uint8_t *vmsa)
{
	uint64_t rip = load64(vmsa, VMSA_RIP_OFF);
	/* The guest maps its code 1:1 (no guest page-table walk yet): the byte at RIP says
	 * whether this is VMMCALL (0F 01 D9) or the VMGEXIT encoding (F3 0F 01 D9). */
	const uint8_t *insn = plat_map(gpa_init(rip), 1);

	if (insn == NULL) {
		log_guest("vCPU %u: VMMCALL at unreadable RIP 0x%lx; guest stopped", v->apic_id,
			  rip);
		return false;
	}
	uint64_t length = insn[0] == 0xF3U ? 4U : 3U;
	struct svsm_regs regs;

	svsm_regs_from_vmsa(vmsa, &regs);

	store64(vmsa, VMSA_EXIT_CODE_OFF, VMEXIT_VMGEXIT);
	enum svsm_exit_result res =
		svsm_handle_exit(v->apic_id, gpa_init(v->vmsa), VMEXIT_VMGEXIT, &regs);

	if (res == SVSM_EXIT_VCPU_GONE) {
		log_msg(LOG_INFO, "vCPU %u deleted its own VMSA", v->apic_id);
		return false;
	}
	native_post_created_vcpus();
	if (res == SVSM_EXIT_RESUME) {
		svsm_regs_to_vmsa(vmsa, &regs);
	}
	store64(vmsa, VMSA_RIP_OFF, rip + length);
	return true;
}

static void handle_cpuid(uint8_t *vmsa)
{
	uint32_t r[4];

	cpuid((uint32_t)load64(vmsa, VMSA_RAX_OFF), (uint32_t)load64(vmsa, VMSA_RCX_OFF), r);
	store64(vmsa, VMSA_RAX_OFF, r[0]);
	store64(vmsa, VMSA_RBX_OFF, r[1]);
	store64(vmsa, VMSA_RCX_OFF, r[2]);
	store64(vmsa, VMSA_RDX_OFF, r[3]);
	store64(vmsa, VMSA_RIP_OFF, load64(vmsa, VMSA_RIP_OFF) + 2U);
}

/* One exit; false when the vCPU stops. */
static bool handle_exit(struct native_vcpu *v, uint8_t *vmsa, const uint8_t *c)
{
	uint64_t code = load64(c, VMCB_EXIT_CODE);

	switch (code) {
	case EXIT_NMI:
		/* A kick (plat_vmsa_stop); the run loop checks EFER.SVME before re-entering. */
		return true;
	case EXIT_VMMCALL:
		return handle_svsm_call(v, vmsa);
	case EXIT_IOIO:
		return handle_io(v, vmsa, c);
	case EXIT_CPUID:
		handle_cpuid(vmsa);
		return true;
	case EXIT_HLT:
		log_msg(LOG_DEBUG, "vCPU %u halted", v->apic_id);
		return false;
	case EXIT_NPF: {
		uint64_t gpa = load64(c, VMCB_EXIT_INFO2);
		bool write = (load64(c, VMCB_EXIT_INFO1) & 2U) != 0U;

		log_guest("vCPU %u stopped: %s of GPA 0x%lx at RIP 0x%lx: %s", v->apic_id,
			  write ? "write" : "read", gpa, load64(vmsa, VMSA_RIP_OFF),
			  native_access_fault(gpa, write ? RMP_PERM_WRITE : RMP_PERM_READ));
		return false;
	}
	case EXIT_SHUTDOWN:
		log_guest("vCPU %u stopped: shutdown (triple fault) at RIP 0x%lx", v->apic_id,
			  load64(vmsa, VMSA_RIP_OFF));
		return false;
	default:
		log_guest("vCPU %u stopped: unhandled exit 0x%lx (info 0x%lx, 0x%lx)", v->apic_id,
			  code, load64(c, VMCB_EXIT_INFO1), load64(c, VMCB_EXIT_INFO2));
		return false;
	}
}

void svm_vcpu_run(struct native_vcpu *v)
{
	uint8_t *c = kernel_ptr(v->vmcb, 4096);
	uint8_t *vmsa = kernel_ptr(v->vmsa, 4096);
	struct guest_gprs g;
	bool running = c != NULL && vmsa != NULL;

	atomic_store(&running_on[v->cpu], v->vmsa);

	while (running) {
		/* A VMSA whose SVME was cleared (DELETE_VCPU) is not run. */
		if ((load64(vmsa, VMSA_EFER_OFF) & EFER_SVME) == 0U) {
			log_msg(LOG_INFO, "vCPU %u: VMSA no longer runnable", v->apic_id);
			break;
		}
		__builtin_memcpy(c + VMCB_SAVE, vmsa, VMCB_SAVE_SHARED);
		for (unsigned i = 0; i < 14; i++) {
			g.r[i] = load64(vmsa, gpr_offsets[i]);
		}
		svm_vmrun(v->vmcb, &g);
		/* DELETE_VCPU clears SVME in the VMSA while the vCPU runs; the copy of the VMCB's
		 * state must not bring it back. */
		bool deleted = (load64(vmsa, VMSA_EFER_OFF) & EFER_SVME) == 0U;
		uint8_t vmpl = vmsa[VMSA_VMPL_OFF];

		__builtin_memcpy(vmsa, c + VMCB_SAVE, VMCB_SAVE_SHARED);
		vmsa[VMSA_VMPL_OFF] = vmpl;
		for (unsigned i = 0; i < 14; i++) {
			store64(vmsa, gpr_offsets[i], g.r[i]);
		}
		/* Deleted while it ran: stop without acting on the exit. */
		if (deleted) {
			store64(vmsa, VMSA_EFER_OFF, load64(vmsa, VMSA_EFER_OFF) & ~EFER_SVME);
			break;
		}
		running = handle_exit(v, vmsa, c);
	}
	atomic_store(&running_on[v->cpu], 0);
}

bool plat_vmsa_stop(gpa_t vmsa)
{
	unsigned self = smp_index_of(this_cpu());

	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		uint64_t was = gpa_val(vmsa);

		/* Deleted: a VMSA created again at this address is a new one to post. */
		(void)atomic_compare_exchange_strong(&posted[i], &was, 0);
		(void)atomic_compare_exchange_strong(&pending[i], &was, 0);
		if (i == self || atomic_load(&running_on[i]) != gpa_val(vmsa)) {
			continue;
		}
		smp_send_nmi(i);
		for (unsigned long n = 0; atomic_load(&running_on[i]) == gpa_val(vmsa); n++) {
			if (n == STOP_WAIT_SPINS) {
				return false;
			}
			__builtin_ia32_pause();
		}
	}
	return true;
}

void native_ap_work(unsigned index)
{
	struct native_vcpu v;

	if (!svm_enable_cpu() || !svm_vcpu_init(&v, smp_apic_id(index), 0)) {
		log_msg(LOG_ERR, "CPU %u: cannot run guest vCPUs", index);
		return;
	}
	for (;;) {
		uint64_t vmsa = atomic_exchange(&pending[index], 0);

		if (vmsa == 0U) {
			__builtin_ia32_pause();
			continue;
		}
		v.vmsa = vmsa;
		v.cpu = index;
		v.line_len = 0;
		svm_vcpu_run(&v);
	}
}
