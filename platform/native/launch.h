/* The native platform's launch of the guest: what the PSP and the host do on SEV-SNP. */
#ifndef PLATFORM_NATIVE_LAUNCH_H
#define PLATFORM_NATIVE_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct native_launch_params {
	uint64_t mem_size;
	void *core_state; /* svsm_state_size(mem_size) bytes of Donjon's memory */
	size_t core_state_size;
	unsigned vcpu_count;
	uint64_t touch_gpa;  /* where the test guest's last access goes */
	uint32_t guest_mode; /* GUEST_MODE_* for the test guest */
};

#include <donjon/snp.h>

/* Guest pages the launch measures, as LAUNCH_UPDATE of type `type` would. */
struct launch_part {
	enum snp_page_type type;
	uint64_t gpa;
	uint64_t len;
};

/* The launch digest: Donjon's own code and read-only data, each part's pages, the secrets
 * page and the startup VMSA; then the PSP fills the secrets page (docs/spec-notes.md). */
void launch_measure(const struct launch_part *parts, unsigned count, uint64_t secrets,
		    uint64_t vmsa);

/* Validate the guest's launch pages (image, stack, page tables, parameter page, secrets
 * and calling-area pages), write its parameters, and start Donjon's core on them. The
 * first vCPU's VMSA goes to *vmsa. Can be repeated after native_rmp_reset. */
bool native_launch_prepare(const struct native_launch_params *lp, uint64_t *vmsa);

/* native_launch_prepare, then run the guest's first vCPU until it stops. *passed is the
 * guest's own verdict (written to the debug-exit port). False if the launch failed. */
bool native_launch(const struct native_launch_params *lp, bool *passed);

#endif
