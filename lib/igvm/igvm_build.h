/* donjon-igvm build: Donjon's kernel, its launch pages and a guest image in one IGVM file
 * for the SEV-SNP and native platforms. */
#ifndef TOOLS_IGVM_IGVM_BUILD_H
#define TOOLS_IGVM_IGVM_BUILD_H

#include <donjon/launch.h>

#include "igvm_measure.h"

/* The launch layout (Donjon's range is [0, 16 MiB), the guest's starts there; the guest
 * pages match platform/native/native.h, which the test guest is linked for). */
#define BUILD_SVSM_BASE 0x0ULL
#define BUILD_SVSM_SIZE 0x1000000ULL
#define BUILD_LAUNCH_INFO 0x200000ULL
#define BUILD_PARAMS 0x201000ULL
#define BUILD_MEMORY_MAP 0x202000ULL
#define BUILD_MEMORY_MAP_SIZE 0x1000ULL
#define BUILD_CPUID 0x203000ULL
#define BUILD_SECRETS 0x204000ULL
#define BUILD_LAYOUT_END 0x205000ULL
#define BUILD_GUEST_SECRETS 0x1000000ULL
#define BUILD_GUEST_CAA 0x1001000ULL
#define BUILD_GUEST_PARAMS 0x100F000ULL
#define BUILD_GUEST_IMAGE 0x1100000ULL
#define BUILD_GUEST_VMPL 2U

#define BUILD_MASK_SNP 0x1U
#define BUILD_MASK_NATIVE 0x2U

struct build_opts {
	const char *kernel; /* ELF */
	const char *guest;  /* flat image, entered at its first byte */
	bool snp, native;
	uint64_t policy;
	uint64_t sev_features;
	EVP_PKEY *id_key, *author_key; /* an ID block when id_key is set */
	unsigned id_vcpus;	       /* the vCPU count the ID block's digest is for */
	uint32_t vcpu_sig;
	struct id_block_input id;
	struct launch_migrate_policy migrate; /* in the launch info; zero: never migrates */
};

/* The file (malloc'd) or false with a message in why. */
bool igvm_build(const struct build_opts *o, uint8_t **out, size_t *out_len, char *why,
		size_t why_len);

#endif
