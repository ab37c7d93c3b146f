/* The SEV-SNP launch of an IGVM file as QEMU (backends/igvm.c, target/i386/sev.c) and KVM
 * perform it. Facts and sources: ../shared/spec/igvm-and-measurement.md sections 2 and 3.
 *
 * Order: QEMU batches contiguous PAGE_DATA records and queues a batch only when a page
 * that does not continue it arrives (or at the end), while a PARAMETER_INSERT is queued at
 * once; so an insert is measured before the batch still open when it is met. KVM measures
 * one VMSA per vCPU at LAUNCH_FINISH, after every page: the file's for the vCPUs it
 * describes, the reset state for the others. */
#include "igvm_launch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <donjon/bytes.h>
#include <donjon/launch.h>
#include <donjon/svsm.h>
#include <donjon/vmsa.h>

#define MAX_AREA_BYTES (16ULL << 20)
#define MAX_AREAS 64U

/* ---- VMSAs ---- */

static void set_seg(uint8_t *vmsa, uint32_t off, uint16_t sel, uint16_t attrib, uint32_t limit,
		    uint64_t base)
{
	memcpy(vmsa + off, &sel, 2);
	memcpy(vmsa + off + 2, &attrib, 2);
	store32(vmsa, off + 4, limit);
	store64(vmsa, off + 8, base);
}

#define RESET_PAT 0x0007040600070406ULL

void igvm_reset_vmsa(uint8_t page[IGVM_PAGE], uint64_t sev_features, uint32_t vcpu_sig)
{
	memset(page, 0, IGVM_PAGE);
	/* Real-mode reset: CS base 0xffff0000, IP 0xfff0 (the reset vector 0xfffffff0). */
	set_seg(page, VMSA_ES_OFF, 0, 0x93, 0xffff, 0);
	set_seg(page, VMSA_CS_OFF, 0xf000, 0x9b, 0xffff, 0xffff0000U);
	set_seg(page, VMSA_SS_OFF, 0, 0x93, 0xffff, 0);
	set_seg(page, VMSA_DS_OFF, 0, 0x93, 0xffff, 0);
	set_seg(page, VMSA_FS_OFF, 0, 0x93, 0xffff, 0);
	set_seg(page, VMSA_GS_OFF, 0, 0x93, 0xffff, 0);
	set_seg(page, VMSA_GDTR_OFF, 0, 0, 0xffff, 0);
	set_seg(page, VMSA_LDTR_OFF, 0, 0x82, 0xffff, 0);
	set_seg(page, VMSA_IDTR_OFF, 0, 0, 0xffff, 0);
	set_seg(page, VMSA_TR_OFF, 0, 0x8b, 0xffff, 0);
	store64(page, VMSA_EFER_OFF, EFER_SVME); /* KVM sets SVME */
	store64(page, VMSA_CR4_OFF, 0x40);	 /* and CR4.MCE */
	store64(page, VMSA_CR0_OFF, 0x10);
	store64(page, VMSA_DR7_OFF, 0x400);
	store64(page, VMSA_DR6_OFF, 0xffff0ff0U);
	store64(page, VMSA_RFLAGS_OFF, 0x2);
	store64(page, VMSA_RIP_OFF, 0xfff0);
	store64(page, VMSA_G_PAT_OFF, RESET_PAT);
	store64(page, VMSA_RDX_OFF, vcpu_sig);
	store64(page, VMSA_SEV_FEATURES_OFF, sev_features);
	store64(page, VMSA_XCR0_OFF, 1);
	store32(page, VMSA_MXCSR_OFF, 0x1f80);
	page[VMSA_X87_FCW_OFF] = 0x7f;
	page[VMSA_X87_FCW_OFF + 1] = 0x03;
}

/* The byte ranges of the VMSA that QEMU copies into vCPU state (check_vmsa_supported). */
static const struct {
	uint16_t off, len;
} vmsa_synced[] = {
	{ VMSA_ES_OFF, VMSA_SEGS_END },
	{ VMSA_EFER_OFF, 8 },
	{ VMSA_CR4_OFF, 0x30 },
	{ VMSA_RIP_OFF, 8 },
	{ VMSA_RSP_OFF, 8 },
	{ VMSA_RAX_OFF, 8 },
	{ VMSA_G_PAT_OFF, 8 },
	{ VMSA_RCX_OFF, 0x18 },
	{ 0x328, 0x58 }, /* rbp..r15 */
	{ VMSA_SEV_FEATURES_OFF, 8 },
	{ VMSA_XCR0_OFF, 8 },
	{ VMSA_MXCSR_OFF, 4 },
	{ VMSA_X87_FCW_OFF, 2 },
};

static bool synced(unsigned off)
{
	for (size_t i = 0; i < sizeof(vmsa_synced) / sizeof(vmsa_synced[0]); i++) {
		if (off >= vmsa_synced[i].off && off < vmsa_synced[i].off + vmsa_synced[i].len) {
			return true;
		}
	}
	return false;
}

bool igvm_vmsa_check(const uint8_t *vmsa, uint32_t record, struct igvm_error *err)
{
	for (unsigned off = 0; off < IGVM_PAGE; off++) {
		if (vmsa[off] != 0U && !synced(off)) {
			return igvm_fail(
				err, record,
				"VMSA byte 0x%x is set but QEMU does not synchronise it with "
				"KVM (QEMU refuses the file)",
				off);
		}
	}
	uint64_t features = load64(vmsa, VMSA_SEV_FEATURES_OFF);

	if ((features & SEV_FEATURE_SNP_ACTIVE) == 0U) {
		return igvm_fail(err, record, "VMSA sev_features 0x%llx lack SNPActive",
				 (unsigned long long)features);
	}
	/* KVM's VMCB always has EFER.SVME and CR4.MCE: a file without them is measured
	 * one way by the tool and another by KVM. */
	if ((load64(vmsa, VMSA_EFER_OFF) & EFER_SVME) == 0U) {
		return igvm_fail(err, record, "VMSA lacks EFER.SVME, which KVM sets");
	}
	if ((load64(vmsa, VMSA_CR4_OFF) & 0x40U) == 0U) {
		return igvm_fail(err, record, "VMSA lacks CR4.MCE, which KVM sets");
	}
	return true;
}

/* ---- the walk ---- */

struct area {
	uint32_t index;
	uint64_t bytes;
	uint8_t *buf;
};

struct walk {
	const struct igvm_file *f;
	const struct igvm_host *host;
	uint32_t mask;
	igvm_page_fn fn;
	void *ctx;
	struct igvm_error *err;
	struct area areas[MAX_AREAS];
	unsigned area_count;
	/* The open batch: records [run_first, run_last] of the records array. */
	bool run_open;
	size_t run_first, run_last;
	const uint8_t *vmsa[SVSM_MAX_VCPUS];
	uint32_t vmsa_record[SVSM_MAX_VCPUS];
};

static enum snp_page_type page_type(const struct igvm_page_data *d)
{
	switch (d->data_type) {
	case IGVM_PAGE_DATA_SECRETS:
		return SNP_PAGE_SECRETS;
	case IGVM_PAGE_DATA_CPUID_DATA:
	case IGVM_PAGE_DATA_CPUID_XF:
		return SNP_PAGE_CPUID;
	default:
		/* QEMU issues a batch without data as NORMAL pages of zeros. */
		return (d->flags & IGVM_PAGE_DATA_FLAG_UNMEASURED) != 0U ? SNP_PAGE_UNMEASURED
									 : SNP_PAGE_NORMAL;
	}
}

static struct igvm_page_data page_data(const struct igvm_record *r)
{
	struct igvm_page_data d;

	memcpy(&d, r->body, sizeof(d));
	return d;
}

static bool flush_run(struct walk *w)
{
	if (!w->run_open) {
		return true;
	}
	w->run_open = false;
	for (size_t i = w->run_first; i <= w->run_last; i++) {
		const struct igvm_record *r = &w->f->records[i];
		struct igvm_page_data d = page_data(r);
		struct igvm_launch_page p = {
			.event = IGVM_EV_PAGE,
			.gpa = d.gpa,
			.type = page_type(&d),
			.data = igvm_page_at(w->f, d.file_offset),
			.record = r->offset,
		};

		if (!w->fn(w->ctx, &p, w->err)) {
			return false;
		}
	}
	return true;
}

/* Does record i continue the open batch (QEMU's rule)? */
static bool continues_run(const struct walk *w, size_t i)
{
	if (!w->run_open || i != w->run_last + 1U) {
		return false;
	}
	struct igvm_page_data a = page_data(&w->f->records[w->run_last]);
	struct igvm_page_data b = page_data(&w->f->records[i]);

	/* The parser keeps every page below 2^64: a.gpa + IGVM_PAGE does not wrap to 0. */
	return a.flags == b.flags && a.data_type == b.data_type &&
	       a.compatibility_mask == b.compatibility_mask &&
	       (a.file_offset == 0U) == (b.file_offset == 0U) && b.gpa == a.gpa + IGVM_PAGE;
}

static struct area *find_area(struct walk *w, uint32_t index)
{
	for (unsigned i = 0; i < w->area_count; i++) {
		if (w->areas[i].index == index) {
			return &w->areas[i];
		}
	}
	return NULL;
}

/* The host's memory map: RAM from 0 to the end of memory. */
static bool write_memory_map(struct walk *w, const struct igvm_record *r, struct area *a,
			     uint32_t off)
{
	struct launch_memory_map_entry e = {
		.starting_gpa_page_number = 0,
		.number_of_pages = w->host->mem_size / IGVM_PAGE,
		.entry_type = 0,
	};

	if ((uint64_t)off + sizeof(e) > a->bytes) {
		return igvm_fail(w->err, r->offset, "memory map at 0x%x does not fit its area",
				 off);
	}
	memcpy(a->buf + off, &e, sizeof(e));
	return true;
}

static bool parameter(struct walk *w, const struct igvm_record *r)
{
	struct igvm_parameter p;

	memcpy(&p, r->body, sizeof(p));
	struct area *a = find_area(w, p.parameter_area_index);
	uint32_t value =
		r->type == IGVM_VHT_VP_COUNT_PARAMETER ? w->host->vcpus : LAUNCH_ENV_MEMORY_SHARED;

	if (a == NULL) {
		return igvm_fail(w->err, r->offset, "parameter area %u undeclared",
				 p.parameter_area_index);
	}
	if (r->type == IGVM_VHT_MEMORY_MAP) {
		return write_memory_map(w, r, a, p.byte_offset);
	}
	if ((uint64_t)p.byte_offset + 4U > a->bytes) {
		return igvm_fail(w->err, r->offset, "%s at 0x%x does not fit its area",
				 igvm_type_name(r->type), p.byte_offset);
	}
	store32(a->buf, p.byte_offset, value);
	return true;
}

static bool parameter_area(struct walk *w, const struct igvm_record *r)
{
	struct igvm_parameter_area pa;

	memcpy(&pa, r->body, sizeof(pa));
	if (pa.number_of_bytes > MAX_AREA_BYTES) {
		return igvm_fail(w->err, r->offset,
				 "PARAMETER_AREA %u: 0x%llx bytes, more than 16 MiB",
				 pa.parameter_area_index, (unsigned long long)pa.number_of_bytes);
	}
	if (w->area_count == MAX_AREAS) {
		return igvm_fail(w->err, r->offset, "PARAMETER_AREA %u: more than %u areas",
				 pa.parameter_area_index, MAX_AREAS);
	}
	/* QEMU ignores an area's initial data: the area starts as zeros. */
	struct area *a = &w->areas[w->area_count];

	a->buf = calloc(1, pa.number_of_bytes);
	if (a->buf == NULL) {
		return igvm_fail(w->err, r->offset, "out of memory");
	}
	a->index = pa.parameter_area_index;
	a->bytes = pa.number_of_bytes;
	w->area_count++;
	return true;
}

/* An insert is launched at once, as UNMEASURED pages: before the batch still open. */
static bool parameter_insert(struct walk *w, const struct igvm_record *r)
{
	struct igvm_parameter_insert pi;

	memcpy(&pi, r->body, sizeof(pi));
	struct area *a = find_area(w, pi.parameter_area_index);

	if (a == NULL) {
		return igvm_fail(w->err, r->offset, "insert of undeclared area %u",
				 pi.parameter_area_index);
	}
	/* The parser refused an area reaching past 2^64: pi.gpa + off does not wrap. */
	for (uint64_t off = 0; off < a->bytes; off += IGVM_PAGE) {
		struct igvm_launch_page p = {
			.event = IGVM_EV_PAGE,
			.gpa = pi.gpa + off,
			.type = SNP_PAGE_UNMEASURED,
			.data = a->buf + off,
			.record = r->offset,
		};

		if (!w->fn(w->ctx, &p, w->err)) {
			return false;
		}
	}
	return true;
}

static bool vp_context(struct walk *w, const struct igvm_record *r)
{
	struct igvm_vp_context v;

	memcpy(&v, r->body, sizeof(v));
	if (v.vp_index >= w->host->vcpus || v.vp_index >= SVSM_MAX_VCPUS) {
		return igvm_fail(w->err, r->offset, "VP context for vCPU %u, but the host has %u",
				 v.vp_index, w->host->vcpus);
	}
	if (w->vmsa[v.vp_index] != NULL) {
		return igvm_fail(w->err, r->offset, "second VP context for vCPU %u", v.vp_index);
	}
	if (v.gpa != SNP_VMSA_MEASURE_GPA) {
		return igvm_fail(w->err, r->offset, "VMSA gpa 0x%llx: KVM's is 0xfffffffff000",
				 (unsigned long long)v.gpa);
	}
	const uint8_t *page = igvm_page_at(w->f, v.file_offset);

	if (!igvm_vmsa_check(page, r->offset, w->err)) {
		return false;
	}
	w->vmsa[v.vp_index] = page;
	w->vmsa_record[v.vp_index] = r->offset;
	return true;
}

static bool directive(struct walk *w, size_t i, struct igvm_launch *out)
{
	const struct igvm_record *r = &w->f->records[i];
	uint32_t mask = r->length >= 12U ? load32(r->body, 8) : 0U;

	switch (r->type) {
	case IGVM_VHT_PAGE_DATA:
		if ((mask & w->mask) == 0U) {
			return true;
		}
		if (continues_run(w, i)) {
			w->run_last = i;
			return true;
		}
		if (!flush_run(w)) {
			return false;
		}
		w->run_open = true;
		w->run_first = w->run_last = i;
		return true;
	case IGVM_VHT_PARAMETER_AREA:
		return parameter_area(w, r);
	case IGVM_VHT_VP_COUNT_PARAMETER:
	case IGVM_VHT_ENVIRONMENT_INFO_PARAMETER:
	case IGVM_VHT_MEMORY_MAP:
		return parameter(w, r);
	case IGVM_VHT_PARAMETER_INSERT:
		return (mask & w->mask) == 0U || parameter_insert(w, r);
	case IGVM_VHT_VP_CONTEXT:
		return (mask & w->mask) == 0U || vp_context(w, r);
	case IGVM_VHT_REQUIRED_MEMORY: {
		struct igvm_required_memory m;

		memcpy(&m, r->body, sizeof(m));
		struct igvm_launch_page p = {
			.event = IGVM_EV_REQUIRED,
			.gpa = m.gpa,
			.size = m.number_of_bytes,
			.record = r->offset,
		};

		return (m.compatibility_mask & w->mask) == 0U || w->fn(w->ctx, &p, w->err);
	}
	case IGVM_VHT_SNP_ID_BLOCK:
		if ((load32(r->body, 0) & w->mask) == 0U) {
			return true;
		}
		if (out->id_block != NULL) {
			return igvm_fail(w->err, r->offset, "a second SNP ID block");
		}
		out->id_block = r->body;
		out->id_block_record = r->offset;
		return true;
	default:
		return igvm_fail(w->err, r->offset, "QEMU's loader has no handler for %s",
				 igvm_type_name(r->type));
	}
}

static bool platform_mask(const struct igvm_file *f, uint8_t type, uint32_t *mask)
{
	for (size_t i = 0; i < f->count; i++) {
		const struct igvm_record *r = &f->records[i];

		if (r->type == IGVM_VHT_SUPPORTED_PLATFORM && r->body[5] == type) {
			*mask = load32(r->body, 0);
			return true;
		}
	}
	return false;
}

static bool finish(struct walk *w, struct igvm_launch *out)
{
	uint8_t page[IGVM_PAGE];

	if (w->vmsa[0] == NULL) {
		return igvm_fail(w->err, 0, "no SEV-SNP VP context for vCPU 0");
	}
	out->sev_features = w->host->set_sev_features ? w->host->sev_features
						      : load64(w->vmsa[0], VMSA_SEV_FEATURES_OFF);
	if ((out->sev_features & SEV_FEATURE_SNP_ACTIVE) == 0U) {
		return igvm_fail(w->err, w->vmsa_record[0], "SEV features 0x%llx lack SNPActive",
				 (unsigned long long)out->sev_features);
	}
	/* KVM applies one set of SEV features to every vCPU. */
	for (unsigned vp = 0; vp < w->host->vcpus; vp++) {
		if (w->vmsa[vp] != NULL) {
			memcpy(page, w->vmsa[vp], IGVM_PAGE);
			store64(page, VMSA_SEV_FEATURES_OFF, out->sev_features);
		} else {
			igvm_reset_vmsa(page, out->sev_features, w->host->vcpu_sig);
		}
		struct igvm_launch_page p = {
			.event = IGVM_EV_PAGE,
			.gpa = SNP_VMSA_MEASURE_GPA,
			.type = SNP_PAGE_VMSA,
			.data = page,
			.record = w->vmsa_record[vp],
			.vp = vp,
		};

		if (!w->fn(w->ctx, &p, w->err)) {
			return false;
		}
	}
	return true;
}

bool igvm_snp_launch(const struct igvm_file *f, const struct igvm_host *host, igvm_page_fn fn,
		     void *ctx, struct igvm_launch *out, struct igvm_error *err)
{
	struct walk *w = calloc(1, sizeof(*w));
	bool ok = true;

	memset(out, 0, sizeof(*out));
	out->policy = IGVM_DEFAULT_POLICY;
	if (w == NULL) {
		return igvm_fail(err, 0, "out of memory");
	}
	*w = (struct walk){ .f = f, .host = host, .fn = fn, .ctx = ctx, .err = err };
	if (host->vcpus == 0U || host->vcpus > SVSM_MAX_VCPUS) {
		ok = igvm_fail(err, 0, "vCPU count %u: 1 to %u", host->vcpus, SVSM_MAX_VCPUS);
	} else if (!platform_mask(f, IGVM_PLATFORM_SEV_SNP, &w->mask)) {
		ok = igvm_fail(err, 0, "the file has no SEV-SNP platform");
	}
	out->platform_mask = w->mask;
	for (size_t i = 0; ok && i < f->count; i++) {
		const struct igvm_record *r = &f->records[i];

		if (r->type == IGVM_VHT_GUEST_POLICY) {
			if ((load32(r->body, 8) & w->mask) != 0U) {
				out->policy = load64(r->body, 0);
			}
		} else if (r->type >= IGVM_VHT_PARAMETER_AREA) {
			ok = directive(w, i, out);
		}
	}
	ok = ok && flush_run(w) && finish(w, out);
	for (unsigned i = 0; i < w->area_count; i++) {
		free(w->areas[i].buf);
	}
	free(w);
	return ok;
}

/* ---- native ---- */

static bool native_context(const struct igvm_file *f, const struct igvm_record *r,
			   struct igvm_error *err)
{
	struct igvm_vp_context v;

	memcpy(&v, r->body, sizeof(v));
	const uint8_t *ctx = igvm_page_at(f, v.file_offset);

	if (v.vp_index != 0U) {
		return igvm_fail(err, r->offset,
				 "native VP context for vCPU %u: QEMU takes vCPU 0 only",
				 v.vp_index);
	}
	for (unsigned off = IGVM_NATIVE_CTX_SIZE; off < IGVM_PAGE; off++) {
		if (ctx[off] != 0U) {
			return igvm_fail(err, r->offset, "native VP context: non-zero byte at 0x%x",
					 off);
		}
	}
	uint16_t code =
		(uint16_t)(ctx[IGVM_NATIVE_CODE_ATTR] | ctx[IGVM_NATIVE_CODE_ATTR + 1] << 8);
	uint16_t data =
		(uint16_t)(ctx[IGVM_NATIVE_DATA_ATTR] | ctx[IGVM_NATIVE_DATA_ATTR + 1] << 8);

	if ((code & 0xF00U) != 0U) {
		return igvm_fail(err, r->offset,
				 "native code segment attributes 0x%x: bits 11:8 set", code);
	}
	if ((data & 0xF00U) != 0U) {
		return igvm_fail(err, r->offset,
				 "native data segment attributes 0x%x: bits 11:8 set", data);
	}
	return true;
}

bool igvm_native_check(const struct igvm_file *f, struct igvm_error *err)
{
	uint32_t mask = 0;

	if (!platform_mask(f, IGVM_PLATFORM_NATIVE, &mask)) {
		return igvm_fail(err, 0, "the file has no native platform");
	}
	for (size_t i = 0; i < f->count; i++) {
		const struct igvm_record *r = &f->records[i];

		switch (r->type) {
		case IGVM_VHT_SUPPORTED_PLATFORM:
		case IGVM_VHT_GUEST_POLICY:
		case IGVM_VHT_PAGE_DATA:
		case IGVM_VHT_PARAMETER_AREA:
		case IGVM_VHT_PARAMETER_INSERT:
		case IGVM_VHT_REQUIRED_MEMORY:
		case IGVM_VHT_VP_COUNT_PARAMETER:
		case IGVM_VHT_ENVIRONMENT_INFO_PARAMETER:
		case IGVM_VHT_MEMORY_MAP:
		case IGVM_VHT_SNP_ID_BLOCK:
			break;
		case IGVM_VHT_VP_CONTEXT:
			if ((load32(r->body, 8) & mask) != 0U && !native_context(f, r, err)) {
				return false;
			}
			break;
		default:
			return igvm_fail(err, r->offset, "QEMU's loader has no handler for %s",
					 igvm_type_name(r->type));
		}
	}
	return true;
}
