/* A model of the hypervisor's side of the GHCB protocol (AMD 56421), for a guest whose host
 * Donjon plays (the native platform): the GHCB MSR protocol and the GHCB page's events. It
 * is the untrusted world around the SVSM, not Donjon's trusted code: it sees only what a
 * host would, through the accessors the platform gives it, and copies every GHCB in once.
 * What it supports so far: registering a GHCB, SEV information, hypervisor features,
 * RUN_VMPL (an SVSM call) by MSR and by GHCB, SNP guest requests to the PSP, page state
 * changes by MSR and by GHCB, AP creation, AP_HLT_LOOP, NMI completion, termination.
 * Anything else is refused with a reason, and the platform stops the vCPU. */
#ifndef MODEL_HOST_GHCB_H
#define MODEL_HOST_GHCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <donjon/ghcb.h>

/* The host's view of the guest and of the PSP, as the platform provides it. read and
 * write refuse anything a host could not reach (Donjon's memory, at the least). */
struct ghcb_env {
	bool (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	bool (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	/* An SNP guest request: 4 KiB message pages; the firmware status. */
	uint32_t (*guest_request)(void *ctx, const void *req, void *resp);
	/* A page state change of [gpa, +4K or 2M) to private or shared: NULL, or why the
	 * host refuses it. */
	const char *(*psc)(void *ctx, uint64_t gpa, bool size_2m, bool to_private);
	/* AP_CREATION: start the vCPU of apic_id at VMPL vmpl from the VMSA at vmsa, whose SEV
	 * features the guest says are features: NULL, or why the host refuses. */
	const char *(*ap_create)(void *ctx, uint32_t apic_id, unsigned vmpl, uint64_t vmsa,
				 uint64_t features);
	/* NMI_COMPLETE: the guest handled the NMI it was given. */
	void (*nmi_complete)(void *ctx);
	void *ctx;
	uint8_t c_bit; /* the C-bit position SEV information reports */
};

/* What the guest asked of the host: SVSM calls (RUN_VMPL) by MSR and by GHCB, page state
 * changes by MSR and by GHCB and the pages they named, SNP guest requests, AP_CREATION
 * events the host carried out, AP_HLT_LOOPs (a vCPU going offline), NMI completions. */
struct ghcb_counts {
	uint64_t svsm_msr, svsm_ghcb;
	uint64_t psc_msr, psc_ghcb, psc_pages;
	uint64_t guest_requests;
	uint64_t ap_creations;
	uint64_t ap_hlt_loops;
	uint64_t nmi_completes;
};

/* One vCPU's GHCB state, kept by the host. */
struct ghcb_vcpu {
	uint64_t msr;	   /* the GHCB MSR as the guest wrote it or the host answered */
	uint64_t ghcb_gpa; /* the GHCB the guest registered, 0 if none */
	bool svsm_by_ghcb; /* the SVSM call in progress came through the GHCB page */
	uint8_t term_set;  /* a termination request: reason set and code */
	uint8_t term_code;
	struct ghcb_counts count;
	const char *why; /* what a refused request was, and its value */
	uint64_t why_value;
};

enum ghcb_verdict {
	GHCB_RESUME,	/* handled: resume the guest after the VMGEXIT */
	GHCB_SVSM_CALL, /* RUN_VMPL 0: the SVSM handles the call, then ghcb_svsm_done */
	GHCB_TERMINATE, /* the guest asked to be terminated (term_set, term_code) */
	GHCB_AP_HLT,	/* AP_HLT_LOOP: the vCPU is offline until an AP_CREATION replaces it */
	GHCB_REFUSED,	/* a request the host does not support or that is malformed (why) */
};

void ghcb_vcpu_init(struct ghcb_vcpu *v);
/* A new VMSA on the vCPU's CPU: its GHCB state starts over (no GHCB registered, MSR 0),
 * the counts go on. */
void ghcb_vcpu_restart(struct ghcb_vcpu *v);
/* RDMSR and WRMSR of GHCB_MSR. */
uint64_t ghcb_msr_read(const struct ghcb_vcpu *v);
void ghcb_msr_write(struct ghcb_vcpu *v, uint64_t value);
/* True if the GHCB MSR is 0: no GHCB request. A VMGEXIT then is an SVSM call with the
 * calling-area handshake alone, the way the native platform's protocol test guest makes
 * them (it predates the GHCB); no SEV-SNP guest leaves its GHCB MSR at 0. */
bool ghcb_unused(const struct ghcb_vcpu *v);

/* The guest executed VMGEXIT. */
enum ghcb_verdict ghcb_vmgexit(struct ghcb_vcpu *v, const struct ghcb_env *env);
/* What a termination request's reason set and code mean: set 0 is the GHCB spec's, set 1
 * Linux's (arch/x86/include/asm/sev-common.h); "unknown" for any other. */
const char *ghcb_term_reason(uint8_t set, uint8_t code);
/* After GHCB_SVSM_CALL: the answer the guest expects (MSR 0x017, or SW_EXITINFO1 0). */
void ghcb_svsm_done(struct ghcb_vcpu *v, const struct ghcb_env *env);

#endif
