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

/* The guest on vCPU 0 validates `pages` pages (at most 64) from base, then deposits the
 * page at deposited (one of them) with the SVSM; aborts if either call fails. */
void fuzz_guest_pages(uint64_t base, unsigned pages, uint64_t deposited);

/* The i-th page a guest call could write: the `pages` pages from base, then the launch's
 * calling areas of `vcpus` vCPUs, then the guest's secrets page. */
uint64_t fuzz_watched_page(unsigned i, uint64_t base, unsigned pages, unsigned vcpus);

/* An address for a field: the `pages` pages from buf and offsets into them, the ends of
 * pages, calling areas (the caller's current one too), Donjon's range and the startup
 * VMSAs, the deposited page, pages never validated, the end of memory and of the address
 * space, anything. */
uint64_t fuzz_pick_gpa(struct input *in, uint64_t buf, unsigned pages, uint64_t deposited,
		       uint64_t mem, unsigned vcpu);

/* Aborts unless Donjon's range is as launched: its RMP entries, and its memory except
 * the startup VMSAs' registers (or, if vmsas_imported, the startup VMSAs as a whole,
 * which a migration's destination takes from the stream). */
void fuzz_check_svsm_range(bool vmsas_imported);

/* Aborts unless the invariants hold. Pages marked in host_touched (one byte per 4K page,
 * or NULL) were changed by the host behind Donjon's back: their tracking is not compared
 * with the RMP. */
void fuzz_check_machine(const uint8_t *host_touched);

#endif
