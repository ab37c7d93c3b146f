/* A VMSA that starts a vCPU in 64-bit mode: used by Donjon's launch for the first guest
 * vCPU and by the test guest for the vCPUs it creates. */
#ifndef PLATFORM_NATIVE_VMSA_INIT_H
#define PLATFORM_NATIVE_VMSA_INIT_H

#include <stdint.h>

/* Zero the page, then: flat 64-bit segments, CR0/CR4/EFER for long mode with paging on
 * cr3, RIP, RSP, VMPL 2, EFER.SVME, SEV_FEATURES = SNP active. */
void vmsa_init_long_mode(uint8_t *vmsa, uint64_t rip, uint64_t rsp, uint64_t cr3);

#endif
