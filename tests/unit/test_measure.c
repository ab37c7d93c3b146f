/* The SEV-SNP launch digest: the spec sheet's known answers for every page type, QEMU's
 * measurement order, KVM's VMSAs, what QEMU and KVM refuse, and the SNP ID block. */
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <donjon/bytes.h>
#include <donjon/vmsa.h>

#include "harness.h"
#include "igvm_measure.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		(void)sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

#define EXPECT_DIGEST(got, hex)                                                                    \
	do {                                                                                       \
		uint8_t want_[SNP_DIGEST_SIZE];                                                    \
		unhex((hex), want_, sizeof(want_));                                                \
		EXPECT_MEM((got), want_, SNP_DIGEST_SIZE);                                         \
	} while (0)

/* The appendix of ../shared/spec/igvm-and-measurement.md. */
#define KAT_NORMAL_ZERO                                                                            \
	"9d13634b6014bb21cf059b2dc694e7bff01a8a7137041100cd2b695f3d10fb687267b97808b27f8f471d943b" \
	"c6f53a20"
#define KAT_NORMAL_DATA                                                                            \
	"7c35ae2237e0054a069ac1c26c70dd502bd970d871cfa2122f5df7a0060afbf4599ac4d1b241111412122ec6" \
	"b8d06f47"
#define KAT_ZERO                                                                                   \
	"4a367fe6fb24a61031212814c6269bf2ad3ebb2265d421768b77fd89071f7f3c1475411c940773b0aad8be19" \
	"255e419a"
#define KAT_UNMEASURED                                                                             \
	"fb7c89d1c8e45f17c5a11872ebb8c9ce8bace196727873006654dd15510eb371198bf047ca592443801e4e08" \
	"b5b4e079"
#define KAT_SECRETS                                                                                \
	"d11469579b8baac60b41cf97008daf1d67d7023bf497aa7cf5c605289477bfa2a5d7b2c165e234a6b860757b" \
	"5127c67a"
#define KAT_CPUID                                                                                  \
	"ea809dc9b8b61e5ac62339eb947236cb16b4531a5ea36ba1a41a2e4885e72b0eeaece5fee677826d8bab14df" \
	"ecfedce2"
#define KAT_VMSA                                                                                   \
	"30e5aaa46fa3c5026b65853ec6f77c25a5abdb5125f25d872077ba0e95edffdd70d310d14911b1861ec504fa" \
	"c8513bd7"
#define KAT_RESET_VMSA_HASH                                                                        \
	"77920c4c629ff47e90c0e174fc1ad0eb6fa664f88cd4739488058a8c6cb1a77b3856f55378e9518d0da99452" \
	"d51c553a"

static uint8_t kat_page[IGVM_PAGE];

static const uint8_t *kat_data(void)
{
	for (unsigned i = 0; i < IGVM_PAGE; i++) {
		kat_page[i] = (uint8_t)((7U * i + 3U) & 0xFFU);
	}
	return kat_page;
}

TEST(measure_known_answers_for_every_page_type)
{
	struct snp_digest d;
	uint8_t contents[SNP_DIGEST_SIZE];

	EXPECT_TRUE(snp_digest_init(&d));
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_NORMAL, 0x0, NULL, contents));
	EXPECT_DIGEST(d.ld, KAT_NORMAL_ZERO);
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_NORMAL, 0x1000, kat_data(), contents));
	EXPECT_DIGEST(d.ld, KAT_NORMAL_DATA);
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_ZERO, 0x2000, NULL, contents));
	EXPECT_DIGEST(d.ld, KAT_ZERO);
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_UNMEASURED, 0x3000, kat_data(), contents));
	EXPECT_DIGEST(d.ld, KAT_UNMEASURED);
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_SECRETS, 0x4000, NULL, contents));
	EXPECT_DIGEST(d.ld, KAT_SECRETS);
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_CPUID, 0x5000, kat_data(), contents));
	EXPECT_DIGEST(d.ld, KAT_CPUID);
	static const uint8_t zero[SNP_DIGEST_SIZE];

	EXPECT_MEM(contents, zero, SNP_DIGEST_SIZE); /* CPUID contents are not hashed */
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_VMSA, SNP_VMSA_MEASURE_GPA, NULL, contents));
	EXPECT_DIGEST(d.ld, KAT_VMSA);
	snp_digest_fini(&d);
}

TEST(measure_ap_reset_vmsa_is_kvms)
{
	uint8_t page[IGVM_PAGE];
	uint8_t hash[SNP_DIGEST_SIZE];

	igvm_reset_vmsa(page, SEV_FEATURE_SNP_ACTIVE, IGVM_VCPU_SIG_EPYC_V4);
	EXPECT_TRUE(EVP_Digest(page, sizeof(page), hash, NULL, EVP_sha384(), NULL) == 1);
	EXPECT_DIGEST(hash, KAT_RESET_VMSA_HASH);
}

/* ---- small files through the launch walk ---- */

#define SNP 0x1U
#define NATIVE 0x2U
#define VMSA_GPA SNP_VMSA_MEASURE_GPA

struct file {
	struct igvm_writer *w;
	uint8_t *buf;
	size_t len;
	struct igvm_file f;
	uint32_t next; /* offset of the next record */
};

static void start(struct file *t)
{
	struct igvm_supported_platform snp = { SNP, 0, IGVM_PLATFORM_SEV_SNP, 1, 0 };
	struct igvm_supported_platform native = { NATIVE, 0, IGVM_PLATFORM_NATIVE, 1, 0 };

	memset(t, 0, sizeof(*t));
	t->w = igvm_writer_new();
	EXPECT_TRUE(igvm_writer_add(t->w, IGVM_VHT_SUPPORTED_PLATFORM, &snp, sizeof(snp)));
	EXPECT_TRUE(igvm_writer_add(t->w, IGVM_VHT_SUPPORTED_PLATFORM, &native, sizeof(native)));
	t->next = IGVM_FIXED_HEADER_V2 + 48U; /* finish_file writes version 2 */
}

/* Adds a record; returns its offset in the file. */
static uint32_t add(struct file *t, uint32_t type, const void *body, uint32_t len)
{
	uint32_t at = t->next;

	EXPECT_TRUE(igvm_writer_add(t->w, type, body, len));
	t->next += (8U + len + 7U) & ~7U;
	return at;
}

static uint32_t add_page(struct file *t, uint64_t gpa, uint32_t mask, uint16_t type, uint32_t flags,
			 const uint8_t *data)
{
	struct igvm_page_data d = { gpa, mask, 0, flags, type, 0 };
	uint32_t at = add(t, IGVM_VHT_PAGE_DATA, &d, sizeof(d));

	if (data != NULL) {
		EXPECT_TRUE(igvm_writer_add_data(t->w, 12, data, IGVM_PAGE, IGVM_PAGE));
	}
	return at;
}

static void good_vmsa(uint8_t *v)
{
	igvm_reset_vmsa(v, SEV_FEATURE_SNP_ACTIVE, 0);
	store64(v, VMSA_RIP_OFF, 0x100000);
}

static uint32_t add_vmsa(struct file *t, uint64_t gpa, uint16_t vp, const uint8_t *vmsa)
{
	struct igvm_vp_context v = { gpa, SNP, 0, vp, 0 };
	uint32_t at = add(t, IGVM_VHT_VP_CONTEXT, &v, sizeof(v));

	EXPECT_TRUE(igvm_writer_add_data(t->w, 12, vmsa, IGVM_PAGE, IGVM_PAGE));
	return at;
}

static bool finish_file(struct file *t)
{
	struct igvm_error err;
	bool ok = igvm_writer_finish(t->w, 2, &t->buf, &t->len);

	igvm_writer_free(t->w);
	t->w = NULL;
	return ok && igvm_parse(t->buf, t->len, &t->f, &err);
}

static void drop(struct file *t)
{
	igvm_free(&t->f);
	free(t->buf);
}

#define MAX_EVENTS 16U

struct events {
	unsigned n;
	struct igvm_launch_page ev[MAX_EVENTS];
	uint8_t data[MAX_EVENTS][IGVM_PAGE];
};

static bool record(void *ctx, const struct igvm_launch_page *p, struct igvm_error *err)
{
	struct events *e = ctx;

	(void)err;
	if (e->n < MAX_EVENTS) {
		e->ev[e->n] = *p;
		if (p->data != NULL) {
			memcpy(e->data[e->n], p->data, IGVM_PAGE);
		}
		e->n++;
	}
	return true;
}

static const struct igvm_host host1 = { .vcpus = 1,
					.mem_size = 1ULL << 30,
					.vcpu_sig = IGVM_VCPU_SIG_EPYC_V4 };

TEST(measure_file_pages_match_known_answers)
{
	struct file t;
	uint8_t vmsa[IGVM_PAGE];
	struct igvm_error err;
	struct igvm_launch launch;
	struct snp_digest d;
	uint8_t ld[SNP_DIGEST_SIZE], c[SNP_DIGEST_SIZE];

	start(&t);
	good_vmsa(vmsa);
	add_page(&t, 0x0, SNP | NATIVE, IGVM_PAGE_DATA_NORMAL, 0, NULL); /* no data: zeros */
	add_page(&t, 0x1000, SNP, IGVM_PAGE_DATA_NORMAL, 0, kat_data());
	add_page(&t, 0x3000, SNP, IGVM_PAGE_DATA_NORMAL, IGVM_PAGE_DATA_FLAG_UNMEASURED,
		 kat_data());
	add_page(&t, 0x4000, SNP, IGVM_PAGE_DATA_SECRETS, 0, NULL);
	add_page(&t, 0x5000, SNP, IGVM_PAGE_DATA_CPUID_DATA, 0, NULL);
	add_page(&t, 0x9000, NATIVE, IGVM_PAGE_DATA_NORMAL, 0, kat_data()); /* not SNP's */
	add_vmsa(&t, VMSA_GPA, 0, vmsa);
	EXPECT_TRUE(finish_file(&t));

	struct events ev = { 0 };

	EXPECT_TRUE(igvm_snp_launch(&t.f, &host1, record, &ev, &launch, &err));
	EXPECT_EQ(ev.n, 6);
	EXPECT_EQ(ev.ev[0].type, SNP_PAGE_NORMAL);
	EXPECT_TRUE(ev.ev[0].data == NULL);
	EXPECT_EQ(ev.ev[2].type, SNP_PAGE_UNMEASURED);
	EXPECT_EQ(ev.ev[3].type, SNP_PAGE_SECRETS);
	EXPECT_EQ(ev.ev[4].type, SNP_PAGE_CPUID);
	EXPECT_EQ(ev.ev[5].type, SNP_PAGE_VMSA);
	EXPECT_EQ(ev.ev[5].gpa, VMSA_GPA);
	EXPECT_EQ(launch.policy, IGVM_DEFAULT_POLICY);
	EXPECT_EQ(launch.sev_features, SEV_FEATURE_SNP_ACTIVE);

	/* The digest after each page equals the chain computed page by page. */
	EXPECT_TRUE(snp_digest_init(&d));
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_NORMAL, 0x0, NULL, c));
	EXPECT_DIGEST(d.ld, KAT_NORMAL_ZERO);
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_NORMAL, 0x1000, kat_data(), c));
	EXPECT_DIGEST(d.ld, KAT_NORMAL_DATA);
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_UNMEASURED, 0x3000, NULL, c));
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_SECRETS, 0x4000, NULL, c));
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_CPUID, 0x5000, NULL, c));
	EXPECT_TRUE(snp_digest_page(&d, SNP_PAGE_VMSA, VMSA_GPA, vmsa, c));
	EXPECT_TRUE(igvm_measure(&t.f, &host1, NULL, ld, &launch, &err));
	EXPECT_MEM(ld, d.ld, SNP_DIGEST_SIZE);
	snp_digest_fini(&d);
	drop(&t);
}

TEST(measure_follows_qemus_order_inserts_before_the_open_batch)
{
	struct file t;
	uint8_t vmsa[IGVM_PAGE];
	struct igvm_error err;
	struct igvm_launch launch;
	struct igvm_parameter_area area = { (uint64_t)2 * IGVM_PAGE, 5, 0 };
	struct igvm_parameter vpc = { 5, 4 };
	struct igvm_parameter_insert ins = { 0x80000, SNP, 5 };

	start(&t);
	good_vmsa(vmsa);
	add(&t, IGVM_VHT_PARAMETER_AREA, &area, sizeof(area));
	add(&t, IGVM_VHT_VP_COUNT_PARAMETER, &vpc, sizeof(vpc));
	add_page(&t, 0x10000, SNP, IGVM_PAGE_DATA_NORMAL, 0, kat_data()); /* batch A */
	add_page(&t, 0x11000, SNP, IGVM_PAGE_DATA_NORMAL, 0, kat_data());
	add(&t, IGVM_VHT_PARAMETER_INSERT, &ins, sizeof(ins));
	add_page(&t, 0x12000, SNP, IGVM_PAGE_DATA_NORMAL, 0, kat_data()); /* B: new batch */
	add_vmsa(&t, VMSA_GPA, 0, vmsa);
	EXPECT_TRUE(finish_file(&t));

	struct events ev = { 0 };
	struct igvm_host host3 = host1;

	host3.vcpus = 3;
	EXPECT_TRUE(igvm_snp_launch(&t.f, &host3, record, &ev, &launch, &err));
	EXPECT_EQ(ev.n, 8);
	/* The insert's two pages first, unmeasured, holding the vCPU count the host wrote. */
	EXPECT_EQ(ev.ev[0].gpa, 0x80000);
	EXPECT_EQ(ev.ev[0].type, SNP_PAGE_UNMEASURED);
	EXPECT_EQ(load32(ev.data[0], 4), 3);
	EXPECT_EQ(ev.ev[1].gpa, 0x81000);
	EXPECT_EQ(ev.ev[2].gpa, 0x10000);
	EXPECT_EQ(ev.ev[3].gpa, 0x11000);
	EXPECT_EQ(ev.ev[4].gpa, 0x12000);
	/* Then one VMSA per vCPU: the file's, then the APs' reset state. */
	uint8_t reset[IGVM_PAGE];

	igvm_reset_vmsa(reset, SEV_FEATURE_SNP_ACTIVE, IGVM_VCPU_SIG_EPYC_V4);
	EXPECT_MEM(ev.data[5], vmsa, IGVM_PAGE);
	EXPECT_EQ(ev.ev[6].vp, 1);
	EXPECT_MEM(ev.data[6], reset, IGVM_PAGE);
	EXPECT_MEM(ev.data[7], reset, IGVM_PAGE);

	/* KVM applies the SEV features it is given to every vCPU. */
	host3.set_sev_features = true;
	host3.sev_features = 0x21;
	ev.n = 0;
	EXPECT_TRUE(igvm_snp_launch(&t.f, &host3, record, &ev, &launch, &err));
	EXPECT_EQ(load64(ev.data[5], VMSA_SEV_FEATURES_OFF), 0x21);
	EXPECT_EQ(load64(ev.data[7], VMSA_SEV_FEATURES_OFF), 0x21);
	drop(&t);
}

/* A file that must be refused at record `at` with exactly `message`. */
static void expect_refused(struct file *t, const struct igvm_host *h, uint32_t at,
			   const char *message)
{
	struct events ev = { 0 };
	struct igvm_error err;
	struct igvm_launch launch;

	EXPECT_TRUE(finish_file(t));
	EXPECT_TRUE(!igvm_snp_launch(&t->f, h, record, &ev, &launch, &err));
	EXPECT_EQ(err.offset, at);
	EXPECT_STR(err.message, message);
	drop(t);
}

TEST(measure_refuses_what_qemu_and_kvm_refuse)
{
	struct file t;
	uint8_t vmsa[IGVM_PAGE];
	uint32_t at = 0;

	start(&t); /* a field QEMU does not pass to KVM (virtual_tom) */
	good_vmsa(vmsa);
	vmsa[0x3C8] = 1;
	at = add_vmsa(&t, VMSA_GPA, 0, vmsa);
	expect_refused(&t, &host1, at,
		       "VMSA byte 0x3c8 is set but QEMU does not synchronise it with KVM (QEMU "
		       "refuses the file)");

	start(&t); /* KVM's VMSA address is fixed */
	good_vmsa(vmsa);
	at = add_vmsa(&t, 0xFFFFF000, 0, vmsa);
	expect_refused(&t, &host1, at, "VMSA gpa 0xfffff000: KVM's is 0xfffffffff000");

	start(&t); /* no SNPActive */
	good_vmsa(vmsa);
	store64(vmsa, VMSA_SEV_FEATURES_OFF, 0);
	at = add_vmsa(&t, VMSA_GPA, 0, vmsa);
	expect_refused(&t, &host1, at, "VMSA sev_features 0x0 lack SNPActive");

	start(&t); /* KVM sets EFER.SVME and CR4.MCE: a VMSA without either is refused */
	good_vmsa(vmsa);
	store64(vmsa, VMSA_EFER_OFF, 0);
	at = add_vmsa(&t, VMSA_GPA, 0, vmsa);
	expect_refused(&t, &host1, at, "VMSA lacks EFER.SVME, which KVM sets");
	start(&t);
	good_vmsa(vmsa);
	store64(vmsa, VMSA_CR4_OFF, 0);
	at = add_vmsa(&t, VMSA_GPA, 0, vmsa);
	expect_refused(&t, &host1, at, "VMSA lacks CR4.MCE, which KVM sets");

	start(&t); /* a VMSA for a vCPU the host does not have */
	good_vmsa(vmsa);
	at = add_vmsa(&t, VMSA_GPA, 1, vmsa);
	expect_refused(&t, &host1, at, "VP context for vCPU 1, but the host has 1");

	start(&t); /* a directive QEMU has no handler for */
	struct igvm_parameter_area area = { IGVM_PAGE, 1, 0 };
	struct igvm_parameter cl = { 1, 0 };

	add(&t, IGVM_VHT_PARAMETER_AREA, &area, sizeof(area));
	at = add(&t, IGVM_VHT_COMMAND_LINE, &cl, sizeof(cl));
	expect_refused(&t, &host1, at, "QEMU's loader has no handler for COMMAND_LINE");

	start(&t); /* a parameter area larger than the launch takes */
	struct igvm_parameter_area big = { (16ULL << 20) + IGVM_PAGE, 1, 0 };

	at = add(&t, IGVM_VHT_PARAMETER_AREA, &big, sizeof(big));
	expect_refused(&t, &host1, at, "PARAMETER_AREA 1: 0x1001000 bytes, more than 16 MiB");

	start(&t); /* no BSP context at all */
	add_page(&t, 0x0, SNP, IGVM_PAGE_DATA_NORMAL, 0, NULL);
	expect_refused(&t, &host1, 0, "no SEV-SNP VP context for vCPU 0");
}

/* A file whose native VP context is ctx (vCPU vp) must fail QEMU's native checks with
 * exactly message. */
static void expect_native_refused(const uint8_t *ctx, uint16_t vp, const char *message)
{
	struct file t;
	struct igvm_vp_context v = { 0, NATIVE, 0, vp, 0 };
	struct igvm_error err;

	start(&t);
	uint32_t at = add(&t, IGVM_VHT_VP_CONTEXT, &v, sizeof(v));

	EXPECT_TRUE(igvm_writer_add_data(t.w, 12, ctx, IGVM_PAGE, IGVM_PAGE));
	EXPECT_TRUE(finish_file(&t));
	EXPECT_TRUE(!igvm_native_check(&t.f, &err));
	EXPECT_EQ(err.offset, at);
	EXPECT_STR(err.message, message);
	drop(&t);
}

TEST(measure_native_check_refuses_what_qemu_refuses)
{
	uint8_t ctx[IGVM_PAGE] = { 0 };

	expect_native_refused(ctx, 1, "native VP context for vCPU 1: QEMU takes vCPU 0 only");
	ctx[IGVM_NATIVE_CTX_SIZE] = 1;
	expect_native_refused(ctx, 0, "native VP context: non-zero byte at 0xe8");
	ctx[IGVM_NATIVE_CTX_SIZE] = 0;
	ctx[IGVM_NATIVE_CODE_ATTR + 1] = 0x01;
	expect_native_refused(ctx, 0, "native code segment attributes 0x100: bits 11:8 set");
	ctx[IGVM_NATIVE_CODE_ATTR + 1] = 0;
	ctx[IGVM_NATIVE_DATA_ATTR + 1] = 0x0F;
	expect_native_refused(ctx, 0, "native data segment attributes 0xf00: bits 11:8 set");
}

TEST(measure_id_block_signs_and_is_checked)
{
	EVP_PKEY *id = EVP_EC_gen("P-384"), *author = EVP_EC_gen("P-384");
	uint8_t ld[SNP_DIGEST_SIZE], rec[IGVM_ID_BLOCK_SIZE];
	struct id_block_input in = { .guest_svn = 7, .mask = SNP };
	char why[160];

	memset(ld, 0x42, sizeof(ld));
	memset(in.family_id, 0xF1, sizeof(in.family_id));
	EXPECT_TRUE(id != NULL && author != NULL);
	EXPECT_TRUE(igvm_id_block_sign(ld, 0x30000, &in, id, NULL, rec, why, sizeof(why)));
	EXPECT_TRUE(igvm_id_block_check(rec, ld, 0x30000, why, sizeof(why)));
	EXPECT_EQ(load32(rec, 0), SNP);
	EXPECT_EQ(load32(rec, 92), 7);
	EXPECT_EQ(rec[56], 0xF1);
	/* Another digest, another policy, a changed block: refused. */
	ld[0] ^= 1;
	EXPECT_TRUE(!igvm_id_block_check(rec, ld, 0x30000, why, sizeof(why)));
	EXPECT_TRUE(strstr(why, "launch digest") != NULL);
	ld[0] ^= 1;
	EXPECT_TRUE(!igvm_id_block_check(rec, ld, 0x31000, why, sizeof(why)));
	EXPECT_TRUE(strstr(why, "does not verify") != NULL);
	rec[92] ^= 1; /* guest SVN */
	EXPECT_TRUE(!igvm_id_block_check(rec, ld, 0x30000, why, sizeof(why)));
	rec[92] ^= 1;

	/* With an author key: its signature covers the ID key. */
	EXPECT_TRUE(igvm_id_block_sign(ld, 0x30000, &in, id, author, rec, why, sizeof(why)));
	EXPECT_EQ(rec[4], 1);
	EXPECT_TRUE(igvm_id_block_check(rec, ld, 0x30000, why, sizeof(why)));
	rec[400 + 10] ^= 1; /* the author's R */
	EXPECT_TRUE(!igvm_id_block_check(rec, ld, 0x30000, why, sizeof(why)));
	EXPECT_TRUE(strstr(why, "author") != NULL);
	EVP_PKEY_free(id);
	EVP_PKEY_free(author);
}
