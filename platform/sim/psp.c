/* The simulated PSP. */
#include "psp.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <donjon/crypto.h>
#include <donjon/svsm_abi.h>

bool psp_init(struct sim_psp *psp)
{
	memset(psp, 0, sizeof(*psp));
	psp->policy = PSP_DEFAULT_POLICY;
	psp->chip_key = EVP_EC_gen("P-384");
	if (psp->chip_key == NULL || RAND_bytes(&psp->vmpck[0][0], sizeof(psp->vmpck)) != 1 ||
	    RAND_bytes(psp->report_id, sizeof(psp->report_id)) != 1) {
		psp_fini(psp);
		return false;
	}
	/* CHIP_ID: a stable identity derived from the chip key. */
	uint8_t pub[128];
	size_t pub_len = 0;

	if (EVP_PKEY_get_octet_string_param(psp->chip_key, "encoded-pub-key", pub, sizeof(pub),
					    &pub_len) != 1 ||
	    EVP_Digest(pub, pub_len, psp->chip_id, NULL, EVP_sha512(), NULL) != 1) {
		psp_fini(psp);
		return false;
	}
	return true;
}

void psp_fini(struct sim_psp *psp)
{
	EVP_PKEY_free(psp->chip_key);
	OPENSSL_cleanse(psp, sizeof(*psp));
}

void psp_measure_page(uint8_t ld[SNP_DIGEST_SIZE], enum snp_page_type type, uint64_t gpa,
		      const uint8_t *page)
{
	struct snp_page_info info;

	memset(&info, 0, sizeof(info));
	memcpy(info.digest_cur, ld, SNP_DIGEST_SIZE);
	if (type == SNP_PAGE_NORMAL || type == SNP_PAGE_VMSA) {
		(void)EVP_Digest(page, 4096, info.contents, NULL, EVP_sha384(), NULL);
	}
	info.length = sizeof(info);
	info.page_type = (uint8_t)type;
	info.gpa = gpa;
	(void)EVP_Digest(&info, sizeof(info), ld, NULL, EVP_sha384(), NULL);
}

void psp_reset_launch(struct sim_psp *psp)
{
	memset(psp->launch_digest, 0, sizeof(psp->launch_digest));
	memset(psp->msg_count, 0, sizeof(psp->msg_count));
	memset(psp->family_id, 0, sizeof(psp->family_id));
	memset(psp->image_id, 0, sizeof(psp->image_id));
	memset(psp->id_key_digest, 0, sizeof(psp->id_key_digest));
	memset(psp->author_key_digest, 0, sizeof(psp->author_key_digest));
	psp->author_key_en = false;
	psp->policy = PSP_DEFAULT_POLICY;
}

void psp_launch_update(struct sim_psp *psp, enum snp_page_type type, uint64_t gpa,
		       const uint8_t *page)
{
	psp_measure_page(psp->launch_digest, type, gpa, page);
}

void psp_fill_secrets(const struct sim_psp *psp, uint8_t *page)
{
	uint32_t version = PSP_SECRETS_VERSION;

	memset(page, 0, 4096);
	memcpy(page, &version, sizeof(version));
	for (unsigned k = 0; k < PSP_VMPCK_COUNT; k++) {
		memcpy(&page[SECRETS_VMPCK_OFF(k)], psp->vmpck[k], 32);
	}
}

/* AES-256-GCM with the message's sequence number as the IV (12 bytes, little-endian). */
static bool gcm(bool encrypt, const uint8_t key[32], uint64_t seqno, const uint8_t *aad,
		const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[SNP_AUTHTAG_SIZE])
{
	uint8_t iv[CRYPTO_GCM_IV_SIZE] = { 0 };

	memcpy(iv, &seqno, sizeof(seqno));
	return encrypt ? crypto_aes256gcm_seal(key, iv, aad, SNP_AAD_SIZE, in, len, out, tag)
		       : crypto_aes256gcm_open(key, iv, aad, SNP_AAD_SIZE, in, len, out, tag);
}

static bool sign_report(const struct sim_psp *psp, uint8_t *report)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[160];
	size_t der_len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	bool ok = false;

	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, psp->chip_key) != 1 ||
	    EVP_DigestSign(md, der, &der_len, report, SNP_REPORT_SIGNED_SIZE) != 1) {
		goto out_free;
	}
	const uint8_t *p = der;

	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (sig == NULL) {
		goto out_free;
	}
	/* R and S are little-endian, zero-padded to 72 bytes each. */
	ok = BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), report + SNP_REPORT_SIG_R_OFF,
			    SNP_REPORT_SIG_COMPONENT) == SNP_REPORT_SIG_COMPONENT &&
	     BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), report + SNP_REPORT_SIG_S_OFF,
			    SNP_REPORT_SIG_COMPONENT) == SNP_REPORT_SIG_COMPONENT;
out_free:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return ok;
}

/* Milan-style TCB: boot loader, TEE, SNP and microcode SVNs. */
#define PSP_TCB 0x2B00000000000307ULL
#define PSP_REPORT_VERSION 3U

static uint32_t build_report(const struct sim_psp *psp, const struct snp_report_req *req,
			     unsigned key_vmpl, struct snp_report_rsp *rsp)
{
	uint8_t *r = rsp->report;
	uint32_t u32 = 0;
	uint64_t tcb = PSP_TCB;

	memset(rsp, 0, sizeof(*rsp));
	/* The report's VMPL may not claim more privilege than the key's owner. */
	if (req->vmpl < key_vmpl || req->vmpl >= PSP_VMPCK_COUNT) {
		rsp->status = SNP_FW_INVALID_PARAM;
		return SNP_FW_SUCCESS;
	}
	for (size_t i = 0; i < sizeof(req->rsvd); i++) {
		if (req->rsvd[i] != 0U) {
			rsp->status = SNP_FW_INVALID_PARAM;
			return SNP_FW_SUCCESS;
		}
	}
	/* key_sel: 0 = VLEK if installed else VCEK, 1 = VCEK, 2 = VLEK (none installed). */
	if (req->key_sel > 2U) {
		rsp->status = SNP_FW_INVALID_PARAM;
		return SNP_FW_SUCCESS;
	}
	if (req->key_sel == 2U) {
		rsp->status = SNP_FW_INVALID_KEY;
		return SNP_FW_SUCCESS;
	}
	u32 = PSP_REPORT_VERSION;
	memcpy(r + SNP_REPORT_VERSION_OFF, &u32, 4);
	memcpy(r + SNP_REPORT_POLICY_OFF, &psp->policy, 8);
	memcpy(r + SNP_REPORT_VMPL_OFF, &req->vmpl, 4);
	u32 = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	memcpy(r + SNP_REPORT_SIG_ALGO_OFF, &u32, 4);
	memcpy(r + SNP_REPORT_CURRENT_TCB_OFF, &tcb, 8);
	memcpy(r + SNP_REPORT_FAMILY_ID_OFF, psp->family_id, sizeof(psp->family_id));
	memcpy(r + SNP_REPORT_IMAGE_ID_OFF, psp->image_id, sizeof(psp->image_id));
	/* SIGNER_INFO bit 0: AUTHOR_KEY_EN. */
	r[SNP_REPORT_SIGNER_INFO_OFF] = psp->author_key_en ? 1U : 0U;
	memcpy(r + SNP_REPORT_ID_KEY_DIGEST_OFF, psp->id_key_digest, SNP_DIGEST_SIZE);
	memcpy(r + SNP_REPORT_AUTHOR_KEY_DIGEST_OFF, psp->author_key_digest, SNP_DIGEST_SIZE);
	memcpy(r + SNP_REPORT_DATA_OFF, req->user_data, sizeof(req->user_data));
	memcpy(r + SNP_REPORT_MEASUREMENT_OFF, psp->launch_digest, SNP_DIGEST_SIZE);
	memcpy(r + SNP_REPORT_ID_OFF, psp->report_id, sizeof(psp->report_id));
	memcpy(r + SNP_REPORT_REPORTED_TCB_OFF, &tcb, 8);
	r[SNP_REPORT_CPUID_FMS_OFF] = 0x19;	/* family */
	r[SNP_REPORT_CPUID_FMS_OFF + 1] = 0x01; /* model */
	r[SNP_REPORT_CPUID_FMS_OFF + 2] = 0x01; /* stepping */
	memcpy(r + SNP_REPORT_CHIP_ID_OFF, psp->chip_id, sizeof(psp->chip_id));
	memcpy(r + SNP_REPORT_COMMITTED_TCB_OFF, &tcb, 8);
	memcpy(r + SNP_REPORT_LAUNCH_TCB_OFF, &tcb, 8);
	if (!sign_report(psp, r)) {
		return SNP_FW_INVALID_PARAM;
	}
	rsp->report_size = SNP_REPORT_SIZE;
	return SNP_FW_SUCCESS;
}

static bool key_usable(const uint8_t key[32])
{
	uint8_t acc = 0;

	for (unsigned i = 0; i < 32; i++) {
		acc |= key[i];
	}
	return acc != 0U;
}

uint32_t psp_guest_request(struct sim_psp *psp, const uint8_t *req, uint8_t *resp)
{
	struct snp_msg_hdr hdr;
	uint8_t plain[SNP_MSG_PAYLOAD_MAX + 16];
	uint8_t tag[SNP_AUTHTAG_SIZE];
	struct snp_report_req rreq;
	struct snp_report_rsp rrsp;

	memcpy(&hdr, req, sizeof(hdr));
	if (hdr.algo != SNP_AEAD_AES_256_GCM || hdr.hdr_version != SNP_MSG_HDR_VERSION ||
	    hdr.hdr_sz != sizeof(hdr) || hdr.msg_vmpck >= PSP_VMPCK_COUNT ||
	    hdr.msg_sz > SNP_MSG_PAYLOAD_MAX || !key_usable(psp->vmpck[hdr.msg_vmpck])) {
		return SNP_FW_INVALID_PARAM;
	}
	/* Each request must carry the next sequence number: no replay, no reordering. */
	if (hdr.msg_seqno != psp->msg_count[hdr.msg_vmpck] + 1U) {
		return SNP_FW_INVALID_PARAM;
	}
	memcpy(tag, hdr.authtag, sizeof(tag));
	if (!gcm(false, psp->vmpck[hdr.msg_vmpck], hdr.msg_seqno, req + SNP_AAD_OFFSET,
		 req + sizeof(hdr), hdr.msg_sz, plain, tag)) {
		return SNP_FW_INVALID_PARAM;
	}
	if (hdr.msg_type != SNP_MSG_REPORT_REQ || hdr.msg_version != 1U ||
	    hdr.msg_sz != sizeof(rreq)) {
		return SNP_FW_INVALID_PARAM;
	}
	memcpy(&rreq, plain, sizeof(rreq));
	uint32_t status = build_report(psp, &rreq, hdr.msg_vmpck, &rrsp);

	if (status != SNP_FW_SUCCESS) {
		return status;
	}
	struct snp_msg_hdr out = hdr;

	memset(out.authtag, 0, sizeof(out.authtag));
	out.msg_seqno = hdr.msg_seqno + 1U;
	out.msg_type = SNP_MSG_REPORT_RSP;
	out.msg_sz = sizeof(rrsp);
	memset(resp, 0, 4096);
	memcpy(resp, &out, sizeof(out));
	if (!gcm(true, psp->vmpck[hdr.msg_vmpck], out.msg_seqno, resp + SNP_AAD_OFFSET,
		 (const uint8_t *)&rrsp, sizeof(rrsp), resp + sizeof(out), tag)) {
		return SNP_FW_INVALID_PARAM;
	}
	memcpy(resp, tag, sizeof(tag));
	psp->msg_count[hdr.msg_vmpck] = out.msg_seqno;
	return SNP_FW_SUCCESS;
}

bool psp_export_chip_key(const struct sim_psp *psp, FILE *out)
{
	return PEM_write_PUBKEY(out, psp->chip_key) == 1;
}
