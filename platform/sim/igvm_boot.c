/* Launching a simulated machine from an IGVM file, the way QEMU and KVM launch an SNP
 * guest (lib/igvm/igvm_launch.c replays their order): each page is written, validated
 * for VMPL0 and measured by the PSP as it is added; the PSP fills the secrets page; the
 * VMSAs are measured last; an ID block is checked as LAUNCH_FINISH checks it. Then the
 * machine does what Donjon's kernel does first: it finds the launch info through the BSP's
 * RBX, reads the parameters the host wrote, validates the rest of its range, and starts
 * the core with the guest's first vCPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <donjon/launch.h>
#include <donjon/svsm_abi.h>

#include "igvm_launch.h"
#include "igvm_measure.h"
#include "machine.h"

struct loader {
	struct sim_machine *m;
	uint8_t bsp_vmsa[PAGE_SIZE];
};

static bool load_page(void *ctx, const struct igvm_launch_page *p, struct igvm_error *err)
{
	struct loader *l = ctx;
	struct sim_machine *m = l->m;

	err->offset = p->record;
	if (p->event == IGVM_EV_REQUIRED) {
		(void)snprintf(err->message, sizeof(err->message),
			       "required memory [0x%llx, +0x%llx) lies outside the machine",
			       (unsigned long long)p->gpa, (unsigned long long)p->size);
		/* An empty requirement asks for nothing the machine could lack. */
		return p->size == 0U || range_within(p->gpa, p->size, m->mem_size);
	}
	if (p->type == SNP_PAGE_VMSA) {
		/* KVM's VMSA pages are not guest RAM; the PSP measures them at 0xfffffffff000. */
		psp_launch_update(&m->psp, SNP_PAGE_VMSA, p->gpa, p->data);
		if (p->vp == 0U) {
			memcpy(l->bsp_vmsa, p->data, PAGE_SIZE);
		}
		return true;
	}
	if (!range_within(p->gpa, PAGE_SIZE, m->mem_size)) {
		(void)snprintf(err->message, sizeof(err->message),
			       "page 0x%llx lies outside the machine's memory",
			       (unsigned long long)p->gpa);
		return false;
	}
	struct rmp_entry *e = &m->rmp[p->gpa >> PAGE_SHIFT];
	uint8_t *page = m->mem + p->gpa;

	/* LAUNCH_UPDATE fails on a page that is already the guest's validated page. */
	if (e->validated) {
		(void)snprintf(err->message, sizeof(err->message),
			       "page 0x%llx launched twice (the PSP refuses it)",
			       (unsigned long long)p->gpa);
		return false;
	}
	if (p->type == SNP_PAGE_SECRETS) {
		psp_fill_secrets(&m->psp, page);
	} else if (p->data != NULL) {
		memcpy(page, p->data, PAGE_SIZE);
	} else {
		memset(page, 0, PAGE_SIZE);
	}
	psp_launch_update(&m->psp, p->type, p->gpa, page);
	e->validated = true;
	return true;
}

static bool fail(char *err, size_t errlen, const char *msg)
{
	(void)snprintf(err, errlen, "%s", msg);
	return false;
}

/* LAUNCH_FINISH with an ID block: it must sign this launch; the report carries it. */
static bool finish_id_block(struct psp *psp, const struct igvm_launch *launch, char *err,
			    size_t errlen)
{
	uint8_t key[SNP_ID_AUTH_KEY_SIZE];
	char why[160];
	const uint8_t *rec = launch->id_block;

	if (rec == NULL) {
		return true;
	}
	if (!igvm_id_block_check(rec, psp->launch_digest, launch->policy, why, sizeof(why))) {
		(void)snprintf(err, errlen, "LAUNCH_FINISH refused the ID block: %s", why);
		return false;
	}
	memcpy(psp->family_id, rec + 56, sizeof(psp->family_id));
	memcpy(psp->image_id, rec + 72, sizeof(psp->image_id));
	struct crypto_span k = { key, sizeof(key) };

	igvm_id_block_key(rec, false, key);
	bool ok = crypto_sha384(&k, 1, psp->id_key_digest);

	psp->author_key_en = rec[4] != 0U;
	if (ok && psp->author_key_en) {
		igvm_id_block_key(rec, true, key);
		ok = crypto_sha384(&k, 1, psp->author_key_digest);
	}
	return ok || fail(err, errlen, "SHA-384 failed");
}

/* A launch page the host loaded and validated, as the SVSM finds it. */
static const uint8_t *launched(const struct sim_machine *m, uint64_t gpa, uint64_t len)
{
	if ((gpa & (PAGE_SIZE - 1U)) != 0U || !range_within(gpa, len, m->mem_size)) {
		return NULL;
	}
	for (uint64_t p = gpa; p < gpa + len; p += PAGE_SIZE) {
		if (!m->rmp[p >> PAGE_SHIFT].validated) {
			return NULL;
		}
	}
	return m->mem + gpa;
}

/* The end of RAM in the host's memory map (sorted entries, unused ones zero). */
static uint64_t memory_map_end(const uint8_t *map, uint64_t size)
{
	uint64_t end = 0;

	for (uint64_t off = 0; off + sizeof(struct launch_memory_map_entry) <= size;
	     off += sizeof(struct launch_memory_map_entry)) {
		struct launch_memory_map_entry e;

		memcpy(&e, map + off, sizeof(e));
		if (e.number_of_pages == 0U) {
			break;
		}
		if (e.starting_gpa_page_number > UINT64_MAX / PAGE_SIZE - e.number_of_pages) {
			return 0; /* no machine has it: the caller refuses the map */
		}
		if (e.entry_type == 0U &&
		    (e.starting_gpa_page_number + e.number_of_pages) * PAGE_SIZE > end) {
			end = (e.starting_gpa_page_number + e.number_of_pages) * PAGE_SIZE;
		}
	}
	return end;
}

/* Donjon's first steps, from the launch info. */
static bool svsm_start(struct sim_machine *m, const uint8_t *bsp_vmsa, uint64_t sev_features,
		       char *err, size_t errlen)
{
	struct launch_info li;
	const uint8_t *p = launched(m, load64(bsp_vmsa, VMSA_RBX_OFF), sizeof(li));

	if (p == NULL) {
		return fail(err, errlen, "the BSP's RBX does not point at a launched page");
	}
	memcpy(&li, p, sizeof(li));
	const uint8_t *params = launched(m, li.params, PAGE_SIZE);
	const uint8_t *map = launched(m, li.memory_map, li.memory_map_size);

	if (li.magic != LAUNCH_INFO_MAGIC) {
		return fail(err, errlen, "the launch info's magic is not Donjon's");
	}
	if (li.version != LAUNCH_INFO_VERSION) {
		return fail(err, errlen, "the launch info's version is not 1");
	}
	if (params == NULL) {
		return fail(err, errlen, "the launch info's parameter page was not launched");
	}
	if (map == NULL) {
		return fail(err, errlen, "the launch info's memory map was not launched");
	}
	if (!range_within(li.svsm_base, li.svsm_size, m->mem_size)) {
		return fail(err, errlen, "the launch info's SVSM range lies outside the machine");
	}
	if (li.svsm_size < PAGE_SIZE) {
		return fail(err, errlen, "the launch info's SVSM range is smaller than a page");
	}
	uint32_t vcpus = load32(params, LAUNCH_PARAM_VCPUS_OFF);
	uint64_t mem_size = memory_map_end(map, li.memory_map_size);

	if (vcpus != m->vcpu_count) {
		return fail(err, errlen, "the host's vCPU count parameter is not the machine's");
	}
	if (mem_size != m->mem_size) {
		return fail(err, errlen,
			    "the host's memory map does not end at the machine's size");
	}
	/* The guest's first VMSA: the top page of Donjon's range, not a launched page. */
	uint64_t vmsa = li.svsm_base + li.svsm_size - PAGE_SIZE;

	if (m->rmp[vmsa >> PAGE_SHIFT].validated) {
		return fail(err, errlen, "the top page of the SVSM range was launched");
	}
	/* PVALIDATE the rest of the range. */
	for (uint64_t g = li.svsm_base; g < li.svsm_base + li.svsm_size; g += PAGE_SIZE) {
		if (!m->rmp[g >> PAGE_SHIFT].validated &&
		    sim_pvalidate(m, 0, gpa_init(g), PAGE_4K, true) != RMP_SUCCESS) {
			return fail(err, errlen, "PVALIDATE of the SVSM range failed");
		}
	}
	uint8_t *v = m->mem + vmsa;

	memset(v, 0, PAGE_SIZE);
	v[VMSA_VMPL_OFF] = (uint8_t)li.guest_vmpl;
	store64(v, VMSA_EFER_OFF, EFER_SVME);
	store64(v, VMSA_RIP_OFF, li.guest_entry);
	store64(v, VMSA_SEV_FEATURES_OFF, sev_features);
	m->rmp[vmsa >> PAGE_SHIFT].vmsa = true;

	struct svsm_boot b = {
		.mem_size = mem_size,
		.svsm_base = gpa_init(li.svsm_base),
		.svsm_size = li.svsm_size,
		.secrets = gpa_init(li.secrets),
		.guest_secrets = gpa_init(li.guest_secrets),
		.guest_vmpl = li.guest_vmpl,
		.vcpu_count = vcpus,
		.startup_vcpu_count = 1,
		.vcpus = { { .vmsa = gpa_init(vmsa), .caa = gpa_init(li.guest_caa) } },
		.guest_ranges = { { gpa_init(li.guest_params), PAGE_SIZE },
				  { gpa_init(li.guest_image), li.guest_image_size } },
		.guest_range_count = 2,
		.state = m->svsm_state,
		.state_size = svsm_state_size(m->mem_size),
	};

	m->svsm_base = li.svsm_base;
	m->svsm_size = li.svsm_size;
	m->vcpus[0] = (struct sim_vcpu){ .vmsa = b.vcpus[0].vmsa,
					 .caa = b.vcpus[0].caa,
					 .runnable = true };
	sim_boot_migrate_key(&b);
	b.migrate_policy = li.migrate;
	return svsm_init(&b) || fail(err, errlen, "Donjon's core refused the launch layout");
}

bool sim_igvm_launch(struct sim_machine *m, char *err, size_t errlen)
{
	struct igvm_file f;
	struct igvm_error ierr;
	struct igvm_launch launch;
	struct igvm_host host = { .vcpus = m->vcpu_count,
				  .mem_size = m->mem_size,
				  .vcpu_sig = IGVM_VCPU_SIG_EPYC_V4 };
	struct loader *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		return fail(err, errlen, "out of memory");
	}
	l->m = m;
	if (!igvm_parse(m->igvm, m->igvm_len, &f, &ierr)) {
		(void)snprintf(err, errlen, "IGVM file: at offset 0x%x: %s", ierr.offset,
			       ierr.message);
		free(l);
		return false;
	}
	bool ok = igvm_snp_launch(&f, &host, load_page, l, &launch, &ierr);

	igvm_free(&f);
	if (!ok) {
		(void)snprintf(err, errlen, "IGVM launch: at offset 0x%x: %s", ierr.offset,
			       ierr.message);
	} else {
		m->psp.policy = launch.policy;
		ok = finish_id_block(&m->psp, &launch, err, errlen) &&
		     svsm_start(m, l->bsp_vmsa, launch.sev_features, err, errlen);
	}
	free(l);
	return ok;
}
