/* The guest vCPUs the SVSM knows: each registered VMSA with its calling area, APIC ID and
 * VMPL, and which VMSA is current for each APIC ID. Callers hold the core lock. */
#ifndef CORE_VCPU_VCPU_H
#define CORE_VCPU_VCPU_H

#include <donjon/types.h>

/* Linux creates a replacement VMSA before it deletes the old one, so an APIC ID can have
 * a few registered VMSAs at once. */
#define VCPU_RECORDS_MAX 256U

struct vcpu_rec {
	gpa_t vmsa;
	gpa_t caa;
	uint32_t apic_id;
	uint8_t vmpl;
	bool used;
	bool startup; /* created by the SVSM at launch: the guest may not delete it */
	bool started; /* a CPU took it to run (svsm_vcpu_start): it is not started again */
	/* Which creation this is, never 0 and never reused: a VMSA deleted and created again
	 * at the same address is another vCPU, whatever a CPU kept of the first. */
	uint64_t seq;
	/* CREATE_VCPU: the VMPL1-3 rights on the page before it became a VMSA, given back
	 * when it is deleted. */
	uint8_t perms_before[4];
};

void vcpu_table_init(unsigned apic_count);
unsigned vcpu_apic_count(void);

struct vcpu_rec *vcpu_find_vmsa(gpa_t vmsa);
struct vcpu_rec *vcpu_current(unsigned apic_id);
/* The seq of the current record of apic_id, 0 if none. Lock-free: a CPU waiting for a
 * vCPU to run polls it; what it reads is checked again under the lock. */
uint64_t vcpu_current_seq(unsigned apic_id);
/* The startup vCPU with APIC ID 0 (never deleted), NULL before svsm_init added it. */
const struct vcpu_rec *vcpu_boot(void);

/* Register a VMSA and make it current for its APIC ID. NULL if the table is full. */
struct vcpu_rec *vcpu_add(gpa_t vmsa, gpa_t caa, uint32_t apic_id, uint8_t vmpl, bool startup);
/* Forget a VMSA; if it was current for its APIC ID, another VMSA still registered for
 * that APIC ID (if any) becomes current. */
void vcpu_remove(struct vcpu_rec *rec);
bool vcpu_has_room(void);
/* The record in slot i (0..VCPU_RECORDS_MAX-1) if it is registered, else NULL. */
struct vcpu_rec *vcpu_at(unsigned i);

/* True if a registered VMSA other than `except` uses caa as its calling area. */
bool vcpu_caa_in_use(gpa_t caa, const struct vcpu_rec *except);

#endif
