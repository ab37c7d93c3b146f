/* The protocol test guest: started by Donjon at VMPL2 on the native platform, it finds
 * its SVSM through the secrets page and runs its checks (checks.c; with mode=hostile the
 * hostile SMP ones, hostile.c), one PASS/FAIL line each, then "N passed, M failed"; the
 * verdict goes to the debug-exit port. Its last act touches Donjon's memory, which must
 * stop it. With bench=..., it times what make bench measures (bench.c). */
#include "guest.h"

#include "arch/x86/cpu.h"
#include "console.h"

void run_checks(const struct guest_check *checks, unsigned count, unsigned *passed,
		unsigned *failed)
{
	for (unsigned i = 0; i < count; i++) {
		failures = 0;
		checks[i].fn();
		kprintf("%s guest/%s", failures == 0U ? "PASS" : "FAIL", checks[i].name);
		if (failures == 0U) {
			(*passed)++;
		} else {
			(*failed)++;
		}
	}
}

void guest_main(void);

void guest_main(void)
{
	unsigned passed = 0, failed = 0;
	uint32_t mode = *(volatile uint32_t *)ptr(GUEST_PARAMS + GUEST_PARAMS_MODE_OFF);

	if (mode == GUEST_MODE_HALT) {
		outl(DEBUG_EXIT_PORT, 0x10U);
		return;
	}
	console_init();
	guest_tables_load();
	caa = read64(GUEST_SECRETS + SECRETS_SVSM_CAA_OFF);
	if (mode == GUEST_MODE_TIME_CALLS || mode == GUEST_MODE_TIME_SHOOTDOWN ||
	    mode == GUEST_MODE_TIME_ATTEST || mode == GUEST_MODE_TIME_VTPM) {
		if (mode == GUEST_MODE_TIME_CALLS) {
			bench_calls();
		} else if (mode == GUEST_MODE_TIME_SHOOTDOWN) {
			bench_shootdown();
		} else if (mode == GUEST_MODE_TIME_VTPM) {
			bench_vtpm();
		} else {
			bench_attest();
		}
		outl(DEBUG_EXIT_PORT, 0x10U);
		return;
	}
	if (mode == GUEST_MODE_HOSTILE) {
		run_checks(hostile_checks, hostile_check_count, &passed, &failed);
	} else if (mode == GUEST_MODE_VTPM_BROKEN) {
		static const struct guest_check broken[] = { { "vtpm_broken", check_vtpm_broken } };

		run_checks(broken, 1, &passed, &failed);
	} else {
		run_checks(core_checks, core_check_count, &passed, &failed);
	}
	kprintf("%u passed, %u failed", passed, failed);
	outl(DEBUG_EXIT_PORT, failed == 0U ? 0x10U : 0x11U);
	/* Donjon's memory, or memory never validated, is not in the guest's nested page
	 * tables: this access must stop us. */
	(void)read64(read64(GUEST_PARAMS + GUEST_PARAMS_TOUCH_OFF));
	kprintf("FAIL guest/forbidden-memory-is-unreachable");
}
