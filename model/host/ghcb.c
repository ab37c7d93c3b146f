/* The host's side of the GHCB protocol: the MSR protocol's functions and the GHCB page's
 * events, each request copied in once from guest memory through the platform's accessors
 * and checked before the host acts. */
#include "ghcb.h"

#include <stdatomic.h>

#include <donjon/bytes.h>
#include <donjon/ghcb.h>
#include <donjon/types.h>

/* The host's copy of one guest request's pages, shared by every vCPU under req_lock:
 * guest requests are rare and the PSP takes one at a time anyway. */
static atomic_flag req_lock = ATOMIC_FLAG_INIT;
static uint8_t req_page[PAGE_SIZE];
static uint8_t resp_page[PAGE_SIZE];

void ghcb_vcpu_init(struct ghcb_vcpu *v)
{
	*v = (struct ghcb_vcpu){ 0 };
}

void ghcb_vcpu_restart(struct ghcb_vcpu *v)
{
	*v = (struct ghcb_vcpu){ .count = v->count };
}

uint64_t ghcb_msr_read(const struct ghcb_vcpu *v)
{
	return v->msr;
}

void ghcb_msr_write(struct ghcb_vcpu *v, uint64_t value)
{
	v->msr = value;
}

bool ghcb_unused(const struct ghcb_vcpu *v)
{
	return v->msr == 0U;
}

static enum ghcb_verdict refuse(struct ghcb_vcpu *v, const char *what, uint64_t value)
{
	v->why = what;
	v->why_value = value;
	return GHCB_REFUSED;
}

static enum ghcb_verdict msr_protocol(struct ghcb_vcpu *v, const struct ghcb_env *env)
{
	uint64_t req = v->msr;
	uint64_t func = req & GHCB_MSR_FUNC_MASK;

	switch (func) {
	case GHCB_MSR_SEV_INFO_REQ:
		/* GHCB versions 2 to 2, and the C-bit's position. */
		v->msr = ((uint64_t)GHCB_PROTOCOL_VERSION << 48) |
			 ((uint64_t)GHCB_PROTOCOL_VERSION << 32) | ((uint64_t)env->c_bit << 24) |
			 GHCB_MSR_SEV_INFO_RESP;
		return GHCB_RESUME;
	case GHCB_MSR_HV_FEATURES_REQ:
		v->msr = ((GHCB_HV_FEATURE_SNP | GHCB_HV_FEATURE_AP_CREATION |
			   GHCB_HV_FEATURE_MULTI_VMPL)
			  << 12) |
			 GHCB_MSR_HV_FEATURES_RESP;
		return GHCB_RESUME;
	case GHCB_MSR_REG_GPA_REQ:
		/* Any page the guest names; it is read through env->read when it is used. */
		v->ghcb_gpa = req & ~GHCB_MSR_FUNC_MASK;
		v->msr = v->ghcb_gpa | GHCB_MSR_REG_GPA_RESP;
		return GHCB_RESUME;
	case GHCB_MSR_PSC_REQ: {
		/* GFN in 51:12, operation in 55:52; the answer's 63:32 is 0 or an error. */
		uint64_t op = (req >> 52) & 0xFU;
		const char *err = op == GHCB_PSC_OP_PRIVATE || op == GHCB_PSC_OP_SHARED
					  ? env->psc(env->ctx, req & 0x000FFFFFFFFFF000ULL, false,
						     op == GHCB_PSC_OP_PRIVATE)
					  : "unknown operation";

		v->count.psc_msr++;
		v->msr = (err != NULL ? (1ULL << 32) : 0U) | GHCB_MSR_PSC_RESP;
		return GHCB_RESUME;
	}
	case GHCB_MSR_RUN_VMPL_REQ:
		/* Bits 39:32 name the VMPL to run; only the SVSM's (0) runs, and the rest of
		 * the request is zero. */
		if ((req & ~GHCB_MSR_FUNC_MASK) != 0U) {
			return refuse(v, "RUN_VMPL of a VMPL other than 0:", req);
		}
		v->svsm_by_ghcb = false;
		v->count.svsm_msr++;
		return GHCB_SVSM_CALL;
	case GHCB_MSR_TERM_REQ:
		v->term_set = (uint8_t)((req >> 12) & 0xFU);
		v->term_code = (uint8_t)(req >> 16);
		return GHCB_TERMINATE;
	default:
		return refuse(v, "MSR protocol request", req);
	}
}

/* SNP_GUEST_REQUEST: SW_EXITINFO1 and 2 name the request and response pages (page
 * aligned, distinct); SW_EXITINFO1 comes back 0 and SW_EXITINFO2 carries the firmware's
 * status back. */
static enum ghcb_verdict guest_request(struct ghcb_vcpu *v, const struct ghcb_env *env,
				       uint64_t req_gpa, uint64_t resp_gpa)
{
	uint64_t status = 0;

	if (!gpa_is_aligned(gpa_init(req_gpa), PAGE_SIZE) ||
	    !gpa_is_aligned(gpa_init(resp_gpa), PAGE_SIZE) || req_gpa == resp_gpa) {
		return refuse(v, "guest request with bad message pages: request", req_gpa);
	}
	while (atomic_flag_test_and_set_explicit(&req_lock, memory_order_acquire)) {
		__builtin_ia32_pause();
	}
	bool ok = env->read(env->ctx, req_gpa, req_page, PAGE_SIZE);

	if (ok) {
		status = env->guest_request(env->ctx, req_page, resp_page);
		ok = status != 0U || env->write(env->ctx, resp_gpa, resp_page, PAGE_SIZE);
	}
	atomic_flag_clear_explicit(&req_lock, memory_order_release);
	if (!ok) {
		return refuse(v, "guest request pages the host cannot reach: request", req_gpa);
	}
	/* SW_EXITINFO1 0: the event itself succeeded (Linux takes anything else in its low 32
	 * bits for the host's error, and never reads the firmware's status). */
	const uint64_t info[2] = { 0, status };

	if (!env->write(env->ctx, v->ghcb_gpa + GHCB_SW_EXIT_INFO1_OFF, info, sizeof(info))) {
		return refuse(v, "GHCB the host cannot write:", v->ghcb_gpa);
	}
	return GHCB_RESUME;
}

/* SNP_EXTENDED_GUEST_REQUEST: a guest request that also asks for the host's certificates
 * (RAX: a shared buffer, RBX: its pages). This host has none: it writes an empty table
 * (its all-zero terminating entry, 24 bytes) and answers the request as a plain one, as
 * KVM does without certificates. */
static enum ghcb_verdict ext_guest_request(struct ghcb_vcpu *v, const struct ghcb_env *env,
					   uint64_t req_gpa, uint64_t resp_gpa)
{
	static const uint8_t terminator[24];
	uint64_t regs[2] = { 0, 0 };

	if (!env->read(env->ctx, v->ghcb_gpa + GHCB_RAX_OFF, &regs[0], sizeof(regs[0])) ||
	    !env->read(env->ctx, v->ghcb_gpa + GHCB_RBX_OFF, &regs[1], sizeof(regs[1]))) {
		return refuse(v, "GHCB the host cannot read:", v->ghcb_gpa);
	}
	if (regs[1] != 0U && (!gpa_is_aligned(gpa_init(regs[0]), PAGE_SIZE) ||
			      !env->write(env->ctx, regs[0], terminator, sizeof(terminator)))) {
		return refuse(v,
			      "extended guest request with a certificate buffer the host cannot "
			      "write:",
			      regs[0]);
	}
	return guest_request(v, env, req_gpa, resp_gpa);
}

/* PAGE_STATE_CHANGE: SW_SCRATCH names the PSC buffer, which must lie in the GHCB's shared
 * buffer; copied in once, each entry from cur_entry to end_entry done in order, cur_entry
 * and each entry's cur_page written back; SW_EXITINFO2 0 when all were done. */
static enum ghcb_verdict page_state_change(struct ghcb_vcpu *v, const struct ghcb_env *env,
					   uint64_t scratch)
{
	static const uint64_t buffer_end = GHCB_SHARED_BUFFER_OFF + 2032U;
	uint8_t buf[GHCB_PSC_HEADER + 8U * GHCB_PSC_MAX_ENTRIES];
	uint64_t off = scratch - v->ghcb_gpa;
	uint64_t status = 0;

	if (scratch < v->ghcb_gpa || off < GHCB_SHARED_BUFFER_OFF ||
	    off > buffer_end - sizeof(buf) || !env->read(env->ctx, scratch, buf, sizeof(buf))) {
		return refuse(
			v, "page state change buffer outside the GHCB's shared buffer:", scratch);
	}
	uint16_t cur = (uint16_t)(buf[0] | buf[1] << 8);
	uint16_t end = (uint16_t)(buf[2] | buf[3] << 8);

	if (load32(buf, 4) != 0U || end >= GHCB_PSC_MAX_ENTRIES) {
		status = 1;
	}
	for (; status == 0U && cur <= end; cur++) {
		uint64_t e = load64(buf, GHCB_PSC_HEADER + 8U * cur);
		uint64_t op = (e >> 52) & 0xFU;
		bool size_2m = ((e >> 56) & 1U) != 0U;
		const char *err = op == GHCB_PSC_OP_PRIVATE || op == GHCB_PSC_OP_SHARED
					  ? env->psc(env->ctx, e & 0x000FFFFFFFFFF000ULL, size_2m,
						     op == GHCB_PSC_OP_PRIVATE)
					  : "unknown operation";

		if (err != NULL) {
			v->why = err;
			status = 1;
			break;
		}
		store64(buf, GHCB_PSC_HEADER + 8U * cur,
			(e & ~0xFFFULL) | (size_2m ? PAGES_PER_2M : 1U));
		v->count.psc_pages += size_2m ? PAGES_PER_2M : 1U;
	}
	buf[0] = (uint8_t)cur;
	buf[1] = (uint8_t)(cur >> 8);
	v->count.psc_ghcb++;
	if (!env->write(env->ctx, scratch, buf, sizeof(buf)) ||
	    !env->write(env->ctx, v->ghcb_gpa + GHCB_SW_EXIT_INFO2_OFF, &status, sizeof(status))) {
		return refuse(v, "GHCB the host cannot write:", v->ghcb_gpa);
	}
	return GHCB_RESUME;
}

/* The GHCB's valid bitmap, copied once: a save-area field at byte offset off is valid
 * (written by the guest for this request) when bit off / 8 is set. */
struct ghcb_valid {
	uint8_t bits[16];
};

static bool field_valid(const struct ghcb_valid *valid, unsigned off)
{
	unsigned bit = off / 8U;

	return bit / 8U < sizeof(valid->bits) && (valid->bits[bit / 8U] & (1U << (bit % 8U))) != 0U;
}

/* AP_CREATION's create operation (the only one an SNP guest with an SVSM sends): the
 * platform starts the vCPU; SW_EXITINFO1 0, or 2 with INVALID_INPUT in SW_EXITINFO2. */
static enum ghcb_verdict ap_creation(struct ghcb_vcpu *v, const struct ghcb_env *env,
				     uint64_t info1, uint64_t vmsa)
{
	uint64_t rax = 0;
	uint64_t result[2] = { 0, 0 };

	if (!env->read(env->ctx, v->ghcb_gpa + GHCB_RAX_OFF, &rax, sizeof(rax))) {
		return refuse(v, "GHCB the host cannot read:", v->ghcb_gpa);
	}
	const char *err = (info1 & 0xFFFFU) != GHCB_AP_CREATE || (info1 & 0xFF000000U) != 0U
				  ? "AP_CREATION operation other than create"
				  : env->ap_create(env->ctx, (uint32_t)(info1 >> 32),
						   (unsigned)(info1 >> 16) & 0xFFU, vmsa, rax);

	if (err != NULL) {
		v->why = err;
		v->why_value = info1;
		result[0] = GHCB_EXIT_INFO1_ERROR;
		result[1] = GHCB_ERR_INVALID_INPUT;
	} else {
		v->count.ap_creations++;
	}
	if (!env->write(env->ctx, v->ghcb_gpa + GHCB_SW_EXIT_INFO1_OFF, result, sizeof(result))) {
		return refuse(v, "GHCB the host cannot write:", v->ghcb_gpa);
	}
	return GHCB_RESUME;
}

static enum ghcb_verdict ghcb_event(struct ghcb_vcpu *v, const struct ghcb_env *env)
{
	uint8_t fields[GHCB_SW_SCRATCH_OFF + 8U - GHCB_SW_EXIT_CODE_OFF];
	uint8_t tail[PAGE_SIZE - GHCB_PROTOCOL_VERSION_OFF];
	struct ghcb_valid valid;

	/* The fields it acts on, copied once: SW_EXITCODE and both SW_EXITINFOs, SW_SCRATCH,
	 * the valid bitmap, then the protocol version and usage. */
	if (v->ghcb_gpa == 0U || v->msr != v->ghcb_gpa ||
	    !env->read(env->ctx, v->ghcb_gpa + GHCB_SW_EXIT_CODE_OFF, fields, sizeof(fields)) ||
	    !env->read(env->ctx, v->ghcb_gpa + GHCB_VALID_BITMAP_OFF, valid.bits,
		       sizeof(valid.bits)) ||
	    !env->read(env->ctx, v->ghcb_gpa + GHCB_PROTOCOL_VERSION_OFF, tail, sizeof(tail))) {
		return refuse(v, "VMGEXIT without a registered GHCB: GHCB MSR", v->msr);
	}
	uint64_t code = load64(fields, 0);
	uint64_t info1 = load64(fields, 8);
	uint64_t info2 = load64(fields, 16);
	uint64_t scratch = load64(fields, 24);
	uint16_t version = (uint16_t)(tail[0] | tail[1] << 8);
	uint32_t usage = load32(tail, 2);

	/* Linux leaves the protocol version unset in the backup GHCB it uses for NMI_COMPLETE
	 * from NMI context (0 there); KVM does not check it either. */
	if ((version != GHCB_PROTOCOL_VERSION && version != 0U) || usage != 0U) {
		return refuse(v, "GHCB of another protocol version or usage:", version);
	}
	/* Every event names itself in SW_EXITCODE and both SW_EXITINFOs (KVM requires them
	 * too); a page state change also its buffer, AP_CREATION also RAX. */
	unsigned missing =
		!field_valid(&valid, GHCB_SW_EXIT_CODE_OFF)    ? GHCB_SW_EXIT_CODE_OFF
		: !field_valid(&valid, GHCB_SW_EXIT_INFO1_OFF) ? GHCB_SW_EXIT_INFO1_OFF
		: !field_valid(&valid, GHCB_SW_EXIT_INFO2_OFF) ? GHCB_SW_EXIT_INFO2_OFF
		: code == GHCB_EVENT_PSC && !field_valid(&valid, GHCB_SW_SCRATCH_OFF)
			? GHCB_SW_SCRATCH_OFF
		: (code == GHCB_EVENT_AP_CREATION || code == GHCB_EVENT_EXT_GUEST_REQUEST) &&
				!field_valid(&valid, GHCB_RAX_OFF)
			? GHCB_RAX_OFF
		: code == GHCB_EVENT_EXT_GUEST_REQUEST && !field_valid(&valid, GHCB_RBX_OFF)
			? GHCB_RBX_OFF
			: 0U;

	if (missing != 0U) {
		return refuse(v, "GHCB field not marked valid: offset", missing);
	}
	switch (code) {
	case GHCB_EVENT_RUN_VMPL:
		if (info1 != 0U) {
			return refuse(v, "RUN_VMPL of a VMPL other than 0:", info1);
		}
		v->svsm_by_ghcb = true;
		v->count.svsm_ghcb++;
		return GHCB_SVSM_CALL;
	case GHCB_EVENT_GUEST_REQUEST:
		v->count.guest_requests++;
		return guest_request(v, env, info1, info2);
	case GHCB_EVENT_EXT_GUEST_REQUEST:
		v->count.guest_requests++;
		return ext_guest_request(v, env, info1, info2);
	case GHCB_EVENT_PSC:
		return page_state_change(v, env, scratch);
	case GHCB_EVENT_AP_CREATION:
		return ap_creation(v, env, info1, info2);
	case GHCB_EVENT_AP_HLT_LOOP:
		/* Linux's offline CPU (sev_es_play_dead): it stays in this loop until the host
		 * wakes it. An SNP guest brings the CPU back with a new VMSA (CREATE_VCPU and
		 * AP_CREATION), so this vCPU never runs again. */
		v->count.ap_hlt_loops++;
		return GHCB_AP_HLT;
	case GHCB_EVENT_NMI_COMPLETE:
		v->count.nmi_completes++;
		env->nmi_complete(env->ctx);
		return GHCB_RESUME;
	case GHCB_EVENT_TERMINATE:
		v->term_set = (uint8_t)(info1 & 0xFU);
		v->term_code = (uint8_t)(info1 >> 4);
		return GHCB_TERMINATE;
	default:
		return refuse(v, "GHCB event", code);
	}
}

enum ghcb_verdict ghcb_vmgexit(struct ghcb_vcpu *v, const struct ghcb_env *env)
{
	v->why = NULL;
	return (v->msr & GHCB_MSR_FUNC_MASK) != 0U ? msr_protocol(v, env) : ghcb_event(v, env);
}

void ghcb_svsm_done(struct ghcb_vcpu *v, const struct ghcb_env *env)
{
	uint64_t zero = 0;

	if (!v->svsm_by_ghcb) {
		v->msr = GHCB_MSR_RUN_VMPL_RESP;
		return;
	}
	/* SW_EXITINFO1 0: the call ran; Linux checks its low 32 bits. */
	(void)env->write(env->ctx, v->ghcb_gpa + GHCB_SW_EXIT_INFO1_OFF, &zero, sizeof(zero));
	(void)env->write(env->ctx, v->ghcb_gpa + GHCB_SW_EXIT_INFO2_OFF, &zero, sizeof(zero));
}

const char *ghcb_term_reason(uint8_t set, uint8_t code)
{
	static const char *const general[] = {
		"general termination",
		"the GHCB protocol version is not supported",
		"SEV-SNP features are not supported",
	};
	static const char *const linux_reasons[] = {
		"Linux: GHCB registration failed",
		"Linux: a page state change failed",
		"Linux: PVALIDATE failed",
		"Linux: not running at VMPL0",
		"Linux: CPUID validation failed",
		"Linux: CPUID failed in the hypervisor fallback",
		"Linux: secrets page failure",
		"Linux: no SVSM advertised in the secrets page",
		"Linux: the SVSM says the guest runs at VMPL0",
		"Linux: the SVSM's calling area is not page aligned",
		"Linux: Secure TSC initialization failed",
	};

	if (set == 0U && code < sizeof(general) / sizeof(general[0])) {
		return general[code];
	}
	if (set == 1U && code < sizeof(linux_reasons) / sizeof(linux_reasons[0])) {
		return linux_reasons[code];
	}
	return "unknown";
}
