/* The host's migration mailbox (include/donjon/migrate_host.h): checked, copied in, and
 * turned into calls of the engine. The sessions' keys come from here too: both hellos'
 * nonces and either the launch's pre-shared test key or the attested ECDH secret
 * (attested.h), after the launch policy (policy.h) allowed the session. */
#include <donjon/bytes.h>
#include <donjon/platform.h>

#include "migrate/attested.h"
#include "migrate/engine.h"
#include "migrate/policy.h"
#include "svsm_internal.h"

static struct {
	bool hello_made;
	uint32_t role;
	uint32_t mode;
	uint8_t own[MIG_HELLO_SIZE];  /* this SVSM's hello */
	uint8_t peer[MIG_HELLO_SIZE]; /* the copy of the peer's */
	const char *refused;	      /* the policy's last refusal, for STATUS */
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

/* HELLO: arg is the role and the mode. */
static uint32_t hello_make(uint64_t arg, uint8_t *ring, uint32_t *out_used)
{
	uint32_t role = (uint32_t)(arg & ~(uint64_t)MIG_HELLO_ATTESTED);
	uint32_t mode = (arg & MIG_HELLO_ATTESTED) != 0U ? MIG_MODE_ATTESTED : MIG_MODE_TEST_KEY;
	uint8_t *h = hello.own;

	if ((role != MIG_ROLE_SOURCE && role != MIG_ROLE_DEST) || mig_phase() != MIG_PHASE_IDLE) {
		return MIG_ST_BAD_COMMAND;
	}
	hello.hello_made = false;
	mig_attest_forget();
	hello.refused = mig_policy_refuses(&svsm_cfg.migrate_policy, role, mode);
	if (hello.refused == NULL && mode == MIG_MODE_TEST_KEY && !svsm_cfg.migrate_key_set) {
		hello.refused = "no test key was given at launch";
	}
	if (hello.refused != NULL) {
		return MIG_ST_POLICY;
	}
	__builtin_memset(h, 0, MIG_HELLO_SIZE);
	store32(h, 0, MIG_HELLO_MAGIC);
	store32(h, 4, MIG_HOST_VERSION);
	store32(h, 8, role);
	store32(h, 12, MIG_PLATFORM_SIM);
	store32(h, MIG_HELLO_MODE, mode);
	if (!plat_random(h + 16, MIG_NONCE_SIZE) ||
	    !mig_policy_digest(&svsm_cfg.migrate_policy, h + MIG_HELLO_POLICY)) {
		return MIG_ST_BAD_COMMAND;
	}
	if (mode == MIG_MODE_ATTESTED && (hello.refused = mig_attest_hello(h)) != NULL) {
		return MIG_ST_REFUSED;
	}
	hello.role = role;
	hello.mode = mode;
	hello.hello_made = true;
	__builtin_memcpy(ring, h, MIG_HELLO_SIZE);
	*out_used = MIG_HELLO_SIZE;
	return MIG_ST_OK;
}

/* A test-key session's secret is the launch's key; its transcript covers both nonces and
 * the policy both sides checked they share. */
static bool test_key_secret(const uint8_t *src_nonce, const uint8_t *dst_nonce,
			    uint8_t secret[CRYPTO_P384_SCALAR_SIZE],
			    uint8_t transcript[CRYPTO_SHA384_SIZE])
{
	const struct crypto_span parts[] = {
		{ "donjon-migrate v1 test key", 26 },
		{ src_nonce, MIG_NONCE_SIZE },
		{ dst_nonce, MIG_NONCE_SIZE },
		{ hello.own + MIG_HELLO_POLICY, MIG_POLICY_DIGEST_SIZE },
	};

	__builtin_memset(secret, 0, CRYPTO_P384_SCALAR_SIZE);
	__builtin_memcpy(secret, svsm_cfg.migrate_key, sizeof(svsm_cfg.migrate_key));
	return crypto_sha384(parts, 4, transcript);
}

/* The bytes of a hello that must be zero (migrate_host.h): the word after the mode, the
 * padding after the public key and after the endorsement, and in test-key mode all from
 * the public key on. */
static bool hello_zeros_ok(const uint8_t *h, uint32_t mode)
{
	static const struct {
		uint32_t from, to;
	} zero[] = {
		{ MIG_HELLO_MODE + 4U, MIG_HELLO_PUB },
		{ MIG_HELLO_PUB + CRYPTO_P384_POINT_SIZE, MIG_HELLO_REPORT },
		{ MIG_HELLO_ENDORSEMENT + CRYPTO_P384_SIG_SIZE, MIG_HELLO_SIZE },
		{ MIG_HELLO_PUB, MIG_HELLO_SIZE },
	};
	uint8_t any = 0;

	for (unsigned z = 0; z < (mode == MIG_MODE_TEST_KEY ? 4U : 3U); z++) {
		for (uint32_t i = zero[z].from; i < zero[z].to; i++) {
			any |= h[i];
		}
	}
	return any == 0U;
}

/* The peer's hello: the policy's and, in attested mode, the evidence's verdict, then the
 * session's keys. Nothing begins unless all of it holds. */
static uint32_t peer(const uint8_t *ring, uint32_t used)
{
	const uint8_t *p = hello.peer;
	uint8_t secret[CRYPTO_P384_SCALAR_SIZE];
	uint8_t transcript[CRYPTO_SHA384_SIZE];
	struct mig_keys s2d, d2s;
	bool source = hello.role == MIG_ROLE_SOURCE;

	if (!hello.hello_made || used != MIG_HELLO_SIZE) {
		return MIG_ST_BAD_COMMAND;
	}
	hello.hello_made = false;
	__builtin_memcpy(hello.peer, ring, MIG_HELLO_SIZE);
	if (load32(p, 0) != MIG_HELLO_MAGIC || load32(p, 4) != MIG_HOST_VERSION ||
	    load32(p, 8) != (source ? MIG_ROLE_DEST : MIG_ROLE_SOURCE) ||
	    load32(p, 12) != MIG_PLATFORM_SIM || load32(p, MIG_HELLO_MODE) != hello.mode ||
	    !hello_zeros_ok(p, hello.mode)) {
		mig_attest_forget();
		hello.refused = "the peer's hello is malformed";
		return MIG_ST_REFUSED;
	}
	if (__builtin_memcmp(p + MIG_HELLO_POLICY, hello.own + MIG_HELLO_POLICY,
			     MIG_POLICY_DIGEST_SIZE) != 0) {
		mig_attest_forget();
		hello.refused = "the peer's launch policy is not this guest's";
		return MIG_ST_POLICY;
	}
	const uint8_t *src_nonce = source ? hello.own + 16 : p + 16;
	const uint8_t *dst_nonce = source ? p + 16 : hello.own + 16;

	if (hello.mode == MIG_MODE_ATTESTED) {
		hello.refused =
			mig_attest_peer(p, source, &svsm_cfg.migrate_policy, secret, transcript);
		if (hello.refused != NULL) {
			return MIG_ST_POLICY;
		}
	} else if (!test_key_secret(src_nonce, dst_nonce, secret, transcript)) {
		return MIG_ST_REFUSED;
	}
	bool ok = mig_keys_derive(secret,
				  hello.mode == MIG_MODE_ATTESTED ? sizeof(secret)
								  : sizeof(svsm_cfg.migrate_key),
				  src_nonce, dst_nonce, transcript, MIG_PLATFORM_SIM, &s2d, &d2s);

	crypto_wipe(secret, sizeof(secret));
	ok = ok && (source ? mig_src_begin(&s2d, &d2s) : mig_dst_begin(&s2d, &d2s));
	crypto_wipe(&s2d, sizeof(s2d));
	crypto_wipe(&d2s, sizeof(d2s));
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
	uint32_t cmd = load32(mb, MIG_MB_CMD);
	uint64_t arg = load64(mb, MIG_MB_ARG);
	uint32_t out_used = 0;

	switch (cmd) {
	case MIG_CMD_QUERY:
		store32(ring, 0, MIG_HOST_VERSION);
		store32(ring, 4, MIG_MAX_RECORD);
		store32(ring, 8, MIG_PLATFORM_SIM);
		store32(ring, 12, svsm_cfg.migrate_key_set ? 1U : 0U);
		store32(ring, 16, svsm_cfg.migrate_policy.flags);
		out_used = 20;
		break;
	case MIG_CMD_HELLO:
		st = hello_make(arg, ring, &out_used);
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
