/* What the core's portable tests need of a machine: a fresh launch with Donjon's core at
 * VMPL0 and one guest vCPU at VMPL2, the guest's view of memory, SVSM calls made with the
 * calling-area handshake, and the RMP. Implemented on the simulator (tests/core/tm_sim.c)
 * and on the native platform inside the kernel (platform/native/tm_native.c). */
#ifndef TESTS_CORE_TEST_MACHINE_H
#define TESTS_CORE_TEST_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A freshly launched machine; false if it cannot be made. */
bool tm_boot(void);

uint64_t tm_caa(void);	   /* vCPU 0's calling area */
uint64_t tm_scratch(void); /* 4 MiB of guest memory, 2 MiB aligned, 4K RMP entries, not validated */
uint64_t tm_svsm_page(void);	/* a page inside Donjon's range */
uint64_t tm_startup_vmsa(void); /* vCPU 0's VMSA (Donjon's) */

/* Guest (VMPL2) accesses; false if the access faults (and then nothing changed). */
bool tm_write(uint64_t gpa, const void *buf, size_t len);
bool tm_read(uint64_t gpa, void *buf, size_t len);

/* Whether software at vmpl (1..3) may read (write = false) or write the page at gpa: on
 * the simulator the RMP's rules, on the native platform that VMPL's nested page table,
 * which is what enforces them there. Nothing is changed. */
bool tm_may_access(unsigned vmpl, uint64_t gpa, bool write);

/* An SVSM call from vCPU 0: RAX, or ~0 if the handshake failed. Outputs in *out if set. */
uint64_t tm_call(uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t out[4]);

/* The public point (uncompressed, 97 bytes) of the chip key that signs the machine's
 * attestation reports. */
const uint8_t *tm_chip_key(void);

struct tm_rmp {
	bool validated;
	bool vmsa;
	uint8_t perms[4];
};
struct tm_rmp tm_rmp(uint64_t gpa);

#endif
