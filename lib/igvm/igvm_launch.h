/* What a host does with an IGVM file: QEMU's loader walks the directives, KVM adds the
 * vCPUs' VMSAs, the PSP measures each page. igvm_snp_launch replays that for the SEV-SNP
 * platform and hands every launched page, in measurement order, to a callback: the
 * measure tool hashes them, the simulator loads and measures them. */
#ifndef TOOLS_IGVM_IGVM_LAUNCH_H
#define TOOLS_IGVM_IGVM_LAUNCH_H

#include <donjon/snp.h>

#include "igvm_file.h"

/* What the host's command line decides (QEMU -smp, -m, -cpu). */
struct igvm_host {
	unsigned vcpus;
	uint64_t mem_size;     /* RAM is [0, mem_size): the memory map the host writes */
	uint32_t vcpu_sig;     /* CPUID(1).EAX, in RDX of a vCPU at reset (-cpu model) */
	bool set_sev_features; /* KVM applies sev_features instead of the file's */
	uint64_t sev_features;
};

#define IGVM_VCPU_SIG_EPYC_V4 0x800F12U

enum igvm_event {
	IGVM_EV_PAGE,	  /* a launched page (measured or not) */
	IGVM_EV_REQUIRED, /* REQUIRED_MEMORY: [gpa, gpa + size) made private, not measured */
};

struct igvm_launch_page {
	enum igvm_event event;
	uint64_t gpa;
	uint64_t size; /* IGVM_EV_REQUIRED only */
	enum snp_page_type type;
	const uint8_t *data; /* 4 KiB; NULL for a page of zeros */
	uint32_t record;     /* offset of the record that loaded it (0: an AP's reset VMSA) */
	unsigned vp;	     /* VMSA pages: the vCPU */
};

typedef bool (*igvm_page_fn)(void *ctx, const struct igvm_launch_page *p, struct igvm_error *err);

struct igvm_launch {
	uint32_t platform_mask;
	uint64_t policy; /* GUEST_POLICY, else QEMU's default 0x30000 */
	uint64_t sev_features;
	const uint8_t *id_block; /* the SNP_ID_BLOCK record's body, or NULL */
	uint32_t id_block_record;
};

#define IGVM_DEFAULT_POLICY 0x30000ULL

/* Replay the SEV-SNP launch of f on host. False (err names the record) where QEMU or
 * KVM would refuse the file, or where fn fails. */
bool igvm_snp_launch(const struct igvm_file *f, const struct igvm_host *host, igvm_page_fn fn,
		     void *ctx, struct igvm_launch *out, struct igvm_error *err);

/* The checks QEMU's loader makes for the native platform (no measurement). */
bool igvm_native_check(const struct igvm_file *f, struct igvm_error *err);

/* A vCPU's VMSA in x86 reset state as KVM builds it for an AP that the file does not
 * describe (QEMU: no AP context with IGVM). */
void igvm_reset_vmsa(uint8_t page[IGVM_PAGE], uint64_t sev_features, uint32_t vcpu_sig);

/* KVM measures the VMSA it rebuilds from the vCPU state QEMU sets: only the fields QEMU
 * synchronises may be non-zero, and KVM's own bits must already be there. */
bool igvm_vmsa_check(const uint8_t *vmsa, uint32_t record, struct igvm_error *err);

/* The native VP context (IgvmNativeVpContextX64). */
#define IGVM_NATIVE_CTX_SIZE 232U
#define IGVM_NATIVE_RBX 8U
#define IGVM_NATIVE_RIP 128U
#define IGVM_NATIVE_RFLAGS 136U
#define IGVM_NATIVE_CODE_SEL 168U
#define IGVM_NATIVE_CODE_ATTR 170U
#define IGVM_NATIVE_CODE_BASE 172U
#define IGVM_NATIVE_CODE_LIMIT 176U
#define IGVM_NATIVE_DATA_SEL 180U
#define IGVM_NATIVE_DATA_ATTR 182U
#define IGVM_NATIVE_DATA_BASE 184U
#define IGVM_NATIVE_DATA_LIMIT 188U
#define IGVM_NATIVE_CR0 200U
#define IGVM_NATIVE_CR3 208U
#define IGVM_NATIVE_CR4 216U
#define IGVM_NATIVE_EFER 224U

#endif
