/* The libFuzzer targets' shared machine and invariants. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include <donjon/svsm_abi.h>

#include "mm/pagestate.h"

static struct sim_machine *m;
static unsigned startup_vcpus;
static uint8_t *svsm_snapshot;
static struct rmp_entry *rmp_snapshot;

uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->size > 0; i++) {
		v |= (uint64_t)in->data[0] << (8 * i);
		in->data++;
		in->size--;
	}
	return v;
}

struct sim_machine *fuzz_machine(uint64_t mem, unsigned vcpus)
{
	char err[128];

	m = sim_create(mem, vcpus, err, sizeof(err));
	startup_vcpus = vcpus;
	svsm_snapshot = malloc(SIM_SVSM_SIZE);
	rmp_snapshot = malloc((mem >> PAGE_SHIFT) * sizeof(*rmp_snapshot));
	if (m == NULL || svsm_snapshot == NULL || rmp_snapshot == NULL) {
		abort();
	}
	memcpy(svsm_snapshot, m->mem + SIM_SVSM_BASE, SIM_SVSM_SIZE);
	memcpy(rmp_snapshot, m->rmp, (mem >> PAGE_SHIFT) * sizeof(*rmp_snapshot));
	return m;
}

void fuzz_relaunch(void)
{
	if (!sim_relaunch(m)) {
		abort();
	}
}

static bool is_startup_vmsa(uint64_t gpa)
{
	return gpa >= SIM_VMSA_BASE && gpa < SIM_VMSA_BASE + startup_vcpus * PAGE_SIZE;
}

/* Bytes [off, off + len) of the SVSM range equal the launch snapshot. */
static bool same(uint64_t off, size_t len)
{
	return memcmp(&m->mem[SIM_SVSM_BASE + off], &svsm_snapshot[off], len) == 0;
}

void fuzz_check_svsm_range(bool vmsas_imported)
{
	for (uint64_t p = SIM_SVSM_BASE; p < SIM_SVSM_BASE + SIM_SVSM_SIZE; p += PAGE_SIZE) {
		uint64_t off = p - SIM_SVSM_BASE;

		if (memcmp(&m->rmp[p >> PAGE_SHIFT], &rmp_snapshot[p >> PAGE_SHIFT],
			   sizeof(struct rmp_entry)) != 0) {
			abort();
		}
		if (vmsas_imported && is_startup_vmsa(p)) {
			continue;
		}
		/* A startup VMSA's register fields change with every call; its identity
		 * (VMPL, EFER, SEV features) must not. */
		if (is_startup_vmsa(p)) {
			if (!same(off + VMSA_VMPL_OFF, 1) || !same(off + VMSA_EFER_OFF, 8) ||
			    !same(off + VMSA_SEV_FEATURES_OFF, 8)) {
				abort();
			}
		} else if (!same(off, PAGE_SIZE)) {
			abort();
		}
	}
}

void fuzz_check_machine(const uint8_t *host_touched)
{
	fuzz_check_svsm_range(false);
	for (uint64_t pfn = 0; pfn < (m->mem_size >> PAGE_SHIFT); pfn++) {
		if (host_touched != NULL && host_touched[pfn]) {
			continue;
		}
		struct page_info info = pagestate_get(gpa_init(pfn << PAGE_SHIFT));
		const struct rmp_entry *e = &m->rmp[pfn];

		if (info.validated != e->validated ||
		    (info.validated && (info.size == PAGE_2M) != e->size_2m)) {
			abort();
		}
		for (unsigned v = 1; v < VMPL_COUNT; v++) {
			if (info.perms[v] != e->perms[v] ||
			    (info.owner != PAGE_GUEST && info.owner != PAGE_CA &&
			     e->perms[v] != 0)) {
				abort();
			}
		}
	}
}

void fuzz_guest_pages(uint64_t base, unsigned pages, uint64_t deposited)
{
	uint64_t list[1 + 64] = { pages };
	uint64_t caa = gpa_val(m->vcpus[0].caa);
	struct svsm_regs regs = { .rax = SVSM_CORE_PVALIDATE, .rcx = caa + 8 };
	enum sim_call_status status = SIM_CALL_DONE;

	if (pages > 64U) {
		abort();
	}
	for (unsigned i = 0; i < pages; i++) {
		list[1 + i] = (base + i * PAGE_SIZE) | PVAL_ENTRY_VALIDATE;
	}
	if (sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(caa + 8), list,
			    ((size_t)pages + 1U) * 8U) != NULL ||
	    sim_vcpu_call(m, 0, &regs, &status) != NULL || regs.rax != SVSM_SUCCESS) {
		abort();
	}
	list[0] = 1;
	list[1] = deposited;
	regs = (struct svsm_regs){ .rax = SVSM_CORE_DEPOSIT_MEM, .rcx = caa + 8 };
	if (sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(caa + 8), list, 16) != NULL ||
	    sim_vcpu_call(m, 0, &regs, &status) != NULL || regs.rax != SVSM_SUCCESS) {
		abort();
	}
}

uint64_t fuzz_watched_page(unsigned i, uint64_t base, unsigned pages, unsigned vcpus)
{
	if (i < pages) {
		return base + i * PAGE_SIZE;
	}
	return i < pages + vcpus ? SIM_CAA_BASE + (i - pages) * PAGE_SIZE : SIM_GUEST_SECRETS;
}

uint64_t fuzz_pick_gpa(struct input *in, uint64_t buf, unsigned pages, uint64_t deposited,
		       uint64_t mem, unsigned vcpu)
{
	uint64_t sel = take(in, 1);
	uint64_t off = take(in, 2);

	switch (sel % 12U) {
	case 0:
	case 1:
	case 2:
		return buf + (off % pages) * PAGE_SIZE;
	case 3:
		return buf + (off % (pages * PAGE_SIZE));
	case 4:
		return buf + (off % pages + 1U) * PAGE_SIZE - (take(in, 1) & 0x7F);
	case 5:
		return gpa_val(m->vcpus[(vcpu + (off & 1U)) % startup_vcpus].caa) +
		       ((off & 2U) != 0U ? off & 0xFF8 : 0U);
	case 6:
		return SIM_SVSM_BASE + (off % (SIM_SVSM_SIZE >> PAGE_SHIFT)) * PAGE_SIZE;
	case 7:
		return SIM_VMSA_BASE + (off % startup_vcpus) * PAGE_SIZE;
	case 8:
		return deposited + (off & 0xFC0);
	case 9:
		return mem - PAGE_SIZE + (off & 0x1FFF);
	case 10:
		return take(in, 8);
	default:
		return (off % (mem >> PAGE_SHIFT)) << PAGE_SHIFT;
	}
}
