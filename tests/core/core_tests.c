/* The core's portable tests: every core call and its rejections, through the guest's
 * handshake, with the RMP state checked after each. Written only against machine.h, so
 * they run on the simulator and inside the kernel alike. */
#include <donjon/crypto.h>
#include <donjon/snp.h>
#include <donjon/svsm.h>
#include <donjon/svsm_abi.h>
#include <donjon/types.h>
#include <donjon/vmsa.h>

#include "harness.h"
#include "test_machine.h"

#define CORE_CALL(id) ((uint64_t)(id))
#define SVSM_ATTEST_CALL(id) (((uint64_t)SVSM_PROTOCOL_ATTEST << 32) | (id))

static uint64_t read64(uint64_t gpa)
{
	uint64_t v = 0;

	CT_TRUE(tm_read(gpa, &v, sizeof(v)));
	return v;
}

static void write64(uint64_t gpa, uint64_t v)
{
	CT_TRUE(tm_write(gpa, &v, sizeof(v)));
}

/* A one-entry list at CAA+8, then PVALIDATE. */
static uint64_t pvalidate(uint64_t entry)
{
	uint64_t list[2] = { 1, entry };

	CT_TRUE(tm_write(tm_caa() + 8, list, sizeof(list)));
	return tm_call(CORE_CALL(SVSM_CORE_PVALIDATE), tm_caa() + 8, 0, 0, NULL);
}

static uint16_t list_next(void)
{
	return (uint16_t)(read64(tm_caa() + 8) >> 16);
}

static bool boot(void)
{
	bool ok = tm_boot();

	CT_TRUE(ok);
	return ok;
}

static void validate_zeroes_and_grants(void)
{
	uint64_t page = tm_scratch();

	if (!boot()) {
		return;
	}
	CT_TRUE(!tm_rmp(page).validated);
	CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE), SVSM_SUCCESS);
	CT_EQ(list_next(), 1);
	struct tm_rmp r = tm_rmp(page);

	CT_TRUE(r.validated && !r.vmsa);
	CT_EQ(r.perms[1], 0xF);
	CT_EQ(r.perms[2], 0xF);
	CT_EQ(r.perms[3], 0);
	CT_EQ(read64(page), 0);
	CT_EQ(read64(page + 4088), 0);
}

static void double_validation_and_rescind(void)
{
	uint64_t page = tm_scratch();

	if (!boot()) {
		return;
	}
	CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE), SVSM_SUCCESS);
	write64(page, 0x1234);
	CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE), SVSM_ERR_PVALIDATE_NO_CHANGE);
	CT_EQ(read64(page), 0x1234);
	CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE | PVAL_ENTRY_IGNORE_CF), SVSM_SUCCESS);
	CT_EQ(pvalidate(page), SVSM_SUCCESS);
	struct tm_rmp r = tm_rmp(page);

	CT_TRUE(!r.validated);
	CT_EQ(r.perms[1] | r.perms[2] | r.perms[3], 0);
	uint64_t v = 0;

	CT_TRUE(!tm_read(page, &v, sizeof(v)));
	CT_EQ(pvalidate(page), SVSM_ERR_PVALIDATE_NO_CHANGE);
}

static void size_mismatch_and_partial_progress(void)
{
	uint64_t base = tm_scratch();
	uint64_t list[4] = { 3, base | PVAL_ENTRY_VALIDATE,
			     (base + 0x200000) | 1U | PVAL_ENTRY_VALIDATE,
			     (base + PAGE_SIZE) | PVAL_ENTRY_VALIDATE };

	if (!boot()) {
		return;
	}
	/* The scratch range has 4K RMP entries: a 2M entry is a size mismatch. */
	CT_TRUE(tm_write(tm_caa() + 8, list, sizeof(list)));
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_PVALIDATE), tm_caa() + 8, 0, 0, NULL),
	      SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH);
	CT_EQ(list_next(), 1);
	CT_TRUE(tm_rmp(base).validated);
	CT_TRUE(!tm_rmp(base + PAGE_SIZE).validated);
	/* The guest skips the entry and calls again. */
	write64(tm_caa() + 8, 3 | 2 << 16);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_PVALIDATE), tm_caa() + 8, 0, 0, NULL), SVSM_SUCCESS);
	CT_EQ(list_next(), 3);
	CT_TRUE(tm_rmp(base + PAGE_SIZE).validated);
}

static void malformed_lists_change_nothing(void)
{
	uint64_t page = tm_scratch();

	if (!boot()) {
		return;
	}
	uint64_t caa = tm_caa();

	CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE | 0x10U), SVSM_ERR_INVALID_PARAMETER);
	CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE | 2U), SVSM_ERR_INVALID_PARAMETER);
	CT_EQ(pvalidate((page + PAGE_SIZE) | PVAL_ENTRY_VALIDATE | 1U), SVSM_ERR_INVALID_PARAMETER);
	CT_EQ(list_next(), 0);
	write64(caa + 8, 0);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_PVALIDATE), caa + 8, 0, 0, NULL),
	      SVSM_ERR_INVALID_PARAMETER);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_PVALIDATE), caa + 12, 0, 0, NULL),
	      SVSM_ERR_INVALID_PARAMETER);
	write64(caa + 0xFF0, 2);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_PVALIDATE), caa + 0xFF0, 0, 0, NULL),
	      SVSM_ERR_INVALID_PARAMETER);
	CT_TRUE(!tm_rmp(page).validated);
}

static void svsm_memory_is_refused(void)
{
	uint64_t svsm = tm_svsm_page();

	if (!boot()) {
		return;
	}
	CT_EQ(pvalidate(svsm), SVSM_ERR_INVALID_ADDRESS);
	CT_EQ(pvalidate(tm_startup_vmsa()), SVSM_ERR_INVALID_ADDRESS);
	CT_EQ(pvalidate(tm_caa()), SVSM_ERR_INVALID_ADDRESS);
	CT_TRUE(tm_rmp(svsm).validated);
	CT_EQ(tm_rmp(svsm).perms[2], 0);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_PVALIDATE), svsm, 0, 0, NULL), SVSM_ERR_INVALID_ADDRESS);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_REMAP_CA), svsm, 0, 0, NULL), SVSM_ERR_INVALID_ADDRESS);
	uint64_t v = 0;

	CT_TRUE(!tm_read(svsm, &v, sizeof(v)));
}

static void remap_calling_area(void)
{
	uint64_t page = tm_scratch() + 4 * PAGE_SIZE;

	if (!boot()) {
		return;
	}
	uint64_t old = tm_caa();

	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_REMAP_CA), page + 8, 0, 0, NULL),
	      SVSM_ERR_INVALID_PARAMETER);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_REMAP_CA), page, 0, 0, NULL), SVSM_ERR_INVALID_ADDRESS);
	CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE), SVSM_SUCCESS);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_REMAP_CA), page, 0, 0, NULL), SVSM_SUCCESS);
	CT_EQ(tm_caa(), page);
	uint64_t out[4];

	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_QUERY_PROTOCOL), 1, 0, 0, out), SVSM_SUCCESS);
	CT_EQ(out[0], 0x100000001ULL);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_REMAP_CA), old, 0, 0, NULL), SVSM_SUCCESS);
	CT_EQ(tm_caa(), old);
}

static void create_and_delete_vcpu(void)
{
	uint64_t vmsa = tm_scratch() + 8 * PAGE_SIZE;
	uint64_t efer = EFER_SVME;
	uint64_t features = SEV_FEATURE_SNP_ACTIVE;
	uint8_t vmpl = 2;

	if (!boot()) {
		return;
	}
	CT_EQ(pvalidate(vmsa | PVAL_ENTRY_VALIDATE), SVSM_SUCCESS);
	CT_TRUE(tm_write(vmsa + VMSA_VMPL_OFF, &vmpl, 1));
	CT_TRUE(tm_write(vmsa + VMSA_EFER_OFF, &efer, 8));
	CT_TRUE(tm_write(vmsa + VMSA_SEV_FEATURES_OFF, &features, 8));
	/* A replacement VMSA for APIC ID 0 with the same calling area, as Linux does. */
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_CREATE_VCPU), vmsa + 8, tm_caa(), 0, NULL),
	      SVSM_ERR_INVALID_PARAMETER);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_CREATE_VCPU), vmsa, vmsa, 0, NULL),
	      SVSM_ERR_INVALID_ADDRESS);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_CREATE_VCPU), vmsa, tm_caa(), 0, NULL), SVSM_SUCCESS);
	struct tm_rmp r = tm_rmp(vmsa);

	CT_TRUE(r.vmsa);
	CT_EQ(r.perms[2], 0x1U); /* read only */
	CT_EQ(pvalidate(vmsa), SVSM_ERR_INVALID_ADDRESS);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_DELETE_VCPU), tm_startup_vmsa(), 0, 0, NULL),
	      SVSM_ERR_INVALID_PARAMETER);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_DELETE_VCPU), vmsa, 0, 0, NULL), SVSM_SUCCESS);
	r = tm_rmp(vmsa);
	CT_TRUE(!r.vmsa && r.validated);
	CT_EQ(r.perms[2], 0xF);
	CT_EQ(read64(vmsa + VMSA_EFER_OFF) & EFER_SVME, 0);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_DELETE_VCPU), vmsa, 0, 0, NULL),
	      SVSM_ERR_INVALID_PARAMETER);
}

static void deposit_and_withdraw(void)
{
	uint64_t base = tm_scratch() + 16 * PAGE_SIZE;
	uint64_t list[3] = { 2, base + PAGE_SIZE, base + 2 * PAGE_SIZE };
	uint64_t out = base + 0xFE8;

	if (!boot()) {
		return;
	}
	for (unsigned i = 0; i < 3; i++) {
		CT_EQ(pvalidate((base + i * PAGE_SIZE) | PVAL_ENTRY_VALIDATE), SVSM_SUCCESS);
	}
	CT_TRUE(tm_write(base, list, sizeof(list)));
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_DEPOSIT_MEM), base, 0, 0, NULL), SVSM_SUCCESS);
	CT_EQ(tm_rmp(base + PAGE_SIZE).perms[2], 0);
	/* The list's own page cannot be deposited. */
	list[0] = 1;
	list[1] = base;
	CT_TRUE(tm_write(base, list, 16));
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_DEPOSIT_MEM), base, 0, 0, NULL),
	      SVSM_ERR_INVALID_ADDRESS);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_WITHDRAW_MEM), out, 0, 0, NULL), SVSM_SUCCESS);
	CT_EQ(read64(out) & 0xFFFF, 2);
	/* The lowest page first. */
	CT_EQ(read64(out + 8), base + PAGE_SIZE);
	CT_EQ(read64(out + 16), base + 2 * PAGE_SIZE);
	CT_EQ(tm_rmp(base + PAGE_SIZE).perms[2], 0xF);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_WITHDRAW_MEM), base + 0xFF8, 0, 0, NULL),
	      SVSM_ERR_INVALID_PARAMETER);
}

static void query_vtom_and_unknown_calls(void)
{
	uint64_t out[4];

	if (!boot()) {
		return;
	}
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_QUERY_PROTOCOL), 1, 0, 0, out), SVSM_SUCCESS);
	CT_EQ(out[0], 0x100000001ULL);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_QUERY_PROTOCOL), 0x100000001ULL, 0, 0, out),
	      SVSM_SUCCESS);
	CT_EQ(out[0], 0x100000001ULL);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_QUERY_PROTOCOL), 0x200000001ULL, 0, 0, out),
	      SVSM_SUCCESS);
	CT_EQ(out[0], 0);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_CONFIGURE_VTOM), 1, 5, 6, out), SVSM_SUCCESS);
	CT_EQ(out[0], 0);
	CT_EQ(out[1], 5);
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_CONFIGURE_VTOM), 0x100002, 0, 0, NULL),
	      SVSM_ERR_INVALID_REQUEST);
	CT_EQ(tm_call(CORE_CALL(8), 0, 0, 0, NULL), SVSM_ERR_UNSUPPORTED_CALL);
	CT_EQ(tm_call((uint64_t)SVSM_PROTOCOL_VTPM << 32, 0, 0, 0, NULL),
	      SVSM_ERR_UNSUPPORTED_PROTOCOL);
	CT_EQ(tm_call(((uint64_t)SVSM_PROTOCOL_ATTEST << 32) | 2U, 0, 0, 0, NULL),
	      SVSM_ERR_UNSUPPORTED_CALL);
}

/* Each VMPL has its own rights: a page validated for the VMPL2 guest is VMPL2's (and
 * VMPL1's), never VMPL3's; a VMPL3 vCPU can be created; its VMSA is nobody's page while it
 * is one, and comes back to VMPL2 alone. */
static void each_vmpl_has_its_own_rights(void)
{
	uint64_t page = tm_scratch() + 24 * PAGE_SIZE;
	uint64_t vmsa = page + PAGE_SIZE;
	uint64_t efer = EFER_SVME, features = SEV_FEATURE_SNP_ACTIVE;
	uint8_t vmpl = 3;

	if (!boot()) {
		return;
	}
	CT_TRUE(!tm_may_access(2, page, false) && !tm_may_access(3, page, false));
	CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE), SVSM_SUCCESS);
	CT_EQ(pvalidate(vmsa | PVAL_ENTRY_VALIDATE), SVSM_SUCCESS);
	CT_TRUE(tm_may_access(2, page, false) && tm_may_access(2, page, true));
	CT_TRUE(!tm_may_access(3, page, false) && !tm_may_access(3, page, true));
	CT_TRUE(tm_write(vmsa + VMSA_VMPL_OFF, &vmpl, 1));
	CT_TRUE(tm_write(vmsa + VMSA_EFER_OFF, &efer, 8));
	CT_TRUE(tm_write(vmsa + VMSA_SEV_FEATURES_OFF, &features, 8));
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_CREATE_VCPU), vmsa, page, 0, NULL), SVSM_SUCCESS);
	/* The VMSA is VMPL3's: VMPL3 may read it, not write it; VMPL2 has nothing. */
	CT_TRUE(!tm_may_access(2, vmsa, false) && tm_may_access(3, vmsa, false) &&
		!tm_may_access(3, vmsa, true));
	/* Its calling area stays the guest's to write, at VMPL2 only. */
	CT_TRUE(tm_may_access(2, page, true) && !tm_may_access(3, page, false));
	CT_EQ(tm_call(CORE_CALL(SVSM_CORE_DELETE_VCPU), vmsa, 0, 0, NULL), SVSM_SUCCESS);
	CT_TRUE(tm_may_access(2, vmsa, true) && !tm_may_access(3, vmsa, false));
}

/* A report from the machine's PSP: VMPL 0, REPORT_DATA as given, signed by the chip key
 * (R and S little-endian, 72 bytes each, over SHA-384 of the first 0x2A0 bytes); with a
 * bit of REPORT_DATA changed the signature no longer verifies. */
static void expect_chip_report(uint8_t *report, const uint8_t report_data[64])
{
	uint8_t digest[CRYPTO_SHA384_SIZE], sig[CRYPTO_P384_SIG_SIZE];
	uint32_t vmpl = ~0U;
	struct crypto_span signed_part = { report, SNP_REPORT_SIGNED_SIZE };

	__builtin_memcpy(&vmpl, &report[SNP_REPORT_VMPL_OFF], sizeof(vmpl));
	CT_EQ(vmpl, 0);
	CT_EQ(__builtin_memcmp(&report[SNP_REPORT_DATA_OFF], report_data, 64), 0);
	for (unsigned i = 0; i < CRYPTO_P384_SCALAR_SIZE; i++) {
		sig[i] = report[SNP_REPORT_SIG_R_OFF + CRYPTO_P384_SCALAR_SIZE - 1U - i];
		sig[CRYPTO_P384_SCALAR_SIZE + i] =
			report[SNP_REPORT_SIG_S_OFF + CRYPTO_P384_SCALAR_SIZE - 1U - i];
	}
	CT_TRUE(crypto_sha384(&signed_part, 1, digest));
	CT_TRUE(crypto_ecdsa_p384_verify(tm_chip_key(), digest, sig));
	report[SNP_REPORT_DATA_OFF] ^= 1U;
	CT_TRUE(crypto_sha384(&signed_part, 1, digest));
	CT_TRUE(!crypto_ecdsa_p384_verify(tm_chip_key(), digest, sig));
}

/* Donjon's own report through an SNP guest message to the machine's PSP, with the
 * caller's data as REPORT_DATA. */
static void own_report_is_signed_by_the_chip(void)
{
	static uint8_t report[SNP_REPORT_SIZE];
	uint8_t nonce[64];
	uint32_t status = ~0U;

	if (!boot()) {
		return;
	}
	for (unsigned i = 0; i < sizeof(nonce); i++) {
		nonce[i] = (uint8_t)(0xC0U + i);
	}
	CT_EQ(svsm_attest_report(nonce, report, &status), SVSM_REPORT_OK);
	CT_EQ(status, 0);
	expect_chip_report(report, nonce);
}

/* SVSM_ATTEST_SERVICES as Linux makes it: the operation structure at CAA+8, 4K report and
 * manifest buffers and 16K for certificates, RDX = R8 = -1. The answer: the sizes, the
 * services manifest (the bare header: the test machines run no vTPM) and a VMPL0 report with
 * REPORT_DATA = SHA-512(nonce || manifest). A report buffer in Donjon's memory is refused
 * first, and nothing is written. */
static void attest_services_as_linux_calls_it(void)
{
	static const uint8_t want_manifest[24] = {
		SVSM_MANIFEST_GUID_BYTES, 24, 0, 0, 0, 0, 0, 0, 0
	};
	static uint8_t report[SNP_REPORT_SIZE];
	uint64_t buf = tm_scratch() + 32 * PAGE_SIZE;
	uint64_t nonce_gpa = buf + 6 * PAGE_SIZE;
	uint8_t nonce[64], manifest[24], report_data[CRYPTO_SHA512_SIZE];
	struct svsm_attest_services_op op = {
		.report_gpa = tm_svsm_page(),
		.report_size = 0x1000,
		.nonce_gpa = nonce_gpa,
		.nonce_size = sizeof(nonce),
		.manifest_gpa = buf + PAGE_SIZE,
		.manifest_size = 0x1000,
		.cert_gpa = buf + 2 * PAGE_SIZE,
		.cert_size = 0x4000,
	};
	uint64_t out[4] = { 0 };

	if (!boot()) {
		return;
	}
	for (uint64_t page = buf; page <= nonce_gpa; page += PAGE_SIZE) {
		CT_EQ(pvalidate(page | PVAL_ENTRY_VALIDATE), SVSM_SUCCESS);
	}
	for (unsigned i = 0; i < sizeof(nonce); i++) {
		nonce[i] = (uint8_t)(0x5AU ^ i);
	}
	CT_TRUE(tm_write(nonce_gpa, nonce, sizeof(nonce)));
	CT_TRUE(tm_write(tm_caa() + 8, &op, sizeof(op)));
	CT_EQ(tm_call(SVSM_ATTEST_CALL(SVSM_ATTEST_SERVICES), tm_caa() + 8, ~0ULL, ~0ULL, out),
	      SVSM_ERR_INVALID_ADDRESS);
	CT_EQ(out[0], tm_caa() + 8);
	CT_EQ(read64(buf + PAGE_SIZE), 0);

	op.report_gpa = buf;
	CT_TRUE(tm_write(tm_caa() + 8, &op, sizeof(op)));
	CT_EQ(tm_call(SVSM_ATTEST_CALL(SVSM_ATTEST_SERVICES), tm_caa() + 8, ~0ULL, ~0ULL, out),
	      SVSM_SUCCESS);
	CT_EQ(out[0], sizeof(want_manifest));
	CT_EQ(out[1], 0);
	CT_EQ(out[2], SNP_REPORT_SIZE);
	CT_TRUE(tm_read(buf + PAGE_SIZE, manifest, sizeof(manifest)));
	CT_EQ(__builtin_memcmp(manifest, want_manifest, sizeof(manifest)), 0);
	CT_EQ(read64(buf + 2 * PAGE_SIZE), 0);
	const struct crypto_span hashed[] = { { nonce, sizeof(nonce) },
					      { want_manifest, sizeof(want_manifest) } };

	CT_TRUE(crypto_sha512(hashed, 2, report_data));
	CT_TRUE(tm_read(buf, report, sizeof(report)));
	expect_chip_report(report, report_data);
}

const struct core_test core_tests[] = {
	{ "validate_zeroes_and_grants", validate_zeroes_and_grants },
	{ "double_validation_and_rescind", double_validation_and_rescind },
	{ "size_mismatch_and_partial_progress", size_mismatch_and_partial_progress },
	{ "malformed_lists_change_nothing", malformed_lists_change_nothing },
	{ "svsm_memory_is_refused", svsm_memory_is_refused },
	{ "remap_calling_area", remap_calling_area },
	{ "create_and_delete_vcpu", create_and_delete_vcpu },
	{ "deposit_and_withdraw", deposit_and_withdraw },
	{ "query_vtom_and_unknown_calls", query_vtom_and_unknown_calls },
	{ "each_vmpl_has_its_own_rights", each_vmpl_has_its_own_rights },
	{ "own_report_is_signed_by_the_chip", own_report_is_signed_by_the_chip },
	{ "attest_services_as_linux_calls_it", attest_services_as_linux_calls_it },
};
const unsigned core_test_count = sizeof(core_tests) / sizeof(core_tests[0]);
