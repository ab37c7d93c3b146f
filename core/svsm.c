/* Donjon's core: taking over the machine at launch and recognising guest requests. */
#include "svsm_internal.h"

#include <donjon/platform.h>
#include <donjon/svsm_abi.h>
#include <donjon/vmsa.h>

#include "migrate/engine.h"
#include "mm/deposit.h"
#include "mm/pageops.h"
#include "mm/pagestate.h"
#include "services/vtpm.h"

struct svsm_config svsm_cfg;
struct spinlock svsm_lock = { ATOMIC_FLAG_INIT };
struct svsm_stats svsm_stats;

/* Scratch for building the guest's secrets page; used only by svsm_init. */
static uint8_t secrets_buf[PAGE_SIZE];

/* The core's tables in the state memory the launch hands it: the page tracking, then the
 * deposit pool's counts (8-byte aligned). */
static size_t pagestate_part(uint64_t mem_size)
{
	return (pagestate_table_size(mem_size >> PAGE_SHIFT) + 7U) & ~(size_t)7U;
}

size_t svsm_state_size(uint64_t mem_size)
{
	return pagestate_part(mem_size) + deposit_table_size(mem_size >> PAGE_SHIFT);
}

static bool in_svsm_range(gpa_t gpa)
{
	uint64_t v = gpa_val(gpa);

	return v >= gpa_val(svsm_cfg.svsm_base) &&
	       v - gpa_val(svsm_cfg.svsm_base) < svsm_cfg.svsm_size;
}

static bool boot_is_consistent(const struct svsm_boot *b)
{
	if (b->mem_size == 0U || (b->mem_size & (PAGE_SIZE - 1U)) != 0U ||
	    !gpa_is_aligned(b->svsm_base, PAGE_SIZE) || b->svsm_size == 0U ||
	    (b->svsm_size & (PAGE_SIZE - 1U)) != 0U || b->guest_vmpl == 0U ||
	    b->guest_vmpl >= VMPL_COUNT || b->vcpu_count == 0U || b->vcpu_count > SVSM_MAX_VCPUS ||
	    b->startup_vcpu_count == 0U || b->startup_vcpu_count > b->vcpu_count ||
	    b->state == NULL || b->state_size < svsm_state_size(b->mem_size)) {
		return false;
	}
	uint64_t end = 0;

	return !__builtin_add_overflow(gpa_val(b->svsm_base), b->svsm_size, &end) &&
	       end <= b->mem_size;
}

/* A launch-validated guest page: give the guest its permissions and record it. */
static bool adopt_guest_page(gpa_t gpa, enum page_owner owner)
{
	if (!gpa_is_aligned(gpa, PAGE_SIZE) || !pagestate_range_valid(gpa, PAGE_SIZE) ||
	    in_svsm_range(gpa) || !pagestate_range_owned_by(gpa, PAGE_SIZE, PAGE_GUEST)) {
		return false;
	}
	pagestate_set_validated(gpa, PAGE_4K, true);
	if (pageops_grant(gpa, PAGE_4K, svsm_cfg.guest_vmpl) != RMP_SUCCESS) {
		return false;
	}
	pagestate_set_owner(gpa, PAGE_SIZE, owner);
	return true;
}

/* The guest's secrets page: the SVSM's copy without the keys of more privileged VMPLs,
 * plus the fields through which the guest discovers its SVSM. */
static bool publish_guest_secrets(const struct svsm_boot *b)
{
	uint32_t max_version = SVSM_CORE_VERSION_MAX;
	uint64_t base = gpa_val(b->svsm_base);
	uint64_t caa = gpa_val(b->vcpus[0].caa);
	uint8_t vmpl = (uint8_t)b->guest_vmpl;

	if (!svsmmem_copy_in(b->secrets, secrets_buf, sizeof(secrets_buf))) {
		return false;
	}
	for (unsigned k = 0; k < b->guest_vmpl; k++) {
		__builtin_memset(&secrets_buf[SECRETS_VMPCK_OFF(k)], 0, SECRETS_VMPCK_SIZE);
	}
	__builtin_memcpy(&secrets_buf[SECRETS_SVSM_BASE_OFF], &base, sizeof(base));
	__builtin_memcpy(&secrets_buf[SECRETS_SVSM_SIZE_OFF], &b->svsm_size, sizeof(uint64_t));
	__builtin_memcpy(&secrets_buf[SECRETS_SVSM_CAA_OFF], &caa, sizeof(caa));
	__builtin_memcpy(&secrets_buf[SECRETS_SVSM_MAX_VERSION_OFF], &max_version,
			 sizeof(max_version));
	secrets_buf[SECRETS_SVSM_GUEST_VMPL_OFF] = vmpl;
	bool ok = svsmmem_copy_out(b->guest_secrets, secrets_buf, sizeof(secrets_buf));

	__builtin_memset(secrets_buf, 0, sizeof(secrets_buf));
	return ok;
}

bool svsm_init(const struct svsm_boot *b)
{
	if (!boot_is_consistent(b)) {
		return false;
	}
	svsm_cfg = (struct svsm_config){
		.mem_size = b->mem_size,
		.svsm_base = b->svsm_base,
		.svsm_size = b->svsm_size,
		.guest_vmpl = b->guest_vmpl,
		.secrets = b->secrets,
		.migrate_key_set = b->migrate_key_set,
		.migrate_policy = b->migrate_policy,
	};
	__builtin_memcpy(svsm_cfg.migrate_key, b->migrate_key, sizeof(svsm_cfg.migrate_key));
	svsm_stats = (struct svsm_stats){ 0 };
	mig_reset();
	vtpm_init();
	pagestate_init(b->state, b->mem_size >> PAGE_SHIFT);
	deposit_init((uint8_t *)b->state + pagestate_part(b->mem_size), b->mem_size >> PAGE_SHIFT);
	pagestate_set_owner(b->svsm_base, b->svsm_size, PAGE_SVSM);
	for (uint64_t off = 0; off < b->svsm_size; off += PAGE_SIZE) {
		pagestate_set_validated(gpa_init(gpa_val(b->svsm_base) + off), PAGE_4K, true);
	}
	vcpu_table_init(b->vcpu_count);

	if (!in_svsm_range(b->secrets) ||
	    !svsmmem_copy_in(gpa_init(gpa_val(b->vcpus[0].vmsa) + VMSA_SEV_FEATURES_OFF),
			     &svsm_cfg.sev_features, sizeof(svsm_cfg.sev_features))) {
		return false;
	}
	for (unsigned i = 0; i < b->startup_vcpu_count; i++) {
		const struct svsm_vcpu_boot *v = &b->vcpus[i];

		/* The table has room for every startup vCPU (SVSM_MAX_VCPUS < VCPU_RECORDS_MAX);
		 * the check guards the bound anyway. */
		if (!gpa_is_aligned(v->vmsa, PAGE_SIZE) || !in_svsm_range(v->vmsa) ||
		    !adopt_guest_page(v->caa, PAGE_CA) ||
		    vcpu_add(v->vmsa, v->caa, i, (uint8_t)b->guest_vmpl, true) == NULL) {
			return false;
		}
	}
	if (b->guest_range_count > SVSM_MAX_GUEST_RANGES) {
		return false;
	}
	for (unsigned r = 0; r < b->guest_range_count; r++) {
		const struct svsm_guest_range *g = &b->guest_ranges[r];

		if ((g->size & (PAGE_SIZE - 1U)) != 0U) {
			return false;
		}
		for (uint64_t off = 0; off < g->size; off += PAGE_SIZE) {
			if (!adopt_guest_page(gpa_init(gpa_val(g->base) + off), PAGE_GUEST)) {
				return false;
			}
		}
	}
	return adopt_guest_page(b->guest_secrets, PAGE_GUEST) && publish_guest_secrets(b);
}

gpa_t svsm_vcpu_vmsa(unsigned apic_id)
{
	spin_lock(&svsm_lock);
	const struct vcpu_rec *rec = vcpu_current(apic_id);
	gpa_t vmsa = rec != NULL ? rec->vmsa : gpa_init(0);

	spin_unlock(&svsm_lock);
	return vmsa;
}

uint64_t svsm_vcpu_seq(unsigned apic_id)
{
	return vcpu_current_seq(apic_id);
}

bool svsm_vcpu_start(unsigned apic_id, uint64_t seq, svsm_vcpu_start_fn start, void *ctx)
{
	bool ok = false;

	spin_lock(&svsm_lock);
	struct vcpu_rec *rec = vcpu_current(apic_id);

	/* Checked and taken under the lock: DELETE_VCPU cannot come in between. */
	if (rec != NULL && rec->seq == seq && !rec->started && start(ctx, rec->vmsa)) {
		rec->started = true;
		ok = true;
	}
	spin_unlock(&svsm_lock);
	return ok;
}

gpa_t svsm_vcpu_caa(unsigned apic_id)
{
	spin_lock(&svsm_lock);
	const struct vcpu_rec *rec = vcpu_current(apic_id);
	gpa_t caa = rec != NULL ? rec->caa : gpa_init(0);

	spin_unlock(&svsm_lock);
	return caa;
}

void svsm_stats_get(struct svsm_stats *out)
{
	spin_lock(&svsm_lock);
	*out = svsm_stats;
	spin_unlock(&svsm_lock);
}

/* Spec 58019 section 5: while the SVSM handles a vCPU's exit, that VMSA's EFER.SVME is
 * clear, so that the host cannot run it again meanwhile (on SNP the guest's VMSA is not in
 * use while VMPL0 runs). False if the VMSA cannot be reached. */
static bool vmsa_set_runnable(gpa_t vmsa, bool runnable)
{
	gpa_t efer = gpa_init(gpa_val(vmsa) + VMSA_EFER_OFF);

	return svsmmem_update64(efer, runnable ? 0U : EFER_SVME, runnable ? EFER_SVME : 0U);
}

static enum svsm_exit_result handle_locked(struct vcpu_rec *rec, struct svsm_regs *regs)
{
	struct svsm_call call = {
		.vcpu = rec,
		.view = { .vmpl = rec->vmpl, .own_caa = rec->caa },
		.regs = regs,
	};
	gpa_t caa = rec->caa;
	uint8_t pending = 0;
	uint32_t result = 0;

	if (!vmsa_set_runnable(rec->vmsa, false)) {
		return SVSM_EXIT_SPURIOUS;
	}
	/* A calling area the SVSM cannot read means no request can be pending. */
	if (!svsmmem_copy_in(caa, &pending, sizeof(pending)) || pending == 0U) {
		(void)vmsa_set_runnable(rec->vmsa, true);
		return SVSM_EXIT_SPURIOUS;
	}
	/* call_pending has only the values 0 and 1 (spec 58019, SVSM_ERR_INVALID_FORMAT). */
	result = pending == 1U ? svsm_dispatch(&call) : SVSM_ERR_INVALID_FORMAT;

	/* The guest exchanges call_pending in the area it called through (for REMAP_CA, the
	 * old one), so that is the one to clear, always. */
	pending = 0;
	(void)svsmmem_copy_out(caa, &pending, sizeof(pending));
	if (call.vcpu_gone) {
		return SVSM_EXIT_VCPU_GONE;
	}
	/* The VMSA was checked on entry and stays the SVSM's for the whole call. */
	(void)vmsa_set_runnable(rec->vmsa, true);
	regs->rax = result;
	return SVSM_EXIT_RESUME;
}

enum svsm_exit_result svsm_handle_exit(unsigned apic_id, gpa_t vmsa, uint64_t seq,
				       uint64_t exit_code, struct svsm_regs *regs)
{
	enum svsm_exit_result res = SVSM_EXIT_SPURIOUS;

	if (exit_code != VMEXIT_VMGEXIT) {
		return res;
	}
	spin_lock(&svsm_lock);
	struct vcpu_rec *rec = mig_guest_stopped() ? NULL : vcpu_find_vmsa(vmsa);

	/* Only a VMSA the SVSM registered for this APIC ID identifies a calling area; the
	 * host cannot make the SVSM act on another one. With a seq, only the creation the CPU
	 * started: registers kept from a deleted vCPU never reach one created in its page. */
	if (rec != NULL && rec->apic_id == apic_id && (seq == 0U || rec->seq == seq)) {
		res = handle_locked(rec, regs);
	}
	spin_unlock(&svsm_lock);
	return res;
}
