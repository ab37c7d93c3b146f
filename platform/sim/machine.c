/* The SEV-SNP machine model: memory, RMP, instructions, host side, launch. */
#include "machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <donjon/svsm_abi.h>

static struct sim_machine *current_machine;

struct sim_machine *sim_current(void)
{
	return current_machine;
}

static struct rmp_table table_of(struct sim_machine *m)
{
	return (struct rmp_table){ .entries = m->rmp, .mem_size = m->mem_size };
}

static struct rmp_entry *rmp_at(struct sim_machine *m, uint64_t gpa)
{
	return &m->rmp[gpa >> PAGE_SHIFT];
}

enum rmp_result sim_pvalidate(struct sim_machine *m, unsigned vmpl, gpa_t gpa, enum page_size size,
			      bool validate)
{
	pthread_mutex_lock(&m->lock);
	struct rmp_table t = table_of(m);
	enum rmp_result r = rmp_pvalidate(&t, vmpl, gpa_val(gpa), size, validate);

	pthread_mutex_unlock(&m->lock);
	return r;
}

enum rmp_result sim_rmpadjust(struct sim_machine *m, unsigned vmpl, gpa_t gpa, enum page_size size,
			      unsigned target_vmpl, uint8_t perms, bool vmsa)
{
	pthread_mutex_lock(&m->lock);
	struct rmp_table t = table_of(m);
	enum rmp_result r = rmp_rmpadjust(&t, vmpl, gpa_val(gpa), size, target_vmpl, perms, vmsa);

	pthread_mutex_unlock(&m->lock);
	return r;
}

const char *sim_guest_read(struct sim_machine *m, unsigned vmpl, gpa_t gpa, void *buf, size_t len)
{
	pthread_mutex_lock(&m->lock);
	struct rmp_table t = table_of(m);
	const char *fault = rmp_access_fault(&t, vmpl, gpa_val(gpa), len, RMP_PERM_READ);

	if (fault == NULL) {
		memcpy(buf, m->mem + gpa_val(gpa), len);
	}
	pthread_mutex_unlock(&m->lock);
	return fault;
}

static const char *guest_write_once(struct sim_machine *m, unsigned vmpl, gpa_t gpa,
				    const void *buf, size_t len)
{
	pthread_mutex_lock(&m->lock);
	struct rmp_table t = table_of(m);
	const char *fault = rmp_access_fault(&t, vmpl, gpa_val(gpa), len, RMP_PERM_WRITE);

	if (fault == NULL) {
		memcpy(m->mem + gpa_val(gpa), buf, len);
	}
	pthread_mutex_unlock(&m->lock);
	return fault;
}

/* The write fault's page: the first of the range the VMPL may not write. */
static bool forward_write_fault(struct sim_machine *m, unsigned vmpl, gpa_t gpa, size_t len)
{
	uint64_t first = gpa_val(gpa) & ~(PAGE_SIZE - 1U);

	for (uint64_t p = first; p < gpa_val(gpa) + len; p += PAGE_SIZE) {
		struct rmp_entry e;

		if (sim_rmp_entry(m, gpa_init(p), &e) && (e.perms[vmpl] & RMP_PERM_WRITE) == 0U) {
			return svsm_write_fault(vmpl, gpa_init(p));
		}
	}
	return false;
}

const char *sim_guest_write(struct sim_machine *m, unsigned vmpl, gpa_t gpa, const void *buf,
			    size_t len)
{
	const char *fault = guest_write_once(m, vmpl, gpa, buf, len);

	/* Each forwarded fault makes one more page writable: at most one per page. */
	for (size_t tries = 0; fault != NULL && tries <= len / PAGE_SIZE + 1U; tries++) {
		if (m->host_hides_faults ||
		    strcmp(fault, "#NPF: VMPL lacks write permission") != 0 ||
		    !forward_write_fault(m, vmpl, gpa, len)) {
			break;
		}
		fault = guest_write_once(m, vmpl, gpa, buf, len);
	}
	return fault;
}

static uint8_t migrate_key[32];
static bool migrate_key_set;

static bool mem_prealloc;

void sim_set_mem_prealloc(bool on)
{
	mem_prealloc = on;
}

void sim_set_migrate_key(const uint8_t key[32])
{
	memcpy(migrate_key, key, sizeof(migrate_key));
	migrate_key_set = true;
}

static struct launch_migrate_policy migrate_policy;
static bool migrate_policy_set;

void sim_set_migrate_policy(const struct launch_migrate_policy *p)
{
	static const struct launch_migrate_policy none;

	/* No policy is a ZERO page, whose bytes are the same: one launch digest for both. */
	migrate_policy = *p;
	migrate_policy_set = memcmp(p, &none, sizeof(none)) != 0;
}

bool sim_chip_certificate(struct sim_machine *m, uint8_t chip_id[64],
			  uint8_t chip_pub[CRYPTO_P384_POINT_SIZE],
			  uint8_t endorsement[CRYPTO_P384_SIG_SIZE])
{
	memcpy(chip_id, m->psp.chip_id, sizeof(m->psp.chip_id));
	memcpy(chip_pub, m->psp.chip_pub, sizeof(m->psp.chip_pub));
	return psp_chip_endorsement(&m->psp, endorsement);
}

void sim_boot_migrate_key(struct svsm_boot *b)
{
	memcpy(b->migrate_key, migrate_key, sizeof(b->migrate_key));
	b->migrate_key_set = migrate_key_set;
}

bool sim_guest_running(struct sim_machine *m)
{
	for (unsigned i = 0; i < m->vcpu_count; i++) {
		struct rmp_entry e;

		if (m->vcpus[i].runnable && sim_rmp_entry(m, m->vcpus[i].vmsa, &e) && e.vmsa &&
		    (load64(m->mem + gpa_val(m->vcpus[i].vmsa), VMSA_EFER_OFF) & EFER_SVME) != 0U) {
			return true;
		}
	}
	return false;
}

bool sim_rmp_entry(struct sim_machine *m, gpa_t gpa, struct rmp_entry *out)
{
	if (!range_within(gpa_val(gpa), 1, m->mem_size)) {
		return false;
	}
	pthread_mutex_lock(&m->lock);
	*out = *rmp_at(m, gpa_val(gpa));
	pthread_mutex_unlock(&m->lock);
	return true;
}

/* The hypervisor's RMPUPDATE for a page state change (model/rmp's rule). */
const char *sim_host_psc(struct sim_machine *m, gpa_t gpa, enum page_size size, enum psc_op op)
{
	pthread_mutex_lock(&m->lock);
	struct rmp_table t = table_of(m);
	const char *err = rmp_host_psc(&t, gpa_val(gpa), size, op);

	pthread_mutex_unlock(&m->lock);
	return err;
}

/* AP creation (GHCB NAE 0x8000_0013): the host runs `vmsa` for apic_id from now on. The
 * hardware only enters a page whose RMP entry says VMSA. */
const char *sim_host_ap_create(struct sim_machine *m, unsigned apic_id, gpa_t vmsa)
{
	const char *err = NULL;

	if (apic_id >= m->vcpu_count) {
		return "no such vCPU";
	}
	if ((gpa_val(vmsa) & (PAGE_SIZE - 1U)) != 0U ||
	    !range_within(gpa_val(vmsa), 1, m->mem_size)) {
		return "VMSA address invalid";
	}
	pthread_mutex_lock(&m->lock);
	const struct rmp_entry *e = rmp_at(m, gpa_val(vmsa));

	if (!e->assigned || !e->validated || !e->vmsa) {
		err = "page is not a VMSA in the RMP";
	} else {
		m->vcpus[apic_id].vmsa = vmsa;
		m->vcpus[apic_id].runnable = true;
	}
	pthread_mutex_unlock(&m->lock);
	if (err == NULL) {
		/* The guest set this vCPU's calling area in CREATE_VCPU. */
		m->vcpus[apic_id].caa = svsm_vcpu_caa(apic_id);
	}
	return err;
}

/* The VMSA page of a vCPU, a host pointer into guest memory (the host side checked that
 * it lies inside memory when it bound the vCPU). */
static uint8_t *vmsa_page(struct sim_machine *m, gpa_t vmsa)
{
	return m->mem + gpa_val(vmsa);
}

const char *sim_vcpu_call(struct sim_machine *m, unsigned apic_id, struct svsm_regs *regs,
			  enum sim_call_status *status)
{
	uint8_t flag = 1;
	const char *fault = NULL;

	if (apic_id >= m->vcpu_count) {
		return "no such vCPU";
	}
	struct sim_vcpu *v = &m->vcpus[apic_id];
	struct rmp_entry e;

	/* VMRUN needs a VMSA page with EFER.SVME set. */
	if (!v->runnable || !sim_rmp_entry(m, v->vmsa, &e) || !e.vmsa ||
	    (load64(vmsa_page(m, v->vmsa), VMSA_EFER_OFF) & EFER_SVME) == 0U) {
		return "vCPU has no runnable VMSA";
	}
	unsigned vmpl = m->mem[gpa_val(v->vmsa) + VMSA_VMPL_OFF];
	gpa_t caa = v->caa;
	uint64_t request = regs->rax;
	uint64_t new_caa = regs->rcx;

	fault = sim_guest_write(m, vmpl, caa, &flag, 1);
	if (fault != NULL) {
		return fault;
	}
	svsm_regs_to_vmsa(vmsa_page(m, v->vmsa), regs);
	store64(vmsa_page(m, v->vmsa), VMSA_EXIT_CODE_OFF, VMEXIT_VMGEXIT);

	/* The host switches to VMPL0, which handles the exit and resumes the guest. */
	struct svsm_regs svsm_view;

	svsm_regs_from_vmsa(vmsa_page(m, v->vmsa), &svsm_view);
	enum svsm_exit_result res = svsm_handle_exit(
		apic_id, v->vmsa, 0, load64(vmsa_page(m, v->vmsa), VMSA_EXIT_CODE_OFF), &svsm_view);

	if (res == SVSM_EXIT_VCPU_GONE) {
		v->runnable = false;
		*status = SIM_CALL_STOPPED;
		return NULL;
	}
	if (res == SVSM_EXIT_RESUME) {
		svsm_regs_to_vmsa(vmsa_page(m, v->vmsa), &svsm_view);
	}
	svsm_regs_from_vmsa(vmsa_page(m, v->vmsa), regs);

	/* The guest's xchg of call_pending with 0. */
	flag = 0;
	fault = sim_guest_read(m, vmpl, caa, &flag, 1);
	if (fault == NULL) {
		uint8_t zero = 0;

		fault = sim_guest_write(m, vmpl, caa, &zero, 1);
	}
	if (fault != NULL) {
		return fault;
	}
	if (flag != 0U) {
		return "call_pending still set: the SVSM did not handle the call";
	}
	if (request == (((uint64_t)SVSM_PROTOCOL_CORE << 32) | SVSM_CORE_REMAP_CA) &&
	    regs->rax == SVSM_SUCCESS) {
		v->caa = gpa_init(new_caa);
	}
	*status = SIM_CALL_DONE;
	return NULL;
}

/* The launch: the PSP measures and validates the SVSM range (ZERO pages, the SECRETS and
 * CPUID pages, the migration policy's page when one is set) and the guest's launch pages,
 * then the startup VMSAs. */
static void launch(struct sim_machine *m, struct svsm_boot *boot)
{
	for (uint64_t p = SIM_SVSM_BASE; p < SIM_SVSM_BASE + SIM_SVSM_SIZE; p += PAGE_SIZE) {
		enum snp_page_type type = SNP_PAGE_ZERO;
		const uint8_t *contents = NULL;

		if (p == SIM_SECRETS) {
			type = SNP_PAGE_SECRETS;
			psp_fill_secrets(&m->psp, m->mem + p);
		} else if (p == SIM_CPUID) {
			type = SNP_PAGE_CPUID;
		} else if (p == SIM_POLICY && migrate_policy_set) {
			type = SNP_PAGE_NORMAL;
			memcpy(m->mem + p, &migrate_policy, sizeof(migrate_policy));
			contents = m->mem + p;
		} else if (p >= SIM_VMSA_BASE && p < SIM_VMSA_BASE + m->vcpu_count * PAGE_SIZE) {
			continue;
		}
		psp_launch_update(&m->psp, type, p, contents);
		rmp_at(m, p)->validated = true;
	}
	uint64_t guest_pages[1 + SVSM_MAX_VCPUS];
	unsigned n = 0;

	guest_pages[n++] = SIM_GUEST_SECRETS;
	for (unsigned i = 0; i < m->vcpu_count; i++) {
		guest_pages[n++] = SIM_CAA_BASE + i * PAGE_SIZE;
	}
	for (unsigned i = 0; i < n; i++) {
		psp_launch_update(&m->psp, SNP_PAGE_NORMAL, guest_pages[i],
				  m->mem + guest_pages[i]);
		rmp_at(m, guest_pages[i])->validated = true;
	}
	for (unsigned i = 0; i < m->vcpu_count; i++) {
		uint64_t vmsa = SIM_VMSA_BASE + i * PAGE_SIZE;

		m->mem[vmsa + VMSA_VMPL_OFF] = SIM_GUEST_VMPL;
		store64(m->mem + vmsa, VMSA_EFER_OFF, EFER_SVME);
		store64(m->mem + vmsa, VMSA_SEV_FEATURES_OFF, SIM_SEV_FEATURES);
		psp_launch_update(&m->psp, SNP_PAGE_VMSA, SNP_VMSA_MEASURE_GPA, m->mem + vmsa);
		rmp_at(m, vmsa)->validated = true;
		rmp_at(m, vmsa)->vmsa = true;
		boot->vcpus[i] = (struct svsm_vcpu_boot){
			.vmsa = gpa_init(vmsa),
			.caa = gpa_init(SIM_CAA_BASE + i * PAGE_SIZE),
		};
		m->vcpus[i] = (struct sim_vcpu){
			.vmsa = gpa_init(vmsa),
			.caa = boot->vcpus[i].caa,
			.runnable = true,
		};
	}
}

/* Launch the machine from power-on: memory zero, every page assigned to the guest and
 * not validated, then the measured launch, then Donjon's core. */
static bool boot(struct sim_machine *m, char *err, size_t errlen)
{
	struct svsm_boot b = {
		.mem_size = m->mem_size,
		.svsm_base = gpa_init(SIM_SVSM_BASE),
		.svsm_size = SIM_SVSM_SIZE,
		.secrets = gpa_init(SIM_SECRETS),
		.guest_secrets = gpa_init(SIM_GUEST_SECRETS),
		.guest_vmpl = SIM_GUEST_VMPL,
		.vcpu_count = m->vcpu_count,
		.startup_vcpu_count = m->vcpu_count,
		.state = m->svsm_state,
		.state_size = svsm_state_size(m->mem_size),
	};

	/* Dropping the pages of a private anonymous mapping makes them read as zero; with
	 * --mem-prealloc they stay allocated and are cleared here instead. */
	if (m->mem_prealloc) {
		memset(m->mem, 0, m->mem_size);
	} else if (madvise(m->mem, m->mem_size, MADV_DONTNEED) != 0) {
		return false;
	}
	for (uint64_t i = 0; i < m->mem_size >> PAGE_SHIFT; i++) {
		m->rmp[i] = (struct rmp_entry){ .assigned = true };
	}
	psp_reset_launch(&m->psp);
	current_machine = m;
	if (m->igvm != NULL) {
		return sim_igvm_launch(m, err, errlen);
	}
	m->svsm_base = SIM_SVSM_BASE;
	m->svsm_size = SIM_SVSM_SIZE;
	sim_boot_migrate_key(&b);
	launch(m, &b);
	/* What the launch measured at SIM_POLICY (zero when it was a ZERO page). */
	memcpy(&b.migrate_policy, m->mem + SIM_POLICY, sizeof(b.migrate_policy));
	if (!svsm_init(&b)) {
		(void)snprintf(err, errlen, "the SVSM core refused the launch layout");
		return false;
	}
	return true;
}

static struct sim_machine *create(uint64_t mem_size, unsigned vcpu_count, const uint8_t *igvm,
				  size_t igvm_len, char *err, size_t errlen)
{
	if (mem_size < SIM_MEM_MIN || mem_size > SIM_MEM_MAX || (mem_size & (PAGE_SIZE - 1U))) {
		(void)snprintf(err, errlen, "memory size must be a multiple of 4K from 16M to 64G");
		return NULL;
	}
	if (vcpu_count == 0U || vcpu_count > SVSM_MAX_VCPUS) {
		(void)snprintf(err, errlen, "vCPU count must be 1 to %u", SVSM_MAX_VCPUS);
		return NULL;
	}
	struct sim_machine *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->mem_size = mem_size;
	m->mem_prealloc = mem_prealloc;
	m->vcpu_count = vcpu_count;
	void *mem = mmap(
		NULL, mem_size, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | (mem_prealloc ? MAP_POPULATE : MAP_NORESERVE), -1, 0);
	m->mem = mem == MAP_FAILED ? NULL : mem;
	/* 4K pages: a relaunch then only refaults what was touched. */
	if (m->mem != NULL) {
		(void)madvise(m->mem, mem_size, MADV_NOHUGEPAGE);
	}
	if (igvm != NULL) {
		m->igvm = malloc(igvm_len + 1U);
		if (m->igvm == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto out_free;
		}
		memcpy(m->igvm, igvm, igvm_len);
		m->igvm_len = igvm_len;
	}
	m->rmp = calloc(mem_size >> PAGE_SHIFT, sizeof(*m->rmp));
	m->svsm_state = malloc(svsm_state_size(mem_size));
	if (m->mem == NULL || m->rmp == NULL || m->svsm_state == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	if (!psp_init(&m->psp, NULL)) {
		(void)snprintf(err, errlen, "the PSP model could not make its keys");
		goto out_free;
	}
	if (!boot(m, err, errlen)) {
		goto out_free;
	}
	return m;

out_free:
	sim_destroy(m);
	return NULL;
}

struct sim_machine *sim_create(uint64_t mem_size, unsigned vcpu_count, char *err, size_t errlen)
{
	return create(mem_size, vcpu_count, NULL, 0, err, errlen);
}

struct sim_machine *sim_create_igvm(uint64_t mem_size, unsigned vcpu_count, const uint8_t *igvm,
				    size_t igvm_len, char *err, size_t errlen)
{
	return create(mem_size, vcpu_count, igvm, igvm_len, err, errlen);
}

bool sim_relaunch(struct sim_machine *m)
{
	char err[200];

	return boot(m, err, sizeof(err));
}

void sim_destroy(struct sim_machine *m)
{
	if (m == NULL) {
		return;
	}
	if (current_machine == m) {
		current_machine = NULL;
	}
	psp_fini(&m->psp);
	if (m->mem != NULL) {
		munmap(m->mem, m->mem_size);
	}
	free(m->rmp);
	free(m->svsm_state);
	free(m->igvm);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
