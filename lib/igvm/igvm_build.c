/* The IGVM builder. Record order (what QEMU's loader needs, spec sheet 2.6): platforms,
 * policy; parameter areas, their parameters and inserts, required memory, then the pages,
 * the ID block and the VP contexts last. The SVSM starts as COCONUT's stage 2 does, in
 * 32-bit protected mode with paging off (CR0 0x31: the state KVM is known to measure as
 * the file gives it); its own boot code builds the page tables, in its image. */
#include "igvm_build.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <donjon/bytes.h>
#include <donjon/launch.h>
#include <donjon/vmsa.h>

#define AREA_PARAMS 0U
#define AREA_MEMORY_MAP 1U
#define AREA_GUEST_PARAMS 2U
#define FLAT_CODE_SEL 0x08U
#define FLAT_DATA_SEL 0x10U

static bool say(char *why, size_t len, const char *fmt, const char *arg)
{
	(void)snprintf(why, len, fmt, arg);
	return false;
}

/* ---- records ---- */

static bool page(struct igvm_writer *w, uint64_t gpa, uint32_t mask, uint16_t type,
		 const uint8_t *data, size_t len)
{
	struct igvm_page_data d = { .gpa = gpa, .compatibility_mask = mask, .data_type = type };
	bool zero = true;

	for (size_t i = 0; i < len && zero; i++) {
		zero = data[i] == 0U;
	}
	return igvm_writer_add(w, IGVM_VHT_PAGE_DATA, &d, sizeof(d)) &&
	       (zero || igvm_writer_add_data(w, 12, data, len, IGVM_PAGE));
}

/* [gpa, gpa + len) of image as pages (the last one zero-padded). */
static bool pages(struct igvm_writer *w, uint64_t gpa, uint32_t mask, const uint8_t *image,
		  size_t len)
{
	for (size_t off = 0; off < len; off += IGVM_PAGE) {
		size_t n = len - off < IGVM_PAGE ? len - off : IGVM_PAGE;

		if (!page(w, gpa + off, mask, IGVM_PAGE_DATA_NORMAL, image + off, n)) {
			return false;
		}
	}
	return true;
}

static bool area(struct igvm_writer *w, uint32_t index, uint64_t bytes)
{
	struct igvm_parameter_area a = { .number_of_bytes = bytes, .parameter_area_index = index };

	return igvm_writer_add(w, IGVM_VHT_PARAMETER_AREA, &a, sizeof(a));
}

static bool param(struct igvm_writer *w, uint32_t type, uint32_t index, uint32_t off)
{
	struct igvm_parameter p = { .parameter_area_index = index, .byte_offset = off };

	return igvm_writer_add(w, type, &p, sizeof(p));
}

static bool insert(struct igvm_writer *w, uint32_t index, uint64_t gpa, uint32_t mask)
{
	struct igvm_parameter_insert i = { .gpa = gpa,
					   .compatibility_mask = mask,
					   .parameter_area_index = index };

	return igvm_writer_add(w, IGVM_VHT_PARAMETER_INSERT, &i, sizeof(i));
}

/* ---- the kernel ELF ---- */

struct kernel {
	uint8_t *image; /* [BUILD_SVSM_BASE, end) as loaded */
	uint64_t end;
	uint64_t entry;
};

static bool load_kernel(const char *path, struct kernel *k, char *why, size_t why_len)
{
	size_t len = 0;
	uint8_t *elf = igvm_read_file(path, &len);
	Elf64_Ehdr eh = { 0 };
	bool entry_ok = false;

	memset(k, 0, sizeof(*k));
	if (elf == NULL) {
		return say(why, why_len, "cannot read kernel %s", path);
	}
	if (len >= sizeof(eh)) {
		memcpy(&eh, elf, sizeof(eh));
	}
	if (len < sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len) {
		free(elf);
		return say(why, why_len, "%s is not an x86-64 ELF", path);
	}
	k->image = calloc(1, BUILD_LAUNCH_INFO);
	for (unsigned i = 0; k->image != NULL && i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, elf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0U) {
			continue;
		}
		/* The kernel must fit below the launch pages. */
		if (ph.p_filesz > ph.p_memsz || ph.p_offset + ph.p_filesz > len ||
		    ph.p_paddr + ph.p_memsz > BUILD_LAUNCH_INFO || ph.p_paddr < 0x100000U) {
			free(elf);
			free(k->image);
			k->image = NULL;
			return say(why, why_len,
				   "%s: a segment lies outside [1 MiB, 2 MiB) or the file", path);
		}
		memcpy(k->image + ph.p_paddr, elf + ph.p_offset, ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > k->end) {
			k->end = ph.p_paddr + ph.p_memsz;
		}
		entry_ok |= (ph.p_flags & PF_X) != 0U && eh.e_entry >= ph.p_paddr &&
			    eh.e_entry < ph.p_paddr + ph.p_memsz;
	}
	free(elf);
	k->entry = eh.e_entry;
	if (k->image == NULL || !entry_ok) {
		free(k->image);
		k->image = NULL;
		return say(why, why_len, "%s: no executable segment holds the entry point", path);
	}
	return true;
}

/* ---- initial state ---- */

static void seg(uint8_t *vmsa, uint32_t off, uint16_t sel, uint16_t attrib, uint32_t limit)
{
	memcpy(vmsa + off, &sel, 2);
	memcpy(vmsa + off + 2, &attrib, 2);
	store32(vmsa, off + 4, limit);
}

/* The SVSM's BSP at VMPL0: flat 32-bit protected mode, RBX = the launch info. */
static void svsm_vmsa(uint8_t *v, uint64_t entry, uint64_t sev_features)
{
	memset(v, 0, IGVM_PAGE);
	seg(v, VMSA_CS_OFF, FLAT_CODE_SEL, 0xc9b, 0xffffffffU);
	for (uint32_t off = VMSA_ES_OFF; off <= VMSA_GS_OFF; off += 0x10U) {
		if (off != VMSA_CS_OFF) {
			seg(v, off, FLAT_DATA_SEL, 0xc93, 0xffffffffU);
		}
	}
	seg(v, VMSA_GDTR_OFF, 0, 0, 0xffff);
	seg(v, VMSA_LDTR_OFF, 0, 0x82, 0xffff);
	seg(v, VMSA_IDTR_OFF, 0, 0, 0xffff);
	seg(v, VMSA_TR_OFF, 0, 0x8b, 0xffff);
	store64(v, VMSA_EFER_OFF, EFER_SVME);
	store64(v, VMSA_CR4_OFF, 0x40);
	store64(v, VMSA_CR0_OFF, 0x31);
	store64(v, VMSA_DR7_OFF, 0x400);
	store64(v, VMSA_DR6_OFF, 0xffff0ff0U);
	store64(v, VMSA_RFLAGS_OFF, 0x2);
	store64(v, VMSA_RIP_OFF, entry);
	store64(v, VMSA_RBX_OFF, BUILD_LAUNCH_INFO);
	store64(v, VMSA_G_PAT_OFF, 0x0007040600070406ULL);
	store64(v, VMSA_SEV_FEATURES_OFF, sev_features);
	store64(v, VMSA_XCR0_OFF, 1);
	store32(v, VMSA_MXCSR_OFF, 0x1f80);
	v[VMSA_X87_FCW_OFF] = 0x7f;
	v[VMSA_X87_FCW_OFF + 1] = 0x03;
}

/* The same state as an IgvmNativeVpContextX64 (attributes without the limit nibble). */
static void native_context(uint8_t *c, uint64_t entry)
{
	memset(c, 0, IGVM_PAGE);
	store64(c, IGVM_NATIVE_RBX, BUILD_LAUNCH_INFO);
	store64(c, IGVM_NATIVE_RIP, entry);
	store64(c, IGVM_NATIVE_RFLAGS, 0x2);
	uint16_t code[2] = { FLAT_CODE_SEL, 0xC09BU }, data[2] = { FLAT_DATA_SEL, 0xC093U };

	memcpy(c + IGVM_NATIVE_CODE_SEL, code, sizeof(code)); /* selector, attributes */
	store32(c, IGVM_NATIVE_CODE_LIMIT, 0xffffffffU);
	memcpy(c + IGVM_NATIVE_DATA_SEL, data, sizeof(data));
	store32(c, IGVM_NATIVE_DATA_LIMIT, 0xffffffffU);
	store64(c, IGVM_NATIVE_CR0, 0x31);
}

static void launch_info(uint8_t *page, uint64_t guest_size, uint64_t guest_entry,
			const struct launch_migrate_policy *migrate)
{
	struct launch_info li = {
		.magic = LAUNCH_INFO_MAGIC,
		.version = LAUNCH_INFO_VERSION,
		.svsm_base = BUILD_SVSM_BASE,
		.svsm_size = BUILD_SVSM_SIZE,
		.params = BUILD_PARAMS,
		.memory_map = BUILD_MEMORY_MAP,
		.memory_map_size = BUILD_MEMORY_MAP_SIZE,
		.secrets = BUILD_SECRETS,
		.cpuid = BUILD_CPUID,
		.guest_secrets = BUILD_GUEST_SECRETS,
		.guest_caa = BUILD_GUEST_CAA,
		.guest_params = BUILD_GUEST_PARAMS,
		.guest_image = BUILD_GUEST_IMAGE,
		.guest_image_size = guest_size,
		.guest_entry = guest_entry,
		.guest_vmpl = BUILD_GUEST_VMPL,
		.migrate = *migrate,
	};

	memset(page, 0, IGVM_PAGE);
	memcpy(page, &li, sizeof(li));
}

/* ---- the file ---- */

struct parts {
	struct kernel k;
	uint8_t *guest;
	size_t guest_len;
	uint32_t all, snp, native;
};

static bool headers(struct igvm_writer *w, const struct build_opts *o, const struct parts *p)
{
	struct igvm_supported_platform sp = { .platform_version = 1 };
	struct igvm_guest_policy gp = { .policy = o->policy, .compatibility_mask = p->snp };
	bool ok = true;

	if (o->snp) {
		sp.compatibility_mask = BUILD_MASK_SNP;
		sp.platform_type = IGVM_PLATFORM_SEV_SNP;
		ok = igvm_writer_add(w, IGVM_VHT_SUPPORTED_PLATFORM, &sp, sizeof(sp));
	}
	if (ok && o->native) {
		sp.compatibility_mask = BUILD_MASK_NATIVE;
		sp.platform_type = IGVM_PLATFORM_NATIVE;
		ok = igvm_writer_add(w, IGVM_VHT_SUPPORTED_PLATFORM, &sp, sizeof(sp));
	}
	if (ok && o->snp) {
		ok = igvm_writer_add(w, IGVM_VHT_GUEST_POLICY, &gp, sizeof(gp));
	}
	/* Parameters before any page, so QEMU measures them where this order says. */
	struct igvm_required_memory rm = { .gpa = BUILD_SVSM_BASE,
					   .compatibility_mask = p->all,
					   .number_of_bytes = (uint32_t)BUILD_SVSM_SIZE };

	return ok && area(w, AREA_PARAMS, IGVM_PAGE) &&
	       area(w, AREA_MEMORY_MAP, BUILD_MEMORY_MAP_SIZE) &&
	       area(w, AREA_GUEST_PARAMS, IGVM_PAGE) &&
	       param(w, IGVM_VHT_VP_COUNT_PARAMETER, AREA_PARAMS, LAUNCH_PARAM_VCPUS_OFF) &&
	       param(w, IGVM_VHT_ENVIRONMENT_INFO_PARAMETER, AREA_PARAMS, LAUNCH_PARAM_ENV_OFF) &&
	       param(w, IGVM_VHT_MEMORY_MAP, AREA_MEMORY_MAP, 0) &&
	       param(w, IGVM_VHT_VP_COUNT_PARAMETER, AREA_GUEST_PARAMS, 0) &&
	       insert(w, AREA_PARAMS, BUILD_PARAMS, p->all) &&
	       insert(w, AREA_MEMORY_MAP, BUILD_MEMORY_MAP, p->all) &&
	       insert(w, AREA_GUEST_PARAMS, BUILD_GUEST_PARAMS, p->all) &&
	       igvm_writer_add(w, IGVM_VHT_REQUIRED_MEMORY, &rm, sizeof(rm));
}

static bool body(struct igvm_writer *w, const struct build_opts *o, const struct parts *p)
{
	static const uint8_t zeros[IGVM_PAGE];
	uint8_t info[IGVM_PAGE];
	uint64_t kstart = 0x100000U;
	size_t guest_pages = (p->guest_len + IGVM_PAGE - 1U) & ~(size_t)(IGVM_PAGE - 1U);

	launch_info(info, guest_pages, BUILD_GUEST_IMAGE, &o->migrate);
	bool ok = pages(w, kstart, p->all, p->k.image + kstart,
			((p->k.end + IGVM_PAGE - 1U) & ~(uint64_t)(IGVM_PAGE - 1U)) - kstart) &&
		  page(w, BUILD_LAUNCH_INFO, p->all, IGVM_PAGE_DATA_NORMAL, info, IGVM_PAGE);

	if (ok && p->snp != 0U) {
		ok = page(w, BUILD_CPUID, p->snp, IGVM_PAGE_DATA_CPUID_DATA, zeros, IGVM_PAGE) &&
		     page(w, BUILD_SECRETS, p->snp, IGVM_PAGE_DATA_SECRETS, zeros, IGVM_PAGE);
	}
	return ok &&
	       page(w, BUILD_GUEST_SECRETS, p->all, IGVM_PAGE_DATA_NORMAL, zeros, IGVM_PAGE) &&
	       page(w, BUILD_GUEST_CAA, p->all, IGVM_PAGE_DATA_NORMAL, zeros, IGVM_PAGE) &&
	       pages(w, BUILD_GUEST_IMAGE, p->all, p->guest, p->guest_len);
}

static bool contexts(struct igvm_writer *w, const struct build_opts *o, const struct parts *p,
		     const uint8_t *id_block)
{
	uint8_t ctx[IGVM_PAGE];
	bool ok = true;

	if (id_block != NULL) {
		ok = igvm_writer_add(w, IGVM_VHT_SNP_ID_BLOCK, id_block, IGVM_ID_BLOCK_SIZE);
	}
	if (ok && o->snp) {
		struct igvm_vp_context v = { .gpa = SNP_VMSA_MEASURE_GPA,
					     .compatibility_mask = BUILD_MASK_SNP };

		svsm_vmsa(ctx, p->k.entry, o->sev_features);
		ok = igvm_writer_add(w, IGVM_VHT_VP_CONTEXT, &v, sizeof(v)) &&
		     igvm_writer_add_data(w, 12, ctx, IGVM_PAGE, IGVM_PAGE);
	}
	if (ok && o->native) {
		struct igvm_vp_context v = { .compatibility_mask = BUILD_MASK_NATIVE };

		native_context(ctx, p->k.entry);
		ok = igvm_writer_add(w, IGVM_VHT_VP_CONTEXT, &v, sizeof(v)) &&
		     igvm_writer_add_data(w, 12, ctx, IGVM_PAGE, IGVM_PAGE);
	}
	return ok;
}

static bool emit(const struct build_opts *o, const struct parts *p, const uint8_t *id_block,
		 uint8_t **out, size_t *out_len)
{
	struct igvm_writer *w = igvm_writer_new();
	bool ok = w != NULL && headers(w, o, p) && body(w, o, p) && contexts(w, o, p, id_block) &&
		  igvm_writer_finish(w, o->native ? 2U : 1U, out, out_len);

	igvm_writer_free(w);
	return ok;
}

/* The ID block signs the digest of the file without it (the block is not measured). */
static bool sign_file(const struct build_opts *o, const uint8_t *file, size_t len,
		      uint8_t rec[IGVM_ID_BLOCK_SIZE], char *why, size_t why_len)
{
	struct igvm_file f;
	struct igvm_error err;
	struct igvm_launch launch;
	struct igvm_host host = { .vcpus = o->id_vcpus,
				  .mem_size = 1ULL << 30,
				  .vcpu_sig = o->vcpu_sig };
	uint8_t ld[SNP_DIGEST_SIZE];
	struct id_block_input in = o->id;

	if (!igvm_parse(file, len, &f, &err)) {
		return say(why, why_len, "internal: the built file does not parse: %s",
			   err.message);
	}
	bool ok = igvm_measure(&f, &host, NULL, ld, &launch, &err);

	igvm_free(&f);
	if (!ok) {
		return say(why, why_len, "measuring for the ID block: %s", err.message);
	}
	in.mask = BUILD_MASK_SNP;
	return igvm_id_block_sign(ld, o->policy, &in, o->id_key, o->author_key, rec, why, why_len);
}

bool igvm_build(const struct build_opts *o, uint8_t **out, size_t *out_len, char *why,
		size_t why_len)
{
	struct parts p = { .snp = o->snp ? BUILD_MASK_SNP : 0U,
			   .native = o->native ? BUILD_MASK_NATIVE : 0U };
	bool ok = false;

	p.all = p.snp | p.native;
	if (p.all == 0U) {
		return say(why, why_len, "%s", "no platform chosen");
	}
	if (o->snp && (o->sev_features & SEV_FEATURE_SNP_ACTIVE) == 0U) {
		return say(why, why_len, "%s", "SEV features must include SNPActive (bit 0)");
	}
	if (!load_kernel(o->kernel, &p.k, why, why_len)) {
		return false;
	}
	p.guest = igvm_read_file(o->guest, &p.guest_len);
	if (p.guest == NULL || p.guest_len == 0U ||
	    BUILD_GUEST_IMAGE + p.guest_len > (1ULL << 40)) {
		(void)say(why, why_len, "cannot read guest image %s (or it is empty)", o->guest);
	} else if (!emit(o, &p, NULL, out, out_len)) {
		(void)say(why, why_len, "%s", "out of memory");
	} else if (o->id_key == NULL) {
		ok = true;
	} else {
		uint8_t rec[IGVM_ID_BLOCK_SIZE];

		ok = sign_file(o, *out, *out_len, rec, why, why_len);
		free(*out);
		*out = NULL;
		ok = ok && emit(o, &p, rec, out, out_len);
	}
	free(p.k.image);
	free(p.guest);
	return ok;
}
