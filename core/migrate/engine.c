/* The migration engine (engine.h): export at the source, import at the destination. */
#include "migrate/engine.h"

#include <donjon/bytes.h>
#include <donjon/platform.h>
#include <donjon/vmsa.h>

#include "mm/deposit.h"
#include "mm/pageops.h"
#include "mm/pagestate.h"
#include "services/vtpm.h"
#include "svsm_internal.h"

#define NO_WRITE ((uint8_t)(RMP_PERM_ALL & ~RMP_PERM_WRITE))

static struct {
	enum mig_phase phase;
	bool source;
	struct mig_tx tx; /* source: s2d; destination: d2s (its one reply) */
	struct mig_rx rx; /* source: d2s; destination: s2d */
	/* Source: the next page to look at, a 2 MiB page being sent. */
	uint64_t cursor;
	uint64_t unit_base;
	unsigned unit_left;
	bool info_sent;
	bool final_pass; /* the guest is stopped and this round finishes the stream */
	unsigned vmsa_next;
	bool was_runnable[VCPU_RECORDS_MAX];
	/* The vTPM's image (services/vtpm.h), read once the vCPUs are stopped: at the
	 * source what is sent of it, at the destination what has arrived. */
	const uint8_t *vtpm_image;
	size_t vtpm_len;
	size_t vtpm_off;
	bool vtpm_read;
	/* Destination. */
	bool info_seen;
	bool imported[VCPU_RECORDS_MAX];
	bool runnable[VCPU_RECORDS_MAX];
	uint8_t reply[MIG_HDR_SIZE + MIG_REPLY_SIZE + CRYPTO_GCM_TAG_SIZE];
	size_t reply_len;
	/* Progress. */
	uint64_t records, pages, bytes, round_pages, last_round_pages, faults;
	const char *why;
} mig;

/* One record at a time, sealed or opened in SVSM memory. */
static uint8_t staging[MIG_MAX_RECORD];
static uint8_t payload[MIG_MAX_PAYLOAD];

void mig_reset(void)
{
	crypto_wipe(&mig, sizeof(mig));
}

enum mig_phase mig_phase(void)
{
	return mig.phase;
}

bool mig_guest_stopped(void)
{
	return mig.phase == MIG_PHASE_STOPPED || mig.phase == MIG_PHASE_FINAL_SENT ||
	       mig.phase == MIG_PHASE_DONE || mig.phase == MIG_PHASE_IMPORT ||
	       mig.phase == MIG_PHASE_FAILED;
}

static bool in_svsm(uint64_t gpa)
{
	return gpa >= gpa_val(svsm_cfg.svsm_base) &&
	       gpa - gpa_val(svsm_cfg.svsm_base) < svsm_cfg.svsm_size;
}

static uint64_t page_count(void)
{
	return pagestate_page_count();
}

static gpa_t pfn_gpa(uint64_t pfn)
{
	return gpa_init(pfn << PAGE_SHIFT);
}

/* The 4K or 2M page holding pfn, as validated (4K if not validated). */
static enum page_size unit_of(uint64_t pfn, uint64_t *base)
{
	struct page_info info = pagestate_get(pfn_gpa(pfn));

	if (info.validated && info.size == PAGE_2M) {
		*base = pfn & ~(uint64_t)(PAGES_PER_2M - 1U);
		return PAGE_2M;
	}
	*base = pfn;
	return PAGE_4K;
}

/* Every held page gets its recorded permissions back. */
static void release_all(void)
{
	uint64_t pfn = pagestate_find_marked(0, PAGESTATE_HELD);

	while (pfn < page_count()) {
		uint64_t base = pfn;
		enum page_size size = unit_of(pfn, &base);

		(void)pageops_release(pfn_gpa(base), size);
		pagestate_mark(pfn_gpa(base), page_size_bytes(size), 0, PAGESTATE_HELD);
		pfn = pagestate_find_marked(base + (page_size_bytes(size) >> PAGE_SHIFT),
					    PAGESTATE_HELD);
	}
}

static void vcpu_runnable(struct vcpu_rec *rec, bool on)
{
	gpa_t efer = gpa_init(gpa_val(rec->vmsa) + VMSA_EFER_OFF);

	(void)svsmmem_update64(efer, on ? 0U : EFER_SVME, on ? EFER_SVME : 0U);
}

static void begin_common(const struct mig_keys *s2d, const struct mig_keys *d2s, bool source)
{
	mig = (typeof(mig)){ .source = source };
	if (source) {
		mig_tx_init(&mig.tx, s2d);
		mig_rx_init(&mig.rx, d2s);
	} else {
		mig_tx_init(&mig.tx, d2s);
		mig_rx_init(&mig.rx, s2d);
	}
	pagestate_unmark_all();
}

/* ---- Source ---- */

bool mig_src_begin(const struct mig_keys *s2d, const struct mig_keys *d2s)
{
	if (mig.phase != MIG_PHASE_IDLE && mig.phase != MIG_PHASE_HELLO) {
		return false;
	}
	begin_common(s2d, d2s, true);
	/* Every page there is to send starts dirty: round 0 sends them all. */
	for (uint64_t pfn = 0; pfn < page_count(); pfn++) {
		struct page_info info = pagestate_get(pfn_gpa(pfn));

		if (info.validated && (info.owner == PAGE_GUEST || info.owner == PAGE_CA ||
				       info.owner == PAGE_DEPOSIT)) {
			pagestate_mark(pfn_gpa(pfn), PAGE_SIZE, PAGESTATE_DIRTY, 0);
		}
	}
	pagestate_track(true);
	mig.phase = MIG_PHASE_PRECOPY;
	return true;
}

/* Back to a running guest: before FINAL was sent, or on the destination's ABORT. */
static void src_resume(void)
{
	pagestate_track(false);
	release_all();
	if (mig.phase == MIG_PHASE_STOPPED || mig.phase == MIG_PHASE_FINAL_SENT) {
		for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
			struct vcpu_rec *rec = vcpu_at(i);

			if (rec != NULL && mig.was_runnable[i]) {
				vcpu_runnable(rec, true);
			}
		}
	}
	pagestate_unmark_all();
	crypto_wipe(&mig.tx.keys, sizeof(mig.tx.keys));
	crypto_wipe(&mig.rx.keys, sizeof(mig.rx.keys));
	mig.phase = MIG_PHASE_IDLE;
}

static void src_fail(const char *why)
{
	mig.why = why;
	if (mig.phase == MIG_PHASE_PRECOPY || mig.phase == MIG_PHASE_STOPPED) {
		src_resume();
	}
}

static bool all_zero(const uint8_t *p)
{
	for (unsigned i = 0; i < PAGE_SIZE; i += 8U) {
		if (load64(p, i) != 0U) {
			return false;
		}
	}
	return true;
}

/* Append the size bytes sealed into staging to out at *n; false when sealing failed. */
static bool append_sealed(size_t size, uint8_t *out, size_t *n, uint32_t *records)
{
	if (size == 0U) {
		return false;
	}
	__builtin_memcpy(out + *n, staging, size);
	*n += size;
	(*records)++;
	mig.records++;
	mig.bytes += size;
	return true;
}

/* Seal r into out at *n (which has room for MIG_MAX_RECORD). */
static bool put(const struct mig_record *r, uint8_t *out, size_t *n, uint32_t *records)
{
	return append_sealed(mig_tx_record(&mig.tx, r, staging, sizeof(staging)), out, n, records);
}

static bool put_page(uint64_t pfn, uint8_t flags, uint8_t *out, size_t *n, uint32_t *records)
{
	gpa_t gpa = pfn_gpa(pfn);
	struct page_info info = pagestate_get(gpa);
	const uint8_t *src = plat_map(gpa, PAGE_SIZE);

	if (src == NULL) {
		return false;
	}
	bool zero = all_zero(src);
	struct mig_record r = {
		.type = zero ? MIG_ZERO : MIG_PAGE,
		.flags = (uint8_t)(MIG_FLAG_VALIDATED | flags),
		.gpa = gpa_val(gpa),
		.perms = { 0, info.perms[1], info.perms[2], info.perms[3] },
		.len = zero ? 0U : (uint32_t)PAGE_SIZE,
		.payload = zero ? NULL : src,
	};
	bool ok = put(&r, out, n, records);

	plat_unmap(src, PAGE_SIZE);
	pagestate_mark(gpa, PAGE_SIZE, PAGESTATE_SENT, 0);
	mig.pages++;
	mig.round_pages++;
	return ok;
}

/* The dirty page at pfn: write-protect it, then send what it holds now (a write after
 * the protection faults and makes it dirty again). */
static bool send_dirty(uint64_t pfn, uint8_t *out, size_t *n, uint32_t *records)
{
	uint64_t base = pfn;
	enum page_size size = unit_of(pfn, &base);
	gpa_t gpa = pfn_gpa(base);
	struct page_info info = pagestate_get(gpa);

	pagestate_mark(gpa, page_size_bytes(size), 0, PAGESTATE_DIRTY);
	mig.cursor = base + (page_size_bytes(size) >> PAGE_SHIFT);
	if (size == PAGE_2M) {
		if (pageops_hold(gpa, PAGE_2M, NO_WRITE) != RMP_SUCCESS) {
			return false;
		}
		mig.unit_base = base;
		mig.unit_left = PAGES_PER_2M;
		return true;
	}
	if (info.validated && (info.owner == PAGE_GUEST || info.owner == PAGE_CA)) {
		return pageops_hold(gpa, PAGE_4K, NO_WRITE) == RMP_SUCCESS &&
		       put_page(base, 0, out, n, records);
	}
	struct mig_record r = { .gpa = gpa_val(gpa) };

	if (info.validated && info.owner == PAGE_DEPOSIT) {
		r.type = MIG_DEPOSIT;
		pagestate_mark(gpa, PAGE_SIZE, PAGESTATE_SENT, 0);
		return put(&r, out, n, records);
	}
	/* A VMSA goes with the vCPUs at the end; a page no longer validated (or the SVSM's)
	 * is taken back at the destination if it was sent. */
	if (info.owner != PAGE_VMSA && (pagestate_marks(gpa) & PAGESTATE_SENT) != 0U) {
		r.type = MIG_INVALIDATE;
		pagestate_mark(gpa, PAGE_SIZE, 0, PAGESTATE_SENT);
		return put(&r, out, n, records);
	}
	return true;
}

static bool put_info(uint8_t *out, size_t *n, uint32_t *records)
{
	uint8_t info[MIG_INFO_SIZE] = { 0 };
	struct mig_record r = { .type = MIG_INFO, .len = sizeof(info), .payload = info };

	store64(info, 0, svsm_cfg.mem_size);
	store64(info, 8, gpa_val(svsm_cfg.svsm_base));
	store64(info, 16, svsm_cfg.svsm_size);
	store32(info, 24, vcpu_apic_count());
	store32(info, 28, svsm_cfg.guest_vmpl);
	store64(info, 32, svsm_cfg.sev_features);
	mig.info_sent = true;
	return put(&r, out, n, records);
}

/* The VMSA of slot i, with what the destination needs to register it again. Slots in
 * table order; the current VMSA of an APIC ID is sent after the others of that APIC ID,
 * so that the destination makes the same one current. */
static bool put_vmsa(struct vcpu_rec *rec, unsigned slot, uint8_t *out, size_t *n,
		     uint32_t *records)
{
	static uint8_t page[PAGE_SIZE + MIG_VCPU_META_SIZE];
	uint8_t *meta = page + PAGE_SIZE;

	if (!svsmmem_copy_in(rec->vmsa, page, PAGE_SIZE)) {
		return false;
	}
	__builtin_memset(meta, 0, MIG_VCPU_META_SIZE);
	store64(meta, MIG_META_CAA, gpa_val(rec->caa));
	store32(meta, MIG_META_APIC, rec->apic_id);
	meta[MIG_META_VMPL] = rec->vmpl;
	meta[MIG_META_FLAGS] = (uint8_t)((rec->startup ? MIG_VCPU_STARTUP : 0U) |
					 (mig.was_runnable[slot] ? MIG_VCPU_RUNNABLE : 0U));
	__builtin_memcpy(meta + MIG_META_PERMS, rec->perms_before, 4);
	struct mig_record r = {
		.type = MIG_VMSA,
		.gpa = gpa_val(rec->vmsa),
		.vcpu = rec->apic_id,
		.len = sizeof(page),
		.payload = page,
	};

	return put(&r, out, n, records);
}

/* The next VMSA to send (non-current ones of each APIC ID first), or NULL. */
static struct vcpu_rec *next_vmsa(unsigned *slot)
{
	while (mig.vmsa_next < 2U * VCPU_RECORDS_MAX) {
		unsigned i = mig.vmsa_next % VCPU_RECORDS_MAX;
		bool want_current = mig.vmsa_next >= VCPU_RECORDS_MAX;
		struct vcpu_rec *rec = vcpu_at(i);

		mig.vmsa_next++;
		if (rec != NULL && (vcpu_current(rec->apic_id) == rec) == want_current) {
			*slot = i;
			return rec;
		}
	}
	return NULL;
}

/* The next piece of the vTPM's image, once every VMSA is out: false if there is none to
 * send (no vTPM, or all of it sent), *ok false if its state could not be read or sealed. */
static bool put_vtpm(uint8_t *out, size_t *n, uint32_t *records, bool *ok)
{
	if (!vtpm_offered() || (mig.vtpm_read && mig.vtpm_off == mig.vtpm_len)) {
		return false;
	}
	if (!mig.vtpm_read) {
		mig.vtpm_len = vtpm_export(&mig.vtpm_image);
		mig.vtpm_read = true;
		if (mig.vtpm_len == 0U) {
			*ok = false;
			return true;
		}
	}
	size_t piece = mig.vtpm_len - mig.vtpm_off;
	struct mig_record r = { .type = MIG_SERVICE, .gpa = mig.vtpm_off, .vcpu = 0 };

	if (piece > PAGE_SIZE) {
		piece = PAGE_SIZE;
	}
	r.len = (uint32_t)piece;
	r.payload = mig.vtpm_image + mig.vtpm_off;
	*ok = put(&r, out, n, records);
	mig.vtpm_off += piece;
	/* Sealed: the seeds in clear go. */
	if (mig.vtpm_off == mig.vtpm_len) {
		vtpm_wipe_state();
	}
	return true;
}

size_t mig_src_pull(uint8_t *out, size_t cap, uint32_t *flags, uint32_t *records)
{
	size_t n = 0;

	*flags = 0;
	*records = 0;
	if (mig.phase != MIG_PHASE_PRECOPY && mig.phase != MIG_PHASE_STOPPED) {
		return 0;
	}
	while (cap - n >= MIG_MAX_RECORD) {
		bool ok = true;

		if (!mig.info_sent) {
			ok = put_info(out, &n, records);
		} else if (mig.unit_left != 0U) {
			uint64_t pfn = mig.unit_base + PAGES_PER_2M - mig.unit_left;

			mig.unit_left--;
			ok = put_page(pfn, MIG_FLAG_2M, out, &n, records);
		} else if ((mig.cursor = pagestate_find_marked(mig.cursor, PAGESTATE_DIRTY)) <
			   page_count()) {
			ok = send_dirty(mig.cursor, out, &n, records);
		} else if (mig.final_pass) {
			unsigned slot = 0;
			struct vcpu_rec *rec = next_vmsa(&slot);

			if (rec != NULL) {
				ok = put_vmsa(rec, slot, out, &n, records);
			} else if (put_vtpm(out, &n, records, &ok)) {
				if (!ok) {
					src_fail("the vTPM's state could not be read or sealed");
					return 0;
				}
			} else if (pagestate_find_marked(0, PAGESTATE_DIRTY) < page_count()) {
				/* FINAL waits until no page is dirty: one more pass. */
				mig.cursor = 0;
			} else {
				size_t size = mig_tx_final(&mig.tx, staging, sizeof(staging));

				if (!append_sealed(size, out, &n, records)) {
					src_fail("the FINAL record could not be sealed");
					return 0;
				}
				mig.phase = MIG_PHASE_FINAL_SENT;
				*flags |= MIG_OUT_FINAL;
				return n;
			}
		} else {
			size_t size = mig_tx_round_end(&mig.tx, staging, sizeof(staging));

			if (!append_sealed(size, out, &n, records)) {
				src_fail("a ROUND_END record could not be sealed");
				return 0;
			}
			mig.cursor = 0;
			mig.last_round_pages = mig.round_pages;
			mig.round_pages = 0;
			mig.final_pass = mig.phase == MIG_PHASE_STOPPED;
			*flags |= MIG_OUT_ROUND_END;
			return n;
		}
		if (!ok) {
			src_fail("a page could not be protected or sealed");
			return 0;
		}
	}
	return n;
}

bool mig_src_stop(void)
{
	if (mig.phase != MIG_PHASE_PRECOPY) {
		return false;
	}
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		struct vcpu_rec *rec = vcpu_at(i);
		uint64_t efer = 0;

		if (rec == NULL) {
			continue;
		}
		(void)svsmmem_copy_in(gpa_init(gpa_val(rec->vmsa) + VMSA_EFER_OFF), &efer,
				      sizeof(efer));
		mig.was_runnable[i] = (efer & EFER_SVME) != 0U;
		vcpu_runnable(rec, false);
		if (!plat_vmsa_stop(rec->vmsa)) {
			mig.phase = MIG_PHASE_STOPPED;
			src_fail("a vCPU could not be stopped");
			return false;
		}
	}
	mig.phase = MIG_PHASE_STOPPED;
	/* At the start of a round, that round can be the last one. */
	mig.final_pass =
		mig.info_sent && mig.cursor == 0U && mig.unit_left == 0U && mig.tx.in_round == 0U;
	return true;
}

bool mig_src_reply(const uint8_t *in, size_t len, bool *committed)
{
	struct mig_record r;

	if (mig.phase != MIG_PHASE_FINAL_SENT && mig.phase != MIG_PHASE_PRECOPY &&
	    mig.phase != MIG_PHASE_STOPPED) {
		return false;
	}
	if (mig_rx_record(&mig.rx, in, len, &r, payload) != MIG_RX_DATA ||
	    (r.type != MIG_COMMIT && r.type != MIG_ABORT)) {
		mig.why = "the destination's reply does not authenticate";
		return false;
	}
	/* A commit is only for the whole stream the source sent. */
	*committed = r.type == MIG_COMMIT;
	if (*committed) {
		if (mig.phase != MIG_PHASE_FINAL_SENT || load64(payload, 0) != mig.tx.all.count ||
		    __builtin_memcmp(payload + 8, mig.tx.all.hash, CRYPTO_SHA384_SIZE) != 0) {
			mig.why = "the destination committed to another stream";
			return false;
		}
		/* The guest is the destination's now: this one never runs it again. */
		pagestate_track(false);
		release_all();
		pagestate_unmark_all();
		mig.phase = MIG_PHASE_DONE;
		return true;
	}
	src_resume();
	return true;
}

bool mig_src_cancel(void)
{
	if (mig.phase != MIG_PHASE_PRECOPY && mig.phase != MIG_PHASE_STOPPED) {
		return false;
	}
	src_resume();
	return true;
}

bool mig_write_fault(unsigned vmpl, gpa_t gpa)
{
	if (mig.phase != MIG_PHASE_PRECOPY || vmpl == 0U || vmpl >= VMPL_COUNT ||
	    !pagestate_range_valid(gpa, 1)) {
		return false;
	}
	struct page_info info = pagestate_get(gpa);

	if ((pagestate_marks(gpa) & PAGESTATE_HELD) == 0U || !info.validated ||
	    (info.perms[vmpl] & RMP_PERM_WRITE) == 0U) {
		return false;
	}
	uint64_t base = gpa_pfn(gpa);
	enum page_size size = unit_of(gpa_pfn(gpa), &base);

	if (pageops_release(pfn_gpa(base), size) != RMP_SUCCESS) {
		return false;
	}
	pagestate_mark(pfn_gpa(base), page_size_bytes(size), PAGESTATE_DIRTY, 0);
	mig.faults++;
	return true;
}

/* ---- Destination ---- */

bool mig_dst_begin(const struct mig_keys *s2d, const struct mig_keys *d2s)
{
	uint64_t calls = svsm_stats.other_calls;

	for (unsigned i = 0; i < SVSM_STATS_CORE_CALLS; i++) {
		calls += svsm_stats.core_calls[i];
	}
	for (unsigned i = 0; i < SVSM_STATS_ATTEST_CALLS; i++) {
		calls += svsm_stats.attest_calls[i];
	}
	for (unsigned i = 0; i < SVSM_STATS_VTPM_CALLS; i++) {
		calls += svsm_stats.vtpm_calls[i];
	}
	/* A destination is freshly launched: its guest has never asked anything. */
	if ((mig.phase != MIG_PHASE_IDLE && mig.phase != MIG_PHASE_HELLO) || calls != 0U) {
		return false;
	}
	begin_common(s2d, d2s, false);
	/* Until commit the guest can neither run nor reach its memory. */
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		struct vcpu_rec *rec = vcpu_at(i);

		if (rec != NULL) {
			vcpu_runnable(rec, false);
		}
	}
	for (uint64_t pfn = 0; pfn < page_count(); pfn++) {
		struct page_info info = pagestate_get(pfn_gpa(pfn));

		if (info.validated && (info.owner == PAGE_GUEST || info.owner == PAGE_CA) &&
		    pageops_hold(pfn_gpa(pfn), PAGE_4K, 0) != RMP_SUCCESS) {
			mig.phase = MIG_PHASE_FAILED;
			mig.why = "the destination could not hold its guest's memory";
			return false;
		}
	}
	mig.phase = MIG_PHASE_IMPORT;
	return true;
}

static void dst_reply(uint8_t type)
{
	uint8_t body[MIG_REPLY_SIZE];
	struct mig_record r = { .type = type, .len = sizeof(body), .payload = body };

	store64(body, 0, mig.rx.all.count);
	__builtin_memcpy(body + 8, mig.rx.all.hash, CRYPTO_SHA384_SIZE);
	mig.reply_len = mig_tx_record(&mig.tx, &r, mig.reply, sizeof(mig.reply));
}

static bool dst_fail(const char *why)
{
	if (mig.phase == MIG_PHASE_IMPORT) {
		mig.why = why;
		mig.phase = MIG_PHASE_FAILED;
		dst_reply(MIG_ABORT);
	}
	return false;
}

/* Take back a validated page (4K or the 2M page it is part of), forgetting what was
 * received in it. */
static bool dst_rescind(uint64_t pfn)
{
	uint64_t base = pfn;
	enum page_size size = unit_of(pfn, &base);
	gpa_t gpa = pfn_gpa(base);

	if (!pagestate_get(gpa).validated) {
		return true;
	}
	pagestate_mark(gpa, page_size_bytes(size), 0, PAGESTATE_SENT | PAGESTATE_HELD);
	return pageops_revoke(gpa, size) == RMP_SUCCESS &&
	       pageops_pvalidate(gpa, size, false) == RMP_SUCCESS;
}

static bool owner_importable(enum page_owner o)
{
	return o == PAGE_GUEST || o == PAGE_CA;
}

/* Make gpa a validated page of `size` (4K, or the 2M page starting at gpa), the guest's,
 * with nothing of what it held before. */
static bool dst_validate(gpa_t gpa, enum page_size size)
{
	struct page_info info = pagestate_get(gpa);
	uint64_t base = gpa_pfn(gpa);

	if (info.validated && unit_of(gpa_pfn(gpa), &base) == size && base == gpa_pfn(gpa)) {
		return true;
	}
	for (uint64_t i = 0; i < page_size_bytes(size) >> PAGE_SHIFT; i++) {
		struct page_info sub = pagestate_get(pfn_gpa(gpa_pfn(gpa) + i));

		if (!owner_importable(sub.owner) || !dst_rescind(gpa_pfn(gpa) + i)) {
			return false;
		}
	}
	return pageops_pvalidate(gpa, size, true) == RMP_SUCCESS &&
	       svsmmem_zero(gpa, (size_t)page_size_bytes(size));
}

static bool perms_ok(const uint8_t perms[4])
{
	return perms[0] == 0U && perms[1] <= RMP_PERM_ALL && perms[2] <= RMP_PERM_ALL &&
	       perms[3] <= RMP_PERM_ALL;
}

static const char *import_page(const struct mig_record *r)
{
	gpa_t gpa = gpa_init(r->gpa);
	bool huge = (r->flags & MIG_FLAG_2M) != 0U;
	gpa_t unit = gpa_init(huge ? r->gpa & ~(PAGE_SIZE_2M - 1U) : r->gpa);
	enum page_size size = huge ? PAGE_2M : PAGE_4K;

	if ((r->flags & MIG_FLAG_VALIDATED) == 0U || !perms_ok(r->perms) ||
	    !pagestate_range_valid(unit, page_size_bytes(size)) || in_svsm(gpa_val(unit)) ||
	    in_svsm(gpa_val(unit) + page_size_bytes(size) - 1U) ||
	    !owner_importable(pagestate_get(gpa).owner)) {
		return "page record for memory the guest cannot have";
	}
	struct page_info info = pagestate_get(gpa);

	/* The sub-pages of a 2 MiB page come one after the other with one set of rights. */
	if (huge && info.validated && info.size == PAGE_2M &&
	    __builtin_memcmp(&info.perms[1], &r->perms[1], 3) != 0) {
		return "2M page records with differing permissions";
	}
	if (!dst_validate(unit, size)) {
		return "the page could not be validated";
	}
	for (unsigned vmpl = 1; vmpl < VMPL_COUNT; vmpl++) {
		pagestate_set_perms(unit, size, vmpl, r->perms[vmpl]);
	}
	if (pageops_hold(unit, size, 0) != RMP_SUCCESS) {
		return "the page could not be held";
	}
	bool ok = r->type == MIG_PAGE ? svsmmem_copy_out(gpa, r->payload, PAGE_SIZE)
				      : svsmmem_zero(gpa, PAGE_SIZE);

	pagestate_mark(gpa, PAGE_SIZE, PAGESTATE_SENT, 0);
	return ok ? NULL : "the page could not be written";
}

static const char *import_invalidate(const struct mig_record *r)
{
	gpa_t gpa = gpa_init(r->gpa);

	if (!pagestate_range_valid(gpa, PAGE_SIZE) || in_svsm(r->gpa)) {
		return "invalidate record for memory the guest cannot have";
	}
	struct page_info info = pagestate_get(gpa);

	if (info.owner == PAGE_DEPOSIT) {
		deposit_remove(gpa);
	} else if (!owner_importable(info.owner)) {
		return "invalidate record for a VMSA";
	}
	pagestate_mark(gpa, PAGE_SIZE, 0, PAGESTATE_SENT);
	return dst_rescind(gpa_pfn(gpa)) ? NULL : "the page could not be rescinded";
}

static const char *import_deposit(const struct mig_record *r)
{
	gpa_t gpa = gpa_init(r->gpa);

	if (!pagestate_range_valid(gpa, PAGE_SIZE) || in_svsm(r->gpa)) {
		return "deposit record for memory the guest cannot have";
	}
	struct page_info info = pagestate_get(gpa);

	if (info.owner == PAGE_DEPOSIT) {
		return NULL;
	}
	if (info.owner != PAGE_GUEST || !dst_validate(gpa, PAGE_4K) ||
	    pageops_revoke(gpa, PAGE_4K) != RMP_SUCCESS) {
		return "the deposited page could not be taken";
	}
	pagestate_mark(gpa, PAGE_SIZE, PAGESTATE_SENT, PAGESTATE_HELD);
	deposit_add(gpa);
	return NULL;
}

static const char *import_info(const struct mig_record *r)
{
	const uint8_t *p = r->payload;
	static const uint8_t zeros[MIG_INFO_SIZE - 40U];

	if (load64(p, 0) != svsm_cfg.mem_size || load64(p, 8) != gpa_val(svsm_cfg.svsm_base) ||
	    load64(p, 16) != svsm_cfg.svsm_size || load32(p, 24) != vcpu_apic_count() ||
	    load32(p, 28) != svsm_cfg.guest_vmpl || load64(p, 32) != svsm_cfg.sev_features ||
	    __builtin_memcmp(p + 40, zeros, sizeof(zeros)) != 0) {
		return "the source machine differs from this one (memory, SVSM, vCPUs, features)";
	}
	mig.info_seen = true;
	return NULL;
}

static unsigned slot_of(const struct vcpu_rec *rec)
{
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		if (vcpu_at(i) == rec) {
			return i;
		}
	}
	return VCPU_RECORDS_MAX;
}

static const char *import_vmsa(const struct mig_record *r)
{
	const uint8_t *page = r->payload;
	const uint8_t *meta = page + PAGE_SIZE;
	static const uint8_t zeros[MIG_VCPU_META_SIZE - MIG_META_USED];
	gpa_t vmsa = gpa_init(r->gpa);
	gpa_t caa = gpa_init(load64(meta, MIG_META_CAA));
	uint8_t vmpl = meta[MIG_META_VMPL];
	uint8_t flags = meta[MIG_META_FLAGS];
	uint64_t features = load64(page, VMSA_SEV_FEATURES_OFF);

	if (load32(meta, MIG_META_APIC) != r->vcpu || r->vcpu >= vcpu_apic_count() ||
	    (flags & ~MIG_VCPU_FLAGS_KNOWN) != 0U || vmpl != page[VMSA_VMPL_OFF] ||
	    vmpl < svsm_cfg.guest_vmpl || vmpl >= VMPL_COUNT || features != svsm_cfg.sev_features ||
	    !perms_ok(meta + MIG_META_PERMS) ||
	    __builtin_memcmp(meta + MIG_META_USED, zeros, sizeof(zeros)) != 0) {
		return "VMSA record malformed";
	}
	if (!gpa_is_aligned(caa, PAGE_SIZE) || !pagestate_range_valid(caa, PAGE_SIZE) ||
	    !owner_importable(pagestate_get(caa).owner) || !pagestate_get(caa).validated ||
	    (pagestate_marks(caa) & PAGESTATE_SENT) == 0U) {
		return "VMSA record with a calling area the stream did not carry";
	}
	struct vcpu_rec *rec = NULL;

	if ((flags & MIG_VCPU_STARTUP) != 0U) {
		rec = vcpu_find_vmsa(vmsa);
		if (rec == NULL || !rec->startup || rec->apic_id != r->vcpu || rec->vmpl != vmpl ||
		    mig.imported[slot_of(rec)]) {
			return "startup VMSA record that is not this machine's";
		}
		if (!svsmmem_copy_out(vmsa, page, PAGE_SIZE)) {
			return "the startup VMSA could not be written";
		}
		rec->caa = caa;
	} else {
		if (!gpa_is_aligned(vmsa, PAGE_SIZE) || gpa_is_aligned(vmsa, PAGE_SIZE_2M) ||
		    !pagestate_range_valid(vmsa, PAGE_SIZE) || in_svsm(r->gpa) ||
		    gpa_pfn(vmsa) == gpa_pfn(caa) || pagestate_get(vmsa).owner != PAGE_GUEST ||
		    !vcpu_has_room()) {
			return "VMSA record at a page that cannot be a VMSA";
		}
		uint64_t base = gpa_pfn(vmsa);

		if (unit_of(gpa_pfn(vmsa), &base) == PAGE_2M && !dst_rescind(gpa_pfn(vmsa))) {
			return "the VMSA page could not be rescinded";
		}
		if (!dst_validate(vmsa, PAGE_4K) || pageops_revoke(vmsa, PAGE_4K) != RMP_SUCCESS ||
		    !svsmmem_copy_out(vmsa, page, PAGE_SIZE) ||
		    pageops_make_vmsa(vmsa, vmpl) != RMP_SUCCESS) {
			return "the VMSA page could not be made a VMSA";
		}
		pagestate_mark(vmsa, PAGE_SIZE, PAGESTATE_SENT, PAGESTATE_HELD);
		pagestate_set_owner(vmsa, PAGE_SIZE, PAGE_VMSA);
		rec = vcpu_add(vmsa, caa, r->vcpu, vmpl, false);
		__builtin_memcpy(rec->perms_before, meta + MIG_META_PERMS, 4);
	}
	/* Stopped until commit, whatever the record says. */
	vcpu_runnable(rec, false);
	unsigned slot = slot_of(rec);

	mig.imported[slot] = true;
	mig.runnable[slot] = (flags & MIG_VCPU_RUNNABLE) != 0U;
	return NULL;
}

/* A piece of the vTPM's image (service 0), in order; it is taken at commit. */
static const char *import_service(const struct mig_record *r)
{
	static const uint8_t no_perms[4];

	uint8_t *image = vtpm_import_buffer();

	if (r->vcpu != 0U || !vtpm_offered() || image == NULL) {
		return "service state for a service this SVSM does not run";
	}
	if (r->gpa != mig.vtpm_len || r->len > VTPM_IMAGE_MAX - mig.vtpm_len || r->flags != 0U ||
	    __builtin_memcmp(r->perms, no_perms, sizeof(no_perms)) != 0) {
		return "service state out of order, too large or malformed";
	}
	__builtin_memcpy(image + mig.vtpm_len, r->payload, r->len);
	mig.vtpm_len += r->len;
	return NULL;
}

static const char *import(const struct mig_record *r)
{
	if (!mig.info_seen) {
		return r->type == MIG_INFO ? import_info(r) : "stream does not begin with INFO";
	}
	switch (r->type) {
	case MIG_PAGE:
	case MIG_ZERO:
		return import_page(r);
	case MIG_INVALIDATE:
		return import_invalidate(r);
	case MIG_DEPOSIT:
		return import_deposit(r);
	case MIG_VMSA:
		return import_vmsa(r);
	case MIG_SERVICE:
		return import_service(r);
	default:
		return "record of a type the source does not send";
	}
}

/* Everything the commit will do is possible: checked before anything changes. */
static const char *commit_problem(void)
{
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		const struct vcpu_rec *rec = vcpu_at(i);

		if (rec != NULL && !mig.imported[i]) {
			return "a vCPU of this machine had no VMSA in the stream";
		}
	}
	if (vtpm_offered() && mig.vtpm_len == 0U) {
		return "the stream carried no state for this SVSM's vTPM";
	}
	for (uint64_t pfn = 0; pfn < page_count(); pfn += PAGES_PER_2M) {
		gpa_t gpa = pfn_gpa(pfn);
		struct page_info info = pagestate_get(gpa);

		if (!info.validated || info.size != PAGE_2M) {
			continue;
		}
		for (unsigned i = 0; i < PAGES_PER_2M; i++) {
			if ((pagestate_marks(pfn_gpa(pfn + i)) & PAGESTATE_SENT) == 0U) {
				return "a 2M page the stream did not carry whole";
			}
		}
	}
	return NULL;
}

static const char *dst_commit(void)
{
	const char *why = commit_problem();

	if (why != NULL) {
		return why;
	}
	/* What the launch validated and the source no longer had. */
	for (uint64_t pfn = 0; pfn < page_count(); pfn++) {
		struct page_info info = pagestate_get(pfn_gpa(pfn));

		if (info.validated && owner_importable(info.owner) &&
		    (pagestate_marks(pfn_gpa(pfn)) & PAGESTATE_SENT) == 0U && !dst_rescind(pfn)) {
			return "a page the source did not have could not be rescinded";
		}
		if (info.owner == PAGE_CA && !vcpu_caa_in_use(pfn_gpa(pfn), NULL)) {
			pagestate_set_owner(pfn_gpa(pfn), PAGE_SIZE, PAGE_GUEST);
		}
	}
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		const struct vcpu_rec *rec = vcpu_at(i);

		if (rec != NULL) {
			pagestate_set_owner(rec->caa, PAGE_SIZE, PAGE_CA);
		}
	}
	/* The last step that can fail: the vTPM takes its state. A commit that fails leaves
	 * the destination FAILED, where the guest never runs, whatever it changed. */
	if (vtpm_offered()) {
		why = vtpm_import(mig.vtpm_len);
		if (why != NULL) {
			return why;
		}
	}
	release_all();
	for (unsigned i = 0; i < VCPU_RECORDS_MAX; i++) {
		struct vcpu_rec *rec = vcpu_at(i);

		if (rec != NULL && mig.runnable[i]) {
			vcpu_runnable(rec, true);
		}
	}
	pagestate_unmark_all();
	return NULL;
}

bool mig_dst_push(const uint8_t *in, size_t len, uint32_t *records)
{
	size_t off = 0;

	*records = 0;
	if (mig.phase != MIG_PHASE_IMPORT) {
		return false;
	}
	while (off < len) {
		struct mig_record r;

		if (len - off < MIG_HDR_SIZE) {
			return dst_fail("a record cut short in the ring");
		}
		uint64_t size = (uint64_t)MIG_HDR_SIZE + load32(in + off, 20) + CRYPTO_GCM_TAG_SIZE;

		if (size > len - off) {
			return dst_fail("a record cut short in the ring");
		}
		enum mig_rx_result res =
			mig_rx_record(&mig.rx, in + off, (size_t)size, &r, payload);

		off += (size_t)size;
		if (res == MIG_RX_REFUSE) {
			/* Counted too: the host learns which record was refused. */
			(*records)++;
			return dst_fail(mig.rx.why);
		}
		(*records)++;
		mig.records++;
		mig.bytes += size;
		if (res == MIG_RX_DATA) {
			const char *why = import(&r);

			crypto_wipe(payload, sizeof(payload));
			if (why != NULL) {
				return dst_fail(why);
			}
			mig.pages += r.type == MIG_PAGE || r.type == MIG_ZERO ? 1U : 0U;
		} else if (res == MIG_RX_FINAL) {
			const char *why = off == len ? dst_commit() : "records after FINAL";

			if (why != NULL) {
				return dst_fail(why);
			}
			mig.phase = MIG_PHASE_COMMITTED;
			dst_reply(MIG_COMMIT);
			return true;
		}
	}
	return true;
}

size_t mig_dst_reply(const uint8_t **reply)
{
	*reply = mig.reply;
	return mig.source ? 0U : mig.reply_len;
}

void mig_progress(struct mig_progress *p)
{
	uint64_t dirty = 0;

	for (uint64_t pfn = pagestate_find_marked(0, PAGESTATE_DIRTY); pfn < page_count();
	     pfn = pagestate_find_marked(pfn + 1U, PAGESTATE_DIRTY)) {
		dirty++;
	}
	*p = (struct mig_progress){
		.phase = mig.phase,
		.round = mig.source ? mig.tx.round : mig.rx.round,
		.records = mig.records,
		.pages = mig.pages,
		.bytes = mig.bytes,
		.dirty = dirty,
		.round_pages = mig.round_pages,
		.last_round_pages = mig.last_round_pages,
		.faults = mig.faults,
		.why = mig.why,
	};
}
