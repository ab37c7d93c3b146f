/* The vCPU table: a fixed array of VMSA records and a current record per APIC ID. */
#include "vcpu/vcpu.h"

#include <stdatomic.h>

#include <donjon/svsm.h>

static struct {
	struct vcpu_rec recs[VCPU_RECORDS_MAX];
	struct vcpu_rec *current[SVSM_MAX_VCPUS];
	/* current[i]->seq, or 0: written under the lock, read without it. */
	_Atomic uint64_t current_seq[SVSM_MAX_VCPUS];
	struct vcpu_rec *boot; /* the startup vCPU of APIC ID 0 */
	uint64_t last_seq;
	unsigned apic_count;
} vcpus;

static void set_current(uint32_t apic_id, struct vcpu_rec *rec)
{
	vcpus.current[apic_id] = rec;
	atomic_store(&vcpus.current_seq[apic_id], rec != NULL ? rec->seq : 0U);
}

void vcpu_table_init(unsigned apic_count)
{
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		vcpus.recs[i].used = false;
	}
	for (uint32_t i = 0; i < SVSM_MAX_VCPUS; i++) {
		set_current(i, NULL);
	}
	vcpus.boot = NULL;
	vcpus.last_seq = 0;
	vcpus.apic_count = apic_count;
}

unsigned vcpu_apic_count(void)
{
	return vcpus.apic_count;
}

struct vcpu_rec *vcpu_find_vmsa(gpa_t vmsa)
{
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		if (vcpus.recs[i].used && gpa_val(vcpus.recs[i].vmsa) == gpa_val(vmsa)) {
			return &vcpus.recs[i];
		}
	}
	return NULL;
}

const struct vcpu_rec *vcpu_boot(void)
{
	return vcpus.boot;
}

struct vcpu_rec *vcpu_current(unsigned apic_id)
{
	return apic_id < vcpus.apic_count ? vcpus.current[apic_id] : NULL;
}

uint64_t vcpu_current_seq(unsigned apic_id)
{
	return apic_id < SVSM_MAX_VCPUS ? atomic_load(&vcpus.current_seq[apic_id]) : 0U;
}

struct vcpu_rec *vcpu_add(gpa_t vmsa, gpa_t caa, uint32_t apic_id, uint8_t vmpl, bool startup)
{
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		struct vcpu_rec *rec = &vcpus.recs[i];

		if (!rec->used) {
			rec->vmsa = vmsa;
			rec->caa = caa;
			rec->apic_id = apic_id;
			rec->vmpl = vmpl;
			rec->startup = startup;
			rec->started = false;
			rec->seq = ++vcpus.last_seq;
			rec->used = true;
			set_current(apic_id, rec);
			if (startup && apic_id == 0U) {
				vcpus.boot = rec;
			}
			return rec;
		}
	}
	return NULL;
}

void vcpu_remove(struct vcpu_rec *rec)
{
	rec->used = false;
	if (vcpus.current[rec->apic_id] != rec) {
		return;
	}
	/* Another VMSA still registered for this APIC ID becomes current. */
	struct vcpu_rec *next = NULL;

	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		if (vcpus.recs[i].used && vcpus.recs[i].apic_id == rec->apic_id) {
			next = &vcpus.recs[i];
		}
	}
	set_current(rec->apic_id, next);
}

bool vcpu_caa_in_use(gpa_t caa, const struct vcpu_rec *except)
{
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		const struct vcpu_rec *rec = &vcpus.recs[i];

		if (rec->used && rec != except && gpa_pfn(rec->caa) == gpa_pfn(caa)) {
			return true;
		}
	}
	return false;
}

bool vcpu_has_room(void)
{
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		if (!vcpus.recs[i].used) {
			return true;
		}
	}
	return false;
}

struct vcpu_rec *vcpu_at(unsigned i)
{
	return i < VCPU_RECORDS_MAX && vcpus.recs[i].used ? &vcpus.recs[i] : NULL;
}
