/* The host's migration mailbox (include/donjon/migrate_host.h): checked, copied in, and
 * turned into calls of the engine. The stage-1 key schedule lives here too: both hellos'
 * nonces and the launch's pre-shared key (keys.h). */
#include <donjon/bytes.h>
#include <donjon/platform.h>

#include "migrate/engine.h"
#include "migrate/policy.h"
#include "svsm_internal.h"

static struct {
	bool hello_made;
	uint32_t role;
	uint8_t nonce[MIG_NONCE_SIZE];
	uint8_t policy[MIG_POLICY_DIGEST_SIZE];
	const char *refused; /* the policy's last refusal, for STATUS */
} hello;

/* The ring as the host described it: 4 KiB aligned, shared, within the limits. */
static uint8_t *ring_of(const uint8_t *mb, uint32_t *size)
{
	uint64_t gpa = load64(mb, MIG_MB_RING_GPA);

	*size = load32(mb, MIG_MB_RING_SIZE);
	if ((gpa & (PAGE_SIZE - 1U)) != 0U || (*size & (PAGE_SIZE - 1U)) != 0U ||
	    *size < MIG_HOST_RING_MIN || *size > MIG_HOST_RING_MAX) {
		return NULL;
	}
	return plat_map_shared(gpa_init(gpa), *size);
}

static void hello_make(uint8_t *out, uint32_t role, const uint8_t nonce[MIG_NONCE_SIZE])
{
	store32(out, 0, MIG_HELLO_MAGIC);
	store32(out, 4, MIG_HOST_VERSION);
	store32(out, 8, role);
	store32(out, 12, MIG_PLATFORM_SIM);
	__builtin_memcpy(out + 16, nonce, MIG_NONCE_SIZE);
	__builtin_memcpy(out + MIG_HELLO_POLICY, hello.policy, MIG_POLICY_DIGEST_SIZE);
}

/* The peer's hello (copied in): the session's keys from both nonces, both policy digests
 * and the test key. */
static uint32_t peer(const uint8_t *ring, uint32_t used)
{
	uint8_t peer_hello[MIG_HELLO_SIZE];
	uint8_t transcript[CRYPTO_SHA384_SIZE];
	struct mig_keys s2d, d2s;
	bool source = hello.role == MIG_ROLE_SOURCE;

	if (!hello.hello_made || used != MIG_HELLO_SIZE) {
		return MIG_ST_BAD_COMMAND;
	}
	__builtin_memcpy(peer_hello, ring, sizeof(peer_hello));
	if (load32(peer_hello, 0) != MIG_HELLO_MAGIC || load32(peer_hello, 4) != MIG_HOST_VERSION ||
	    load32(peer_hello, 8) != (source ? MIG_ROLE_DEST : MIG_ROLE_SOURCE) ||
	    load32(peer_hello, 12) != MIG_PLATFORM_SIM) {
		return MIG_ST_REFUSED;
	}
	if (__builtin_memcmp(peer_hello + MIG_HELLO_POLICY, hello.policy, MIG_POLICY_DIGEST_SIZE) !=
	    0) {
		hello.hello_made = false;
		hello.refused = "the peer's launch policy is not this guest's";
		return MIG_ST_POLICY;
	}
	const uint8_t *src_nonce = source ? hello.nonce : peer_hello + 16;
	const uint8_t *dst_nonce = source ? peer_hello + 16 : hello.nonce;
	const struct crypto_span parts[] = {
		{ "donjon-migrate v1 test key", 26 },
		{ src_nonce, MIG_NONCE_SIZE },
		{ dst_nonce, MIG_NONCE_SIZE },
		{ hello.policy, MIG_POLICY_DIGEST_SIZE },
	};

	/* The transcript of a pre-shared-key session: both nonces and the policy both
	 * sides checked they share. */
	if (!crypto_sha384(parts, 4, transcript) ||
	    !mig_keys_derive(svsm_cfg.migrate_key, sizeof(svsm_cfg.migrate_key), src_nonce,
			     dst_nonce, transcript, MIG_PLATFORM_SIM, &s2d, &d2s)) {
		return MIG_ST_REFUSED;
	}
	bool ok = source ? mig_src_begin(&s2d, &d2s) : mig_dst_begin(&s2d, &d2s);

	crypto_wipe(&s2d, sizeof(s2d));
	crypto_wipe(&d2s, sizeof(d2s));
	hello.hello_made = false;
	return ok ? MIG_ST_OK : MIG_ST_REFUSED;
}

static void status_out(uint8_t *ring, uint32_t *used)
{
	struct mig_progress p;

	mig_progress(&p);
	__builtin_memset(ring, 0, MIG_STATUS_SIZE);
	store32(ring, 0, p.phase);
	store32(ring, 4, p.round);
	store64(ring, 8, p.records);
	store64(ring, 16, p.pages);
	store64(ring, 24, p.bytes);
	store64(ring, 32, p.dirty);
	store64(ring, 40, p.round_pages);
	store64(ring, 48, p.last_round_pages);
	store64(ring, 56, p.faults);
	const char *why = p.why != NULL ? p.why : hello.refused;

	for (unsigned i = 0; why != NULL && why[i] != '\0' && i + 1U < 128U; i++) {
		ring[MIG_STATUS_WHY + i] = (uint8_t)why[i];
	}
	*used = MIG_STATUS_SIZE;
}

/* One command; mb is the SVSM's copy of the mailbox, updated with the results. */
static uint32_t run(uint8_t *mb)
{
	static const uint8_t zeros[16];
	uint32_t size = 0;
	uint32_t used = load32(mb, MIG_MB_RING_USED);
	uint32_t flags = 0, records = 0;
	uint8_t *ring = NULL;
	uint32_t st = MIG_ST_OK;

	if (load32(mb, MIG_MB_MAGIC) != MIG_HOST_MAGIC ||
	    load32(mb, MIG_MB_VERSION) != MIG_HOST_VERSION ||
	    __builtin_memcmp(mb + MIG_MB_RESERVED, zeros, sizeof(zeros)) != 0 ||
	    (ring = ring_of(mb, &size)) == NULL || used > size) {
		return MIG_ST_BAD_MAILBOX;
	}
	if (!svsm_cfg.migrate_key_set) {
		return MIG_ST_NO_KEY;
	}
	uint32_t cmd = load32(mb, MIG_MB_CMD);
	uint64_t arg = load64(mb, MIG_MB_ARG);
	uint32_t out_used = 0;

	switch (cmd) {
	case MIG_CMD_QUERY:
		store32(ring, 0, MIG_HOST_VERSION);
		store32(ring, 4, MIG_MAX_RECORD);
		store32(ring, 8, MIG_PLATFORM_SIM);
		store32(ring, 12, 1);
		store32(ring, 16, svsm_cfg.migrate_policy.flags);
		out_used = 20;
		break;
	case MIG_CMD_HELLO:
		if ((arg != MIG_ROLE_SOURCE && arg != MIG_ROLE_DEST) ||
		    (mig_phase() != MIG_PHASE_IDLE)) {
			st = MIG_ST_BAD_COMMAND;
			break;
		}
		hello.refused =
			mig_policy_refuses_test_session(&svsm_cfg.migrate_policy, (uint32_t)arg);
		if (hello.refused != NULL) {
			hello.hello_made = false;
			st = MIG_ST_POLICY;
			break;
		}
		if (!plat_random(hello.nonce, MIG_NONCE_SIZE) ||
		    !mig_policy_digest(&svsm_cfg.migrate_policy, hello.policy)) {
			st = MIG_ST_BAD_COMMAND;
			break;
		}
		hello.role = (uint32_t)arg;
		hello.hello_made = true;
		hello_make(ring, hello.role, hello.nonce);
		out_used = MIG_HELLO_SIZE;
		break;
	case MIG_CMD_PEER:
		st = peer(ring, used);
		break;
	case MIG_CMD_PULL: {
		uint32_t budget = arg == 0U || arg > size ? size : (uint32_t)arg;

		if (mig_phase() != MIG_PHASE_PRECOPY && mig_phase() != MIG_PHASE_STOPPED) {
			st = MIG_ST_BAD_COMMAND;
			break;
		}
		out_used = (uint32_t)mig_src_pull(ring, budget, &flags, &records);
		if (out_used == 0U && mig_phase() == MIG_PHASE_IDLE) {
			st = MIG_ST_REFUSED;
		}
		break;
	}
	case MIG_CMD_STOP:
		st = mig_src_stop() ? MIG_ST_OK : MIG_ST_BAD_COMMAND;
		break;
	case MIG_CMD_PUSH: {
		if (mig_phase() != MIG_PHASE_IMPORT && mig_phase() != MIG_PHASE_FAILED) {
			st = MIG_ST_BAD_COMMAND;
			break;
		}
		/* Each record is copied out of the ring before it is looked at. */
		bool ok = mig_phase() == MIG_PHASE_IMPORT && mig_dst_push(ring, used, &records);
		const uint8_t *reply = NULL;
		size_t n = mig_dst_reply(&reply);

		st = ok ? MIG_ST_OK : MIG_ST_REFUSED;
		if (mig_phase() == MIG_PHASE_COMMITTED) {
			flags |= MIG_OUT_COMMITTED;
		}
		if (n != 0U && mig_phase() != MIG_PHASE_IMPORT) {
			__builtin_memcpy(ring, reply, n);
			out_used = (uint32_t)n;
			flags |= MIG_OUT_REPLY;
		}
		break;
	}
	case MIG_CMD_REPLY: {
		static uint8_t copy[MIG_HDR_SIZE + MIG_REPLY_SIZE + CRYPTO_GCM_TAG_SIZE];
		bool committed = false;

		if (used != sizeof(copy)) {
			st = MIG_ST_REFUSED;
			break;
		}
		__builtin_memcpy(copy, ring, sizeof(copy));
		if (!mig_src_reply(copy, sizeof(copy), &committed)) {
			st = MIG_ST_REFUSED;
			break;
		}
		flags |= committed ? MIG_OUT_COMMITTED : MIG_OUT_RESUMED;
		break;
	}
	case MIG_CMD_CANCEL:
		st = mig_src_cancel() ? MIG_ST_OK : MIG_ST_BAD_COMMAND;
		flags |= st == MIG_ST_OK ? MIG_OUT_RESUMED : 0U;
		break;
	case MIG_CMD_STATUS:
		status_out(ring, &out_used);
		break;
	default:
		st = MIG_ST_BAD_COMMAND;
		break;
	}
	/* What the SVSM left in the ring (0 after taking the host's input). */
	store32(mb, MIG_MB_RING_USED, out_used);
	store32(mb, MIG_MB_OUT_FLAGS, flags);
	store32(mb, MIG_MB_OUT_RECORDS, records);
	plat_unmap(ring, size);
	return st;
}

uint32_t svsm_migrate_request(gpa_t ctl)
{
	uint8_t mb[MIG_HOST_MAILBOX_SIZE];
	uint8_t *shared = gpa_is_aligned(ctl, PAGE_SIZE) ? plat_map_shared(ctl, sizeof(mb)) : NULL;

	if (shared == NULL) {
		return MIG_ST_BAD_MAILBOX;
	}
	/* The host may change the mailbox at any time: one copy in, one copy out. */
	__builtin_memcpy(mb, shared, sizeof(mb));
	spin_lock(&svsm_lock);
	uint32_t st = run(mb);

	spin_unlock(&svsm_lock);
	store32(mb, MIG_MB_STATUS, st);
	__builtin_memcpy(shared, mb, sizeof(mb));
	plat_unmap(shared, sizeof(mb));
	return st;
}

bool svsm_write_fault(unsigned vmpl, gpa_t gpa)
{
	spin_lock(&svsm_lock);
	bool ok = mig_write_fault(vmpl, gpa);

	spin_unlock(&svsm_lock);
	return ok;
}
