/* libFuzzer target over the vTPM path: the guest's SVSM_VTPM_CMD and SVSM_VTPM_QUERY calls
 * with fuzzed buffers (any address: its pages, across a page, Donjon's memory, calling
 * areas, the deposited page, pages never validated, the end of memory; any platform
 * command, locality and size, any command bytes), ATTEST_SERVICES (the manifest's EK), and
 * a vTPM service played by this file that answers each request with what the input says:
 * a well-formed response, a header with a wrong magic, kind, status or length, a TPM
 * response whose size field lies, a refusal, or no answer at all (the platform's "it died").
 * It replaces platform/sim/service.c.
 *
 * After each call: the RMP is unchanged. A refused call (an SVSM error) wrote none of the
 * guest's pages and reached no service. A successful SVSM_VTPM_CMD wrote only its buffer's
 * first 4 + size bytes, size at most 4092, and the service got exactly the guest's command
 * at locality 0; the guest's response is the service's last answer when that answer was
 * well-formed, and TPM_RC_FAILURE otherwise. Once the service is stopped no request
 * reaches it. After each input: fuzz_check_machine. */
#include <stdlib.h>
#include <string.h>

#include <donjon/bytes.h>
#include <donjon/platform.h>
#include <donjon/service_channel.h>
#include <donjon/svsm_abi.h>

#include "fuzz_common.h"

#define MEM (16ULL << 20)
#define VCPUS 2U
#define MAX_OPS 16U
#define BUF 0x200000ULL
#define BUF_PAGES 8U /* the last one is not validated */
#define DEPOSITED (BUF + 6 * PAGE_SIZE)

static struct sim_machine *m;
static struct input *cur;

/* ---- the service this file plays ---- */

static bool svc_running;
static unsigned svc_requests;
/* The last TPM_COMMAND it got (its payload: the locality, then the command). */
static uint8_t svc_last_cmd[1 + CHANNEL_TPM_MAX];
static size_t svc_last_cmd_len;
/* The TPM response of its last answer, if that answer was well-formed. */
static uint8_t svc_answer[CHANNEL_TPM_MAX];
static size_t svc_answer_len;

bool plat_service_running(enum svsm_service s)
{
	return s == SVSM_SERVICE_VTPM && svc_running;
}

void plat_service_started(enum svsm_service s)
{
	(void)s;
}

void plat_service_stop(enum svsm_service s, const char *why)
{
	(void)s;
	(void)why;
	svc_running = false;
}

void *plat_service_state_buffer(size_t len)
{
	static uint8_t buf[CHANNEL_HEADER_SIZE + CHANNEL_STATE_MAX + 2048U];

	return len <= sizeof(buf) ? buf : NULL;
}

static void put_header(uint8_t *msg, uint32_t kind, uint32_t status, uint32_t length)
{
	store32(msg, 0, CHANNEL_MAGIC);
	store32(msg, 4, kind);
	store32(msg, 8, status);
	store32(msg, 12, length);
}

bool plat_service_exchange(enum svsm_service s, const void *req, size_t req_len, void *resp,
			   size_t resp_cap, size_t *resp_len)
{
	const uint8_t *q = req;
	uint8_t *r = resp;
	uint64_t mode = take(cur, 1);
	uint32_t kind = 0;

	/* The core never talks to a service it has stopped, nor sends what is not a request
	 * of the channel's. */
	if (s != SVSM_SERVICE_VTPM || !svc_running || req_len < CHANNEL_HEADER_SIZE ||
	    load32(q, 0) != CHANNEL_MAGIC || load32(q, 8) != 0U ||
	    load32(q, 12) != req_len - CHANNEL_HEADER_SIZE) {
		abort();
	}
	kind = load32(q, 4);
	svc_requests++;
	svc_answer_len = 0;
	if (kind == CHANNEL_KIND_TPM_COMMAND) {
		if (req_len < CHANNEL_HEADER_SIZE + 2U || q[CHANNEL_HEADER_SIZE] != 0U ||
		    req_len > CHANNEL_HEADER_SIZE + 1U + CHANNEL_TPM_MAX) {
			abort();
		}
		svc_last_cmd_len = req_len - CHANNEL_HEADER_SIZE;
		memcpy(svc_last_cmd, q + CHANNEL_HEADER_SIZE, svc_last_cmd_len);
	}
	if (mode >= 0xF0U) {
		/* It died, hung or sent more than resp_cap: the platform stopped it. */
		svc_running = false;
		*resp_len = 0;
		return false;
	}
	/* A TPM response: 10 to 4096 bytes, mostly small, its size field right. */
	uint32_t len = mode < 0x80U ? CHANNEL_TPM_HEADER_SIZE + (uint32_t)take(cur, 1)
				    : (uint32_t)take(cur, 2) % (CHANNEL_TPM_MAX + 1U);
	uint8_t *t = r + CHANNEL_HEADER_SIZE;

	if (len < CHANNEL_TPM_HEADER_SIZE || CHANNEL_HEADER_SIZE + len > resp_cap) {
		len = CHANNEL_TPM_HEADER_SIZE;
	}
	for (uint32_t i = 0; i < len; i++) {
		t[i] = (uint8_t)take(cur, 1);
	}
	t[0] = 0x80;
	t[1] = 0x01;
	store32_be(t, 2, len);
	if ((mode & 0x0FU) < 6U) {
		/* Success: rc 0 (Startup and the EK need it) or anything. */
		if ((mode & 1U) == 0U) {
			memset(t + 6, 0, 4);
		}
	}
	if (kind != CHANNEL_KIND_TPM_COMMAND) {
		len = 0;
	}
	put_header(r, kind, CHANNEL_STATUS_OK, len);
	bool well_formed = true;

	switch ((mode >> 4) & 7U) {
	case 1:
		store32(r, 0, (uint32_t)take(cur, 4)); /* magic */
		well_formed = false;
		break;
	case 2:
		store32(r, 4, kind + 1U + (uint32_t)take(cur, 1)); /* kind */
		well_formed = false;
		break;
	case 3:
		store32(r, 8, 1U + (uint32_t)take(cur, 1) % 8U); /* status */
		well_formed = false;
		break;
	case 4:
		t[5] ^= (uint8_t)(1U + take(cur, 1) % 255U); /* the TPM's size field */
		well_formed = false;
		break;
	default:
		break;
	}
	if (load32(r, 0) == CHANNEL_MAGIC && load32(r, 4) == kind && load32(r, 8) == 0U &&
	    load32_be(t, 2) == len) {
		well_formed = true;
	}
	if (well_formed && kind == CHANNEL_KIND_TPM_COMMAND && len <= 4092U) {
		memcpy(svc_answer, t, len);
		svc_answer_len = len;
	}
	*resp_len = CHANNEL_HEADER_SIZE + len;
	return true;
}

/* ---- the guest ---- */

#define WATCHED (BUF_PAGES + VCPUS + 1U)
static uint8_t before[WATCHED][PAGE_SIZE];
static struct rmp_entry rmp_before[MEM >> PAGE_SHIFT];

static uint64_t watched_page(unsigned i)
{
	return fuzz_watched_page(i, BUF, BUF_PAGES, VCPUS);
}

static void snapshot(void)
{
	for (unsigned i = 0; i < WATCHED; i++) {
		memcpy(before[i], m->mem + watched_page(i), PAGE_SIZE);
	}
	memcpy(rmp_before, m->rmp, sizeof(rmp_before));
}

/* Aborts unless the watched pages are as before outside [lo, hi) and the RMP is. The
 * calling vCPU's handshake bytes (call_pending, mem_available) are the call's own. */
static void unchanged_outside(unsigned vcpu, uint64_t lo, uint64_t hi)
{
	uint64_t caa = gpa_val(m->vcpus[vcpu].caa);

	for (unsigned i = 0; i < WATCHED; i++) {
		uint64_t base = watched_page(i);

		for (uint64_t off = 0; off < PAGE_SIZE; off++) {
			uint64_t a = base + off;

			if ((a < lo || a >= hi) && (a < caa || a >= caa + 2U) &&
			    m->mem[a] != before[i][off]) {
				abort();
			}
		}
	}
	if (memcmp(rmp_before, m->rmp, sizeof(rmp_before)) != 0) {
		abort();
	}
}

static const uint8_t failure[] = { 0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01 };

static void op_cmd(struct input *in)
{
	uint64_t gpa = fuzz_pick_gpa(in, BUF, BUF_PAGES, DEPOSITED, MEM, 0);
	uint64_t flags = take(in, 1);
	uint32_t size =
		(flags & 3U) != 0U ? 10U + (uint32_t)take(in, 1) : (uint32_t)take(in, 2) % 4100U;
	uint8_t req[SVSM_VTPM_BUFFER_SIZE];
	struct svsm_regs regs = { .rax = (uint64_t)SVSM_PROTOCOL_VTPM << 32 | SVSM_VTPM_CMD,
				  .rcx = gpa };
	enum sim_call_status status = SIM_CALL_DONE;
	size_t n = SVSM_VTPM_REQ_HEADER + (size < 4087U ? size : 4087U);

	memset(req, 0, sizeof(req));
	store32(req, 0, (flags & 0x1CU) != 0U ? SVSM_VTPM_SEND_COMMAND : (uint32_t)take(in, 4));
	req[4] = (flags & 0x20U) != 0U ? (uint8_t)take(in, 1) : 0U;
	store32(req, 5, (flags & 0xC0U) != 0xC0U ? size : (uint32_t)take(in, 4));
	for (size_t i = SVSM_VTPM_REQ_HEADER; i < n && i < SVSM_VTPM_REQ_HEADER + 64U; i++) {
		req[i] = (uint8_t)take(in, 1);
	}
	(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(gpa), req, n);
	/* What the buffer holds now is what the SVSM reads. */
	uint8_t guest_req[SVSM_VTPM_BUFFER_SIZE];
	bool readable = sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(gpa), guest_req,
				       sizeof(guest_req)) == NULL;
	unsigned requests = svc_requests;
	bool was_running = svc_running;

	snapshot();
	if (sim_vcpu_call(m, 0, &regs, &status) != NULL || status != SIM_CALL_DONE) {
		abort();
	}
	if (regs.rax != SVSM_SUCCESS) {
		if ((regs.rax != SVSM_ERR_INVALID_ADDRESS &&
		     regs.rax != SVSM_ERR_INVALID_PARAMETER &&
		     regs.rax != SVSM_ERR_UNSUPPORTED_CALL) ||
		    svc_requests != requests) {
			abort();
		}
		unchanged_outside(0, 0, 0);
		return;
	}
	uint32_t cmd_size = load32(guest_req, 5);
	uint8_t resp[SVSM_VTPM_BUFFER_SIZE];

	if (!readable || load32(guest_req, 0) != SVSM_VTPM_SEND_COMMAND || guest_req[4] != 0U ||
	    cmd_size == 0U || cmd_size > 4087U ||
	    sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(gpa), resp, sizeof(resp)) != NULL) {
		abort();
	}
	uint32_t out = load32(resp, 0);

	if (out > 4092U) {
		abort();
	}
	unchanged_outside(0, gpa, gpa + 4U + out);
	/* A service still running after the call took the guest's command as the guest
	 * wrote it, last, and its answer is the guest's response; one stopped before or
	 * during the call gives TPM_RC_FAILURE. */
	bool answered = was_running && svc_running;

	if (answered &&
	    (svc_requests == requests || svc_answer_len == 0U ||
	     svc_last_cmd_len != 1U + cmd_size ||
	     memcmp(svc_last_cmd + 1, guest_req + SVSM_VTPM_REQ_HEADER, cmd_size) != 0)) {
		abort();
	}
	const uint8_t *want = answered ? svc_answer : failure;
	size_t want_len = answered ? svc_answer_len : sizeof(failure);

	if (out != want_len || memcmp(resp + 4, want, want_len) != 0) {
		abort();
	}
}

static void op_query(void)
{
	struct svsm_regs regs = { .rax = (uint64_t)SVSM_PROTOCOL_VTPM << 32 | SVSM_VTPM_QUERY };
	enum sim_call_status status = SIM_CALL_DONE;

	snapshot();
	if (sim_vcpu_call(m, 1, &regs, &status) != NULL || regs.rax != SVSM_SUCCESS ||
	    regs.rcx != 0x100U || regs.rdx != 0U) {
		abort();
	}
	unchanged_outside(1, 0, 0);
}

/* ATTEST_SERVICES as Linux asks it: the manifest lists the vTPM with its EK, or the call
 * fails when the EK could not be read; either way only the report and manifest pages
 * change. */
static void op_attest(void)
{
	struct svsm_attest_services_op op = {
		.report_gpa = BUF + 3 * PAGE_SIZE,
		.report_size = PAGE_SIZE,
		.nonce_gpa = BUF + 5 * PAGE_SIZE,
		.nonce_size = SVSM_ATTEST_NONCE_SIZE,
		.manifest_gpa = BUF + 4 * PAGE_SIZE,
		.manifest_size = PAGE_SIZE,
	};
	uint64_t caa = gpa_val(m->vcpus[0].caa);
	struct svsm_regs regs = { .rax = (uint64_t)SVSM_PROTOCOL_ATTEST << 32 |
					 SVSM_ATTEST_SERVICES,
				  .rcx = caa + 8,
				  .rdx = ~0ULL,
				  .r8 = ~0ULL };
	enum sim_call_status status = SIM_CALL_DONE;

	(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(caa + 8), &op, sizeof(op));
	snapshot();
	if (sim_vcpu_call(m, 0, &regs, &status) != NULL) {
		abort();
	}
	if (regs.rax != SVSM_SUCCESS) {
		if (regs.rax != SVSM_ERR_INVALID_REQUEST) {
			abort();
		}
		unchanged_outside(0, 0, 0);
		return;
	}
	unchanged_outside(0, BUF + 3 * PAGE_SIZE, BUF + 5 * PAGE_SIZE);
	uint8_t hdr[24];

	/* One service: the vTPM. */
	if (sim_guest_read(m, SIM_GUEST_VMPL, gpa_init(BUF + 4 * PAGE_SIZE), hdr, sizeof(hdr)) !=
		    NULL ||
	    load32(hdr, 20) != 1U) {
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	svc_running = true;
	m = fuzz_machine(MEM, VCPUS);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .data = data, .size = size };

	cur = &in;
	/* A vTPM at every launch: the core finds its service running. */
	svc_running = true;
	svc_requests = 0;
	fuzz_relaunch();
	fuzz_guest_pages(BUF, BUF_PAGES - 1U, DEPOSITED);
	for (unsigned n = 0; n < MAX_OPS && in.size > 0; n++) {
		uint64_t op = take(&in, 1);

		if (op < 200U) {
			op_cmd(&in);
		} else if (op < 228U) {
			op_attest();
		} else {
			op_query();
		}
	}
	fuzz_check_machine(NULL);
	return 0;
}
