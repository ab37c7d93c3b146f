/* libFuzzer target over the destination's engine (core/migrate/engine.c): a freshly
 * launched simulated machine begins a session and takes records that open, sealed under
 * the session's key by a source that may send anything the stream's framing allows (as a
 * source SVSM with a bug would): pages, zero pages, 2M parts, invalidations, deposits and
 * VMSAs at any address with any permissions and meta, service pieces, INFO of this or
 * another shape, ROUND_END and FINAL at any point, in any order.
 *
 * Invariants, whatever the records: Donjon's range as launched (its RMP entries and its
 * memory, the startup VMSAs aside, which the stream may rewrite); the page tracking in
 * step with the RMP (validation, size), every guest page's VMPL1-3 rights in the RMP zero
 * while it is held and equal to the tracking otherwise; and until the engine has
 * committed, the guest cannot run: mig_guest_stopped(), no runnable vCPU, no page with
 * rights for VMPL1-3. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "migrate/engine.h"
#include "migrate/stream.h"
#include "mm/pagestate.h"
#include "svsm_internal.h"

#define MEM (32ULL << 20)
#define VCPUS 2U
#define MAX_RECORDS 24U

static struct sim_machine *m;
static uint8_t payload[MIG_MAX_PAYLOAD];
static uint8_t sealed[MIG_MAX_RECORD];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void keys_of(struct mig_keys *k, uint8_t seed, uint32_t stream)
{
	memset(k, 0, sizeof(*k));
	memset(k->key, seed, sizeof(k->key));
	memset(k->session, 0x5A, sizeof(k->session));
	k->stream = stream;
	k->platform = MIG_PLATFORM_SIM;
}

/* This machine's shape, or (other) one field of it changed. */
static void info_of(uint8_t *p, unsigned other)
{
	memset(p, 0, MIG_INFO_SIZE);
	store64(p, 0, svsm_cfg.mem_size);
	store64(p, 8, gpa_val(svsm_cfg.svsm_base));
	store64(p, 16, svsm_cfg.svsm_size);
	store32(p, 24, VCPUS);
	store32(p, 28, svsm_cfg.guest_vmpl);
	store64(p, 32, svsm_cfg.sev_features);
	if (other != 0U) {
		p[(other * 8U) % MIG_INFO_SIZE] ^= 1U;
	}
}

/* An address the source might name: mostly pages of this machine (Donjon's range, the
 * calling areas and VMSAs included), some beyond it, some not page aligned. */
static uint64_t gpa_of(struct input *in)
{
	uint64_t page = take(in, 2) % ((MEM >> PAGE_SHIFT) + 64U);
	uint64_t off = (take(in, 1) & 0x7U) == 0U ? 0x10U : 0U;

	return (page << PAGE_SHIFT) + off;
}

/* What a correct source sends for vCPU apic: its calling area, or (vmsa) its startup
 * VMSA, so that inputs can reach a commit. */
static size_t genuine(struct mig_tx *tx, unsigned apic, bool vmsa)
{
	struct mig_record r = { .type = MIG_PAGE,
				.flags = MIG_FLAG_VALIDATED,
				.gpa = SIM_CAA_BASE + apic * PAGE_SIZE,
				.len = PAGE_SIZE,
				.payload = payload };

	memset(payload, 0, sizeof(payload));
	r.perms[svsm_cfg.guest_vmpl] = 0xF;
	if (vmsa) {
		r = (struct mig_record){ .type = MIG_VMSA,
					 .gpa = SIM_VMSA_BASE + apic * PAGE_SIZE,
					 .vcpu = apic,
					 .len = PAGE_SIZE + MIG_VCPU_META_SIZE,
					 .payload = payload };
		payload[VMSA_VMPL_OFF] = (uint8_t)svsm_cfg.guest_vmpl;
		store64(payload, VMSA_SEV_FEATURES_OFF, svsm_cfg.sev_features);
		store64(payload, PAGE_SIZE + MIG_META_CAA, SIM_CAA_BASE + apic * PAGE_SIZE);
		store32(payload, PAGE_SIZE + MIG_META_APIC, apic);
		payload[PAGE_SIZE + MIG_META_VMPL] = (uint8_t)svsm_cfg.guest_vmpl;
		payload[PAGE_SIZE + MIG_META_FLAGS] = MIG_VCPU_STARTUP | MIG_VCPU_RUNNABLE;
	}
	return mig_tx_record(tx, &r, sealed, sizeof(sealed));
}

/* One record the input describes, sealed; 0 if the sender refuses its shape. */
static size_t next_record(struct mig_tx *tx, struct input *in)
{
	static const uint8_t types[] = { MIG_PAGE,	 MIG_PAGE,    MIG_ZERO,	   MIG_VMSA,
					 MIG_INVALIDATE, MIG_DEPOSIT, MIG_SERVICE, MIG_INFO,
					 MIG_ROUND_END,	 MIG_FINAL,   0,	   0 };
	uint8_t type = types[take(in, 1) % sizeof(types)];
	struct mig_record r = { .type = type, .payload = payload };

	if (type == 0U) {
		uint64_t which = take(in, 1);

		return genuine(tx, (unsigned)(which % VCPUS), (which & 0x80U) != 0U);
	}
	if (type == MIG_ROUND_END) {
		return mig_tx_round_end(tx, sealed, sizeof(sealed));
	}
	if (type == MIG_FINAL) {
		return mig_tx_final(tx, sealed, sizeof(sealed));
	}
	r.flags = (uint8_t)(take(in, 1) & MIG_FLAGS_RECORD);
	r.gpa = gpa_of(in);
	for (unsigned i = 0; i < 4U; i++) {
		r.perms[i] = (uint8_t)take(in, 1);
	}
	r.vcpu = (uint32_t)(take(in, 1) % (VCPUS + 2U));
	memset(payload, (int)take(in, 1), sizeof(payload));
	switch (type) {
	case MIG_PAGE:
		r.len = PAGE_SIZE;
		break;
	case MIG_VMSA:
		r.len = PAGE_SIZE + MIG_VCPU_META_SIZE;
		memset(payload + PAGE_SIZE, 0, MIG_VCPU_META_SIZE);
		store64(payload, PAGE_SIZE + MIG_META_CAA, gpa_of(in));
		store32(payload, PAGE_SIZE + MIG_META_APIC, (uint32_t)(take(in, 1) % (VCPUS + 1U)));
		payload[PAGE_SIZE + MIG_META_VMPL] = (uint8_t)(take(in, 1) % 4U);
		payload[PAGE_SIZE + MIG_META_FLAGS] = (uint8_t)take(in, 1);
		for (unsigned i = 0; i < 4U; i++) {
			payload[PAGE_SIZE + MIG_META_PERMS + i] = (uint8_t)take(in, 1);
		}
		payload[VMSA_VMPL_OFF] = (uint8_t)svsm_cfg.guest_vmpl;
		store64(payload, VMSA_SEV_FEATURES_OFF, svsm_cfg.sev_features);
		store64(payload, VMSA_EFER_OFF, take(in, 1) & 1U ? 0x1000U : 0U);
		break;
	case MIG_SERVICE:
		r.len = (uint32_t)(take(in, 2) % (PAGE_SIZE + 1U));
		break;
	case MIG_INFO:
		r.len = MIG_INFO_SIZE;
		info_of(payload, (take(in, 1) & 0xFU) == 0U ? 1U + (unsigned)take(in, 1) % 5U : 0U);
		break;
	default:
		r.len = 0;
		break;
	}
	return mig_tx_record(tx, &r, sealed, sizeof(sealed));
}

static void check_destination(void)
{
	bool committed = mig_phase() == MIG_PHASE_COMMITTED;

	fuzz_check_svsm_range(true);
	if (!committed && (!mig_guest_stopped() || sim_guest_running(m))) {
		abort();
	}
	for (uint64_t pfn = 0; pfn < (MEM >> PAGE_SHIFT); pfn++) {
		gpa_t gpa = gpa_init(pfn << PAGE_SHIFT);
		struct page_info info = pagestate_get(gpa);
		const struct rmp_entry *e = &m->rmp[pfn];
		bool held = (pagestate_marks(gpa) & PAGESTATE_HELD) != 0U;

		if (info.validated != e->validated ||
		    (info.validated && (info.size == PAGE_2M) != e->size_2m)) {
			abort();
		}
		for (unsigned v = 1; v < VMPL_COUNT; v++) {
			if ((!committed && e->perms[v] != 0U) || (held && e->perms[v] != 0U) ||
			    (!held && info.perms[v] != e->perms[v])) {
				abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .data = data, .size = size };
	struct mig_keys s2d, d2s;
	struct mig_tx tx;

	if (m == NULL) {
		m = fuzz_machine(MEM, VCPUS);
	}
	fuzz_relaunch();
	keys_of(&s2d, 0x11, MIG_STREAM_S2D);
	keys_of(&d2s, 0x22, MIG_STREAM_D2S);
	if (!mig_dst_begin(&s2d, &d2s)) {
		abort(); /* a fresh launch whose guest never ran may always be a destination */
	}
	mig_tx_init(&tx, &s2d);
	/* Most inputs start with this machine's INFO, so that the records behind it count. */
	if ((take(&in, 1) & 0x7U) != 0U) {
		struct mig_record info = { .type = MIG_INFO,
					   .len = MIG_INFO_SIZE,
					   .payload = payload };
		uint32_t records = 0;

		info_of(payload, 0);
		size_t len = mig_tx_record(&tx, &info, sealed, sizeof(sealed));

		(void)mig_dst_push(sealed, len, &records);
	}
	for (unsigned n = 0; n < MAX_RECORDS && in.size > 0 && mig_phase() == MIG_PHASE_IMPORT;
	     n++) {
		size_t len = next_record(&tx, &in);
		uint32_t records = 0;

		if (len != 0U) {
			(void)mig_dst_push(sealed, len, &records);
		}
	}
	check_destination();
	return 0;
}
