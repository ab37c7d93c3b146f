/* The attestation protocol: SVSM_ATTEST_SERVICES and SVSM_ATTEST_SINGLE_SERVICE as Linux
 * makes them, the report checked with OpenSSL (REPORT_DATA, VMPL, the chip's signature),
 * the manifest's exact bytes, the sizes Linux retries with, and every rejection with the
 * state after it: no guest memory written, no RMP change, no PSP sequence number spent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "attest/attest.h"
#include "helpers.h"

#define MEM (32ULL << 20)
#define CAA SIM_CAA_BASE
#define OTHER_CAA (SIM_CAA_BASE + PAGE_SIZE) /* vCPU 1's */
/* Linux's buffers: report (4K), manifest (4K), certificates (16K); then the nonce's page,
 * two spare pages and a deposited one. */
#define REPORT 0x300000ULL
#define MANIFEST 0x301000ULL
#define CERTS 0x302000ULL
#define NONCE 0x306000ULL
#define SPARE 0x307000ULL
#define DEPOSITED 0x309000ULL
#define BUF_PAGES 10U
#define UNVALIDATED 0x310000ULL
#define BELOW_SVSM (SIM_SVSM_BASE - PAGE_SIZE)
#define PATTERN 0xA5U

#define ATTEST(id) CALL(SVSM_PROTOCOL_ATTEST, id)
#define NOT_SET (~0ULL) /* Linux's RDX and R8 on the way in */

static const uint8_t vtpm_guid[16] = { 0xeb, 0xf1, 0x76, 0xc4, 0x23, 0x01, 0xa5, 0x45,
				       0x96, 0x41, 0xb4, 0xe7, 0xdd, 0xe5, 0xbf, 0xe3 };

/* Donjon's services manifest: the header alone, no service yet. */
static const uint8_t empty_manifest[24] = { 0xbb, 0x9e, 0x84, 0x63, 0x92, 0x3d, 0x70, 0x46,
					    0xa1, 0xff, 0x58, 0xf9, 0xc9, 0x4b, 0x87, 0xbb,
					    0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

static void fill_buffers(struct sim_machine *m)
{
	static uint8_t page[PAGE_SIZE];

	memset(page, PATTERN, sizeof(page));
	for (uint64_t a = REPORT; a < NONCE; a += PAGE_SIZE) {
		t_write(m, a, page, sizeof(page));
	}
}

static void nonce_bytes(uint8_t nonce[64], uint8_t seed)
{
	for (unsigned i = 0; i < 64; i++) {
		nonce[i] = (uint8_t)(seed + 3U * i);
	}
}

/* Two vCPUs; Linux's buffers validated and filled with PATTERN, the nonce written; the
 * page below Donjon's range validated; one page deposited. */
static struct sim_machine *attest_machine(void)
{
	struct sim_machine *m = t_machine(MEM, 2);
	uint8_t nonce[64];
	uint64_t deposit = DEPOSITED;

	t_validate_4k(m, REPORT, BUF_PAGES);
	t_validate_4k(m, BELOW_SVSM, 1);
	t_list(m, CAA + 8, 0, &deposit, 1);
	EXPECT_EQ(t_call(m, 0, CORE(SVSM_CORE_DEPOSIT_MEM), CAA + 8, 0, 0, NULL), SVSM_SUCCESS);
	fill_buffers(m);
	nonce_bytes(nonce, 7);
	t_write(m, NONCE, nonce, sizeof(nonce));
	return m;
}

/* The structure Linux's first call sends (sev_svsm_report_new). */
static struct svsm_attest_single_op linux_op(void)
{
	struct svsm_attest_single_op op;

	memset(&op, 0, sizeof(op));
	op.services.report_gpa = REPORT;
	op.services.report_size = 0x1000;
	op.services.nonce_gpa = NONCE;
	op.services.nonce_size = 64;
	op.services.manifest_gpa = MANIFEST;
	op.services.manifest_size = 0x1000;
	op.services.cert_gpa = CERTS;
	op.services.cert_size = 0x4000;
	return op;
}

/* The call as Linux makes it: the structure (88 bytes) at `at`, if the guest may write
 * there, RCX = at, RDX = R8 = -1. */
static uint64_t attest_at(struct sim_machine *m, uint32_t id,
			  const struct svsm_attest_single_op *op, uint64_t at,
			  struct svsm_regs *out)
{
	(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(at), op, sizeof(*op));
	return t_call(m, 0, ATTEST(id), at, NOT_SET, NOT_SET, out);
}

static void expect_report_data(struct sim_machine *m, const uint8_t *manifest, size_t len)
{
	uint8_t buf[64 + PAGE_SIZE], want[64];
	uint64_t nonce_gpa = 0;

	EXPECT_TRUE(len <= PAGE_SIZE);
	/* The nonce the structure at CAA+8 names. */
	EXPECT_TRUE(sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(CAA + 8 + 0x10), &nonce_gpa, 8) ==
		    NULL);
	EXPECT_TRUE(sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(nonce_gpa), buf, 64) == NULL);
	memcpy(buf + 64, manifest, len);
	SHA512(buf, 64 + len, want);
	EXPECT_MEM(m->mem + REPORT + SNP_REPORT_DATA_OFF, want, sizeof(want));
}

/* Bytes [gpa, gpa + len) still hold PATTERN. */
static bool untouched(const struct sim_machine *m, uint64_t gpa, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (m->mem[gpa + i] != PATTERN) {
			return false;
		}
	}
	return true;
}

TEST(attest_services_as_linux_calls_it)
{
	struct sim_machine *m = attest_machine();
	struct svsm_attest_single_op op = linux_op();
	struct svsm_regs out;
	uint64_t seqno = m->psp.msg_count[0];
	uint32_t vmpl = ~0U;

	EXPECT_EQ(attest_at(m, SVSM_ATTEST_SERVICES, &op, CAA + 8, &out), SVSM_SUCCESS);
	EXPECT_EQ(out.rcx, sizeof(empty_manifest));
	EXPECT_EQ(out.rdx, 0);
	EXPECT_EQ(out.r8, SNP_REPORT_SIZE);
	EXPECT_MEM(m->mem + MANIFEST, empty_manifest, sizeof(empty_manifest));
	expect_report_data(m, empty_manifest, sizeof(empty_manifest));
	memcpy(&vmpl, m->mem + REPORT + SNP_REPORT_VMPL_OFF, sizeof(vmpl));
	EXPECT_EQ(vmpl, 0);
	EXPECT_MEM(m->mem + REPORT + SNP_REPORT_MEASUREMENT_OFF, m->psp.launch_digest,
		   SNP_DIGEST_SIZE);
	EXPECT_TRUE(t_report_verifies(m, m->mem + REPORT));
	/* One guest message: two sequence numbers. */
	EXPECT_EQ(m->psp.msg_count[0], seqno + 2U);
	/* Nothing past what the sizes say, and no certificates. */
	EXPECT_TRUE(untouched(m, REPORT + SNP_REPORT_SIZE, PAGE_SIZE - SNP_REPORT_SIZE));
	EXPECT_TRUE(untouched(m, MANIFEST + sizeof(empty_manifest),
			      PAGE_SIZE - sizeof(empty_manifest)));
	EXPECT_TRUE(untouched(m, CERTS, 4 * PAGE_SIZE));
	/* A changed report no longer verifies. */
	m->mem[REPORT + SNP_REPORT_MEASUREMENT_OFF] ^= 1U;
	EXPECT_TRUE(!t_report_verifies(m, m->mem + REPORT));
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}

/* Another nonce, another REPORT_DATA: the report binds the caller's nonce. */
TEST(attest_report_data_follows_the_nonce)
{
	struct sim_machine *m = attest_machine();
	struct svsm_attest_single_op op = linux_op();
	uint8_t first[64], nonce[64];

	EXPECT_EQ(attest_at(m, SVSM_ATTEST_SERVICES, &op, CAA + 8, NULL), SVSM_SUCCESS);
	memcpy(first, m->mem + REPORT + SNP_REPORT_DATA_OFF, sizeof(first));
	nonce_bytes(nonce, 8);
	t_write(m, NONCE, nonce, sizeof(nonce));
	EXPECT_EQ(attest_at(m, SVSM_ATTEST_SERVICES, &op, CAA + 8, NULL), SVSM_SUCCESS);
	EXPECT_TRUE(memcmp(first, m->mem + REPORT + SNP_REPORT_DATA_OFF, sizeof(first)) != 0);
	expect_report_data(m, empty_manifest, sizeof(empty_manifest));
	sim_destroy(m);
}

/* What a rejected call must leave: guest memory outside Donjon's range, the RMP, VMPCK0 and
 * the PSP's sequence number. */
struct snapshot {
	uint8_t *mem;
	struct rmp_entry *rmp;
	uint8_t vmpck0[SECRETS_VMPCK_SIZE];
	uint64_t seqno;
};

static void snapshot_take(const struct sim_machine *m, struct snapshot *s)
{
	size_t rmp_len = (m->mem_size >> PAGE_SHIFT) * sizeof(*s->rmp);

	s->mem = malloc(m->mem_size);
	s->rmp = malloc(rmp_len);
	if (s->mem == NULL || s->rmp == NULL) {
		abort();
	}
	memcpy(s->mem, m->mem, m->mem_size);
	memcpy(s->rmp, m->rmp, rmp_len);
	memcpy(s->vmpck0, m->mem + SIM_SECRETS + SECRETS_VMPCK_OFF(0), sizeof(s->vmpck0));
	s->seqno = m->psp.msg_count[0];
}

static bool snapshot_same(struct sim_machine *m, const struct snapshot *s)
{
	uint64_t svsm_end = SIM_SVSM_BASE + SIM_SVSM_SIZE;

	return memcmp(s->mem, m->mem, SIM_SVSM_BASE) == 0 &&
	       memcmp(s->mem + svsm_end, m->mem + svsm_end, m->mem_size - svsm_end) == 0 &&
	       memcmp(s->rmp, m->rmp, (m->mem_size >> PAGE_SHIFT) * sizeof(*s->rmp)) == 0 &&
	       memcmp(s->vmpck0, m->mem + SIM_SECRETS + SECRETS_VMPCK_OFF(0), sizeof(s->vmpck0)) ==
		       0 &&
	       s->seqno == m->psp.msg_count[0] && t_tracking_matches_rmp(m);
}

static void snapshot_free(struct snapshot *s)
{
	free(s->mem);
	free(s->rmp);
}

enum field {
	NO_FIELD,
	REPORT_GPA,
	REPORT_SIZE,
	REPORT_TWO_PAGES, /* the report buffer: two pages at the value */
	RESERVED1,
	NONCE_GPA,
	NONCE_SIZE,
	NONCE_SIZE_U32, /* as Linux's u32 writes it */
	RESERVED2_END,
	MANIFEST_GPA,
	MANIFEST_SIZE,
	RESERVED3,
	CERT_GPA,
	CERT_SIZE,
	CERT_NONE, /* size 0, the gPA the value */
	RESERVED4,
	VERSION,
	RESERVED5,
	GUID_VTPM,
	GUID_NULL,
	GUID_MANIFEST,
};

static void set_field(struct svsm_attest_single_op *op, enum field f, uint64_t v)
{
	struct svsm_attest_services_op *s = &op->services;

	switch (f) {
	case REPORT_GPA:
		s->report_gpa = v;
		break;
	case REPORT_SIZE:
		s->report_size = (uint32_t)v;
		break;
	case REPORT_TWO_PAGES:
		s->report_gpa = v;
		s->report_size = 2 * PAGE_SIZE;
		break;
	case RESERVED1:
		s->reserved1 = (uint32_t)v;
		break;
	case NONCE_GPA:
		s->nonce_gpa = v;
		break;
	case NONCE_SIZE:
		s->nonce_size = (uint16_t)v;
		break;
	case NONCE_SIZE_U32:
		memcpy(&s->nonce_size, &v, 4);
		break;
	case RESERVED2_END:
		s->reserved2[5] = (uint8_t)v;
		break;
	case MANIFEST_GPA:
		s->manifest_gpa = v;
		break;
	case MANIFEST_SIZE:
		s->manifest_size = (uint32_t)v;
		break;
	case RESERVED3:
		s->reserved3 = (uint32_t)v;
		break;
	case CERT_GPA:
		s->cert_gpa = v;
		break;
	case CERT_SIZE:
		s->cert_size = (uint32_t)v;
		break;
	case CERT_NONE:
		s->cert_gpa = v;
		s->cert_size = 0;
		break;
	case RESERVED4:
		s->reserved4 = (uint32_t)v;
		break;
	case VERSION:
		op->manifest_version = (uint32_t)v;
		break;
	case RESERVED5:
		op->reserved5 = (uint32_t)v;
		break;
	case GUID_VTPM:
		memcpy(op->guid, vtpm_guid, sizeof(op->guid));
		break;
	case GUID_NULL:
		memset(op->guid, 0, sizeof(op->guid));
		break;
	case GUID_MANIFEST:
		memcpy(op->guid, empty_manifest, sizeof(op->guid));
		break;
	case NO_FIELD:
		break;
	}
}

struct attest_case {
	const char *what;
	uint64_t at; /* RCX; 0: CAA+8 */
	uint32_t call;
	enum field field;
	uint64_t value;
	uint32_t result;
};

#define SVC SVSM_ATTEST_SERVICES
#define ONE SVSM_ATTEST_SINGLE_SERVICE
#define PARAM SVSM_ERR_INVALID_PARAMETER
#define ADDR SVSM_ERR_INVALID_ADDRESS

static const struct attest_case rejections[] = {
	/* The operation structure. */
	{ "structure not 8-byte aligned", CAA + 12, SVC, NO_FIELD, 0, PARAM },
	{ "structure in Donjon's memory", SIM_SVSM_BASE + 0x9000, SVC, NO_FIELD, 0, ADDR },
	{ "structure in a VMSA", SIM_VMSA_BASE, SVC, NO_FIELD, 0, ADDR },
	{ "structure in another vCPU's calling area", OTHER_CAA + 8, SVC, NO_FIELD, 0, ADDR },
	{ "structure running into another calling area", CAA + 0xFF0, SVC, NO_FIELD, 0, ADDR },
	{ "structure in a page never validated", UNVALIDATED, SVC, NO_FIELD, 0, ADDR },
	{ "structure in a deposited page", DEPOSITED, SVC, NO_FIELD, 0, ADDR },
	{ "structure past the end of memory", MEM, SVC, NO_FIELD, 0, ADDR },
	{ "structure at the top of the address space", ~7ULL, SVC, NO_FIELD, 0, ADDR },
	/* Reserved fields, the version, the nonce's size. */
	{ "reserved at 0x0c", 0, SVC, RESERVED1, 1, PARAM },
	{ "reserved at 0x1f", 0, SVC, RESERVED2_END, 0x80, PARAM },
	{ "reserved at 0x2c", 0, SVC, RESERVED3, 1U << 31, PARAM },
	{ "reserved at 0x3c", 0, SVC, RESERVED4, 1, PARAM },
	{ "reserved at 0x54", 0, ONE, RESERVED5, 1, PARAM },
	{ "manifest version 1", 0, ONE, VERSION, 1, PARAM },
	{ "nonce of 0 bytes", 0, SVC, NONCE_SIZE, 0, PARAM },
	{ "nonce of 63 bytes", 0, SVC, NONCE_SIZE, 63, PARAM },
	{ "nonce of 65 bytes", 0, SVC, NONCE_SIZE, 65, PARAM },
	{ "nonce of 0x10040 bytes (a u32)", 0, SVC, NONCE_SIZE_U32, 0x10040, PARAM },
	/* Alignment. */
	{ "nonce crossing a page", 0, SVC, NONCE_GPA, NONCE + 0xFC8, PARAM },
	{ "report buffer not on a page", 0, SVC, REPORT_GPA, REPORT + 8, PARAM },
	{ "manifest buffer not on a page", 0, SVC, MANIFEST_GPA, MANIFEST + 0x800, PARAM },
	{ "certificate buffer not on a page", 0, SVC, CERT_GPA, CERTS + 1, PARAM },
	/* Services: a GUID no service has. */
	{ "the vTPM's GUID", 0, ONE, GUID_VTPM, 0, SVSM_ERR_INVALID_REQUEST },
	{ "the null GUID", 0, ONE, GUID_NULL, 0, SVSM_ERR_INVALID_REQUEST },
	{ "the manifest header's GUID", 0, ONE, GUID_MANIFEST, 0, SVSM_ERR_INVALID_REQUEST },
	/* The nonce's memory. */
	{ "nonce in Donjon's memory", 0, SVC, NONCE_GPA, SIM_SVSM_BASE + 0x9000, ADDR },
	{ "nonce in Donjon's secrets page", 0, SVC, NONCE_GPA, SIM_SECRETS + 0x20, ADDR },
	{ "nonce in a VMSA", 0, SVC, NONCE_GPA, SIM_VMSA_BASE + 0x100, ADDR },
	{ "nonce in another vCPU's calling area", 0, SVC, NONCE_GPA, OTHER_CAA + 0x100, ADDR },
	{ "nonce in a page never validated", 0, SVC, NONCE_GPA, UNVALIDATED, ADDR },
	{ "nonce in a deposited page", 0, SVC, NONCE_GPA, DEPOSITED, ADDR },
	{ "nonce past the end of memory", 0, SVC, NONCE_GPA, MEM + 0x40, ADDR },
	{ "nonce at the top of the address space", 0, SVC, NONCE_GPA, ~63ULL, ADDR },
	/* The buffers' memory, all of each declared size. */
	{ "report in Donjon's memory", 0, SVC, REPORT_GPA, SIM_SVSM_BASE + 0x9000, ADDR },
	{ "report over Donjon's secrets", 0, SVC, REPORT_GPA, SIM_SECRETS, ADDR },
	{ "report over a VMSA", 0, SVC, REPORT_GPA, SIM_VMSA_BASE, ADDR },
	{ "report over the caller's calling area", SPARE, SVC, REPORT_GPA, CAA, ADDR },
	{ "report over another calling area", 0, SVC, REPORT_GPA, OTHER_CAA, ADDR },
	{ "report in a page never validated", 0, SVC, REPORT_GPA, UNVALIDATED, ADDR },
	{ "report in a deposited page", 0, SVC, REPORT_GPA, DEPOSITED, ADDR },
	{ "report past the end of memory", 0, SVC, REPORT_GPA, MEM, ADDR },
	{ "report wrapping past 2^64", 0, SVC, REPORT_GPA, ~0xFFFULL, ADDR },
	{ "report buffer running into Donjon's range", 0, SVC, REPORT_TWO_PAGES, BELOW_SVSM, ADDR },
	{ "report buffer of 4 GiB - 1", 0, SVC, REPORT_SIZE, 0xFFFFFFFFU, ADDR },
	{ "manifest in Donjon's memory", 0, SVC, MANIFEST_GPA, SIM_SVSM_BASE, ADDR },
	{ "manifest over another calling area", 0, SVC, MANIFEST_GPA, OTHER_CAA, ADDR },
	{ "manifest in a deposited page", 0, SVC, MANIFEST_GPA, DEPOSITED, ADDR },
	{ "manifest buffer of 4 GiB - 1", 0, SVC, MANIFEST_SIZE, 0xFFFFFFFFU, ADDR },
	{ "certificates in Donjon's memory", 0, SVC, CERT_GPA, SIM_SVSM_BASE, ADDR },
	{ "certificates over a VMSA", 0, SVC, CERT_GPA, SIM_VMSA_BASE, ADDR },
	{ "certificates in a page never validated", 0, SVC, CERT_GPA, UNVALIDATED, ADDR },
	{ "certificate buffer of 4 GiB - 1", 0, SVC, CERT_SIZE, 0xFFFFFFFFU, ADDR },
	/* Overlaps. */
	{ "report and manifest in one page", 0, SVC, MANIFEST_GPA, REPORT, PARAM },
	{ "manifest buffer running into the certificates", 0, SVC, MANIFEST_SIZE, 0x1001, PARAM },
	{ "certificates over the report", 0, SVC, CERT_GPA, REPORT, PARAM },
	{ "nonce inside the report buffer", 0, SVC, NONCE_GPA, REPORT + 0x800, PARAM },
	{ "nonce inside the certificate buffer", 0, SVC, NONCE_GPA, CERTS + 0x3FC0, PARAM },
	{ "nonce over the structure", 0, SVC, NONCE_GPA, CAA + 8 + 0x38, PARAM },
	{ "nonce over call_pending", SPARE, SVC, NONCE_GPA, CAA, PARAM },
	{ "nonce over the calling area's reserved bytes", SPARE, SVC, NONCE_GPA, CAA + 4, PARAM },
	{ "structure over call_pending", CAA, SVC, NO_FIELD, 0, PARAM },
	{ "structure inside the manifest buffer", MANIFEST + 0x800, SVC, NO_FIELD, 0, PARAM },
	{ "structure inside the certificate buffer", CERTS + 0x3FC0, SVC, NO_FIELD, 0, PARAM },
};

/* Every rejection leaves memory, the RMP, VMPCK0 and the PSP's count as they were, and
 * RCX/RDX/R8 as the guest passed them; a call afterwards still succeeds (no sequence
 * number was spent behind the PSP's back). */
TEST(attest_rejections_change_nothing)
{
	struct sim_machine *m = attest_machine();
	struct svsm_regs out;
	struct snapshot before;

	for (size_t i = 0; i < sizeof(rejections) / sizeof(rejections[0]); i++) {
		const struct attest_case *c = &rejections[i];
		struct svsm_attest_single_op op = linux_op();
		uint64_t at = c->at != 0U ? c->at : CAA + 8;

		set_field(&op, c->field, c->value);
		(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(at), &op, sizeof(op));
		snapshot_take(m, &before);
		uint64_t rax = t_call(m, 0, ATTEST(c->call), at, NOT_SET, NOT_SET, &out);

		if (rax != c->result || out.rcx != at || out.rdx != NOT_SET || out.r8 != NOT_SET ||
		    !snapshot_same(m, &before)) {
			printf("    %s: RAX 0x%llx, RCX 0x%llx\n", c->what, (unsigned long long)rax,
			       (unsigned long long)out.rcx);
		}
		EXPECT_EQ(rax, c->result);
		EXPECT_EQ(out.rcx, at);
		EXPECT_EQ(out.rdx, NOT_SET);
		EXPECT_EQ(out.r8, NOT_SET);
		EXPECT_TRUE(snapshot_same(m, &before));
		snapshot_free(&before);
	}
	struct svsm_attest_single_op op = linux_op();

	EXPECT_EQ(attest_at(m, SVC, &op, CAA + 8, &out), SVSM_SUCCESS);
	EXPECT_TRUE(t_report_verifies(m, m->mem + REPORT));
	sim_destroy(m);
}

/* What else Linux, or a careful guest, may send: accepted, with the same answer. */
static const struct attest_case acceptances[] = {
	{ "Linux's structure", 0, SVC, NO_FIELD, 0, SVSM_SUCCESS },
	{ "structure in ordinary memory", SPARE + 0x100, SVC, NO_FIELD, 0, SVSM_SUCCESS },
	{ "structure crossing into the next page", SPARE + 0xFE0, SVC, NO_FIELD, 0, SVSM_SUCCESS },
	{ "exact report size", 0, SVC, REPORT_SIZE, SNP_REPORT_SIZE, SVSM_SUCCESS },
	{ "exact manifest size", 0, SVC, MANIFEST_SIZE, 24, SVSM_SUCCESS },
	{ "report buffer of two pages", 0, SVC, REPORT_TWO_PAGES, SPARE, SVSM_SUCCESS },
	{ "no certificates wanted, their gPA ignored", 0, SVC, CERT_NONE, SIM_SVSM_BASE + 3,
	  SVSM_SUCCESS },
	{ "nonce in the caller's calling area, after Linux's 88 bytes", 0, SVC, NONCE_GPA,
	  CAA + 8 + 0x58, SVSM_SUCCESS },
	{ "nonce in the caller's calling area, right after the structure", SPARE, SVC, NONCE_GPA,
	  CAA + 8 + 0x40, SVSM_SUCCESS },
	{ "nonce at the end of its page", 0, SVC, NONCE_GPA, NONCE + 0xFC0, SVSM_SUCCESS },
	{ "single-service fields ignored by ATTEST_SERVICES", 0, SVC, RESERVED5, 7, SVSM_SUCCESS },
};

TEST(attest_accepts_every_well_formed_placement)
{
	struct sim_machine *m = attest_machine();
	struct svsm_regs out;
	uint8_t nonce[64];

	for (size_t i = 0; i < sizeof(acceptances) / sizeof(acceptances[0]); i++) {
		const struct attest_case *c = &acceptances[i];
		struct svsm_attest_single_op op = linux_op();
		uint64_t at = c->at != 0U ? c->at : CAA + 8;
		uint64_t seqno = m->psp.msg_count[0];

		set_field(&op, c->field, c->value);
		nonce_bytes(nonce, (uint8_t)i);
		t_write(m, op.services.nonce_gpa, nonce, sizeof(nonce));
		fill_buffers(m);
		/* The structure at CAA+8 also tells expect_report_data where the nonce is. */
		t_write(m, CAA + 8, &op, sizeof(op));
		uint64_t rax = attest_at(m, c->call, &op, at, &out);

		if (rax != SVSM_SUCCESS) {
			printf("    %s: RAX 0x%llx\n", c->what, (unsigned long long)rax);
		}
		EXPECT_EQ(rax, c->result);
		EXPECT_EQ(out.rcx, sizeof(empty_manifest));
		EXPECT_EQ(out.rdx, 0);
		EXPECT_EQ(out.r8, SNP_REPORT_SIZE);
		EXPECT_EQ(m->psp.msg_count[0], seqno + 2U);
		if (op.services.report_gpa != REPORT) {
			memcpy(m->mem + REPORT, m->mem + op.services.report_gpa, SNP_REPORT_SIZE);
		}
		EXPECT_MEM(m->mem + MANIFEST, empty_manifest, sizeof(empty_manifest));
		expect_report_data(m, empty_manifest, sizeof(empty_manifest));
		EXPECT_TRUE(t_report_verifies(m, m->mem + REPORT));
		EXPECT_TRUE(untouched(m, CERTS, 4 * PAGE_SIZE));
	}
	sim_destroy(m);
}

/* A buffer too small: INVALID_PARAMETER with the sizes needed (RCX manifest, RDX
 * certificates, R8 report), nothing else changed; Linux then enlarges its buffers as
 * sev_svsm_report_new does and the next call succeeds. A buffer of size 0 names no memory,
 * so its gPA is not looked at. */
TEST(attest_too_small_buffers_answer_the_sizes_then_linux_retries)
{
	static const struct {
		uint32_t report, manifest;
		uint64_t report_gpa;
	} small[] = {
		{ SNP_REPORT_SIZE - 1U, 0x1000, REPORT },
		{ 0x1000, 23, REPORT },
		{ 0x400, 8, REPORT },
		{ 0, 0, SIM_SVSM_BASE }, /* size 0: the gPA names nothing */
	};
	struct sim_machine *m = attest_machine();
	struct svsm_regs out;
	struct snapshot before;

	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		struct svsm_attest_single_op op = linux_op();

		op.services.report_size = small[i].report;
		op.services.manifest_size = small[i].manifest;
		op.services.report_gpa = small[i].report_gpa;
		t_write(m, CAA + 8, &op, sizeof(op));
		snapshot_take(m, &before);
		EXPECT_EQ(t_call(m, 0, ATTEST(SVC), CAA + 8, NOT_SET, NOT_SET, &out),
			  SVSM_ERR_INVALID_PARAMETER);
		EXPECT_EQ(out.rcx, sizeof(empty_manifest));
		EXPECT_EQ(out.rdx, 0);
		EXPECT_EQ(out.r8, SNP_REPORT_SIZE);
		EXPECT_TRUE(snapshot_same(m, &before));
		snapshot_free(&before);

		/* update_attest_input: a returned length that differs from the register the
		 * guest passed replaces the buffer's; a larger one is page-aligned. */
		op.services.report_gpa = REPORT;
		if (out.r8 != NOT_SET && out.r8 > op.services.report_size) {
			op.services.report_size = (uint32_t)((out.r8 + 0xFFFU) & ~0xFFFULL);
		}
		if (out.rcx != CAA + 8 && out.rcx > op.services.manifest_size) {
			op.services.manifest_size = (uint32_t)((out.rcx + 0xFFFU) & ~0xFFFULL);
		}
		if (out.rdx != NOT_SET) {
			op.services.cert_size = (uint32_t)out.rdx;
		}
		EXPECT_EQ(attest_at(m, SVC, &op, CAA + 8, &out), SVSM_SUCCESS);
		EXPECT_EQ(out.rcx, sizeof(empty_manifest));
		EXPECT_EQ(out.r8, SNP_REPORT_SIZE);
		EXPECT_MEM(m->mem + MANIFEST, empty_manifest, sizeof(empty_manifest));
		EXPECT_TRUE(t_report_verifies(m, m->mem + REPORT));
	}
	sim_destroy(m);
}

/* The PSP cannot answer (no VMPCK0; a host that drops the message or changes the answer):
 * INVALID_REQUEST, and not a byte written. */
TEST(attest_without_a_report_writes_nothing)
{
	static const enum sim_host_tamper hosts[] = { SIM_HOST_DROP, SIM_HOST_FLIP_RESPONSE };
	struct svsm_regs out;

	for (unsigned i = 0; i < 3; i++) {
		struct sim_machine *m = attest_machine();
		struct svsm_attest_single_op op = linux_op();

		if (i < 2U) {
			m->host_tamper = hosts[i];
		} else {
			memset(m->mem + SIM_SECRETS + SECRETS_VMPCK_OFF(0), 0, SECRETS_VMPCK_SIZE);
		}
		EXPECT_EQ(attest_at(m, SVC, &op, CAA + 8, &out), SVSM_ERR_INVALID_REQUEST);
		EXPECT_EQ(out.rcx, CAA + 8);
		EXPECT_EQ(out.r8, NOT_SET);
		EXPECT_TRUE(untouched(m, REPORT, NONCE - REPORT));
		/* Whatever went wrong, VMPCK0 is gone: the next call has no key to ask with
		 * and sends nothing. */
		uint64_t seqno = m->psp.msg_count[0];

		m->host_tamper = SIM_HOST_FORWARD;
		EXPECT_EQ(attest_at(m, SVC, &op, CAA + 8, NULL), SVSM_ERR_INVALID_REQUEST);
		EXPECT_EQ(m->psp.msg_count[0], seqno);
		EXPECT_TRUE(untouched(m, REPORT, NONCE - REPORT));
		sim_destroy(m);
	}
}

TEST(attest_unknown_calls_are_unsupported_calls)
{
	struct sim_machine *m = attest_machine();
	struct svsm_attest_single_op op = linux_op();
	struct svsm_regs out;
	struct snapshot before;
	static const uint32_t ids[] = { 2, 3, 0x80000000U, 0xFFFFFFFFU };

	t_write(m, CAA + 8, &op, sizeof(op));
	for (unsigned i = 0; i < 4; i++) {
		snapshot_take(m, &before);
		EXPECT_EQ(t_call(m, 0, ATTEST(ids[i]), CAA + 8, NOT_SET, NOT_SET, &out),
			  SVSM_ERR_UNSUPPORTED_CALL);
		EXPECT_EQ(out.rcx, CAA + 8);
		EXPECT_TRUE(snapshot_same(m, &before));
		snapshot_free(&before);
	}
	sim_destroy(m);
}

/* Donjon's own table lists the vTPM alone, and the machine of the unit tests runs no vTPM
 * service: ATTEST_SERVICES's manifest is the bare header, and the vTPM's GUID is unknown. */
TEST(attest_manifest_of_donjons_services)
{
	uint8_t buf[ATTEST_MANIFEST_MAX];
	uint32_t len = 0;

	EXPECT_EQ(attest_services.count, 1);
	EXPECT_MEM(attest_services.entries[0].guid, vtpm_guid, sizeof(vtpm_guid));
	EXPECT_EQ(attest_manifest_services(&attest_services, buf, sizeof(buf), &len),
		  ATTEST_MANIFEST_OK);
	EXPECT_EQ(len, sizeof(empty_manifest));
	EXPECT_MEM(buf, empty_manifest, sizeof(empty_manifest));
	EXPECT_EQ(attest_manifest_single(&attest_services, vtpm_guid, buf, sizeof(buf), &len),
		  ATTEST_MANIFEST_UNKNOWN_SERVICE);
}

static const uint8_t blob_abc[] = { 'a', 'b', 'c' };
static const uint8_t blob_z[] = { 'z' };

static enum attest_service_data manifest_abc(const uint8_t **data, uint32_t *len)
{
	*data = blob_abc;
	*len = sizeof(blob_abc);
	return ATTEST_DATA_OK;
}

static enum attest_service_data manifest_none(const uint8_t **data, uint32_t *len)
{
	*data = NULL;
	*len = 0;
	return ATTEST_DATA_OK;
}

static enum attest_service_data manifest_absent(const uint8_t **data, uint32_t *len)
{
	*data = blob_z;
	*len = sizeof(blob_z);
	return ATTEST_DATA_ABSENT;
}

static enum attest_service_data manifest_failed(const uint8_t **data, uint32_t *len)
{
	*data = blob_z;
	*len = sizeof(blob_z);
	return ATTEST_DATA_FAILED;
}

static enum attest_service_data manifest_z(const uint8_t **data, uint32_t *len)
{
	*data = blob_z;
	*len = sizeof(blob_z);
	return ATTEST_DATA_OK;
}

/* A table as the vTPM and later services will fill it: every entry the machine runs listed
 * with its offset and length, a service without data too, the data in entry order; one
 * it does not run is not listed. */
TEST(attest_manifest_lists_every_service_of_a_table)
{
	static const struct attest_service entries[] = {
		{ { 9 }, manifest_absent },
		{ { 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x55,
		    0x55, 0x55, 0x55 },
		  manifest_abc },
		{ { 0xeb, 0xf1, 0x76, 0xc4, 0x23, 0x01, 0xa5, 0x45, 0x96, 0x41, 0xb4, 0xe7, 0xdd,
		    0xe5, 0xbf, 0xe3 },
		  manifest_none },
		{ { 1 }, manifest_z },
	};
	static const struct attest_service_table table = { entries, 4 };
	static const uint8_t want[] = {
		/* header: GUID, length 24 + 3 * 24 + 3 + 0 + 1 = 100, 3 entries */
		0xbb, 0x9e, 0x84, 0x63, 0x92, 0x3d, 0x70, 0x46, 0xa1, 0xff, 0x58, 0xf9, 0xc9, 0x4b,
		0x87, 0xbb, 100, 0, 0, 0, 3, 0, 0, 0,
		/* entry 0: data at 96, 3 bytes */
		0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x55, 0x55,
		0x55, 0x55, 96, 0, 0, 0, 3, 0, 0, 0,
		/* entry 1: no data, at 99 */
		0xeb, 0xf1, 0x76, 0xc4, 0x23, 0x01, 0xa5, 0x45, 0x96, 0x41, 0xb4, 0xe7, 0xdd, 0xe5,
		0xbf, 0xe3, 99, 0, 0, 0, 0, 0, 0, 0,
		/* entry 2: data at 99, 1 byte */
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0, 1, 0, 0, 0,
		/* the data */
		'a', 'b', 'c', 'z'
	};
	uint8_t buf[256];
	uint32_t len = 0;

	_Static_assert(sizeof(want) == 100, "the table's length");
	memset(buf, PATTERN, sizeof(buf));
	EXPECT_EQ(attest_manifest_services(&table, buf, sizeof(buf), &len), ATTEST_MANIFEST_OK);
	EXPECT_EQ(len, sizeof(want));
	EXPECT_MEM(buf, want, sizeof(want));
	EXPECT_EQ(buf[sizeof(want)], PATTERN);
	/* Exactly as large as the buffer, and one byte more. */
	EXPECT_EQ(attest_manifest_services(&table, buf, 100, &len), ATTEST_MANIFEST_OK);
	EXPECT_EQ(attest_manifest_services(&table, buf, 99, &len), ATTEST_MANIFEST_TOO_BIG);
	EXPECT_EQ(attest_manifest_services(&table, buf, 95, &len), ATTEST_MANIFEST_TOO_BIG);

	/* A single service's manifest is its data alone. */
	len = 7;
	EXPECT_EQ(attest_manifest_single(&table, entries[1].guid, buf, sizeof(buf), &len),
		  ATTEST_MANIFEST_OK);
	EXPECT_EQ(len, 3);
	EXPECT_MEM(buf, blob_abc, sizeof(blob_abc));
	EXPECT_EQ(attest_manifest_single(&table, entries[2].guid, buf, sizeof(buf), &len),
		  ATTEST_MANIFEST_OK);
	EXPECT_EQ(len, 0);
	EXPECT_EQ(attest_manifest_single(&table, entries[1].guid, buf, 2, &len),
		  ATTEST_MANIFEST_TOO_BIG);
	EXPECT_EQ(attest_manifest_single(&table, entries[0].guid, buf, sizeof(buf), &len),
		  ATTEST_MANIFEST_UNKNOWN_SERVICE);
	uint8_t other[16] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

	EXPECT_EQ(attest_manifest_single(&table, other, buf, sizeof(buf), &len),
		  ATTEST_MANIFEST_UNKNOWN_SERVICE);
}

/* A service that runs but cannot give its data fails every manifest that would list it,
 * and writes nothing. */
TEST(attest_manifest_fails_for_a_failed_service)
{
	static const struct attest_service entries[] = {
		{ { 1 }, manifest_abc },
		{ { 2 }, manifest_failed },
	};
	static const struct attest_service_table table = { entries, 2 };
	uint8_t buf[256];
	uint32_t len = 7;

	memset(buf, PATTERN, sizeof(buf));
	EXPECT_EQ(attest_manifest_services(&table, buf, sizeof(buf), &len), ATTEST_MANIFEST_FAILED);
	EXPECT_EQ(attest_manifest_single(&table, entries[1].guid, buf, sizeof(buf), &len),
		  ATTEST_MANIFEST_FAILED);
	EXPECT_EQ(len, 7);
	EXPECT_EQ(buf[0], PATTERN);
	EXPECT_EQ(attest_manifest_single(&table, entries[0].guid, buf, sizeof(buf), &len),
		  ATTEST_MANIFEST_OK);
	EXPECT_EQ(len, 3);
}
