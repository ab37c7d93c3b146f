/* The migration record stream (stream.h): sealing on the source, checking and opening on
 * the destination. */
#include "migrate/stream.h"

#include <donjon/bytes.h>

#define OFF_VERSION 0U
#define OFF_TYPE 2U
#define OFF_FLAGS 3U
#define OFF_STREAM 4U
#define OFF_SEQ 8U
#define OFF_ROUND 16U
#define OFF_LEN 20U
#define OFF_GPA 24U
#define OFF_PERMS 32U
#define OFF_VCPU 36U
#define OFF_SESSION 40U
#define OFF_RESERVED 56U

#define PAGE_BYTES 4096U

/* The record's shape for its type: payload length, alignment, which fields it may use. */
static bool shape_ok(uint8_t type, uint8_t flags, uint32_t len, uint64_t gpa,
		     const uint8_t perms[4], uint32_t vcpu)
{
	bool page_aligned = (gpa & (PAGE_BYTES - 1U)) == 0U;
	bool no_perms = perms[0] == 0U && perms[1] == 0U && perms[2] == 0U && perms[3] == 0U;
	bool no_fields = gpa == 0U && vcpu == 0U && no_perms && (flags & MIG_FLAGS_RECORD) == 0U;
	bool not_validated = (flags & MIG_FLAG_VALIDATED) == 0U;

	switch (type) {
	case MIG_PAGE:
		return len == PAGE_BYTES && page_aligned && vcpu == 0U;
	case MIG_ZERO:
		return len == 0U && page_aligned && vcpu == 0U;
	case MIG_VMSA:
		return len == PAGE_BYTES + MIG_VCPU_META_SIZE && page_aligned && no_perms &&
		       (flags & MIG_FLAGS_RECORD) == 0U;
	case MIG_SERVICE:
		return len != 0U && len <= MIG_MAX_PAYLOAD && vcpu == 0U &&
		       (flags & MIG_FLAGS_RECORD) == 0U;
	case MIG_INVALIDATE:
		return len == 0U && page_aligned && vcpu == 0U && no_perms && not_validated;
	case MIG_DEPOSIT:
		return len == 0U && page_aligned && vcpu == 0U && no_perms &&
		       (flags & MIG_FLAGS_RECORD) == 0U;
	case MIG_INFO:
		return len == MIG_INFO_SIZE && no_fields;
	case MIG_ROUND_END:
		return len == MIG_ROUND_END_SIZE && no_fields;
	case MIG_FINAL:
		return len == MIG_FINAL_SIZE && no_fields;
	case MIG_COMMIT:
	case MIG_ABORT:
		return len == MIG_REPLY_SIZE && no_fields;
	default:
		return false;
	}
}

static void iv_of(uint32_t stream, uint64_t seq, uint8_t iv[CRYPTO_GCM_IV_SIZE])
{
	store32(iv, 0, stream);
	store64(iv, 4, seq);
}

/* count + 1, hash = SHA-384(hash || header || tag). */
static bool chain_add(struct mig_chain *c, const uint8_t *hdr, const uint8_t *tag)
{
	const struct crypto_span parts[] = {
		{ c->hash, sizeof(c->hash) },
		{ hdr, MIG_HDR_SIZE },
		{ tag, CRYPTO_GCM_TAG_SIZE },
	};

	c->count++;
	return crypto_sha384(parts, 3, c->hash);
}

static void chain_store(const struct mig_chain *c, uint8_t *out)
{
	store64(out, 0, c->count);
	__builtin_memcpy(out + 8, c->hash, sizeof(c->hash));
}

static bool chain_equal(const struct mig_chain *c, const uint8_t *in)
{
	return load64(in, 0) == c->count && __builtin_memcmp(in + 8, c->hash, sizeof(c->hash)) == 0;
}

void mig_tx_init(struct mig_tx *tx, const struct mig_keys *keys)
{
	*tx = (struct mig_tx){ .keys = *keys };
}

static size_t seal(struct mig_tx *tx, const struct mig_record *r, uint8_t *out, size_t cap)
{
	size_t size = MIG_HDR_SIZE + (size_t)r->len + CRYPTO_GCM_TAG_SIZE;
	uint8_t flags = (uint8_t)((r->flags & MIG_FLAGS_RECORD) |
				  (tx->keys.platform << MIG_FLAG_PLATFORM_SHIFT));
	uint8_t iv[CRYPTO_GCM_IV_SIZE];

	if (tx->done || tx->seq + 1U >= MIG_MAX_SEQ || cap < size ||
	    (r->flags & ~MIG_FLAGS_RECORD) != 0U ||
	    !shape_ok(r->type, flags, r->len, r->gpa, r->perms, r->vcpu) ||
	    (r->len != 0U && r->payload == NULL)) {
		return 0;
	}
	uint8_t *hdr = out;
	uint8_t *tag = out + MIG_HDR_SIZE + r->len;

	__builtin_memset(hdr, 0, MIG_HDR_SIZE);
	store16(hdr, OFF_VERSION, MIG_VERSION);
	hdr[OFF_TYPE] = r->type;
	hdr[OFF_FLAGS] = flags;
	store32(hdr, OFF_STREAM, tx->keys.stream);
	store64(hdr, OFF_SEQ, tx->seq + 1U);
	store32(hdr, OFF_ROUND, tx->round);
	store32(hdr, OFF_LEN, r->len);
	store64(hdr, OFF_GPA, r->gpa);
	__builtin_memcpy(hdr + OFF_PERMS, r->perms, 4);
	store32(hdr, OFF_VCPU, r->vcpu);
	__builtin_memcpy(hdr + OFF_SESSION, tx->keys.session, MIG_SESSION_SIZE);
	iv_of(tx->keys.stream, tx->seq + 1U, iv);
	if (!crypto_aes256gcm_seal(tx->keys.key, iv, hdr, MIG_HDR_SIZE, r->payload, r->len,
				   out + MIG_HDR_SIZE, tag) ||
	    !chain_add(&tx->all, hdr, tag)) {
		/* The stream's state is no longer what was sent: nothing more from it. */
		tx->done = true;
		return 0;
	}
	tx->seq++;
	tx->in_round += r->type != MIG_ROUND_END && r->type != MIG_FINAL ? 1U : 0U;
	return size;
}

size_t mig_tx_record(struct mig_tx *tx, const struct mig_record *r, uint8_t *out, size_t cap)
{
	if (r->type == MIG_ROUND_END || r->type == MIG_FINAL) {
		return 0;
	}
	size_t size = seal(tx, r, out, cap);

	if (size != 0U && r->type == MIG_VMSA) {
		tx->vmsas++;
	}
	return size;
}

size_t mig_tx_round_end(struct mig_tx *tx, uint8_t *out, size_t cap)
{
	uint8_t payload[MIG_ROUND_END_SIZE];
	struct mig_record r = { .type = MIG_ROUND_END, .len = sizeof(payload), .payload = payload };

	store64(payload, 0, tx->in_round);
	chain_store(&tx->all, payload + 8);
	size_t size = seal(tx, &r, out, cap);

	if (size != 0U) {
		tx->round++;
		tx->in_round = 0;
	}
	return size;
}

size_t mig_tx_final(struct mig_tx *tx, uint8_t *out, size_t cap)
{
	uint8_t payload[MIG_FINAL_SIZE] = { 0 };
	struct mig_record r = { .type = MIG_FINAL, .len = sizeof(payload), .payload = payload };

	chain_store(&tx->all, payload);
	store32(payload, 8U + CRYPTO_SHA384_SIZE, tx->vmsas);
	size_t size = seal(tx, &r, out, cap);

	if (size != 0U) {
		tx->done = true;
	}
	return size;
}

void mig_rx_init(struct mig_rx *rx, const struct mig_keys *keys)
{
	*rx = (struct mig_rx){ .keys = *keys, .state = MIG_RX_OPEN };
}

static enum mig_rx_result refuse(struct mig_rx *rx, const char *why, uint8_t *payload)
{
	if (rx->state == MIG_RX_OPEN) {
		rx->state = MIG_RX_FAILED;
		rx->why = why;
	}
	crypto_wipe(payload, MIG_MAX_PAYLOAD);
	return MIG_RX_REFUSE;
}

/* The header's fields, checked against the stream's position before anything is
 * decrypted: NULL, or what is wrong. */
static const char *header_problem(const struct mig_rx *rx, const uint8_t *hdr, size_t len)
{
	static const uint8_t zeros[8];
	uint32_t plen = load32(hdr, OFF_LEN);
	uint8_t flags = hdr[OFF_FLAGS];

	if ((uint64_t)MIG_HDR_SIZE + plen + CRYPTO_GCM_TAG_SIZE != len || plen > MIG_MAX_PAYLOAD) {
		return "record length does not match its header";
	}
	if (load16(hdr, OFF_VERSION) != MIG_VERSION ||
	    __builtin_memcmp(hdr + OFF_RESERVED, zeros, sizeof(zeros)) != 0 ||
	    (flags & ~MIG_FLAGS_KNOWN) != 0U) {
		return "record of another format version";
	}
	if (((flags & MIG_FLAG_PLATFORM_MASK) >> MIG_FLAG_PLATFORM_SHIFT) != rx->keys.platform) {
		return "record from another platform than the stream's";
	}
	if (load32(hdr, OFF_STREAM) != rx->keys.stream ||
	    __builtin_memcmp(hdr + OFF_SESSION, rx->keys.session, MIG_SESSION_SIZE) != 0) {
		return "record of another session or stream";
	}
	if (load64(hdr, OFF_SEQ) != rx->seq + 1U || rx->seq + 1U >= MIG_MAX_SEQ) {
		return "record out of sequence (dropped, reordered or replayed)";
	}
	if (load32(hdr, OFF_ROUND) != rx->round) {
		return "record of another round";
	}
	if (!shape_ok(hdr[OFF_TYPE], flags, plen, load64(hdr, OFF_GPA), hdr + OFF_PERMS,
		      load32(hdr, OFF_VCPU))) {
		return "record malformed for its type";
	}
	return NULL;
}

enum mig_rx_result mig_rx_record(struct mig_rx *rx, const uint8_t *in, size_t len,
				 struct mig_record *out, uint8_t *payload)
{
	uint8_t iv[CRYPTO_GCM_IV_SIZE];
	uint8_t hdr[MIG_HDR_SIZE];
	uint8_t tag[CRYPTO_GCM_TAG_SIZE];

	if (rx->state != MIG_RX_OPEN) {
		return refuse(rx, "stream already ended", payload);
	}
	if (len < MIG_HDR_SIZE + CRYPTO_GCM_TAG_SIZE) {
		return refuse(rx, "record shorter than a header and tag", payload);
	}
	/* The host may change the buffer while it is read: header and tag are copied once. */
	__builtin_memcpy(hdr, in, MIG_HDR_SIZE);
	const char *why = header_problem(rx, hdr, len);

	if (why != NULL) {
		return refuse(rx, why, payload);
	}
	uint32_t plen = load32(hdr, OFF_LEN);

	__builtin_memcpy(tag, in + MIG_HDR_SIZE + plen, sizeof(tag));
	/* So is the ciphertext, and opened in place: the cipher may read its input twice
	 * (once for the tag, once to decrypt), and what it checked must be what it opens. */
	__builtin_memcpy(payload, in + MIG_HDR_SIZE, plen);
	iv_of(rx->keys.stream, rx->seq + 1U, iv);
	if (!crypto_aes256gcm_open(rx->keys.key, iv, hdr, MIG_HDR_SIZE, payload, plen, payload,
				   tag)) {
		return refuse(rx, "record does not authenticate", payload);
	}
	uint8_t type = hdr[OFF_TYPE];

	if (type == MIG_ROUND_END &&
	    (load64(payload, 0) != rx->in_round || !chain_equal(&rx->all, payload + 8))) {
		return refuse(rx, "round's count or chain hash differs from what was received",
			      payload);
	}
	if (type == MIG_FINAL && (!chain_equal(&rx->all, payload) ||
				  load32(payload, 8U + CRYPTO_SHA384_SIZE) != rx->vmsas ||
				  load32(payload, 12U + CRYPTO_SHA384_SIZE) != 0U)) {
		return refuse(rx,
			      "stream's count, chain hash or VMSAs differ from what was received",
			      payload);
	}
	if (!chain_add(&rx->all, hdr, tag)) {
		return refuse(rx, "hash failed", payload);
	}
	rx->seq++;
	switch (type) {
	case MIG_ROUND_END:
		rx->round++;
		rx->in_round = 0;
		return MIG_RX_ROUND;
	case MIG_FINAL:
		rx->state = MIG_RX_COMPLETE;
		return MIG_RX_FINAL;
	default:
		break;
	}
	rx->in_round++;
	rx->vmsas += type == MIG_VMSA ? 1U : 0U;
	*out = (struct mig_record){
		.type = type,
		.flags = hdr[OFF_FLAGS] & MIG_FLAGS_RECORD,
		.gpa = load64(hdr, OFF_GPA),
		.vcpu = load32(hdr, OFF_VCPU),
		.round = load32(hdr, OFF_ROUND),
		.len = plen,
		.payload = payload,
	};
	__builtin_memcpy(out->perms, hdr + OFF_PERMS, 4);
	return MIG_RX_DATA;
}
