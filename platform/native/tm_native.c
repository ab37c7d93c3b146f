/* The core's portable tests (tests/core) inside the kernel, on the native platform: a
 * fresh launch per test (RMP and nested page tables reset, launch pages validated, the
 * core started), the guest's accesses checked against what VMPL2 may do, and vCPU 0's
 * SVSM calls made with the calling-area handshake straight into the core's request
 * loop (no guest runs; test=core). */
#include <donjon/svsm.h>
#include <donjon/svsm_abi.h>
#include <donjon/vmsa.h>

#include "harness.h"
#include "launch.h"
#include "native.h"
#include "rmp.h"
#include "test_machine.h"
#include "tm_common.h"

static struct native_launch_params params;
static uint64_t vmsa;
static uint64_t caa;

void tm_native_setup(const struct native_launch_params *lp);
void tm_native_setup(const struct native_launch_params *lp)
{
	params = *lp;
}

bool tm_boot(void)
{
	native_rmp_reset();
	caa = GUEST_CAA(0);
	return native_launch_prepare(&params, &vmsa);
}

uint64_t tm_caa(void)
{
	return caa;
}

uint64_t tm_scratch(void)
{
	return GUEST_UNVALIDATED;
}

uint64_t tm_svsm_page(void)
{
	return 0x100000U;
}

uint64_t tm_startup_vmsa(void)
{
	return vmsa;
}

bool tm_write(uint64_t gpa, const void *buf, size_t len)
{
	void *dst = native_guest_access_fault(NATIVE_GUEST_VMPL, gpa, len, RMP_PERM_WRITE) == NULL
			    ? kernel_ptr(gpa, len)
			    : NULL;

	if (dst == NULL) {
		return false;
	}
	__builtin_memcpy(dst, buf, len);
	return true;
}

bool tm_read(uint64_t gpa, void *buf, size_t len)
{
	return native_guest_copy_in(NATIVE_GUEST_VMPL, gpa, buf, len, RMP_PERM_READ);
}

bool tm_may_access(unsigned vmpl, uint64_t gpa, bool write)
{
	return native_npt_permits(vmpl, gpa, write);
}

uint64_t tm_call(uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t out[4])
{
	struct svsm_regs regs = { .rax = rax, .rcx = rcx, .rdx = rdx, .r8 = r8 };
	uint8_t flag = 1;
	uint64_t called_through = caa;

	if (!tm_write(called_through, &flag, 1) ||
	    svsm_handle_exit(0, gpa_init(vmsa), 0, VMEXIT_VMGEXIT, &regs) != SVSM_EXIT_RESUME ||
	    !tm_read(called_through, &flag, 1) || flag != 0U) {
		return ~0ULL;
	}
	if (rax == SVSM_CORE_REMAP_CA && regs.rax == SVSM_SUCCESS) {
		caa = rcx;
	}
	tm_copy_outputs(&regs, out);
	return regs.rax;
}

const uint8_t *tm_chip_key(void)
{
	return native_psp_chip_key();
}

struct tm_rmp tm_rmp(uint64_t gpa)
{
	struct rmp_entry e = { 0 };

	return native_rmp_entry(gpa, &e) ? tm_rmp_from(&e) : (struct tm_rmp){ 0 };
}

void ct_print(const char *line)
{
	kprintf("%s", line);
}
