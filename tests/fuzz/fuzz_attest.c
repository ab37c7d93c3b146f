/* libFuzzer target over the attestation request path: on a freshly launched machine whose
 * guest validated 16 pages (0x200000-0x20ffff, one of them deposited), a sequence of
 * SVSM_ATTEST_SERVICES / SINGLE_SERVICE calls with fuzzed operation structures (at CAA+8,
 * across page boundaries, in ordinary, Donjon's or another vCPU's memory) naming fuzzed
 * buffers (Donjon's memory, calling areas, VMSAs, the deposited page, page boundaries,
 * overlapping each other, huge or wrapping lengths), between fuzzed guest writes and core
 * calls that move calling areas and validate, rescind or deposit those pages.
 *
 * After each call: the RMP is unchanged; a refused call wrote none of the guest's pages
 * and spent no PSP sequence number, and left RCX/RDX/R8 as passed unless it asked for
 * larger buffers (RCX 24, RDX 0, R8 0x4A0); a successful one wrote only the report and the
 * manifest, answered exact sizes and spent one message, with REPORT_DATA = SHA-512(nonce
 * || manifest) and VMPL 0. After each input: fuzz_check_machine. */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include <donjon/svsm_abi.h>

#include "fuzz_common.h"

#define MEM (16ULL << 20)
#define VCPUS 2U
#define MAX_OPS 24U
#define BUF 0x200000ULL
#define BUF_PAGES 16U
#define DEPOSITED (BUF + 15 * PAGE_SIZE)
#define MANIFEST_SIZE 24U /* Donjon's: the bare header */

static struct sim_machine *m;

/* The guest pages an SVSM call could write (the validated ones): the buffer pages, the
 * calling areas of launch, the guest's secrets page. Their bytes before a call. */
#define WATCHED (BUF_PAGES + VCPUS + 1U)
static uint8_t before[WATCHED][PAGE_SIZE];
static struct rmp_entry rmp_before[MEM >> PAGE_SHIFT];

static uint64_t watched_page(unsigned i)
{
	return fuzz_watched_page(i, BUF, BUF_PAGES, VCPUS);
}

static uint64_t pick_gpa(struct input *in, unsigned vcpu)
{
	return fuzz_pick_gpa(in, BUF, BUF_PAGES, DEPOSITED, MEM, vcpu);
}

/* A size: none, what Donjon needs and one byte less, Linux's, several pages, huge. */
static uint32_t pick_size(struct input *in)
{
	static const uint32_t sizes[] = { 0,
					  1,
					  MANIFEST_SIZE - 1U,
					  MANIFEST_SIZE,
					  0x49F,
					  0x4A0,
					  0x1000,
					  0x1001,
					  0x2000,
					  0x4000,
					  0x10000,
					  0xFFFFFFFFU };
	uint64_t sel = take(in, 1);

	return sel < 0xF0U ? sizes[sel % (sizeof(sizes) / sizeof(sizes[0]))]
			   : (uint32_t)take(in, 4);
}

/* Linux's structure (report, manifest and 16K of certificates from BUF, the nonce after
 * them) with up to three fields changed, or every field fuzzed; sometimes a reserved or
 * single-service byte, or the manifest version, set too. */
static void fuzz_op(struct input *in, unsigned vcpu, struct svsm_attest_single_op *op)
{
	struct svsm_attest_services_op *s = &op->services;
	uint64_t flags = take(in, 1);
	unsigned changes = (flags & 3U) != 0U ? (unsigned)(flags >> 6) : 8U;

	memset(op, 0, sizeof(*op));
	*s = (struct svsm_attest_services_op){
		.report_gpa = BUF,
		.report_size = 0x1000,
		.nonce_gpa = BUF + 6 * PAGE_SIZE,
		.nonce_size = SVSM_ATTEST_NONCE_SIZE,
		.manifest_gpa = BUF + PAGE_SIZE,
		.manifest_size = 0x1000,
		.cert_gpa = BUF + 2 * PAGE_SIZE,
		.cert_size = 0x4000,
	};
	for (unsigned i = 0; i < changes; i++) {
		switch ((changes == 8U ? i : take(in, 1)) % 8U) {
		case 0:
			s->report_gpa = pick_gpa(in, vcpu);
			break;
		case 1:
			s->report_size = pick_size(in);
			break;
		case 2:
			s->nonce_gpa = pick_gpa(in, vcpu);
			break;
		case 3:
			s->nonce_size = (uint16_t)take(in, 2);
			break;
		case 4:
			s->manifest_gpa = pick_gpa(in, vcpu);
			break;
		case 5:
			s->manifest_size = pick_size(in);
			break;
		case 6:
			s->cert_gpa = pick_gpa(in, vcpu);
			break;
		default:
			s->cert_size = pick_size(in);
			break;
		}
	}
	if ((flags & 4U) != 0U) {
		/* One byte anywhere after the report gPA: reserved, GUID, version. */
		((uint8_t *)op)[8 + take(in, 1) % (sizeof(*op) - 8U)] = (uint8_t)take(in, 1);
	}
	if ((flags & 8U) != 0U) {
		op->manifest_version = (uint32_t)take(in, 1);
	}
}

/* The watched pages and the RMP before a call from vcpu. The call's handshake leaves
 * call_pending 0 in its calling area, whatever the guest had written there. */
static void snapshot(unsigned vcpu)
{
	uint64_t caa = gpa_val(m->vcpus[vcpu].caa);

	for (unsigned i = 0; i < WATCHED; i++) {
		memcpy(before[i], m->mem + watched_page(i), PAGE_SIZE);
		if (caa == watched_page(i)) {
			before[i][SVSM_CA_CALL_PENDING_OFF] = 0;
		}
	}
	memcpy(rmp_before, m->rmp, sizeof(rmp_before));
}

/* Bytes of watched pages that differ from the snapshot lie only in [a, a + a_len) and
 * [b, b + b_len). */
static bool written_only(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	for (unsigned i = 0; i < WATCHED; i++) {
		uint64_t page = watched_page(i);

		for (uint64_t o = 0; o < PAGE_SIZE; o++) {
			uint64_t g = page + o;

			if (m->mem[g] != before[i][o] && !(g - a < a_len) && !(g - b < b_len)) {
				return false;
			}
		}
	}
	return true;
}

/* The nonce as it was before the call (the guest's nonce page is watched). */
static bool nonce_before(uint64_t gpa, uint8_t nonce[SVSM_ATTEST_NONCE_SIZE])
{
	for (unsigned i = 0; i < WATCHED; i++) {
		uint64_t page = watched_page(i);

		if (gpa - page <= PAGE_SIZE - SVSM_ATTEST_NONCE_SIZE) {
			memcpy(nonce, &before[i][gpa - page], SVSM_ATTEST_NONCE_SIZE);
			return true;
		}
	}
	return false;
}

/* Every page of [gpa, gpa + len) the guest may access as `need` says, by the RMP, and
 * none of them a calling area but `own_caa`. */
static bool guest_may(uint64_t gpa, uint64_t len, uint8_t need, uint64_t own_caa)
{
	uint64_t end = 0;

	if (len == 0U) {
		return true;
	}
	if (__builtin_add_overflow(gpa, len, &end) || end > MEM) {
		return false;
	}
	for (uint64_t p = gpa & ~(PAGE_SIZE - 1U); p < end; p += PAGE_SIZE) {
		const struct rmp_entry *e = &m->rmp[p >> PAGE_SHIFT];

		for (unsigned v = 0; v < VCPUS; v++) {
			if (gpa_val(m->vcpus[v].caa) == p && p != own_caa) {
				return false;
			}
		}
		if (!e->validated || (e->perms[SIM_GUEST_VMPL] & need) != need) {
			return false;
		}
	}
	return true;
}

static bool overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	return a_len != 0U && b_len != 0U && a < b + b_len && b < a + a_len;
}

/* What a successful call must have been given: the buffers ordinary memory the guest may
 * write, the structure and the nonce memory it may read (its own calling area too), no two
 * of them, nor the calling area's handshake bytes, sharing a byte. Checked against the RMP
 * and the guest's calling areas, not Donjon's tracking. */
static bool request_was_sound(const struct svsm_attest_services_op *s, uint64_t at, uint64_t op_len,
			      uint64_t caa)
{
	const uint64_t base[] = {
		at, caa, s->nonce_gpa, s->report_gpa, s->manifest_gpa, s->cert_gpa,
	};
	const uint64_t len[] = {
		op_len,		SVSM_CA_HEADER_SIZE, SVSM_ATTEST_NONCE_SIZE,
		s->report_size, s->manifest_size,    s->cert_size,
	};
	uint8_t rw = RMP_PERM_READ | RMP_PERM_WRITE;

	if (!guest_may(s->report_gpa, s->report_size, rw, ~0ULL) ||
	    !guest_may(s->manifest_gpa, s->manifest_size, rw, ~0ULL) ||
	    !guest_may(s->cert_gpa, s->cert_size, rw, ~0ULL) ||
	    !guest_may(at, op_len, RMP_PERM_READ, caa) ||
	    !guest_may(s->nonce_gpa, SVSM_ATTEST_NONCE_SIZE, RMP_PERM_READ, caa)) {
		return false;
	}
	for (unsigned i = 0; i < 6; i++) {
		for (unsigned j = i + 1U; j < 6; j++) {
			if (overlap(base[i], len[i], base[j], len[j])) {
				return false;
			}
		}
	}
	return true;
}

static void check_success(const struct svsm_attest_services_op *s, const struct svsm_regs *r,
			  uint64_t at, uint64_t op_len, uint64_t caa)
{
	uint8_t hashed[SVSM_ATTEST_NONCE_SIZE + MANIFEST_SIZE], want[64];
	uint32_t vmpl = ~0U;

	if (r->rcx != MANIFEST_SIZE || r->rdx != 0U || r->r8 != SNP_REPORT_SIZE ||
	    s->report_size < SNP_REPORT_SIZE || s->manifest_size < MANIFEST_SIZE ||
	    !request_was_sound(s, at, op_len, caa) ||
	    !written_only(s->report_gpa, SNP_REPORT_SIZE, s->manifest_gpa, MANIFEST_SIZE) ||
	    !nonce_before(s->nonce_gpa, hashed)) {
		abort();
	}
	memcpy(hashed + SVSM_ATTEST_NONCE_SIZE, m->mem + s->manifest_gpa, MANIFEST_SIZE);
	SHA512(hashed, sizeof(hashed), want);
	memcpy(&vmpl, m->mem + s->report_gpa + SNP_REPORT_VMPL_OFF, sizeof(vmpl));
	if (memcmp(m->mem + s->report_gpa + SNP_REPORT_DATA_OFF, want, sizeof(want)) != 0 ||
	    vmpl != 0U) {
		abort();
	}
}

static void op_attest(struct input *in)
{
	unsigned vcpu = (unsigned)(take(in, 1) % VCPUS);
	uint64_t kind = take(in, 1);
	uint64_t caa = gpa_val(m->vcpus[vcpu].caa);
	struct svsm_attest_single_op op;
	enum sim_call_status status = SIM_CALL_DONE;

	fuzz_op(in, vcpu, &op);
	/* At CAA+8 as Linux puts it, in a buffer page Linux's layout leaves free, or
	 * anywhere, aligned or not. */
	uint64_t at = caa + 8U;

	if (kind % 4U == 2U) {
		at = BUF + (7U + take(in, 1) % 8U) * PAGE_SIZE + (take(in, 1) & 0xFF8);
	} else if (kind % 4U == 3U) {
		at = pick_gpa(in, vcpu) + (kind >> 5);
	}

	(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(at), &op, sizeof(op));
	if ((kind & 0x10U) != 0U) {
		uint64_t nonce[8] = { take(in, 8), take(in, 8) };

		(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(op.services.nonce_gpa), nonce,
				      sizeof(nonce));
	}
	/* What the SVSM reads is what the guest left in memory, not `op`. */
	if (sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(at), &op, sizeof(op)) != NULL) {
		memset(&op, 0, sizeof(op));
	}
	uint32_t id = (kind & 0x8U) != 0U ? (uint32_t)(take(in, 1) % 3U) : SVSM_ATTEST_SERVICES;
	struct svsm_regs regs = {
		.rax = ((uint64_t)SVSM_PROTOCOL_ATTEST << 32) | id,
		.rcx = at,
		.rdx = ~0ULL,
		.r8 = ~0ULL,
	};
	uint64_t seqno = m->psp.msg_count[0];

	snapshot(vcpu);
	if (sim_vcpu_call(m, vcpu, &regs, &status) != NULL || status != SIM_CALL_DONE) {
		abort();
	}
	if (memcmp(rmp_before, m->rmp, sizeof(rmp_before)) != 0) {
		abort();
	}
	if (regs.rax == SVSM_SUCCESS) {
		if (m->psp.msg_count[0] != seqno + 2U) {
			abort();
		}
		check_success(&op.services, &regs, at,
			      id == SVSM_ATTEST_SERVICES ? sizeof(op.services) : sizeof(op), caa);
		return;
	}
	bool sizes = regs.rax == SVSM_ERR_INVALID_PARAMETER && regs.rcx == MANIFEST_SIZE &&
		     regs.rdx == 0U && regs.r8 == SNP_REPORT_SIZE;
	bool unchanged = regs.rcx == at && regs.rdx == ~0ULL && regs.r8 == ~0ULL;

	if (m->psp.msg_count[0] != seqno || !written_only(0, 0, 0, 0) || !(sizes || unchanged)) {
		abort();
	}
}

/* A core call from vCPU 0 on one buffer page, as a guest would make it between
 * attestations: validate or rescind it, deposit it, make it the calling area. */
static void op_core(struct input *in)
{
	uint64_t kind = take(in, 1);
	uint64_t page = BUF + (take(in, 1) % (BUF_PAGES - 1U)) * PAGE_SIZE;
	uint64_t caa = gpa_val(m->vcpus[0].caa);
	uint64_t list[2] = { 1, page | ((kind & 1U) != 0U ? PVAL_ENTRY_VALIDATE : 0U) };
	struct svsm_regs regs = { .rax = SVSM_CORE_PVALIDATE, .rcx = caa + 8 };
	enum sim_call_status status = SIM_CALL_DONE;

	switch (kind % 4U) {
	case 0:
	case 1:
		break;
	case 2:
		list[1] = page;
		regs.rax = SVSM_CORE_DEPOSIT_MEM;
		break;
	default:
		regs.rax = SVSM_CORE_REMAP_CA;
		regs.rcx = (kind & 4U) != 0U ? SIM_CAA_BASE : page;
		break;
	}
	(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(caa + 8), list, sizeof(list));
	(void)sim_vcpu_call(m, 0, &regs, &status);
}

static void op_guest_write(struct input *in)
{
	uint64_t gpa = pick_gpa(in, 0);
	uint64_t v = take(in, 8);

	(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(gpa), &v, sizeof(v));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	m = fuzz_machine(MEM, VCPUS);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .data = data, .size = size };

	fuzz_relaunch();
	fuzz_guest_pages(BUF, BUF_PAGES, DEPOSITED);
	for (unsigned n = 0; n < MAX_OPS && in.size > 0; n++) {
		uint64_t op = take(&in, 1);

		if (op < 192U) {
			op_attest(&in);
		} else if (op < 224U) {
			op_guest_write(&in);
		} else {
			op_core(&in);
		}
	}
	fuzz_check_machine(NULL);
	return 0;
}
