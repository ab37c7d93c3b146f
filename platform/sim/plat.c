/* The platform interface on the simulated machine: core/ runs at VMPL0 of sim_current(). */
#include <string.h>
#include <sys/random.h>

#include <donjon/platform.h>

#include "machine.h"

enum rmp_result plat_pvalidate(gpa_t gpa, enum page_size size, bool validate)
{
	return sim_pvalidate(sim_current(), 0, gpa, size, validate);
}

enum rmp_result plat_rmpadjust(gpa_t gpa, enum page_size size, unsigned target_vmpl, uint8_t perms,
			       bool vmsa)
{
	return sim_rmpadjust(sim_current(), 0, gpa, size, target_vmpl, perms, vmsa);
}

void *plat_map(gpa_t gpa, size_t len)
{
	struct sim_machine *m = sim_current();
	struct rmp_entry e;

	if (!range_within(gpa_val(gpa), len, m->mem_size)) {
		return NULL;
	}
	/* VMPL0 reaches every validated private page; anything else would fault. */
	for (uint64_t p = gpa_val(gpa) & ~(PAGE_SIZE - 1U); p < gpa_val(gpa) + len;
	     p += PAGE_SIZE) {
		if (!sim_rmp_entry(m, gpa_init(p), &e) || !e.assigned || !e.validated) {
			return NULL;
		}
	}
	return m->mem + gpa_val(gpa);
}

void *plat_map_shared(gpa_t gpa, size_t len)
{
	struct sim_machine *m = sim_current();
	struct rmp_entry e;

	if (len == 0U || !range_within(gpa_val(gpa), len, m->mem_size)) {
		return NULL;
	}
	/* Shared memory is the hypervisor's: pages the RMP does not assign to the guest. */
	for (uint64_t p = gpa_val(gpa) & ~(PAGE_SIZE - 1U); p < gpa_val(gpa) + len;
	     p += PAGE_SIZE) {
		if (!sim_rmp_entry(m, gpa_init(p), &e) || e.assigned) {
			return NULL;
		}
	}
	return m->mem + gpa_val(gpa);
}

void plat_unmap(const void *ptr, size_t len)
{
	/* Guest memory stays mapped in the simulator. */
	(void)ptr;
	(void)len;
}

bool plat_vmsa_stop(gpa_t vmsa)
{
	/* A simulated vCPU runs only inside sim_vcpu_call, which the core lock (held by the
	 * caller) serialises: no other VMSA is executing now. */
	(void)vmsa;
	return true;
}

bool plat_random(void *buf, size_t len)
{
	return getrandom(buf, len, 0) == (ssize_t)len;
}

bool plat_chip_root(uint8_t pub[CRYPTO_P384_POINT_SIZE])
{
	return psp_root_public(pub);
}

uint32_t plat_guest_request(const void *req, void *resp)
{
	struct sim_machine *m = sim_current();
	uint8_t *out = resp;
	uint32_t status = SNP_FW_INVALID_PARAM;

	if (m->host_tamper != SIM_HOST_DROP) {
		status = psp_guest_request(&m->psp, req, resp);
	}
	if (status != SNP_FW_SUCCESS) {
		return status;
	}
	if (m->host_tamper == SIM_HOST_FLIP_RESPONSE) {
		out[sizeof(struct snp_msg_hdr)] ^= 1U;
	} else if (m->host_tamper == SIM_HOST_REPLAY) {
		uint8_t fresh[PAGE_SIZE];

		memcpy(fresh, out, PAGE_SIZE);
		memcpy(out, m->last_response, PAGE_SIZE);
		memcpy(m->last_response, fresh, PAGE_SIZE);
	} else {
		memcpy(m->last_response, out, PAGE_SIZE);
	}
	return status;
}
