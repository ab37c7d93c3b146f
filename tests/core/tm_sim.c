/* The core's portable tests on the simulated SEV-SNP machine (hosted, ASan/UBSan). */
#include <stdio.h>

#include "harness.h"
#include "machine.h"
#include "test_machine.h"
#include "tm_common.h"

#define TM_MEM (64ULL << 20)

static struct sim_machine *sim;

bool tm_boot(void)
{
	if (sim == NULL) {
		char err[128];

		sim = sim_create(TM_MEM, 1, err, sizeof(err));
		return sim != NULL;
	}
	return sim_relaunch(sim);
}

uint64_t tm_caa(void)
{
	return gpa_val(sim->vcpus[0].caa);
}

uint64_t tm_scratch(void)
{
	return 0x400000;
}

uint64_t tm_svsm_page(void)
{
	return SIM_SVSM_BASE + 0x9000;
}

uint64_t tm_startup_vmsa(void)
{
	return SIM_VMSA_BASE;
}

bool tm_write(uint64_t gpa, const void *buf, size_t len)
{
	return sim_guest_write(sim, SIM_GUEST_VMPL, gpa_init(gpa), buf, len) == NULL;
}

bool tm_read(uint64_t gpa, void *buf, size_t len)
{
	return sim_guest_read(sim, SIM_GUEST_VMPL, gpa_init(gpa), buf, len) == NULL;
}

bool tm_may_access(unsigned vmpl, uint64_t gpa, bool write)
{
	uint8_t byte = 0;

	if (sim_guest_read(sim, vmpl, gpa_init(gpa), &byte, 1) != NULL) {
		return false;
	}
	/* Writing back the byte just read changes nothing. */
	return !write || sim_guest_write(sim, vmpl, gpa_init(gpa), &byte, 1) == NULL;
}

uint64_t tm_call(uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t out[4])
{
	struct svsm_regs regs = { .rax = rax, .rcx = rcx, .rdx = rdx, .r8 = r8 };
	enum sim_call_status status = SIM_CALL_DONE;

	if (sim_vcpu_call(sim, 0, &regs, &status) != NULL || status != SIM_CALL_DONE) {
		return ~0ULL;
	}
	tm_copy_outputs(&regs, out);
	return regs.rax;
}

const uint8_t *tm_chip_key(void)
{
	return sim->psp.chip_pub;
}

struct tm_rmp tm_rmp(uint64_t gpa)
{
	struct rmp_entry e = { 0 };

	return sim_rmp_entry(sim, gpa_init(gpa), &e) ? tm_rmp_from(&e) : (struct tm_rmp){ 0 };
}

void ct_print(const char *line)
{
	(void)puts(line);
}

int main(void)
{
	unsigned failed = ct_run_tests("core-sim", core_tests, core_test_count);

	sim_destroy(sim);
	return failed == 0U ? 0 : 1;
}
