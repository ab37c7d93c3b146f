/* libFuzzer target over the destination's record parser (core/migrate/stream.c), as a
 * hostile host drives it: the input describes a genuine stream (up to 12 records of every
 * type, rounds, FINAL, sealed under a fixed key) and then what the host does to it on the
 * way (flip a bit anywhere, drop, duplicate or swap records, cut one short or long, end
 * early). The receiver sees the result.
 *
 * Invariants: a refusal is final (state FAILED, why set, no record taken after it) and
 * leaves nothing in the payload buffer; the receiver reports FINAL only if the records it
 * got were exactly the ones sent, in order, and every data record it accepted before that
 * is the sender's record at that position, header and payload; the sender's next record,
 * when nothing before it was changed, is never refused. */
#include <stdlib.h>
#include <string.h>

#include "migrate/stream.h"

#define MAX_RECS 12U
#define MAX_DELIVER 16U

struct sealed {
	uint8_t buf[MIG_MAX_RECORD];
	size_t len;
	struct mig_record rec; /* as sent (payload points at page) */
	uint8_t page[MIG_MAX_PAYLOAD];
};

static struct sealed sent[MAX_RECS + 1U];
static uint8_t wire[MIG_MAX_RECORD + 1U];
static uint8_t payload[MIG_MAX_PAYLOAD];

static uint8_t take(const uint8_t **p, size_t *n)
{
	if (*n == 0U) {
		return 0;
	}
	(*n)--;
	return *(*p)++;
}

/* The genuine stream: one input byte per record says its type and fields. */
static unsigned build(struct mig_tx *tx, const uint8_t **p, size_t *n)
{
	unsigned count = take(p, n) % MAX_RECS;
	unsigned made = 0;

	for (unsigned i = 0; i < count; i++) {
		uint8_t b = take(p, n);
		struct sealed *s = &sent[made];
		static const uint8_t types[] = { MIG_PAGE, MIG_ZERO, MIG_VMSA, MIG_SERVICE };

		memset(s->page, b, sizeof(s->page));
		if ((b & 7U) == 7U) {
			s->len = mig_tx_round_end(tx, s->buf, sizeof(s->buf));
			s->rec = (struct mig_record){ .type = MIG_ROUND_END };
		} else {
			uint8_t type = types[b & 3U];
			uint32_t len = type == MIG_ZERO	     ? 0U
				       : type == MIG_SERVICE ? 1U + (b >> 2)
				       : type == MIG_VMSA    ? 4096U + MIG_VCPU_META_SIZE
							     : 4096U;

			s->rec = (struct mig_record){
				.type = type,
				.flags = type == MIG_SERVICE || type == MIG_VMSA ? 0U : (b >> 7),
				.gpa = (uint64_t)(b >> 3) << 12,
				.perms = { 0, 0, type == MIG_VMSA ? 0U : b & 0xFU, 0 },
				.vcpu = type == MIG_VMSA ? b : 0U,
				.len = len,
				.payload = len != 0U ? s->page : NULL,
			};
			s->len = mig_tx_record(tx, &s->rec, s->buf, sizeof(s->buf));
		}
		if (s->len == 0U) {
			abort();
		}
		made++;
	}
	sent[made].len = mig_tx_final(tx, sent[made].buf, sizeof(sent[made].buf));
	sent[made].rec = (struct mig_record){ .type = MIG_FINAL };
	if (sent[made].len == 0U) {
		abort();
	}
	return made + 1U;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_keys k = { .stream = 7, .platform = MIG_PLATFORM_SIM };
	struct mig_tx tx;
	struct mig_rx rx;
	const uint8_t *p = data;
	size_t n = size;

	memset(k.key, 0x42, sizeof(k.key));
	memset(k.session, 0x17, sizeof(k.session));
	mig_tx_init(&tx, &k);
	unsigned total = build(&tx, &p, &n);
	unsigned next = 0;    /* the sender's record the receiver should get next */
	bool faithful = true; /* everything delivered so far was sent[0..next) in order */

	mig_rx_init(&rx, &k);
	for (unsigned d = 0; d < MAX_DELIVER && n != 0U; d++) {
		uint8_t op = take(&p, &n);
		unsigned idx = (op >> 3) % total;
		size_t len = sent[idx].len;
		bool genuine_next = false;

		memcpy(wire, sent[idx].buf, len);
		switch (op & 7U) {
		case 0: /* flip one bit */ {
			unsigned at = ((unsigned)take(&p, &n) << 8 | take(&p, &n)) % (unsigned)len;

			wire[at] ^= (uint8_t)(1U << (take(&p, &n) & 7U));
			faithful = false;
			break;
		}
		case 1: /* cut short */
			len -= 1U + take(&p, &n) % len;
			faithful = false;
			break;
		case 2: /* a byte too many */
			wire[len++] = take(&p, &n);
			faithful = false;
			break;
		default: /* as sent: faithful only if it is the next one */
			idx = (op & 4U) != 0U ? next % total : idx;
			len = sent[idx].len;
			memcpy(wire, sent[idx].buf, len);
			if (idx != next) {
				faithful = false;
			}
			genuine_next = faithful;
			break;
		}
		struct mig_record got;
		enum mig_rx_state before = rx.state;

		memset(payload, 0xA5, sizeof(payload));
		enum mig_rx_result res = mig_rx_record(&rx, wire, len, &got, payload);

		if (res == MIG_RX_REFUSE) {
			for (size_t i = 0; i < sizeof(payload); i++) {
				if (payload[i] != 0U) {
					abort();
				}
			}
			/* The sender's next record, with nothing changed before it, must open. */
			if (rx.state == MIG_RX_OPEN || (before == MIG_RX_OPEN && rx.why == NULL) ||
			    (genuine_next && before == MIG_RX_OPEN)) {
				abort();
			}
			continue;
		}
		/* Accepted: only while everything so far was the sender's, in order. */
		if (!faithful || before != MIG_RX_OPEN || idx != next) {
			abort();
		}
		const struct mig_record *want = &sent[next].rec;

		if (res == MIG_RX_DATA &&
		    (got.type != want->type || got.gpa != want->gpa || got.len != want->len ||
		     got.vcpu != want->vcpu || got.flags != want->flags ||
		     memcmp(got.perms, want->perms, 4) != 0 ||
		     (got.len != 0U && memcmp(payload, want->payload, got.len) != 0))) {
			abort();
		}
		if ((res == MIG_RX_FINAL) != (want->type == MIG_FINAL) ||
		    (res == MIG_RX_ROUND) != (want->type == MIG_ROUND_END)) {
			abort();
		}
		next++;
	}
	if (rx.state == MIG_RX_COMPLETE && next != total) {
		abort();
	}
	return 0;
}
