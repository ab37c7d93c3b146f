/* Donjon's own attestation report: an SNP guest message (MSG_REPORT_REQ) to the PSP,
 * encrypted with VMPCK0 from the SVSM's secrets page, as Linux's sev-guest driver does it.
 * The PSP takes each sequence number once; a response must carry the next one. A message
 * the host did not deliver, or an answer that is not the PSP's, erases VMPCK0 (spec sheet
 * svsm-abi.md 8.2; Linux's snp_disable_vmpck): the two sides may no longer agree on the
 * sequence numbers, and no later message may be sealed under the key. */
#include "svsm_internal.h"

#include <donjon/crypto.h>
#include <donjon/platform.h>
#include <donjon/snp.h>
#include <donjon/svsm_abi.h>

#include "attest/attest.h"
#include "attest/snp_msg.h"

/* The message pages the host carries to the PSP (on SNP: shared pages). Guarded by
 * svsm_lock. */
static uint8_t req_page[PAGE_SIZE];
static uint8_t resp_page[PAGE_SIZE];

/* Seal a MSG_REPORT_REQ for VMPL0 into req_page. */
static bool seal_request(const uint8_t key[32], const uint8_t user_data[64], uint64_t seqno)
{
	struct snp_report_req rq;

	__builtin_memset(&rq, 0, sizeof(rq));
	__builtin_memcpy(rq.user_data, user_data, sizeof(rq.user_data));
	return snp_msg_seal(key, 0, seqno, SNP_MSG_REPORT_REQ, &rq, sizeof(rq), req_page);
}

static gpa_t vmpck0_gpa(void)
{
	return gpa_init(gpa_val(svsm_cfg.secrets) + SECRETS_VMPCK_OFF(0));
}

static bool key_is_empty(const uint8_t key[SECRETS_VMPCK_SIZE])
{
	uint8_t any = 0;

	for (unsigned i = 0; i < SECRETS_VMPCK_SIZE; i++) {
		any |= key[i];
	}
	return any == 0U;
}

static void vmpck0_erase(void)
{
	static const uint8_t zero[SECRETS_VMPCK_SIZE];

	(void)svsmmem_copy_out(vmpck0_gpa(), zero, sizeof(zero));
}

enum svsm_report_result attest_report_locked(const uint8_t user_data[64],
					     uint8_t report[SNP_REPORT_SIZE], uint32_t *status)
{
	uint8_t key[SECRETS_VMPCK_SIZE];
	struct snp_report_rsp rsp;
	enum svsm_report_result res = SVSM_REPORT_BAD_RESPONSE;

	*status = 0;
	if (!svsmmem_copy_in(vmpck0_gpa(), key, sizeof(key)) || key_is_empty(key) ||
	    svsm_cfg.vmpck0_seqno > UINT64_MAX - 2U) {
		crypto_wipe(key, sizeof(key));
		return SVSM_REPORT_NO_KEY;
	}
	uint64_t seqno = svsm_cfg.vmpck0_seqno + 1U;

	if (!seal_request(key, user_data, seqno)) {
		res = SVSM_REPORT_NO_KEY;
		goto out;
	}
	/* The host sees the sealed request whatever it answers: both sequence numbers (the
	 * GCM IVs) are spent now, so no later message reuses them with this key. */
	svsm_cfg.vmpck0_seqno = seqno + 1U;
	*status = plat_guest_request(req_page, resp_page);
	if (*status != SNP_FW_SUCCESS) {
		/* The host says the PSP did not take it: the counts may now differ. */
		vmpck0_erase();
		res = SVSM_REPORT_FIRMWARE;
	} else if (!snp_msg_open(key, 0, seqno + 1U, SNP_MSG_REPORT_RSP, resp_page, &rsp,
				 sizeof(rsp))) {
		vmpck0_erase();
	} else {
		/* An authentic answer: the PSP's own status, whatever it is, leaves the key. */
		*status = rsp.status;
		if (rsp.status != SNP_FW_SUCCESS) {
			res = SVSM_REPORT_FIRMWARE;
		} else if (rsp.report_size == SNP_REPORT_SIZE) {
			__builtin_memcpy(report, rsp.report, SNP_REPORT_SIZE);
			res = SVSM_REPORT_OK;
		}
	}
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(&rsp, sizeof(rsp));
	return res;
}

enum svsm_report_result svsm_attest_report(const uint8_t user_data[64],
					   uint8_t report[SNP_REPORT_SIZE], uint32_t *status)
{
	spin_lock(&svsm_lock);
	enum svsm_report_result res = attest_report_locked(user_data, report, status);

	spin_unlock(&svsm_lock);
	return res;
}
