/* A hosted model of an SEV-SNP machine: guest memory, the RMP, the host (hypervisor) side
 * and the platform security processor, with Donjon's core running at VMPL0.
 *
 * Lock order: the core lock (core/svsm_internal.h) before sim_machine.lock. The machine
 * lock guards the RMP and the vCPU bindings; it is never held while calling into core/. */
#ifndef PLATFORM_SIM_MACHINE_H
#define PLATFORM_SIM_MACHINE_H

#include <pthread.h>
#include <stdio.h>

#include <donjon/platform.h>
#include <donjon/svsm.h>
#include <donjon/vmsa.h>

#include "psp.h"
#include "rmp.h"

/* Launch layout of a simulated machine. */
#define SIM_MEM_MIN (16ULL << 20)
#define SIM_MEM_MAX (64ULL << 30)
#define SIM_MEM_DEFAULT (256ULL << 20)
#define SIM_GUEST_SECRETS 0x1000ULL
#define SIM_CAA_BASE 0x10000ULL /* vCPU i's first calling area at +i * 4K */
#define SIM_SVSM_BASE 0x800000ULL
#define SIM_SVSM_SIZE 0x400000ULL
#define SIM_SECRETS (SIM_SVSM_BASE + 0x0000ULL)
#define SIM_CPUID (SIM_SVSM_BASE + 0x1000ULL)
#define SIM_VMSA_BASE (SIM_SVSM_BASE + 0x2000ULL) /* startup VMSA i at +i * 4K */
/* The migration policy: a NORMAL page when one is set, a ZERO page (no migration) if not. */
#define SIM_POLICY (SIM_VMSA_BASE + SVSM_MAX_VCPUS * 0x1000ULL)
#define SIM_GUEST_VMPL 2U
#define SIM_SEV_FEATURES SEV_FEATURE_SNP_ACTIVE

struct sim_vcpu {
	gpa_t vmsa;    /* the VMSA the host runs for this vCPU at the guest's VMPL */
	gpa_t caa;     /* the calling area the guest believes current */
	bool runnable; /* the host has a VMSA for it */
};

/* What the (untrusted) host does to the SVSM's SNP guest requests: forward them as they
 * are, or attack. */
enum sim_host_tamper {
	SIM_HOST_FORWARD = 0,
	SIM_HOST_FLIP_RESPONSE, /* forward, then flip a bit of the response's ciphertext */
	SIM_HOST_DROP,		/* do not forward; answer with a firmware error */
	SIM_HOST_REPLAY,	/* forward, then answer with the previous response instead */
};

struct sim_machine {
	pthread_mutex_t lock;
	uint8_t *mem;
	uint64_t mem_size;
	bool mem_prealloc; /* guest memory stays allocated across launches */
	struct rmp_entry *rmp;
	unsigned vcpu_count;
	struct sim_vcpu vcpus[SVSM_MAX_VCPUS];
	struct psp psp;
	void *svsm_state;
	uint64_t svsm_base; /* Donjon's range, as launched */
	uint64_t svsm_size;
	uint8_t *igvm; /* the IGVM file the machine launches from, or NULL */
	size_t igvm_len;
	enum sim_host_tamper host_tamper;
	/* The host does not forward the guest's write faults to the SVSM (a host hiding
	 * dirty pages from migration's write tracking). */
	bool host_hides_faults;
	uint8_t last_response[PAGE_SIZE]; /* for SIM_HOST_REPLAY */
};

/* Build a machine with mem_size bytes and vcpu_count vCPUs, launch it (the PSP measures
 * the SVSM range, secrets, CPUID and VMSA pages) and start Donjon's core on it. It
 * becomes the machine behind the platform interface. NULL with a message in err on
 * failure. */
struct sim_machine *sim_create(uint64_t mem_size, unsigned vcpu_count, char *err, size_t errlen);
/* The same, launched from an IGVM file as QEMU and KVM would (platform/sim/igvm_boot.c):
 * the file's pages, parameters and VMSAs measured in their order, then Donjon's core
 * started from the launch info the file carries. The file is copied. */
struct sim_machine *sim_create_igvm(uint64_t mem_size, unsigned vcpu_count, const uint8_t *igvm,
				    size_t igvm_len, char *err, size_t errlen);
bool sim_igvm_launch(struct sim_machine *m, char *err, size_t errlen);
void sim_destroy(struct sim_machine *m);
/* Power-cycle and launch again with the same PSP (chip key, VMPCKs): for fuzzing. */
bool sim_relaunch(struct sim_machine *m);
/* The machine the platform interface acts on (the last one created). */
struct sim_machine *sim_current(void);

/* The instructions, executed at `vmpl`. */
enum rmp_result sim_pvalidate(struct sim_machine *m, unsigned vmpl, gpa_t gpa, enum page_size size,
			      bool validate);
enum rmp_result sim_rmpadjust(struct sim_machine *m, unsigned vmpl, gpa_t gpa, enum page_size size,
			      unsigned target_vmpl, uint8_t perms, bool vmsa);

/* A private (C-bit) access by software at `vmpl` (1..3). NULL on success, otherwise the
 * reason for the fault; a faulting access changes nothing. A write that faults for lack of
 * write permission goes to the SVSM first, as the host forwards such a fault (unless
 * host_hides_faults), and is retried if the SVSM says so. */
const char *sim_guest_read(struct sim_machine *m, unsigned vmpl, gpa_t gpa, void *buf, size_t len);
const char *sim_guest_write(struct sim_machine *m, unsigned vmpl, gpa_t gpa, const void *buf,
			    size_t len);

/* The next machines' guest memory is allocated and touched when they are made, as QEMU's
 * -mem-prealloc does, instead of at each page's first access. */
void sim_set_mem_prealloc(bool on);

/* The migration key the next launches give Donjon (stage 1: a pre-shared test key). */
void sim_set_migrate_key(const uint8_t key[32]);
void sim_boot_migrate_key(struct svsm_boot *b);
/* The migration policy of the next launches that are not from an IGVM file (whose launch
 * info carries its own): the launch measures it in the page at SIM_POLICY. */
void sim_set_migrate_policy(const struct launch_migrate_policy *p);
/* The chip's certificate a host would fetch for it: CHIP_ID, the chip key, and the
 * model root's endorsement of both (include/donjon/chip_cert.h). */
bool sim_chip_certificate(struct sim_machine *m, uint8_t chip_id[64],
			  uint8_t chip_pub[CRYPTO_P384_POINT_SIZE],
			  uint8_t endorsement[CRYPTO_P384_SIG_SIZE]);
/* True if a vCPU of the guest can run (the host has a VMSA for it with EFER.SVME set):
 * only then can the guest touch its memory. */
bool sim_guest_running(struct sim_machine *m);

/* Write the PSP's chip key (its public half) as PEM. */
bool sim_export_chip_key(const struct sim_machine *m, FILE *out);

/* A copy of the RMP entry of the page holding gpa (false if outside memory). */
bool sim_rmp_entry(struct sim_machine *m, gpa_t gpa, struct rmp_entry *out);

/* Host side. NULL on success, otherwise why the host refused. */
const char *sim_host_psc(struct sim_machine *m, gpa_t gpa, enum page_size size, enum psc_op op);
const char *sim_host_ap_create(struct sim_machine *m, unsigned apic_id, gpa_t vmsa);

enum sim_call_status {
	SIM_CALL_DONE,	  /* the call ran; regs hold the results */
	SIM_CALL_STOPPED, /* the vCPU deleted its own VMSA and no longer runs */
};

/* The guest on apic_id makes an SVSM call the way Linux does: call_pending = 1 in its
 * calling area, VMGEXIT to VMPL0, then exchange call_pending with 0. NULL on success
 * (status says how it ended), otherwise why the call could not be made or completed. */
const char *sim_vcpu_call(struct sim_machine *m, unsigned apic_id, struct svsm_regs *regs,
			  enum sim_call_status *status);

#endif
