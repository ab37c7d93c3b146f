/* What the libFuzzer targets share: reading an input, a machine relaunched for each one,
 * and the invariants every input must leave: Donjon's memory and its RMP entries as
 * launched (a startup VMSA's registers aside), every page Donjon owns closed to VMPL1..3,
 * and the core's page tracking in step with the RMP. */
#ifndef TESTS_FUZZ_FUZZ_COMMON_H
#define TESTS_FUZZ_FUZZ_COMMON_H

#include "machine.h"

struct input {
	const uint8_t *data;
	size_t size;
};

/* The next `bytes` bytes of the input, little-endian; zeros once it is used up. */
uint64_t take(struct input *in, unsigned bytes);

/* The machine (mem bytes, vcpus vCPUs) and its launch state, for fuzz_check_machine.
 * Aborts if it cannot be made. */
struct sim_machine *fuzz_machine(uint64_t mem, unsigned vcpus);

/* The machine launched afresh (same PSP), for the next input; aborts if it cannot be. */
void fuzz_relaunch(void);

/* Aborts unless Donjon's range is as launched: its RMP entries, and its memory except
 * the startup VMSAs' registers (or, if vmsas_imported, the startup VMSAs as a whole,
 * which a migration's destination takes from the stream). */
void fuzz_check_svsm_range(bool vmsas_imported);

/* Aborts unless the invariants hold. Pages marked in host_touched (one byte per 4K page,
 * or NULL) were changed by the host behind Donjon's back: their tracking is not compared
 * with the RMP. */
void fuzz_check_machine(const uint8_t *host_touched);

#endif
