/* Helpers for tests that drive a simulated machine the way a guest would. */
#ifndef TESTS_UNIT_HELPERS_H
#define TESTS_UNIT_HELPERS_H

#include <donjon/svsm_abi.h>

#include "harness.h"
#include "machine.h"

#define CALL(proto, id) (((uint64_t)(proto) << 32) | (id))
#define CORE(id) CALL(SVSM_PROTOCOL_CORE, id)

/* A machine of mem bytes and vcpus vCPUs; the test fails if it cannot be made. */
struct sim_machine *t_machine(uint64_t mem, unsigned vcpus);

/* An SVSM call from vcpu; returns RAX, or ~0 if the call could not be made. */
uint64_t t_call(struct sim_machine *m, unsigned vcpu, uint64_t rax, uint64_t rcx, uint64_t rdx,
		uint64_t r8, struct svsm_regs *out);

/* Guest (VMPL2) memory access that must succeed. */
void t_write(struct sim_machine *m, uint64_t gpa, const void *buf, size_t len);
void t_write_u64(struct sim_machine *m, uint64_t gpa, uint64_t v);
uint64_t t_read_u64(struct sim_machine *m, uint64_t gpa);
uint16_t t_read_u16(struct sim_machine *m, uint64_t gpa);
/* Write a list header (entries, next) and its entries at gpa. */
void t_list(struct sim_machine *m, uint64_t gpa, uint16_t next, const uint64_t *entries,
	    uint16_t n);
/* PVALIDATE entry. */
uint64_t t_pval(uint64_t gpa, bool size_2m, bool validate, bool ignore_cf);
/* Validate [gpa, gpa + pages*4K) at 4K through the SVSM, from vcpu 0's calling area. */
void t_validate_4k(struct sim_machine *m, uint64_t gpa, unsigned pages);

/* The RMP entry of gpa. */
struct rmp_entry t_rmp(struct sim_machine *m, uint64_t gpa);
/* True if the core's page tracking agrees with the RMP on every page. */
bool t_tracking_matches_rmp(struct sim_machine *m);
/* True if the attestation report (SNP_REPORT_SIZE bytes) verifies with the machine's chip
 * key as sim_export_chip_key gives it (PEM): ECDSA P-384 over SHA-384 of bytes
 * 0..0x29F, R and S little-endian. */
bool t_report_verifies(const struct sim_machine *m, const uint8_t *report);
/* A VMSA as Linux builds one for an AP: VMPL2, EFER.SVME, the launch's SEV features. */
void t_build_vmsa(struct sim_machine *m, uint64_t gpa);

#endif
