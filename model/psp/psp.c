/* The PSP model. */
#include "psp.h"

#include <string.h>

#include <donjon/chip_cert.h>
#include <donjon/svsm_abi.h>

bool psp_init(struct psp *psp, const char *chip_id_prefix)
{
	struct crypto_span pub = { NULL, CRYPTO_P384_POINT_SIZE };

	memset(psp, 0, sizeof(*psp));
	psp->policy = PSP_DEFAULT_POLICY;
	pub.data = psp->chip_pub;
	/* CHIP_ID: a stable identity derived from the chip key. */
	if (!crypto_p384_keygen(psp->chip_priv, psp->chip_pub) ||
	    !crypto_random(&psp->vmpck[0][0], sizeof(psp->vmpck)) ||
	    !crypto_random(psp->report_id, sizeof(psp->report_id)) ||
	    !crypto_sha512(&pub, 1, psp->chip_id)) {
		psp_fini(psp);
		return false;
	}
	for (size_t i = 0;
	     chip_id_prefix != NULL && chip_id_prefix[i] != '\0' && i < sizeof(psp->chip_id); i++) {
		psp->chip_id[i] = (uint8_t)chip_id_prefix[i];
	}
	return true;
}

/* The root's private scalar: SHA-384 of a fixed string (below the curve's order with
 * probability 1 - 2^-190, and crypto_p384_public checks it). */
static bool root_private(uint8_t priv[CRYPTO_P384_SCALAR_SIZE])
{
	static const char seed[] = "donjon model: the simulated manufacturer's root key, public";
	struct crypto_span s = { seed, sizeof(seed) - 1U };

	return crypto_sha384(&s, 1, priv);
}

bool psp_root_public(uint8_t pub[CRYPTO_P384_POINT_SIZE])
{
	uint8_t priv[CRYPTO_P384_SCALAR_SIZE];
	bool ok = root_private(priv) && crypto_p384_public(priv, pub);

	crypto_wipe(priv, sizeof(priv));
	return ok;
}

bool psp_chip_endorsement(const struct psp *psp, uint8_t sig[CRYPTO_P384_SIG_SIZE])
{
	uint8_t priv[CRYPTO_P384_SCALAR_SIZE];
	uint8_t digest[CRYPTO_SHA384_SIZE];
	bool ok = root_private(priv) &&
		  chip_endorsement_digest(psp->chip_id, psp->chip_pub, digest) &&
		  crypto_ecdsa_p384_sign(priv, digest, sig);

	crypto_wipe(priv, sizeof(priv));
	return ok;
}

void psp_fini(struct psp *psp)
{
	crypto_wipe(psp, sizeof(*psp));
}

void psp_measure_page(uint8_t ld[SNP_DIGEST_SIZE], enum snp_page_type type, uint64_t gpa,
		      const uint8_t *page)
{
	struct snp_page_info info;
	struct crypto_span part = { page, 4096 };

	memset(&info, 0, sizeof(info));
	memcpy(info.digest_cur, ld, SNP_DIGEST_SIZE);
	if (type == SNP_PAGE_NORMAL || type == SNP_PAGE_VMSA) {
		(void)crypto_sha384(&part, 1, info.contents);
	}
	info.length = sizeof(info);
	info.page_type = (uint8_t)type;
	info.gpa = gpa;
	part = (struct crypto_span){ &info, sizeof(info) };
	(void)crypto_sha384(&part, 1, ld);
}

void psp_reset_launch(struct psp *psp)
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

void psp_launch_update(struct psp *psp, enum snp_page_type type, uint64_t gpa, const uint8_t *page)
{
	psp_measure_page(psp->launch_digest, type, gpa, page);
}

void psp_fill_secrets(const struct psp *psp, uint8_t *page)
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

static bool sign_report(const struct psp *psp, uint8_t *report)
{
	struct crypto_span signed_part = { report, SNP_REPORT_SIGNED_SIZE };
	uint8_t digest[CRYPTO_SHA384_SIZE];
	uint8_t sig[CRYPTO_P384_SIG_SIZE];

	if (!crypto_sha384(&signed_part, 1, digest) ||
	    !crypto_ecdsa_p384_sign(psp->chip_priv, digest, sig)) {
		return false;
	}
	/* R and S are little-endian, zero-padded to 72 bytes each (the signature is r || s,
	 * big-endian). */
	memset(report + SNP_REPORT_SIG_R_OFF, 0, SNP_REPORT_SIG_COMPONENT);
	memset(report + SNP_REPORT_SIG_S_OFF, 0, SNP_REPORT_SIG_COMPONENT);
	for (unsigned i = 0; i < CRYPTO_P384_SCALAR_SIZE; i++) {
		report[SNP_REPORT_SIG_R_OFF + i] = sig[CRYPTO_P384_SCALAR_SIZE - 1U - i];
		report[SNP_REPORT_SIG_S_OFF + i] = sig[CRYPTO_P384_SIG_SIZE - 1U - i];
	}
	return true;
}

/* Milan-style TCB: boot loader, TEE, SNP and microcode SVNs. */
#define PSP_TCB 0x2B00000000000307ULL
#define PSP_REPORT_VERSION 3U

static uint32_t build_report(const struct psp *psp, const struct snp_report_req *req,
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

uint32_t psp_guest_request(struct psp *psp, const uint8_t *req, uint8_t *resp)
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
