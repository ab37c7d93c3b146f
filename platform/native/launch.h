/* The native platform's launch of the guest. */
#ifndef PLATFORM_NATIVE_LAUNCH_H
#define PLATFORM_NATIVE_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Validate the guest's launch pages (and tell the guest its vCPU count and the address
 * to touch last and what to do in its parameter page), start the core, run the guest's first vCPU
 * until it stops.
 * *passed is the guest's own verdict (written to the debug-exit port). False if the
 * launch itself failed. */
bool native_launch(uint64_t mem_size, void *core_state, size_t core_state_size, unsigned vcpu_count,
		   uint64_t touch_gpa, uint32_t guest_mode, bool *passed);

#endif
