/* The SVSM core protocol (protocol 0, version 1): every call of spec 58019 section 6.
 * Each handler runs with the core lock held (see svsm_internal.h). Guest structures are
 * copied in once, checked, then acted on; results are copied out. */
#include <donjon/platform.h>
#include <donjon/svsm_abi.h>
#include <donjon/vmsa.h>

#include "mm/deposit.h"
#include "mm/guestmem.h"
#include "mm/pageops.h"
#include "mm/pagestate.h"
#include "svsm_internal.h"

/* PVALIDATE and DEPOSIT_MEM handle at most this much memory per call and then answer
 * INCOMPLETE, so that one call never holds a vCPU (and the core lock) for long; Linux and
 * OVMF repeat the call and it resumes at `next`. A deposit costs more per page (each page
 * is taken away from the guest by itself, a TLB shootdown each on the native platform). */
#define PVALIDATE_BUDGET_BYTES (64ULL << 20)
#define DEPOSIT_BUDGET_BYTES (8ULL << 20)

/* A copied-in list: header plus entries, at most one page. Guarded by the core lock. */
static uint64_t list_entries[SVSM_LIST_MAX_ENTRIES];
static uint8_t vmsa_copy[PAGE_SIZE];
/* The permissions of a 2M deposit's pages before it, to give them back if it fails. */
static uint8_t deposit_saved[PAGES_PER_2M][VMPL_COUNT];

static uint32_t rmp_to_svsm(enum rmp_result r)
{
	switch (r) {
	case RMP_SUCCESS:
		return SVSM_SUCCESS;
	case RMP_FAIL_INPUT:
		return SVSM_ERR_PVALIDATE_FAIL_INPUT;
	case RMP_FAIL_PERMISSION:
		return SVSM_ERR_RMPADJUST_FAIL_PERMISSION;
	case RMP_FAIL_INUSE:
		return SVSM_ERR_DELETE_VCPU_FAIL_INUSE;
	case RMP_FAIL_SIZEMISMATCH:
		return SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH;
	case RMP_NO_UPDATE:
		return SVSM_ERR_PVALIDATE_NO_CHANGE;
	case RMP_FAULT:
		return SVSM_ERR_INVALID_ADDRESS;
	default:
		return SVSM_ERR_PVALIDATE_FAIL_UNKNOWN;
	}
}

/* A guest page the caller may hand to the SVSM: inside guest memory, ordinary guest
 * memory (not the SVSM's, not a VMSA, CA or deposit), validated and writable by the
 * caller. A calling area may lie in a 2M page (the spec asks only for 4K alignment, and
 * Linux terminates if REMAP_CA fails); a page whose RMP entry changes (a VMSA, a
 * deposit) must be validated at 4K, since RMPADJUST cannot change part of a 2M entry. */
static bool is_callers_plain_page(const struct svsm_call *call, gpa_t gpa, bool any_size)
{
	if (!pagestate_range_valid(gpa, PAGE_SIZE)) {
		return false;
	}
	struct page_info info = pagestate_get(gpa);
	uint8_t rw = RMP_PERM_READ | RMP_PERM_WRITE;

	return info.owner == PAGE_GUEST && info.validated && (any_size || info.size == PAGE_4K) &&
	       (info.perms[call->view.vmpl] & rw) == rw;
}

static void release_caa(gpa_t caa, const struct vcpu_rec *leaving)
{
	if (!vcpu_caa_in_use(caa, leaving)) {
		pagestate_set_owner(caa, PAGE_SIZE, PAGE_GUEST);
	}
}

static uint32_t core_remap_ca(struct svsm_call *call)
{
	gpa_t new_caa = gpa_init(call->regs->rcx);
	uint8_t zero = 0;

	if (!gpa_is_aligned(new_caa, PAGE_SIZE)) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	if (gpa_pfn(new_caa) == gpa_pfn(call->vcpu->caa)) {
		return SVSM_SUCCESS;
	}
	/* Guards the SVSM's pages, VMSAs and every other vCPU's calling area. */
	if (!is_callers_plain_page(call, new_caa, true) ||
	    !svsmmem_copy_out(new_caa, &zero, sizeof(zero))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	pagestate_set_owner(new_caa, PAGE_SIZE, PAGE_CA);
	gpa_t old_caa = call->vcpu->caa;

	call->vcpu->caa = new_caa;
	release_caa(old_caa, NULL);
	return SVSM_SUCCESS;
}

/* Copy in a PVALIDATE or DEPOSIT_MEM list at gpa: checks alignment, the header, and that
 * the list lies in one page. On success list_entries[next..entries) hold the entries.
 * The list never leaves its page, so one check that the caller may read and write that
 * page covers the header, the entries and the `next` written back by list_finish; the
 * SVSM then copies without checking again. */
static uint32_t list_copy_in(const struct svsm_call *call, gpa_t gpa, struct svsm_list_hdr *hdr)
{
	uint64_t off = gpa_val(gpa) & (PAGE_SIZE - 1U);

	if (!gpa_is_aligned(gpa, 8) || off + sizeof(*hdr) > PAGE_SIZE) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	if (!guestmem_writable(&call->view, gpa, sizeof(*hdr)) ||
	    !svsmmem_copy_in(gpa, hdr, sizeof(*hdr))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	/* The reserved header word is not checked: Linux never writes it, and the calling
	 * area's buffer is shared with other calls' structures. */
	if (hdr->entries == 0U || hdr->next >= hdr->entries ||
	    off + sizeof(*hdr) + (uint64_t)hdr->entries * SVSM_LIST_ENTRY_SIZE > PAGE_SIZE) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	gpa_t first =
		gpa_init(gpa_val(gpa) + sizeof(*hdr) + (uint64_t)hdr->next * SVSM_LIST_ENTRY_SIZE);
	size_t len = (size_t)(hdr->entries - hdr->next) * SVSM_LIST_ENTRY_SIZE;

	if (!svsmmem_copy_in(first, &list_entries[hdr->next], len)) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	return SVSM_SUCCESS;
}

/* Report progress: `next` is written back for every outcome once processing started.
 * The page was checked by list_copy_in; an entry of this very list may have rescinded it
 * since, and then the SVSM's own write fails too. */
static uint32_t list_finish(gpa_t gpa, uint16_t next, uint32_t result)
{
	gpa_t next_gpa = gpa_init(gpa_val(gpa) + SVSM_LIST_NEXT_OFF);

	if (!svsmmem_copy_out(next_gpa, &next, sizeof(next))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	return result;
}

/* Checks shared by PVALIDATE and DEPOSIT_MEM entries: size field, reserved bits, 2M
 * alignment, range and ownership. An entry may not name the page that holds its own list:
 * rescinding or depositing it would leave `next` to be written into a page the guest no
 * longer owns (for a deposit, into the SVSM's own memory). */
static uint32_t entry_target(uint64_t entry, uint64_t reserved, gpa_t list, gpa_t *gpa,
			     enum page_size *size)
{
	uint64_t size_field = entry & PVAL_ENTRY_SIZE_MASK;

	if (size_field > PAGE_2M || (entry & reserved) != 0U) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	*size = (enum page_size)size_field;
	*gpa = gpa_init(entry & LIST_ENTRY_GFN_MASK);
	if (!gpa_is_aligned(*gpa, page_size_bytes(*size))) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	uint64_t bytes = page_size_bytes(*size);

	if (!pagestate_range_valid(*gpa, bytes) ||
	    !pagestate_range_owned_by(*gpa, bytes, PAGE_GUEST) ||
	    gpa_val(list) - gpa_val(*gpa) < bytes) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	return SVSM_SUCCESS;
}

static uint32_t pvalidate_validate(const struct svsm_call *call, gpa_t gpa, enum page_size size,
				   bool ignore_cf)
{
	enum rmp_result r = pageops_pvalidate(gpa, size, true);

	if (r == RMP_NO_UPDATE) {
		return ignore_cf ? SVSM_SUCCESS : SVSM_ERR_PVALIDATE_NO_CHANGE;
	}
	if (r != RMP_SUCCESS) {
		return rmp_to_svsm(r);
	}
	/* A newly validated page may hold the host's or a previous owner's data. */
	if (!svsmmem_zero(gpa, (size_t)page_size_bytes(size))) {
		(void)pageops_pvalidate(gpa, size, false);
		return SVSM_ERR_INVALID_ADDRESS;
	}
	r = pageops_grant(gpa, size, call->view.vmpl);
	if (r != RMP_SUCCESS) {
		(void)pageops_revoke(gpa, size);
		(void)pageops_pvalidate(gpa, size, false);
		return rmp_to_svsm(r);
	}
	svsm_stats.pages_validated += page_size_bytes(size) / PAGE_SIZE;
	return SVSM_SUCCESS;
}

/* True if the caller holds every permission on each validated page of [gpa, +bytes): a
 * less privileged VMPL may not take away (rescind, deposit) a page it cannot use itself,
 * which a more privileged one may be using. */
static bool caller_owns_validated(const struct svsm_call *call, gpa_t gpa, uint64_t bytes)
{
	for (uint64_t off = 0; off < bytes; off += PAGE_SIZE) {
		struct page_info info = pagestate_get(gpa_init(gpa_val(gpa) + off));

		if (info.validated && info.perms[call->view.vmpl] != RMP_PERM_ALL) {
			return false;
		}
	}
	return true;
}

static uint32_t pvalidate_rescind(const struct svsm_call *call, gpa_t gpa, enum page_size size,
				  bool ignore_cf)
{
	struct page_info before = pagestate_get(gpa);

	if (!caller_owns_validated(call, gpa, page_size_bytes(size))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	enum rmp_result r = pageops_revoke(gpa, size);

	/* RMPADJUST answers FAIL_INPUT on a page that is not validated; PVALIDATE then
	 * reports that nothing changed. */
	if (r == RMP_SUCCESS || r == RMP_FAIL_INPUT) {
		r = pageops_pvalidate(gpa, size, false);
		if (r == RMP_SUCCESS) {
			svsm_stats.pages_rescinded += page_size_bytes(size) / PAGE_SIZE;
			return SVSM_SUCCESS;
		}
	}
	/* Nothing was rescinded: give back whatever permissions were revoked. */
	if (before.validated) {
		(void)pageops_restore(gpa, size, before.perms);
	}
	if (r == RMP_NO_UPDATE) {
		return ignore_cf ? SVSM_SUCCESS : SVSM_ERR_PVALIDATE_NO_CHANGE;
	}
	return rmp_to_svsm(r);
}

static uint32_t core_pvalidate(struct svsm_call *call)
{
	gpa_t list = gpa_init(call->regs->rcx);
	struct svsm_list_hdr hdr = { 0 };
	uint32_t result = list_copy_in(call, list, &hdr);
	uint64_t done_bytes = 0;

	if (result != SVSM_SUCCESS) {
		return result;
	}
	for (uint16_t i = hdr.next; i < hdr.entries; i++) {
		uint64_t entry = list_entries[i];
		enum page_size size = PAGE_4K;
		gpa_t gpa = gpa_init(0);

		result = entry_target(entry, PVAL_ENTRY_RESERVED, list, &gpa, &size);
		if (result == SVSM_SUCCESS) {
			bool ignore_cf = (entry & PVAL_ENTRY_IGNORE_CF) != 0U;

			result = (entry & PVAL_ENTRY_VALIDATE) != 0U
					 ? pvalidate_validate(call, gpa, size, ignore_cf)
					 : pvalidate_rescind(call, gpa, size, ignore_cf);
		}
		if (result != SVSM_SUCCESS) {
			return list_finish(list, i, result);
		}
		done_bytes += page_size_bytes(size);
		if (done_bytes >= PVALIDATE_BUDGET_BYTES && i + 1U < hdr.entries) {
			return list_finish(list, (uint16_t)(i + 1U), SVSM_ERR_INCOMPLETE);
		}
	}
	return list_finish(list, hdr.entries, SVSM_SUCCESS);
}

/* The VMSA the guest built, checked as spec 58019 requires for CREATE_VCPU. */
static bool vmsa_acceptable(const struct svsm_call *call, uint8_t *vmpl)
{
	uint64_t efer = 0;
	uint64_t features = 0;

	__builtin_memcpy(&efer, &vmsa_copy[VMSA_EFER_OFF], sizeof(efer));
	__builtin_memcpy(&features, &vmsa_copy[VMSA_SEV_FEATURES_OFF], sizeof(features));
	*vmpl = vmsa_copy[VMSA_VMPL_OFF];
	return *vmpl != 0U && *vmpl >= call->view.vmpl && *vmpl < VMPL_COUNT &&
	       (efer & EFER_SVME) != 0U && features == svsm_cfg.sev_features;
}

static uint32_t core_create_vcpu(struct svsm_call *call)
{
	gpa_t vmsa = gpa_init(call->regs->rcx);
	gpa_t caa = gpa_init(call->regs->rdx);
	uint64_t apic_id = call->regs->r8;
	uint8_t vmpl = 0;

	/* A 2 MiB-aligned VMSA page meets an SNP erratum (Linux and COCONUT avoid it too);
	 * alignment errors are INVALID_PARAMETER. */
	if (!gpa_is_aligned(vmsa, PAGE_SIZE) || gpa_is_aligned(vmsa, PAGE_SIZE_2M) ||
	    !gpa_is_aligned(caa, PAGE_SIZE) || apic_id >= vcpu_apic_count()) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	const struct vcpu_rec *cur = vcpu_current((unsigned)apic_id);
	/* Linux re-onlining a CPU passes the calling area its old VMSA already uses. */
	bool caa_ok = is_callers_plain_page(call, caa, true) ||
		      (cur != NULL && gpa_pfn(cur->caa) == gpa_pfn(caa) &&
		       pagestate_get(caa).owner == PAGE_CA && !vcpu_caa_in_use(caa, cur));

	if (gpa_pfn(vmsa) == gpa_pfn(caa) || !is_callers_plain_page(call, vmsa, false) || !caa_ok) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	if (!vcpu_has_room()) {
		return SVSM_ERR_INVALID_REQUEST;
	}
	struct page_info before = pagestate_get(vmsa);
	enum rmp_result r = pageops_revoke(vmsa, PAGE_4K);

	/* From here the guest can no longer change the VMSA, so the copy checked below is
	 * what the vCPU will run. */
	if (r != RMP_SUCCESS) {
		return rmp_to_svsm(r);
	}
	uint32_t result = SVSM_ERR_INVALID_PARAMETER;

	if (!svsmmem_copy_in(vmsa, vmsa_copy, sizeof(vmsa_copy))) {
		result = SVSM_ERR_INVALID_ADDRESS;
		goto out_restore;
	}
	if (!vmsa_acceptable(call, &vmpl)) {
		goto out_restore;
	}
	r = pageops_make_vmsa(vmsa, vmpl);
	if (r != RMP_SUCCESS) {
		result = rmp_to_svsm(r);
		goto out_restore;
	}
	/* vcpu_has_room() held above, under the same core lock: the table has a record. */
	struct vcpu_rec *rec = vcpu_add(vmsa, caa, (uint32_t)apic_id, vmpl, false);

	__builtin_memcpy(rec->perms_before, before.perms, sizeof(rec->perms_before));
	pagestate_set_owner(vmsa, PAGE_SIZE, PAGE_VMSA);
	pagestate_set_owner(caa, PAGE_SIZE, PAGE_CA);
	svsm_stats.vcpus_created++;
	return SVSM_SUCCESS;

out_restore:
	(void)pageops_restore(vmsa, PAGE_4K, before.perms);
	return result;
}

static uint32_t core_delete_vcpu(struct svsm_call *call)
{
	gpa_t vmsa = gpa_init(call->regs->rcx);
	uint64_t efer = 0;

	if (!gpa_is_aligned(vmsa, PAGE_SIZE)) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	struct vcpu_rec *rec = vcpu_find_vmsa(vmsa);

	if (rec == NULL || rec->startup || rec->vmpl < call->view.vmpl) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	gpa_t efer_gpa = gpa_init(gpa_val(vmsa) + VMSA_EFER_OFF);

	/* With EFER.SVME clear the VMSA can no longer be run. */
	if (!svsmmem_copy_in(efer_gpa, &efer, sizeof(efer))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	uint64_t cleared = efer & ~EFER_SVME;

	if (!svsmmem_copy_out(efer_gpa, &cleared, sizeof(cleared))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	/* Another CPU may be running it, or this one may enter it again: neither may happen
	 * once the page changes hands. */
	if (!plat_vmsa_stop(vmsa)) {
		(void)svsmmem_copy_out(efer_gpa, &efer, sizeof(efer));
		return SVSM_ERR_DELETE_VCPU_FAIL_INUSE;
	}
	/* The page goes back with the rights it had before CREATE_VCPU, not to whoever deletes
	 * it: a VMPL3 vCPU deleting a VMSA that VMPL2 built in its own page gains nothing. */
	enum rmp_result r = pageops_restore(vmsa, PAGE_4K, rec->perms_before);

	if (r != RMP_SUCCESS) {
		return rmp_to_svsm(r);
	}
	pagestate_set_owner(vmsa, PAGE_SIZE, PAGE_GUEST);
	release_caa(rec->caa, rec);
	if (rec == call->vcpu) {
		call->vcpu_gone = true;
	}
	vcpu_remove(rec);
	svsm_stats.vcpus_deleted++;
	return SVSM_SUCCESS;
}

/* SVSM_MEM_AVAILABLE in the startup vCPU's calling area (spec 58019 Table 8), wherever
 * REMAP_CA moved it, tells the guest whether WITHDRAW_MEM has pages to give back. */
static void publish_mem_available(void)
{
	const struct vcpu_rec *bsp = vcpu_boot();
	uint8_t available = deposit_count() != 0U ? 1U : 0U;

	if (bsp != NULL) {
		gpa_t flag = gpa_init(gpa_val(bsp->caa) + SVSM_CA_MEM_AVAILABLE_OFF);

		(void)svsmmem_copy_out(flag, &available, sizeof(available));
	}
}

/* Deposit one list entry, a 4K page or a 2M range, whole or not at all. Memory the guest
 * validated as a 2M page cannot be deposited: WITHDRAW_MEM hands back 4 KiB pages, and
 * RMPADJUST cannot give back part of a 2M RMP entry, so that is a request the SVSM cannot
 * support. */
static uint32_t deposit_one(const struct svsm_call *call, gpa_t list, uint64_t entry)
{
	enum page_size size = PAGE_4K;
	gpa_t gpa = gpa_init(0);
	uint32_t result = entry_target(entry, DEPOSIT_ENTRY_RESERVED, list, &gpa, &size);
	uint64_t pages = page_size_bytes(size) >> PAGE_SHIFT;

	if (result != SVSM_SUCCESS) {
		return result;
	}
	for (uint64_t i = 0; i < pages; i++) {
		struct page_info info = pagestate_get(gpa_init(gpa_val(gpa) + i * PAGE_SIZE));

		if (!info.validated || info.perms[call->view.vmpl] != RMP_PERM_ALL) {
			return SVSM_ERR_INVALID_ADDRESS;
		}
		if (info.size != PAGE_4K) {
			return SVSM_ERR_INVALID_REQUEST;
		}
	}
	/* Every page was validated at 4K and writable by the caller: take them one by one;
	 * if one cannot be taken, give back those taken so far. */
	for (uint64_t i = 0; i < pages; i++) {
		gpa_t page = gpa_init(gpa_val(gpa) + i * PAGE_SIZE);
		struct page_info before = pagestate_get(page);
		enum rmp_result r = pageops_revoke(page, PAGE_4K);

		__builtin_memcpy(deposit_saved[i], before.perms, VMPL_COUNT);
		if (r != RMP_SUCCESS) {
			(void)pageops_restore(page, PAGE_4K, before.perms);
			while (i-- > 0U) {
				gpa_t back = gpa_init(gpa_val(gpa) + i * PAGE_SIZE);

				deposit_remove(back);
				(void)pageops_restore(back, PAGE_4K, deposit_saved[i]);
			}
			return rmp_to_svsm(r);
		}
		deposit_add(page);
	}
	return SVSM_SUCCESS;
}

static uint32_t core_deposit_mem(struct svsm_call *call)
{
	gpa_t list = gpa_init(call->regs->rcx);
	struct svsm_list_hdr hdr = { 0 };
	uint32_t result = list_copy_in(call, list, &hdr);

	if (result != SVSM_SUCCESS) {
		return result;
	}
	uint16_t i = hdr.next;
	uint64_t done_bytes = 0;

	while (i < hdr.entries) {
		result = deposit_one(call, list, list_entries[i]);
		if (result != SVSM_SUCCESS) {
			break;
		}
		done_bytes +=
			page_size_bytes((enum page_size)(list_entries[i] & PVAL_ENTRY_SIZE_MASK));
		i++;
		if (done_bytes >= DEPOSIT_BUDGET_BYTES && i < hdr.entries) {
			result = SVSM_ERR_INCOMPLETE;
			break;
		}
	}
	publish_mem_available();
	return list_finish(list, i, result);
}

static uint32_t core_withdraw_mem(struct svsm_call *call)
{
	gpa_t out = gpa_init(call->regs->rcx);
	uint64_t off = gpa_val(out) & (PAGE_SIZE - 1U);

	/* The area must hold the header and at least one entry inside its page. */
	if (!gpa_is_aligned(out, 8) || off + WITHDRAW_HDR_SIZE + 8U > PAGE_SIZE) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	uint16_t capacity = (uint16_t)((PAGE_SIZE - off - WITHDRAW_HDR_SIZE) / 8U);
	uint16_t count = deposit_count() < capacity ? (uint16_t)deposit_count() : capacity;
	gpa_t entries = gpa_init(gpa_val(out) + WITHDRAW_HDR_SIZE);
	uint16_t n = 0;

	/* Check every byte the answer will occupy before any page changes hands. */
	if (!guestmem_writable(&call->view, out, WITHDRAW_HDR_SIZE + (size_t)count * 8U)) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	for (; n < count; n++) {
		gpa_t page = gpa_init(0);

		/* Only a page the tracking records as deposited, inside guest memory. */
		if (!deposit_first(&page)) {
			break;
		}
		/* The SVSM may have kept its own data in the page. */
		if (!svsmmem_zero(page, PAGE_SIZE) ||
		    pageops_grant(page, PAGE_4K, call->view.vmpl) != RMP_SUCCESS) {
			(void)pageops_revoke(page, PAGE_4K);
			break;
		}
		deposit_remove(page);
		list_entries[n] = gpa_val(page);
	}
	publish_mem_available();
	if (!guestmem_copy_out(&call->view, entries, list_entries, (size_t)n * 8U) ||
	    !guestmem_copy_out(&call->view, out, &n, sizeof(n))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	return SVSM_SUCCESS;
}

static uint32_t core_query_protocol(struct svsm_call *call)
{
	uint64_t protocol = call->regs->rcx >> 32;
	uint32_t version = (uint32_t)call->regs->rcx;
	uint32_t min = 0, max = 0;

	call->regs->rcx = 0;
	if (svsm_protocol_versions(protocol, &min, &max) && version >= min && version <= max) {
		call->regs->rcx = ((uint64_t)max << 32) | min;
	}
	return SVSM_SUCCESS;
}

/* vTOM is not offered: the query says so (RCX = 0) and a configuration request with
 * valid reserved bits is refused with INVALID_REQUEST, as the spec allows. */
static uint32_t core_configure_vtom(struct svsm_call *call)
{
	uint64_t rcx = call->regs->rcx;

	if ((rcx & VTOM_QUERY) != 0U) {
		if ((rcx & ~VTOM_QUERY) != 0U) {
			return SVSM_ERR_INVALID_PARAMETER;
		}
		call->regs->rcx = 0;
		return SVSM_SUCCESS;
	}
	if ((rcx & VTOM_CFG_RESERVED) != 0U) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	return SVSM_ERR_INVALID_REQUEST;
}

uint32_t core_protocol_call(struct svsm_call *call, uint32_t call_id)
{
	switch (call_id) {
	case SVSM_CORE_REMAP_CA:
		return core_remap_ca(call);
	case SVSM_CORE_PVALIDATE:
		return core_pvalidate(call);
	case SVSM_CORE_CREATE_VCPU:
		return core_create_vcpu(call);
	case SVSM_CORE_DELETE_VCPU:
		return core_delete_vcpu(call);
	case SVSM_CORE_DEPOSIT_MEM:
		return core_deposit_mem(call);
	case SVSM_CORE_WITHDRAW_MEM:
		return core_withdraw_mem(call);
	case SVSM_CORE_QUERY_PROTOCOL:
		return core_query_protocol(call);
	case SVSM_CORE_CONFIGURE_VTOM:
		return core_configure_vtom(call);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}
