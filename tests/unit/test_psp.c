/* The simulated PSP: launch-digest known answers (spec sheet igvm-and-measurement.md
 * 3.4), SNP guest messages, and reports that verify against the exported chip key. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "helpers.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		EXPECT_EQ(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

TEST(psp_launch_digest_known_answers)
{
	static const char *const want[] = {
		"9d13634b6014bb21cf059b2dc694e7bff01a8a7137041100cd2b695f3d10fb687267b97808b27f8f4"
		"71d943bc6f53a20",
		"7c35ae2237e0054a069ac1c26c70dd502bd970d871cfa2122f5df7a0060afbf4599ac4d1b24111141"
		"2122ec6b8d06f47",
		"4a367fe6fb24a61031212814c6269bf2ad3ebb2265d421768b77fd89071f7f3c1475411c940773b0a"
		"ad8be19255e419a",
		"fb7c89d1c8e45f17c5a11872ebb8c9ce8bace196727873006654dd15510eb371198bf047ca5924438"
		"01e4e08b5b4e079",
		"d11469579b8baac60b41cf97008daf1d67d7023bf497aa7cf5c605289477bfa2a5d7b2c165e234a6b"
		"860757b5127c67a",
		"ea809dc9b8b61e5ac62339eb947236cb16b4531a5ea36ba1a41a2e4885e72b0eeaece5fee677826d8"
		"bab14dfecfedce2",
		"30e5aaa46fa3c5026b65853ec6f77c25a5abdb5125f25d872077ba0e95edffdd70d310d14911b1861"
		"ec504fac8513bd7",
	};
	static const uint8_t zero[4096] = { 0 };
	static uint8_t pattern[4096];
	uint8_t ld[SNP_DIGEST_SIZE] = { 0 };
	uint8_t expect[SNP_DIGEST_SIZE];

	for (unsigned i = 0; i < 4096; i++) {
		pattern[i] = (uint8_t)((7U * i + 3U) & 0xFFU);
	}
	const struct {
		enum snp_page_type type;
		uint64_t gpa;
		const uint8_t *page;
	} steps[] = {
		{ SNP_PAGE_NORMAL, 0x0, zero },
		{ SNP_PAGE_NORMAL, 0x1000, pattern },
		{ SNP_PAGE_ZERO, 0x2000, NULL },
		{ SNP_PAGE_UNMEASURED, 0x3000, NULL },
		{ SNP_PAGE_SECRETS, 0x4000, NULL },
		{ SNP_PAGE_CPUID, 0x5000, NULL },
		{ SNP_PAGE_VMSA, SNP_VMSA_MEASURE_GPA, zero },
	};
	for (unsigned i = 0; i < 7; i++) {
		psp_measure_page(ld, steps[i].type, steps[i].gpa, steps[i].page);
		unhex(want[i], expect, sizeof(expect));
		EXPECT_MEM(ld, expect, sizeof(expect));
	}
}

/* The launch digest of a machine depends on its vCPU count (one VMSA each). */
TEST(psp_machine_measurement_is_reproducible)
{
	struct sim_machine *a = t_machine(32ULL << 20, 1);
	uint8_t first[SNP_DIGEST_SIZE];

	memcpy(first, a->psp.launch_digest, sizeof(first));
	sim_destroy(a);
	a = t_machine(32ULL << 20, 1);
	EXPECT_MEM(a->psp.launch_digest, first, sizeof(first));
	sim_destroy(a);
	a = t_machine(32ULL << 20, 2);
	EXPECT_TRUE(memcmp(a->psp.launch_digest, first, sizeof(first)) != 0);
	sim_destroy(a);
}

static void gcm(bool enc, const uint8_t *key, uint64_t seqno, const uint8_t *aad, const uint8_t *in,
		int len, uint8_t *out, uint8_t *tag)
{
	uint8_t iv[12] = { 0 };
	int n = 0;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	memcpy(iv, &seqno, 8);
	EXPECT_EQ(EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv, enc), 1);
	EXPECT_EQ(EVP_CipherUpdate(c, NULL, &n, aad, SNP_AAD_SIZE), 1);
	EXPECT_EQ(EVP_CipherUpdate(c, out, &n, in, len), 1);
	if (!enc) {
		EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
	}
	EXPECT_EQ(EVP_CipherFinal_ex(c, out + len, &n), 1);
	if (enc) {
		EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
	}
	EVP_CIPHER_CTX_free(c);
}

static void build_request(uint8_t *page, const uint8_t *key, unsigned vmpck, uint64_t seqno,
			  const struct snp_report_req *rreq)
{
	struct snp_msg_hdr hdr;

	memset(&hdr, 0, sizeof(hdr));
	memset(page, 0, 4096);
	hdr.msg_seqno = seqno;
	hdr.algo = SNP_AEAD_AES_256_GCM;
	hdr.hdr_version = 1;
	hdr.hdr_sz = sizeof(hdr);
	hdr.msg_type = SNP_MSG_REPORT_REQ;
	hdr.msg_version = 1;
	hdr.msg_sz = sizeof(*rreq);
	hdr.msg_vmpck = (uint8_t)vmpck;
	memcpy(page, &hdr, sizeof(hdr));
	gcm(true, key, seqno, page + SNP_AAD_OFFSET, (const uint8_t *)rreq, sizeof(*rreq),
	    page + sizeof(hdr), page);
}

TEST(psp_report_request_round_trip_and_signature)
{
	struct sim_machine *m = t_machine(32ULL << 20, 1);
	static uint8_t req[4096], resp[4096];
	struct snp_report_req rreq;
	struct snp_report_rsp rrsp;
	struct snp_msg_hdr rhdr;

	memset(&rreq, 0, sizeof(rreq));
	memset(rreq.user_data, 0x5A, sizeof(rreq.user_data));
	build_request(req, m->psp.vmpck[0], 0, 1, &rreq);
	EXPECT_EQ(psp_guest_request(&m->psp, req, resp), SNP_FW_SUCCESS);
	memcpy(&rhdr, resp, sizeof(rhdr));
	EXPECT_EQ(rhdr.msg_seqno, 2);
	EXPECT_EQ(rhdr.msg_type, SNP_MSG_REPORT_RSP);
	EXPECT_EQ(rhdr.msg_sz, sizeof(rrsp));
	gcm(false, m->psp.vmpck[0], 2, resp + SNP_AAD_OFFSET, resp + sizeof(rhdr), sizeof(rrsp),
	    (uint8_t *)&rrsp, resp);
	EXPECT_EQ(rrsp.status, 0);
	EXPECT_EQ(rrsp.report_size, SNP_REPORT_SIZE);
	EXPECT_MEM(rrsp.report + SNP_REPORT_DATA_OFF, rreq.user_data, 64);
	EXPECT_MEM(rrsp.report + SNP_REPORT_MEASUREMENT_OFF, m->psp.launch_digest, 48);
	EXPECT_EQ(*(uint32_t *)(rrsp.report + SNP_REPORT_VMPL_OFF), 0);
	EXPECT_EQ(*(uint32_t *)(rrsp.report + SNP_REPORT_SIG_ALGO_OFF), 1);

	/* The exported PEM key verifies the report, and a changed report fails. */
	EXPECT_TRUE(t_report_verifies(m, rrsp.report));
	rrsp.report[SNP_REPORT_DATA_OFF] ^= 1;
	EXPECT_TRUE(!t_report_verifies(m, rrsp.report));

	/* A replayed request is refused; the next sequence number is accepted. */
	EXPECT_EQ(psp_guest_request(&m->psp, req, resp), SNP_FW_INVALID_PARAM);
	build_request(req, m->psp.vmpck[0], 0, 3, &rreq);
	req[0x70] ^= 1; /* ciphertext tampered */
	EXPECT_EQ(psp_guest_request(&m->psp, req, resp), SNP_FW_INVALID_PARAM);
	build_request(req, m->psp.vmpck[0], 0, 3, &rreq);
	EXPECT_EQ(psp_guest_request(&m->psp, req, resp), SNP_FW_SUCCESS);
	sim_destroy(m);
}

TEST(psp_report_vmpl_cannot_exceed_key_privilege)
{
	struct sim_machine *m = t_machine(32ULL << 20, 1);
	static uint8_t req[4096], resp[4096];
	struct snp_report_req rreq;
	struct snp_report_rsp rrsp;

	memset(&rreq, 0, sizeof(rreq));
	rreq.vmpl = 1; /* VMPCK2 asks for a VMPL1 report */
	build_request(req, m->psp.vmpck[2], 2, 1, &rreq);
	EXPECT_EQ(psp_guest_request(&m->psp, req, resp), SNP_FW_SUCCESS);
	gcm(false, m->psp.vmpck[2], 2, resp + SNP_AAD_OFFSET, resp + 0x60, sizeof(rrsp),
	    (uint8_t *)&rrsp, resp);
	EXPECT_EQ(rrsp.status, SNP_FW_INVALID_PARAM);
	EXPECT_EQ(rrsp.report_size, 0);
	/* A key of the wrong VMPCK index does not authenticate. */
	rreq.vmpl = 2;
	build_request(req, m->psp.vmpck[3], 2, 3, &rreq);
	EXPECT_EQ(psp_guest_request(&m->psp, req, resp), SNP_FW_INVALID_PARAM);
	sim_destroy(m);
}

/* Donjon's own report through a host that attacks the SNP guest message: a response that
 * does not authenticate, a message never delivered, a replayed answer. Each fails, and
 * each erases VMPCK0 from the SVSM's secrets page (spec sheet svsm-abi.md 8.2), so no
 * later message is sealed under a key whose sequence numbers the two sides may no longer
 * share; the PSP's own copy is untouched. */
TEST(svsm_report_erases_vmpck0_after_a_bad_answer)
{
	static const enum sim_host_tamper attacks[] = { SIM_HOST_FLIP_RESPONSE, SIM_HOST_DROP,
							SIM_HOST_REPLAY };
	static const uint8_t zero[32];
	uint8_t nonce[64] = { 1 }, report[SNP_REPORT_SIZE];
	uint32_t status = 0;

	for (unsigned i = 0; i < 3; i++) {
		struct sim_machine *m = t_machine(32ULL << 20, 1);

		EXPECT_EQ(svsm_attest_report(nonce, report, &status), SVSM_REPORT_OK);
		EXPECT_TRUE(memcmp(m->mem + SIM_SECRETS + SECRETS_VMPCK_OFF(0), zero, 32) != 0);
		m->host_tamper = attacks[i];
		EXPECT_EQ(svsm_attest_report(nonce, report, &status),
			  attacks[i] == SIM_HOST_DROP ? SVSM_REPORT_FIRMWARE
						      : SVSM_REPORT_BAD_RESPONSE);
		EXPECT_MEM(m->mem + SIM_SECRETS + SECRETS_VMPCK_OFF(0), zero, 32);
		EXPECT_TRUE(memcmp(m->psp.vmpck[0], zero, 32) != 0);
		/* With the host honest again, there is no key left to ask with. */
		m->host_tamper = SIM_HOST_FORWARD;
		EXPECT_EQ(svsm_attest_report(nonce, report, &status), SVSM_REPORT_NO_KEY);
		sim_destroy(m);
	}
}
