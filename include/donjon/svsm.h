/* The entry points a platform uses to start Donjon's core and to hand it guest exits. */
#ifndef DONJON_SVSM_H
#define DONJON_SVSM_H

#include <donjon/bytes.h>
#include <donjon/launch.h>
#include <donjon/snp.h>
#include <donjon/types.h>
#include <donjon/vmsa.h>

#define SVSM_MAX_VCPUS 64U

struct svsm_vcpu_boot {
	gpa_t vmsa; /* the startup VMSA, inside the SVSM range */
	gpa_t caa;  /* its calling area, a validated guest page */
};

/* Guest memory the launch validated for the guest (its firmware or image): the core
 * grants the guest's VMPL full access to it. */
struct svsm_guest_range {
	gpa_t base;
	uint64_t size;
};

#define SVSM_MAX_GUEST_RANGES 8U

/* What the launch left in memory and where. All gPAs are 4 KiB aligned. */
struct svsm_boot {
	uint64_t mem_size;
	gpa_t svsm_base;
	uint64_t svsm_size;
	gpa_t secrets;	     /* the SVSM's secrets page (PSP-created, in the SVSM range) */
	gpa_t guest_secrets; /* the guest's copy, validated at launch, outside the range */
	unsigned guest_vmpl;
	unsigned vcpu_count;	     /* APIC IDs 0..vcpu_count-1 exist */
	unsigned startup_vcpu_count; /* vcpus[0..n-1] run from launch; the rest are created */
	struct svsm_vcpu_boot vcpus[SVSM_MAX_VCPUS];
	struct svsm_guest_range guest_ranges[SVSM_MAX_GUEST_RANGES];
	unsigned guest_range_count;
	void *state; /* svsm_state_size(mem_size) bytes of SVSM memory for core's tables */
	size_t state_size;
	/* A pre-shared key for migration sessions (a test key: stage 1), if key_set. */
	uint8_t migrate_key[32];
	bool migrate_key_set;
	/* The guest's migration policy as the launch measured it (zero: never migrates). */
	struct launch_migrate_policy migrate_policy;
};

struct svsm_regs {
	uint64_t rax;
	uint64_t rcx;
	uint64_t rdx;
	uint64_t r8;
	uint64_t r9;
};

/* The registers of an SVSM call in a VMSA page (the VMCB's save area shares the layout
 * for RAX; RCX..R9 are the SEV-ES VMSA's): what a platform hands svsm_handle_exit and
 * writes back afterwards. */
static inline void svsm_regs_from_vmsa(const uint8_t *vmsa, struct svsm_regs *r)
{
	r->rax = load64(vmsa, VMSA_RAX_OFF);
	r->rcx = load64(vmsa, VMSA_RCX_OFF);
	r->rdx = load64(vmsa, VMSA_RDX_OFF);
	r->r8 = load64(vmsa, VMSA_R8_OFF);
	r->r9 = load64(vmsa, VMSA_R9_OFF);
}

static inline void svsm_regs_to_vmsa(uint8_t *vmsa, const struct svsm_regs *r)
{
	store64(vmsa, VMSA_RAX_OFF, r->rax);
	store64(vmsa, VMSA_RCX_OFF, r->rcx);
	store64(vmsa, VMSA_RDX_OFF, r->rdx);
	store64(vmsa, VMSA_R8_OFF, r->r8);
	store64(vmsa, VMSA_R9_OFF, r->r9);
}

enum svsm_exit_result {
	SVSM_EXIT_RESUME,    /* a call was handled; regs hold the results */
	SVSM_EXIT_SPURIOUS,  /* not a request (no call pending, wrong exit, unknown VMSA) */
	SVSM_EXIT_VCPU_GONE, /* the vCPU deleted its own VMSA: it does not resume */
};

size_t svsm_state_size(uint64_t mem_size);

/* Take over the machine described by boot: page tracking, grants to the guest's launch
 * pages, the guest's secrets page. Returns false if boot is inconsistent. */
bool svsm_init(const struct svsm_boot *boot);

/* The guest on apic_id exited from the VMSA at vmsa with exit_code and registers regs.
 * Recognises a genuine request (VMGEXIT, call_pending == 1 in that vCPU's calling area),
 * runs it and clears call_pending. seq is the creation the CPU started (svsm_vcpu_start),
 * or 0 from a caller that keeps no copy of the VMSA taken at start (the simulator, which
 * runs the page itself; the portable tests). Safe to call from several CPUs at once. */
enum svsm_exit_result svsm_handle_exit(unsigned apic_id, gpa_t vmsa, uint64_t seq,
				       uint64_t exit_code, struct svsm_regs *regs);

enum svsm_report_result {
	SVSM_REPORT_OK,
	SVSM_REPORT_NO_KEY,	  /* no VMPCK0 in the secrets page (no PSP) */
	SVSM_REPORT_FIRMWARE,	  /* the PSP refused: *status is its code */
	SVSM_REPORT_BAD_RESPONSE, /* a response that is not the PSP's answer to this request */
};

/* Donjon's own attestation report (VMPL0) with user_data as REPORT_DATA: an SNP guest
 * message to the PSP, on include/donjon/crypto.h (OpenSSL hosted, BearSSL in the kernel). */
enum svsm_report_result svsm_attest_report(const uint8_t user_data[64],
					   uint8_t report[SNP_REPORT_SIZE], uint32_t *status);

/* Starting vCPUs, where the platform plays the host's part (native). Each CREATE_VCPU
 * makes a new creation with its own seq (never 0, never reused), current for its APIC ID.
 * svsm_vcpu_seq is the current creation of apic_id, 0 if none; lock-free, for a CPU
 * waiting for work. svsm_vcpu_start calls start(ctx, vmsa) with the core lock held if
 * that creation is still current and was never started, and marks it started if start
 * returns true; true then. */
typedef bool (*svsm_vcpu_start_fn)(void *ctx, gpa_t vmsa);
uint64_t svsm_vcpu_seq(unsigned apic_id);
bool svsm_vcpu_start(unsigned apic_id, uint64_t seq, svsm_vcpu_start_fn start, void *ctx);

/* The host's migration request: the mailbox (include/donjon/migrate_host.h) at the start
 * of the page ctl, in memory shared with the host. Returns the status it wrote there
 * (MIG_ST_BAD_MAILBOX, not written, if the mailbox cannot be reached). */
uint32_t svsm_migrate_request(gpa_t ctl);

/* A write by the guest at vmpl faulted on gpa for lack of write permission. True if it
 * was migration's write tracking: the page is writable again (and will be sent again),
 * and the write may be retried. */
bool svsm_write_fault(unsigned vmpl, gpa_t gpa);

/* What the guests asked of the core since svsm_init: calls by protocol and call number,
 * the calls answered with an error, and what PVALIDATE and the vCPU calls changed. */
#define SVSM_STATS_CORE_CALLS 8U
#define SVSM_STATS_ATTEST_CALLS 2U
#define SVSM_STATS_VTPM_CALLS 2U
/* Failed calls by result: SVSM_ERR_INCOMPLETE + i, SVSM_ERR_CORE_BASE + i. */
#define SVSM_STATS_ERRORS 8U
#define SVSM_STATS_CORE_ERRORS 0x12U

struct svsm_stats {
	uint64_t core_calls[SVSM_STATS_CORE_CALLS]; /* by SVSM_CORE_* number */
	uint64_t attest_calls[SVSM_STATS_ATTEST_CALLS];
	uint64_t vtpm_calls[SVSM_STATS_VTPM_CALLS]; /* by SVSM_VTPM_* number */
	uint64_t other_calls;		    /* a protocol or call number Donjon does not offer */
	uint64_t failed_calls;		    /* answered with a result other than SVSM_SUCCESS */
	uint64_t errors[SVSM_STATS_ERRORS]; /* of those, by result */
	uint64_t core_errors[SVSM_STATS_CORE_ERRORS]; /* (any other: counted in neither) */
	uint64_t pages_validated; /* 4 KiB pages PVALIDATE validated for a caller */
	uint64_t pages_rescinded; /* 4 KiB pages PVALIDATE took back from one */
	uint64_t vcpus_created;
	uint64_t vcpus_deleted;
};

void svsm_stats_get(struct svsm_stats *out);

/* The current VMSA and calling area of a vCPU (gpa 0 if it has none). */
gpa_t svsm_vcpu_vmsa(unsigned apic_id);
gpa_t svsm_vcpu_caa(unsigned apic_id);

#endif
