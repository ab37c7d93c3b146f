/* SVM on the native platform: one VMCB per CPU and the run loop of a guest vCPU. */
#ifndef PLATFORM_NATIVE_SVM_H
#define PLATFORM_NATIVE_SVM_H

#include "apic.h"
#include "ghcb.h"
#include "native.h"

/* SVM exit codes (AMD APM vol. 2, appendix C) that Donjon handles. */
#define EXIT_EXCP_UD 0x46U
#define EXIT_INTR 0x60U
#define EXIT_NMI 0x61U
#define EXIT_CPUID 0x72U
#define EXIT_RSM 0x73U
#define EXIT_INVD 0x76U
#define EXIT_HLT 0x78U
#define EXIT_INVLPGA 0x7AU
#define EXIT_IOIO 0x7BU
#define EXIT_MSR 0x7CU
#define EXIT_SHUTDOWN 0x7FU
#define EXIT_VMRUN 0x80U
#define EXIT_VMMCALL 0x81U
#define EXIT_VMLOAD 0x82U
#define EXIT_VMSAVE 0x83U
#define EXIT_STGI 0x84U
#define EXIT_CLGI 0x85U
#define EXIT_SKINIT 0x86U
#define EXIT_RDTSCP 0x87U
#define EXIT_WBINVD 0x89U
#define EXIT_MONITOR 0x8AU
#define EXIT_MWAIT 0x8BU
#define EXIT_MWAIT_ARMED 0x8CU
#define EXIT_XSETBV 0x8DU
#define EXIT_RDPRU 0x8EU
#define EXIT_INVLPGB 0xA0U
#define EXIT_INVLPGB_ILLEGAL 0xA1U
#define EXIT_MCOMMIT 0xA3U
#define EXIT_TLBSYNC 0xA4U
#define EXIT_NPF 0x400U

/* Exits by kind, and where the CPU's time went (TSC cycles) while it ran a vCPU: in the
 * guest, halted waiting for its interrupts, and the rest, in Donjon. */
enum svm_exit_kind {
	SVM_EXIT_K_NPF,
	SVM_EXIT_K_MSR,
	SVM_EXIT_K_IO,
	SVM_EXIT_K_CPUID,
	SVM_EXIT_K_VMGEXIT,
	SVM_EXIT_K_HLT,
	SVM_EXIT_K_INTR,
	SVM_EXIT_K_NMI,
	SVM_EXIT_K_UD,
	SVM_EXIT_K_OTHER,
	SVM_EXIT_KINDS,
};

struct svm_run_stats {
	uint64_t exits[SVM_EXIT_KINDS];
	uint64_t start, end; /* TSC when the vCPU began and stopped running */
	uint64_t guest, halted;
};

/* A CPU that runs guest vCPUs, one at a time, each until it stops. */
struct native_cpu {
	unsigned index; /* the kernel's CPU index */
	unsigned apic_id;
	uint8_t maxphyaddr;  /* what the guest's page-table entries may address (CPUID) */
	uint64_t c_bit_mask; /* the C-bit in the guest's page-table entries (SNP guests) */
	bool pages_1g;
	uint64_t vmcb;	    /* Donjon's pages for this CPU (physical addresses) */
	uint64_t host_save; /* where VMSAVE keeps the host's state during VMRUN */
	/* The vCPU being run, in VMSA layout, in Donjon's memory: copied from its VMSA page
	 * when the CPU took it, never written back (native_vmsa_claim). */
	uint8_t *state;
	uint64_t vmsa; /* the VMSA page it came from */
	uint64_t seq;  /* which creation of that page (svsm_vcpu_start) */
	unsigned vmpl;
	uint64_t xcr0;
	uint64_t flushed_gen;  /* the nested page tables' generation last flushed for */
	bool flush;	       /* flush the guest TLB at the next entry in any case */
	uint64_t npf_retry;    /* the page of the last nested page fault retried after a flush */
	struct ghcb_vcpu ghcb; /* the host's side of the GHCB protocol, per vCPU */
	uint64_t msr_hwcr, msr_de_cfg; /* the emulated machine's writable MSRs */
	uint64_t rmpadjusts;	       /* RMPADJUSTs the vCPU executed */
	uint32_t verdict;
	bool has_verdict; /* the guest wrote its result to the debug-exit port */
	bool ended;	  /* the vCPU stopped on an exit (not revoked by DELETE_VCPU) */
	bool parked;	  /* it went offline (AP_HLT_LOOP): not an end of the machine */
	char line[128];	  /* the guest's console output, a line at a time */
	unsigned line_len;
	/* Linux's machine (machine.c): the vCPU's local APIC, the vector offered as the VMCB's
	 * virtual interrupt at the last entry (-1: none), the TSC deadline this CPU's timer is
	 * armed for. */
	struct apic apic;
	int virq;
	uint64_t armed;
	bool nmi_masked; /* an NMI was injected and the guest has not said NMI_COMPLETE */
	uint64_t msr_kvm_system_time; /* as last written */
	struct svm_run_stats stats;
	uint64_t exit_tsc; /* the TSC when its last VMRUN returned */
};

/* A character the guest wrote to its console (COM1): printed a line at a time, printable
 * characters only, within the cap on guest output. */
void svm_guest_putc(struct native_cpu *c, char ch);

/* An exception for the guest at its next entry. */
void inject_exception(uint8_t *vmcb, unsigned vector, bool has_error, uint32_t error);
/* An NMI at the next entry, unless an event is already to be injected (false then). */
bool inject_nmi(uint8_t *vmcb);
/* Before pmm_init: the I/O and MSR permission maps (everything intercepted). */
bool svm_reserve(void);
/* The guest is Linux on the emulated SEV-SNP machine, vcpus vCPUs, C-bit c_bit: its CPUID
 * and MSRs (svm_snp.c), #UD intercepted for RMPADJUST and PVALIDATE, the MSRs that are
 * part of the VMCB's guest state passed through. Once, before any vCPU runs. */
void svm_snp_machine(uint8_t c_bit, unsigned vcpus);
/* SVM on for this CPU (EFER.SVME, host save area, FPU set-up) and its pages; NULL (with a
 * message) without SVM and nested paging, or without memory. */
struct native_cpu *svm_cpu_init(unsigned index);
/* CPU index's record (zero until svm_cpu_init), for reports; NULL past the last CPU. */
const struct native_cpu *svm_cpu(unsigned index);
/* The vCPU creation the guest's AP_CREATION released for apic_id (0: none): the CPU of that
 * APIC ID runs it (svm_run_vcpu) when it differs from the last it ran. */
uint64_t svm_ap_released(unsigned apic_id);
/* The name of an exit kind, for reports. */
const char *svm_exit_kind_name(enum svm_exit_kind k);
/* Start the vCPU creation seq of this CPU's APIC ID (svsm_vcpu_start: only if current and
 * never started) and run it on this CPU until it halts, faults, is deleted or stops; its
 * exits go to the core and the console. */
void svm_run_vcpu(struct native_cpu *c, uint64_t seq);

#endif
