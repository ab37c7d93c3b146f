/* Test helpers: a guest's view of the simulated machine. */
#include "helpers.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "mm/pagestate.h"

struct sim_machine *t_machine(uint64_t mem, unsigned vcpus)
{
	char err[128];
	struct sim_machine *m = sim_create(mem, vcpus, err, sizeof(err));

	EXPECT_TRUE(m != NULL);
	return m;
}

uint64_t t_call(struct sim_machine *m, unsigned vcpu, uint64_t rax, uint64_t rcx, uint64_t rdx,
		uint64_t r8, struct svsm_regs *out)
{
	struct svsm_regs regs = { .rax = rax, .rcx = rcx, .rdx = rdx, .r8 = r8, .r9 = 0 };
	enum sim_call_status status = SIM_CALL_DONE;
	const char *err = sim_vcpu_call(m, vcpu, &regs, &status);

	if (out != NULL) {
		*out = regs;
	}
	return err == NULL && status == SIM_CALL_DONE ? regs.rax : ~0ULL;
}

void t_write(struct sim_machine *m, uint64_t gpa, const void *buf, size_t len)
{
	EXPECT_TRUE(sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(gpa), buf, len) == NULL);
}

void t_write_u64(struct sim_machine *m, uint64_t gpa, uint64_t v)
{
	t_write(m, gpa, &v, sizeof(v));
}

uint64_t t_read_u64(struct sim_machine *m, uint64_t gpa)
{
	uint64_t v = 0;

	EXPECT_TRUE(sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(gpa), &v, sizeof(v)) == NULL);
	return v;
}

uint16_t t_read_u16(struct sim_machine *m, uint64_t gpa)
{
	uint16_t v = 0;

	EXPECT_TRUE(sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(gpa), &v, sizeof(v)) == NULL);
	return v;
}

void t_list(struct sim_machine *m, uint64_t gpa, uint16_t next, const uint64_t *entries, uint16_t n)
{
	struct svsm_list_hdr hdr = { .entries = n, .next = next, .reserved = 0 };

	t_write(m, gpa, &hdr, sizeof(hdr));
	if (n != 0U) {
		t_write(m, gpa + sizeof(hdr), entries, (size_t)n * 8U);
	}
}

uint64_t t_pval(uint64_t gpa, bool size_2m, bool validate, bool ignore_cf)
{
	return gpa | (size_2m ? 1U : 0U) | (validate ? PVAL_ENTRY_VALIDATE : 0U) |
	       (ignore_cf ? PVAL_ENTRY_IGNORE_CF : 0U);
}

void t_validate_4k(struct sim_machine *m, uint64_t gpa, unsigned pages)
{
	uint64_t caa = gpa_val(svsm_vcpu_caa(0));
	uint64_t entries[SVSM_LIST_MAX_ENTRIES];

	for (unsigned i = 0; i < pages; i++) {
		entries[i] = t_pval(gpa + i * PAGE_SIZE, false, true, false);
	}
	t_list(m, caa + 8, 0, entries, (uint16_t)pages);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_PVALIDATE), caa + 8, 0, 0, NULL), SVSM_SUCCESS);
}

struct rmp_entry t_rmp(struct sim_machine *m, uint64_t gpa)
{
	struct rmp_entry e;

	memset(&e, 0, sizeof(e));
	EXPECT_TRUE(sim_rmp_entry(m, gpa_init(gpa), &e));
	return e;
}

bool t_tracking_matches_rmp(struct sim_machine *m)
{
	for (uint64_t pfn = 0; pfn < pagestate_page_count(); pfn++) {
		struct page_info info = pagestate_get(gpa_init(pfn << PAGE_SHIFT));
		const struct rmp_entry *e = &m->rmp[pfn];

		if (info.validated != e->validated ||
		    (info.validated && (info.size == PAGE_2M) != e->size_2m)) {
			return false;
		}
		for (unsigned v = 1; v < VMPL_COUNT; v++) {
			if (info.perms[v] != e->perms[v]) {
				return false;
			}
		}
	}
	return true;
}

void t_build_vmsa(struct sim_machine *m, uint64_t gpa)
{
	uint8_t page[PAGE_SIZE];
	uint64_t efer = EFER_SVME;
	uint64_t features = SIM_SEV_FEATURES;

	memset(page, 0, sizeof(page));
	page[VMSA_VMPL_OFF] = SIM_GUEST_VMPL;
	memcpy(&page[VMSA_EFER_OFF], &efer, sizeof(efer));
	memcpy(&page[VMSA_SEV_FEATURES_OFF], &features, sizeof(features));
	t_write(m, gpa, page, sizeof(page));
}

bool t_report_verifies(const struct sim_machine *m, const uint8_t *report)
{
	FILE *f = tmpfile();
	EVP_PKEY *key = NULL;

	if (f != NULL && sim_export_chip_key(m, f)) {
		rewind(f);
		key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	}
	if (f != NULL) {
		EXPECT_EQ(fclose(f), 0);
	}
	EXPECT_TRUE(key != NULL);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_lebin2bn(report + SNP_REPORT_SIG_R_OFF, SNP_REPORT_SIG_COMPONENT, NULL);
	BIGNUM *s = BN_lebin2bn(report + SNP_REPORT_SIG_S_OFF, SNP_REPORT_SIG_COMPONENT, NULL);
	uint8_t *der = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	ECDSA_SIG_set0(sig, r, s);
	int der_len = i2d_ECDSA_SIG(sig, &der);
	bool ok = key != NULL && der_len > 0 &&
		  EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
		  EVP_DigestVerify(md, der, (size_t)der_len, report, SNP_REPORT_SIGNED_SIZE) == 1;

	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	EVP_PKEY_free(key);
	return ok;
}
