/* The SVSM attestation protocol (protocol 1, version 1; spec 58019 section 7):
 * SVSM_ATTEST_SERVICES and SVSM_ATTEST_SINGLE_SERVICE as Linux's configfs-tsm makes them.
 * Each handler runs with the core lock held (see svsm_internal.h). The operation
 * structure and the nonce are copied in once; the structure, then every buffer it names,
 * is checked before the PSP is asked, so a rejected call writes no guest memory and
 * spends no VMPCK0 sequence number. What Donjon chose where the spec leaves room is in
 * docs/spec-notes.md. */
#include <donjon/crypto.h>
#include <donjon/snp.h>
#include <donjon/svsm_abi.h>

#include "attest/attest.h"
#include "mm/guestmem.h"
#include "mm/pagestate.h"
#include "svsm_internal.h"

/* The manifest and the PSP's report of the call being handled. Guarded by the core lock. */
static uint8_t manifest[ATTEST_MANIFEST_MAX];
static uint8_t report[SNP_REPORT_SIZE];

/* A guest range the call names; length 0 names no memory. */
struct span {
	uint64_t base;
	uint64_t len;
};

static bool reserved_clear(const struct svsm_attest_single_op *op, bool single)
{
	const struct svsm_attest_services_op *s = &op->services;
	uint32_t any = s->reserved1 | s->reserved3 | s->reserved4 | (single ? op->reserved5 : 0U);

	for (unsigned i = 0; i < sizeof(s->reserved2); i++) {
		any |= s->reserved2[i];
	}
	return any == 0U;
}

/* Report, manifest and certificate buffers start on a page; one of size 0 names no
 * memory, so its gPA is not looked at. */
static bool buffer_aligned(uint64_t gpa, uint32_t size)
{
	return size == 0U || gpa_is_aligned(gpa_init(gpa), PAGE_SIZE);
}

/* What the structure alone must satisfy: reserved fields zero, manifest version 0, a
 * 64-byte nonce inside one page (as COCONUT-SVSM requires; Linux's is in practice), aligned
 * buffers. Every such error is INVALID_PARAMETER (spec Table 4 counts alignment there). */
static bool op_well_formed(const struct svsm_attest_single_op *op, bool single)
{
	const struct svsm_attest_services_op *s = &op->services;
	uint64_t nonce_off = s->nonce_gpa & (PAGE_SIZE - 1U);

	return reserved_clear(op, single) && (!single || op->manifest_version == 0U) &&
	       s->nonce_size == SVSM_ATTEST_NONCE_SIZE &&
	       nonce_off + SVSM_ATTEST_NONCE_SIZE <= PAGE_SIZE &&
	       buffer_aligned(s->report_gpa, s->report_size) &&
	       buffer_aligned(s->manifest_gpa, s->manifest_size) &&
	       buffer_aligned(s->cert_gpa, s->cert_size);
}

/* An output buffer, all of its declared size: ordinary guest memory the caller may write.
 * Guards the SVSM's pages, VMSAs, deposited pages and every calling area, the caller's
 * own too (its first bytes are the call's handshake). */
static bool output_usable(const struct svsm_call *call, uint64_t base, uint32_t size)
{
	gpa_t gpa = gpa_init(base);

	return size == 0U || (guestmem_writable(&call->view, gpa, size) &&
			      pagestate_range_owned_by(gpa, size, PAGE_GUEST));
}

/* Both ranges lie inside guest memory (checked before), so the sums cannot wrap. */
static bool spans_overlap(const struct span *a, const struct span *b)
{
	return a->len != 0U && b->len != 0U && a->base < b->base + b->len &&
	       b->base < a->base + a->len;
}

/* The outputs are usable, and no two of the operation structure, the nonce, the three
 * buffers and the caller's handshake bytes (call_pending, mem_available at the start of
 * its calling area) share a byte: what the SVSM writes can then change no input, and no
 * output another, and no input is read while the handshake changes it. The operation
 * structure and the nonce were read from guest memory already. */
static uint32_t buffers_check(const struct svsm_call *call, const struct span *op,
			      const struct svsm_attest_services_op *s)
{
	const struct span spans[] = {
		*op,
		{ gpa_val(call->view.own_caa), SVSM_CA_HEADER_SIZE },
		{ s->nonce_gpa, SVSM_ATTEST_NONCE_SIZE },
		{ s->report_gpa, s->report_size },
		{ s->manifest_gpa, s->manifest_size },
		{ s->cert_gpa, s->cert_size },
	};
	const unsigned count = sizeof(spans) / sizeof(spans[0]);

	if (!output_usable(call, s->report_gpa, s->report_size) ||
	    !output_usable(call, s->manifest_gpa, s->manifest_size) ||
	    !output_usable(call, s->cert_gpa, s->cert_size)) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	for (unsigned i = 0; i < count; i++) {
		for (unsigned j = i + 1U; j < count; j++) {
			if (spans_overlap(&spans[i], &spans[j])) {
				return SVSM_ERR_INVALID_PARAMETER;
			}
		}
	}
	return SVSM_SUCCESS;
}

/* The sizes Linux reads back: RCX the manifest's, RDX the certificates' (Donjon has none),
 * R8 the report's, exact on success and the ones needed when a buffer is too small. */
static void answer_sizes(struct svsm_regs *regs, uint32_t manifest_len)
{
	regs->rcx = manifest_len;
	regs->rdx = 0;
	regs->r8 = SNP_REPORT_SIZE;
}

/* REPORT_DATA = SHA-512(nonce || manifest) in a VMPL0 report from the PSP; then the
 * report and the manifest go to their buffers. Donjon has no host certificates to give:
 * the certificate buffer is never written and its size is 0. */
static uint32_t attest_and_answer(struct svsm_call *call, const struct svsm_attest_services_op *s,
				  const uint8_t nonce[SVSM_ATTEST_NONCE_SIZE],
				  uint32_t manifest_len)
{
	const struct crypto_span parts[] = {
		{ nonce, SVSM_ATTEST_NONCE_SIZE },
		{ manifest, manifest_len },
	};
	uint8_t report_data[CRYPTO_SHA512_SIZE];
	uint32_t status = 0;

	/* No key, a host that did not deliver, an answer that is not the PSP's or a PSP
	 * error: the SVSM cannot give a report, and writes nothing. */
	if (!crypto_sha512(parts, 2, report_data) ||
	    attest_report_locked(report_data, report, &status) != SVSM_REPORT_OK) {
		return SVSM_ERR_INVALID_REQUEST;
	}
	if (!guestmem_copy_out(&call->view, gpa_init(s->report_gpa), report, sizeof(report)) ||
	    !guestmem_copy_out(&call->view, gpa_init(s->manifest_gpa), manifest, manifest_len)) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	answer_sizes(call->regs, manifest_len);
	return SVSM_SUCCESS;
}

static uint32_t attest_call(struct svsm_call *call, bool single)
{
	struct svsm_attest_single_op op;
	const struct svsm_attest_services_op *s = &op.services;
	const struct span op_span = { call->regs->rcx, single ? sizeof(op) : sizeof(op.services) };
	uint8_t nonce[SVSM_ATTEST_NONCE_SIZE];
	uint32_t manifest_len = 0;

	__builtin_memset(&op, 0, sizeof(op));
	if (!gpa_is_aligned(gpa_init(op_span.base), 8)) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	/* Linux puts the structure in the caller's calling area, at CAA+8. */
	if (!guestmem_copy_in(&call->view, gpa_init(op_span.base), &op, op_span.len)) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	if (!op_well_formed(&op, single)) {
		return SVSM_ERR_INVALID_PARAMETER;
	}
	/* A GUID no service has: a well-formed request the SVSM cannot serve. */
	enum attest_manifest_result built =
		single ? attest_manifest_single(&attest_services, op.guid, manifest,
						sizeof(manifest), &manifest_len)
		       : attest_manifest_services(&attest_services, manifest, sizeof(manifest),
						  &manifest_len);

	if (built != ATTEST_MANIFEST_OK) {
		return SVSM_ERR_INVALID_REQUEST;
	}
	if (!guestmem_copy_in(&call->view, gpa_init(s->nonce_gpa), nonce, sizeof(nonce))) {
		return SVSM_ERR_INVALID_ADDRESS;
	}
	uint32_t result = buffers_check(call, &op_span, s);

	if (result != SVSM_SUCCESS) {
		return result;
	}
	/* Linux enlarges the buffers to the sizes returned with INVALID_PARAMETER and
	 * calls again. */
	if (s->report_size < SNP_REPORT_SIZE || s->manifest_size < manifest_len) {
		answer_sizes(call->regs, manifest_len);
		return SVSM_ERR_INVALID_PARAMETER;
	}
	return attest_and_answer(call, s, nonce, manifest_len);
}

uint32_t attest_protocol_call(struct svsm_call *call, uint32_t call_id)
{
	switch (call_id) {
	case SVSM_ATTEST_SERVICES:
		return attest_call(call, false);
	case SVSM_ATTEST_SINGLE_SERVICE:
		return attest_call(call, true);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}
