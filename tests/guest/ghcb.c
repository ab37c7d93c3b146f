/* The test guest as an SEV-SNP guest talks to its host: the GHCB MSR protocol (SEV
 * information, hypervisor features, GHCB registration, RUN_VMPL), the GHCB page (RUN_VMPL,
 * SNP guest requests), and its own attestation report: MSG_REPORT_REQ sealed with VMPCK2
 * from its secrets page, answered by the PSP model through the host. The report's lines on
 * the console let make test verify the chip's signature apart from Donjon's C. */
#include <donjon/bytes.h>
#include <donjon/crypto.h>
#include <donjon/ghcb.h>
#include <donjon/snp.h>

#include "arch/x86/cpu.h"
#include "attest/snp_msg.h"
#include "console.h"
#include "crypto_bearssl.h"
#include "guest.h"

#define GHCB_PAGE (SCRATCH + 0x60000ULL)
#define REQ_PAGE (SCRATCH + 0x61000ULL)
#define RESP_PAGE (SCRATCH + 0x62000ULL)
#define GUEST_VMPCK 2U

/* VMGEXIT with the GHCB MSR set to msr; the MSR's value afterwards. The calling-area
 * handshake, when the request is an SVSM call, is the caller's. */
static uint64_t vmgexit_msr(uint64_t msr, uint64_t *rax, uint64_t *rcx)
{
	wrmsr(GHCB_MSR, msr);
	__asm__ volatile("rep; vmmcall" : "+a"(*rax), "+c"(*rcx) : : "rdx", "r8", "r9", "memory");
	return rdmsr(GHCB_MSR);
}

static void ghcb_prepare(uint64_t code, uint64_t info1, uint64_t info2)
{
	write64(GHCB_PAGE + GHCB_SW_EXIT_CODE_OFF, code);
	write64(GHCB_PAGE + GHCB_SW_EXIT_INFO1_OFF, info1);
	write64(GHCB_PAGE + GHCB_SW_EXIT_INFO2_OFF, info2);
	*(volatile uint16_t *)ptr(GHCB_PAGE + GHCB_PROTOCOL_VERSION_OFF) = GHCB_PROTOCOL_VERSION;
	*(volatile uint32_t *)ptr(GHCB_PAGE + GHCB_USAGE_OFF) = 0;
	/* The valid bitmap: SW_EXITCODE and both SW_EXITINFOs (qwords 0x72 to 0x74). */
	write64(GHCB_PAGE + GHCB_VALID_BITMAP_OFF + 8U, 7ULL << (0x72U - 64U));
	write64(GHCB_PAGE + GHCB_VALID_BITMAP_OFF, 0);
}

/* SVSM_CORE_QUERY_PROTOCOL by RUN_VMPL, through the MSR protocol or the GHCB page. */
static bool query_by_run_vmpl(bool by_page)
{
	uint64_t rax = SVSM_CORE_QUERY_PROTOCOL, rcx = 1;
	uint64_t msr = by_page ? GHCB_PAGE : GHCB_MSR_RUN_VMPL_REQ;

	if (by_page) {
		ghcb_prepare(GHCB_EVENT_RUN_VMPL, 0, 0);
	}
	ptr(caa)[SVSM_CA_CALL_PENDING_OFF] = 1;
	uint64_t after = vmgexit_msr(msr, &rax, &rcx);
	uint8_t pending =
		__atomic_exchange_n(&ptr(caa)[SVSM_CA_CALL_PENDING_OFF], 0, __ATOMIC_SEQ_CST);
	bool answered = by_page ? read64(GHCB_PAGE + GHCB_SW_EXIT_INFO1_OFF) == 0U
				: after == GHCB_MSR_RUN_VMPL_RESP;

	return answered && pending == 0U && rax == SVSM_SUCCESS && rcx == 0x100000001ULL;
}

/* One MSG_REPORT_REQ for `vmpl` under VMPCK key_index with seqno: the host's status in
 * SW_EXITINFO2. */
static uint64_t report_request(unsigned key_index, uint64_t seqno, uint32_t vmpl,
			       const uint8_t nonce[64])
{
	struct snp_report_req rq;
	uint8_t key[32];
	uint64_t rax = 0, rcx = 0;

	__builtin_memset(&rq, 0, sizeof(rq));
	__builtin_memcpy(rq.user_data, nonce, sizeof(rq.user_data));
	rq.vmpl = vmpl;
	__builtin_memcpy(key, (const void *)ptr(GUEST_SECRETS + SECRETS_VMPCK_OFF(key_index)),
			 sizeof(key));
	if (!snp_msg_seal(key, (uint8_t)key_index, seqno, SNP_MSG_REPORT_REQ, &rq, sizeof(rq),
			  (uint8_t *)ptr(REQ_PAGE))) {
		return ~0ULL;
	}
	ghcb_prepare(GHCB_EVENT_GUEST_REQUEST, REQ_PAGE, RESP_PAGE);
	(void)vmgexit_msr(GHCB_PAGE, &rax, &rcx);
	return read64(GHCB_PAGE + GHCB_SW_EXIT_INFO2_OFF);
}

static bool open_report(uint64_t seqno, struct snp_report_rsp *rsp)
{
	uint8_t key[32];

	__builtin_memcpy(key, (const void *)ptr(GUEST_SECRETS + SECRETS_VMPCK_OFF(GUEST_VMPCK)),
			 sizeof(key));
	return snp_msg_open(key, GUEST_VMPCK, seqno, SNP_MSG_REPORT_RSP,
			    (const uint8_t *)ptr(RESP_PAGE), rsp, sizeof(*rsp));
}

void check_ghcb_and_own_report(void)
{
	static struct snp_report_rsp rsp;
	uint8_t nonce[64];
	uint64_t rax = 0, rcx = 0;
	uint32_t r[4];

	cpuid(1, 0, r);
	crypto_bearssl_init(r[2]);
	for (unsigned i = 0; i < sizeof(nonce); i++) {
		nonce[i] = (uint8_t)(0x40U + i);
	}
	CHECK(validate_4k(GHCB_PAGE, 3));
	uint64_t info = vmgexit_msr(GHCB_MSR_SEV_INFO_REQ, &rax, &rcx);

	CHECK((info & GHCB_MSR_FUNC_MASK) == GHCB_MSR_SEV_INFO_RESP && info >> 48 == 2U &&
	      (info >> 32 & 0xFFFFU) == 2U);
	uint64_t features = vmgexit_msr(GHCB_MSR_HV_FEATURES_REQ, &rax, &rcx);

	CHECK((features & GHCB_MSR_FUNC_MASK) == GHCB_MSR_HV_FEATURES_RESP &&
	      (features >> 12 & (GHCB_HV_FEATURE_SNP | GHCB_HV_FEATURE_MULTI_VMPL)) ==
		      (GHCB_HV_FEATURE_SNP | GHCB_HV_FEATURE_MULTI_VMPL));
	CHECK(vmgexit_msr(GHCB_PAGE | GHCB_MSR_REG_GPA_REQ, &rax, &rcx) ==
	      (GHCB_PAGE | GHCB_MSR_REG_GPA_RESP));
	CHECK(query_by_run_vmpl(false));
	CHECK(query_by_run_vmpl(true));
	/* The guest's own report: VMPL 2, its nonce as REPORT_DATA. */
	CHECK(report_request(GUEST_VMPCK, 1, 2, nonce) == 0U);
	CHECK(open_report(2, &rsp) && rsp.status == SNP_FW_SUCCESS &&
	      rsp.report_size == SNP_REPORT_SIZE);
	CHECK(load32(rsp.report, SNP_REPORT_VMPL_OFF) == 2U);
	CHECK(__builtin_memcmp(rsp.report + SNP_REPORT_DATA_OFF, nonce, sizeof(nonce)) == 0);
	print_hex("guest-report", rsp.report, SNP_REPORT_SIZE);
	/* VMPCK2 may not ask for a VMPL1 report: an authentic refusal. */
	CHECK(report_request(GUEST_VMPCK, 3, 1, nonce) == 0U);
	CHECK(open_report(4, &rsp) && rsp.status == SNP_FW_INVALID_PARAM);
	/* A replayed sequence number, and VMPCK0 (the guest's copy is zero), are refused
	 * by the PSP before it answers. */
	CHECK(report_request(GUEST_VMPCK, 3, 2, nonce) == SNP_FW_INVALID_PARAM);
	CHECK(report_request(0, 1, 2, nonce) == SNP_FW_INVALID_PARAM);
	/* Back to bare VMMCALLs for the checks that follow. */
	wrmsr(GHCB_MSR, 0);
	CHECK(call(SVSM_CORE_QUERY_PROTOCOL, 1, 0, 0).rcx == 0x100000001ULL);
}
