/* The migration record stream (core/migrate/stream.c) against the host that carries it:
 * a whole stream opens record for record; every change a host can make (a flipped bit in
 * a header or payload, a dropped, reordered, replayed or spliced record, a truncated
 * stream, records of another session, platform or round) is refused at the record where
 * it happens, the payload buffer then holds nothing, and the stream stays failed. */
#include <string.h>

#include "harness.h"
#include "migrate/keys.h"
#include "migrate/stream.h"

#define RECORDS 8U

struct sent {
	uint8_t buf[RECORDS][MIG_MAX_RECORD];
	size_t len[RECORDS];
	uint8_t page[3][MIG_MAX_PAYLOAD];
	uint8_t blob[100];
};

static void keys_of(struct mig_keys *k, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	for (unsigned i = 0; i < sizeof(k->key); i++) {
		k->key[i] = (uint8_t)(seed + i);
	}
	memset(k->session, seed, sizeof(k->session));
	k->stream = 0x10U + seed;
	k->platform = MIG_PLATFORM_SIM;
}

/* Round 0: two pages, a zero page; ROUND_END; round 1: a page, a VMSA, a service blob;
 * FINAL. */
static void send_stream(struct sent *s, const struct mig_keys *k)
{
	struct mig_tx tx;
	unsigned n = 0;

	for (unsigned p = 0; p < 3; p++) {
		for (unsigned i = 0; i < 4096; i++) {
			s->page[p][i] = (uint8_t)(i * (p + 3) + p);
		}
	}
	memset(s->blob, 0x5A, sizeof(s->blob));
	const struct mig_record recs[] = {
		{ .type = MIG_PAGE,
		  .flags = MIG_FLAG_VALIDATED,
		  .gpa = 0x200000,
		  .perms = { 0, 0, 0xF, 0 },
		  .len = 4096,
		  .payload = s->page[0] },
		{ .type = MIG_PAGE,
		  .flags = MIG_FLAG_VALIDATED,
		  .gpa = 0x201000,
		  .perms = { 0, 0, 0x3, 0 },
		  .len = 4096,
		  .payload = s->page[1] },
		{ .type = MIG_ZERO, .flags = MIG_FLAG_VALIDATED, .gpa = 0x202000 },
		{ .type = MIG_PAGE,
		  .flags = MIG_FLAG_VALIDATED,
		  .gpa = 0x200000,
		  .perms = { 0, 0, 0xF, 0 },
		  .len = 4096,
		  .payload = s->page[2] },
		{ .type = MIG_VMSA,
		  .gpa = 0x300000,
		  .vcpu = 1,
		  .len = 4096 + MIG_VCPU_META_SIZE,
		  .payload = s->page[1] },
		{ .type = MIG_SERVICE, .gpa = 0, .len = sizeof(s->blob), .payload = s->blob },
	};

	mig_tx_init(&tx, k);
	for (unsigned i = 0; i < 6; i++) {
		if (i == 3) {
			s->len[n] = mig_tx_round_end(&tx, s->buf[n], MIG_MAX_RECORD);
			n++;
		}
		s->len[n] = mig_tx_record(&tx, &recs[i], s->buf[n], MIG_MAX_RECORD);
		n++;
	}
	s->len[n] = mig_tx_final(&tx, s->buf[n], MIG_MAX_RECORD);
	for (unsigned i = 0; i < RECORDS; i++) {
		EXPECT_TRUE(s->len[i] != 0U);
	}
}

static const enum mig_rx_result expected[RECORDS] = {
	MIG_RX_DATA, MIG_RX_DATA, MIG_RX_DATA, MIG_RX_ROUND,
	MIG_RX_DATA, MIG_RX_DATA, MIG_RX_DATA, MIG_RX_FINAL,
};

static struct sent s;
static uint8_t payload[MIG_MAX_PAYLOAD];

TEST(migrate_stream_opens_record_for_record)
{
	struct mig_keys k;
	struct mig_rx rx;
	struct mig_record r;

	keys_of(&k, 1);
	send_stream(&s, &k);
	mig_rx_init(&rx, &k);
	for (unsigned i = 0; i < RECORDS; i++) {
		EXPECT_EQ(mig_rx_record(&rx, s.buf[i], s.len[i], &r, payload), expected[i]);
		if (i == 1) {
			EXPECT_EQ(r.type, MIG_PAGE);
			EXPECT_EQ(r.gpa, 0x201000U);
			EXPECT_EQ(r.perms[2], 3U);
			EXPECT_EQ(r.round, 0U);
			EXPECT_EQ(r.flags, MIG_FLAG_VALIDATED);
			EXPECT_MEM(payload, s.page[1], 4096);
		}
		if (i == 5) {
			EXPECT_EQ(r.type, MIG_VMSA);
			EXPECT_EQ(r.vcpu, 1U);
			EXPECT_EQ(r.round, 1U);
		}
		if (i == 6) {
			EXPECT_EQ(r.len, sizeof(s.blob));
			EXPECT_MEM(payload, s.blob, sizeof(s.blob));
		}
	}
	EXPECT_EQ(rx.state, MIG_RX_COMPLETE);
	EXPECT_EQ(rx.vmsas, 1U);
	/* Once complete, nothing more is taken, a replayed FINAL included. */
	EXPECT_EQ(mig_rx_record(&rx, s.buf[7], s.len[7], &r, payload), MIG_RX_REFUSE);
	EXPECT_EQ(rx.state, MIG_RX_COMPLETE);
}

/* Deliver s's records in the order given (index RECORDS: the record in alt); the result
 * of the last, and that the stream never completed. */
static enum mig_rx_result deliver(const struct mig_keys *k, const unsigned *order, unsigned n,
				  struct mig_rx *rx)
{
	struct mig_record r;
	enum mig_rx_result res = MIG_RX_REFUSE;

	mig_rx_init(rx, k);
	for (unsigned i = 0; i < n; i++) {
		res = mig_rx_record(rx, s.buf[order[i]], s.len[order[i]], &r, payload);
		if (res == MIG_RX_REFUSE) {
			break;
		}
	}
	return res;
}

TEST(migrate_stream_refuses_every_changed_byte)
{
	struct mig_keys k;
	struct mig_rx rx;
	struct mig_record r;

	keys_of(&k, 2);
	send_stream(&s, &k);
	/* Each byte of the first record's header, a payload byte and a tag byte. */
	for (unsigned off = 0; off < s.len[0]; off += off < MIG_HDR_SIZE ? 1U : 1000U) {
		s.buf[0][off] ^= 0x20U;
		memset(payload, 0xAA, sizeof(payload));
		mig_rx_init(&rx, &k);
		EXPECT_EQ(mig_rx_record(&rx, s.buf[0], s.len[0], &r, payload), MIG_RX_REFUSE);
		EXPECT_EQ(rx.state, MIG_RX_FAILED);
		EXPECT_EQ(payload[0] | payload[100] | payload[4095], 0U);
		s.buf[0][off] ^= 0x20U;
		/* Once failed, even the genuine record is refused. */
		EXPECT_EQ(mig_rx_record(&rx, s.buf[0], s.len[0], &r, payload), MIG_RX_REFUSE);
	}
	s.buf[0][s.len[0] - 1U] ^= 1U;
	mig_rx_init(&rx, &k);
	EXPECT_EQ(mig_rx_record(&rx, s.buf[0], s.len[0], &r, payload), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "record does not authenticate");
	s.buf[0][s.len[0] - 1U] ^= 1U;
	/* A record cut short, or with bytes after it. */
	mig_rx_init(&rx, &k);
	EXPECT_EQ(mig_rx_record(&rx, s.buf[0], s.len[0] - 1U, &r, payload), MIG_RX_REFUSE);
	mig_rx_init(&rx, &k);
	EXPECT_EQ(mig_rx_record(&rx, s.buf[0], s.len[0] + 1U, &r, payload), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "record length does not match its header");
}

TEST(migrate_stream_refuses_reorder_replay_drop_truncation)
{
	static const unsigned reorder[] = { 0, 2, 1 };
	static const unsigned replay[] = { 0, 1, 0 };
	static const unsigned across_rounds[] = { 0, 1, 2, 3, 1 };
	static const unsigned drop[] = { 0, 2 };
	static const unsigned drop_round_end[] = { 0, 1, 2, 4 };
	static const unsigned truncated[] = { 0, 1, 2, 3, 4, 5, 6 };
	static const unsigned final_early[] = { 0, 1, 2, 7 };
	struct mig_keys k;
	struct mig_rx rx;

	keys_of(&k, 3);
	send_stream(&s, &k);
	EXPECT_EQ(deliver(&k, reorder, 3, &rx), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "record out of sequence (dropped, reordered or replayed)");
	EXPECT_EQ(rx.seq, 1U);
	EXPECT_EQ(deliver(&k, replay, 3, &rx), MIG_RX_REFUSE);
	EXPECT_EQ(rx.seq, 2U);
	EXPECT_EQ(deliver(&k, across_rounds, 5, &rx), MIG_RX_REFUSE);
	EXPECT_EQ(rx.round, 1U);
	EXPECT_EQ(deliver(&k, drop, 2, &rx), MIG_RX_REFUSE);
	EXPECT_EQ(deliver(&k, drop_round_end, 4, &rx), MIG_RX_REFUSE);
	EXPECT_EQ(deliver(&k, final_early, 4, &rx), MIG_RX_REFUSE);
	/* All but FINAL: every record accepted, and the stream is still not complete. */
	EXPECT_EQ(deliver(&k, truncated, 7, &rx), MIG_RX_DATA);
	EXPECT_EQ(rx.state, MIG_RX_OPEN);
}

TEST(migrate_stream_refuses_other_sessions_platforms_and_keys)
{
	struct mig_keys k, other;
	struct mig_rx rx;
	struct mig_record r;
	static struct sent old;

	/* A whole stream of another session (another destination's keys): refused at its
	 * first record, as is a record of it spliced into this one. */
	keys_of(&other, 4);
	send_stream(&old, &other);
	keys_of(&k, 5);
	send_stream(&s, &k);
	mig_rx_init(&rx, &k);
	EXPECT_EQ(mig_rx_record(&rx, old.buf[0], old.len[0], &r, payload), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "record of another session or stream");
	mig_rx_init(&rx, &k);
	EXPECT_EQ(mig_rx_record(&rx, s.buf[0], s.len[0], &r, payload), MIG_RX_DATA);
	EXPECT_EQ(mig_rx_record(&rx, old.buf[1], old.len[1], &r, payload), MIG_RX_REFUSE);
	/* The same session and stream number under another key: the tag fails. */
	memcpy(other.session, k.session, sizeof(k.session));
	other.stream = k.stream;
	mig_rx_init(&rx, &other);
	EXPECT_EQ(mig_rx_record(&rx, s.buf[0], s.len[0], &r, payload), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "record does not authenticate");
	/* A destination that expects a stream from SNP hardware refuses the simulator's. */
	other = k;
	other.platform = MIG_PLATFORM_SNP;
	mig_rx_init(&rx, &other);
	EXPECT_EQ(mig_rx_record(&rx, s.buf[0], s.len[0], &r, payload), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "record from another platform than the stream's");
}

/* Two senders on the same keys (a sender that reuses a key, or a host holding one): the
 * records authenticate, and the round's and stream's chain hashes still catch a record
 * that is not the one the sender counted. */
TEST(migrate_stream_chain_hashes_catch_a_substituted_record)
{
	struct mig_keys k;
	struct mig_tx a, b;
	struct mig_rx rx;
	struct mig_record r;
	static uint8_t ra[3][MIG_MAX_RECORD], rb[3][MIG_MAX_RECORD];
	size_t la[3], lb[3];
	static const uint8_t one[MIG_MAX_PAYLOAD] = { 1 }, two[MIG_MAX_PAYLOAD] = { 2 };
	struct mig_record p = { .type = MIG_PAGE, .gpa = 0x1000, .len = 4096, .payload = one };

	keys_of(&k, 6);
	mig_tx_init(&a, &k);
	mig_tx_init(&b, &k);
	la[0] = mig_tx_record(&a, &p, ra[0], MIG_MAX_RECORD);
	lb[0] = mig_tx_record(&b, &p, rb[0], MIG_MAX_RECORD);
	p.payload = two;
	la[1] = mig_tx_record(&a, &p, ra[1], MIG_MAX_RECORD);
	p.type = MIG_VMSA;
	p.len = 4096 + MIG_VCPU_META_SIZE;
	lb[1] = mig_tx_record(&b, &p, rb[1], MIG_MAX_RECORD);
	la[2] = mig_tx_round_end(&a, ra[2], MIG_MAX_RECORD);
	lb[2] = mig_tx_final(&b, rb[2], MIG_MAX_RECORD);
	mig_rx_init(&rx, &k);
	EXPECT_EQ(mig_rx_record(&rx, ra[0], la[0], &r, payload), MIG_RX_DATA);
	EXPECT_EQ(mig_rx_record(&rx, rb[1], lb[1], &r, payload), MIG_RX_DATA);
	EXPECT_EQ(mig_rx_record(&rx, ra[2], la[2], &r, payload), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "round's count or chain hash differs from what was received");
	mig_rx_init(&rx, &k);
	EXPECT_EQ(mig_rx_record(&rx, rb[0], lb[0], &r, payload), MIG_RX_DATA);
	EXPECT_EQ(mig_rx_record(&rx, ra[1], la[1], &r, payload), MIG_RX_DATA);
	EXPECT_EQ(mig_rx_record(&rx, rb[2], lb[2], &r, payload), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "stream's count, chain hash or VMSAs differ from what was received");
	EXPECT_EQ(rx.state, MIG_RX_FAILED);
}

TEST(migrate_stream_sender_refuses_malformed_records)
{
	struct mig_keys k;
	struct mig_tx tx;
	static uint8_t out[MIG_MAX_RECORD];
	uint8_t page[4096] = { 0 };
	const struct mig_record bad[] = {
		{ .type = MIG_PAGE, .gpa = 0x1000, .len = 100, .payload = page },
		{ .type = MIG_PAGE, .gpa = 0x1800, .len = 4096, .payload = page },
		{ .type = MIG_PAGE, .gpa = 0x1000, .len = 4096, .payload = NULL },
		{ .type = MIG_PAGE, .flags = 0x80, .gpa = 0x1000, .len = 4096, .payload = page },
		{ .type = MIG_ZERO, .gpa = 0x1000, .len = 1, .payload = page },
		{ .type = MIG_SERVICE, .len = 0 },
		{ .type = MIG_SERVICE, .len = MIG_MAX_PAYLOAD + 1U, .payload = page },
		{ .type = MIG_FINAL, .len = MIG_FINAL_SIZE, .payload = page },
		{ .type = MIG_INFO, .len = 0 },
		{ .type = 12, .len = 0 },
	};
	const struct mig_record good = { .type = MIG_ZERO, .gpa = 0x1000 };

	keys_of(&k, 7);
	mig_tx_init(&tx, &k);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(mig_tx_record(&tx, &bad[i], out, sizeof(out)), 0U);
	}
	EXPECT_EQ(tx.seq, 0U);
	EXPECT_EQ(mig_tx_record(&tx, &good, out, MIG_HDR_SIZE + CRYPTO_GCM_TAG_SIZE - 1U), 0U);
	EXPECT_EQ(mig_tx_record(&tx, &good, out, sizeof(out)), MIG_HDR_SIZE + CRYPTO_GCM_TAG_SIZE);
	EXPECT_EQ(mig_tx_final(&tx, out, sizeof(out)),
		  MIG_HDR_SIZE + MIG_FINAL_SIZE + CRYPTO_GCM_TAG_SIZE);
	/* Nothing after FINAL. */
	EXPECT_EQ(mig_tx_record(&tx, &good, out, sizeof(out)), 0U);
	EXPECT_EQ(mig_tx_round_end(&tx, out, sizeof(out)), 0U);
	EXPECT_EQ(tx.seq, 2U);
}

/* The key schedule: both SVSMs of an ECDH handshake derive the same session and keys, one
 * key per direction; a record sealed by the source opens at the destination only under
 * the keys of that very handshake. */
TEST(migrate_keys_from_an_ecdh_handshake_agree_on_both_sides)
{
	uint8_t src_priv[CRYPTO_P384_SCALAR_SIZE], dst_priv[CRYPTO_P384_SCALAR_SIZE];
	uint8_t src_pub[CRYPTO_P384_POINT_SIZE], dst_pub[CRYPTO_P384_POINT_SIZE];
	uint8_t src_nonce[MIG_NONCE_SIZE], dst_nonce[MIG_NONCE_SIZE];
	uint8_t s_secret[CRYPTO_P384_SCALAR_SIZE], d_secret[CRYPTO_P384_SCALAR_SIZE];
	uint8_t s_tr[CRYPTO_SHA384_SIZE], d_tr[CRYPTO_SHA384_SIZE];
	struct mig_keys s_s2d, s_d2s, d_s2d, d_d2s, other_s2d, other_d2s;
	static uint8_t rec[MIG_MAX_RECORD];
	const struct mig_record zero = { .type = MIG_ZERO, .gpa = 0x5000 };
	struct mig_tx tx;
	struct mig_rx rx;
	struct mig_record r;

	EXPECT_TRUE(crypto_p384_keygen(src_priv, src_pub));
	EXPECT_TRUE(crypto_p384_keygen(dst_priv, dst_pub));
	EXPECT_TRUE(crypto_random(src_nonce, sizeof(src_nonce)));
	EXPECT_TRUE(crypto_random(dst_nonce, sizeof(dst_nonce)));
	EXPECT_TRUE(crypto_ecdh_p384(src_priv, dst_pub, s_secret));
	EXPECT_TRUE(crypto_ecdh_p384(dst_priv, src_pub, d_secret));
	EXPECT_TRUE(mig_transcript(src_pub, dst_pub, src_nonce, dst_nonce, s_tr));
	EXPECT_TRUE(mig_transcript(src_pub, dst_pub, src_nonce, dst_nonce, d_tr));
	EXPECT_TRUE(mig_keys_derive(s_secret, sizeof(s_secret), src_nonce, dst_nonce, s_tr,
				    MIG_PLATFORM_SIM, &s_s2d, &s_d2s));
	EXPECT_TRUE(mig_keys_derive(d_secret, sizeof(d_secret), src_nonce, dst_nonce, d_tr,
				    MIG_PLATFORM_SIM, &d_s2d, &d_d2s));
	EXPECT_MEM(&s_s2d, &d_s2d, sizeof(s_s2d));
	EXPECT_MEM(&s_d2s, &d_d2s, sizeof(s_d2s));
	EXPECT_MEM(s_s2d.session, s_d2s.session, MIG_SESSION_SIZE);
	EXPECT_TRUE(memcmp(s_s2d.key, s_d2s.key, 32) != 0);
	EXPECT_EQ(s_s2d.stream, MIG_STREAM_S2D);
	EXPECT_EQ(s_d2s.stream, MIG_STREAM_D2S);

	mig_tx_init(&tx, &s_s2d);
	size_t len = mig_tx_record(&tx, &zero, rec, sizeof(rec));

	mig_rx_init(&rx, &d_s2d);
	EXPECT_EQ(mig_rx_record(&rx, rec, len, &r, payload), MIG_RX_DATA);
	/* The other direction's keys do not open it. */
	mig_rx_init(&rx, &d_d2s);
	EXPECT_EQ(mig_rx_record(&rx, rec, len, &r, payload), MIG_RX_REFUSE);
	/* A destination of another handshake (another nonce, so another transcript): another
	 * session, and the record is refused. */
	dst_nonce[0] ^= 1U;
	EXPECT_TRUE(mig_transcript(src_pub, dst_pub, src_nonce, dst_nonce, d_tr));
	EXPECT_TRUE(mig_keys_derive(d_secret, sizeof(d_secret), src_nonce, dst_nonce, d_tr,
				    MIG_PLATFORM_SIM, &other_s2d, &other_d2s));
	EXPECT_TRUE(memcmp(other_s2d.session, s_s2d.session, MIG_SESSION_SIZE) != 0);
	EXPECT_TRUE(memcmp(other_s2d.key, s_s2d.key, 32) != 0);
	mig_rx_init(&rx, &other_s2d);
	EXPECT_EQ(mig_rx_record(&rx, rec, len, &r, payload), MIG_RX_REFUSE);
	EXPECT_STR(rx.why, "record of another session or stream");
	/* A secret shorter than 32 bytes is refused and leaves no keys. */
	EXPECT_TRUE(!mig_keys_derive(s_secret, 31, src_nonce, dst_nonce, s_tr, MIG_PLATFORM_SIM,
				     &other_s2d, &other_d2s));
	EXPECT_EQ(other_s2d.stream | other_d2s.stream | other_s2d.key[0] | other_d2s.key[31], 0U);
}
