/* The migration engine's record stream: what one SVSM sends another through the host, as
 * authenticated, encrypted records (AES-256-GCM, include/donjon/crypto.h). The host only
 * carries them; it can drop, reorder, replay, truncate, splice or alter any of them, and
 * the receiving side must notice each of those before it acts on a record.
 *
 * A record is a 64-byte header, sent in clear and authenticated as the cipher's associated
 * data, then the encrypted payload and the 16-byte tag (all little-endian):
 *   0  u16 version (MIG_VERSION)      2  u8 type            3  u8 flags
 *   4  u32 stream                     8  u64 seq (1, 2, 3, ... : the nonce is stream || seq)
 *  16  u32 round (pre-copy round)    20  u32 payload length 24  u64 gpa (or object id)
 *  32  u8 perms[4] (VMPL0-3)         36  u32 vcpu (APIC ID of a VMSA record)
 *  40  u8 session[16]                56  8 reserved bytes, zero
 * Every record extends a hash chained over the stream's records (SHA-384 of the chain so
 * far, the header and the tag). Each round ends with a ROUND_END record (the round's data
 * records, every record before it and the chain over them); the stream ends with FINAL
 * (the count and chain of every record before it, and how many VMSA records it carried). The
 * receiver accepts a record only as the next one of its stream and round, so that a replayed,
 * reordered or dropped record fails at once and a truncated stream never reaches a verified FINAL;
 * a failure is final for the stream.
 *
 * This layer knows nothing of memory, policy or how the key was agreed: it takes the keys
 * (struct mig_keys) from the key schedule and gives the importer records in order. */
#ifndef CORE_MIGRATE_STREAM_H
#define CORE_MIGRATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <donjon/crypto.h>

#define MIG_VERSION 1U
#define MIG_HDR_SIZE 64U
#define MIG_SESSION_SIZE 16U
/* A VMSA record's payload: the page, then MIG_VCPU_META_SIZE bytes about the vCPU. */
#define MIG_VCPU_META_SIZE 64U
#define MIG_MAX_PAYLOAD (4096U + MIG_VCPU_META_SIZE)
#define MIG_MAX_RECORD (MIG_HDR_SIZE + MIG_MAX_PAYLOAD + CRYPTO_GCM_TAG_SIZE)
/* A key seals at most this many records (then the stream needs a new key). */
#define MIG_MAX_SEQ (1ULL << 32)

enum mig_type {
	MIG_PAGE = 1,	    /* a 4 KiB page's contents, at gpa, with its permissions */
	MIG_ZERO = 2,	    /* a page of zeros (no payload) */
	MIG_VMSA = 3,	    /* a guest vCPU's VMSA page at gpa for APIC ID vcpu, and its meta */
	MIG_SERVICE = 4,    /* service state (the vTPM's blob), a piece at offset gpa */
	MIG_ROUND_END = 5,  /* payload: u64 round's count, u64 count, chain hash */
	MIG_FINAL = 6,	    /* payload: u64 count, chain hash, u32 VMSA records, u32 0 */
	MIG_INVALIDATE = 7, /* the page at gpa, sent before, is no longer validated */
	MIG_DEPOSIT = 8,    /* the page at gpa is deposited with the SVSM (no payload) */
	MIG_INFO = 9,	    /* the source machine's shape (MIG_INFO_SIZE), first of all */
	MIG_COMMIT = 10,    /* destination to source: FINAL verified, the guest is mine */
	MIG_ABORT = 11,	    /* destination to source: refused, the source may resume */
};

/* Flags: the page is validated (PAGE, ZERO), part of a 2 MiB page (PAGE, ZERO,
 * INVALIDATE); the platform the stream comes from. */
#define MIG_FLAG_VALIDATED 0x01U
#define MIG_FLAG_2M 0x02U
#define MIG_FLAG_PLATFORM_SHIFT 4U
#define MIG_FLAG_PLATFORM_MASK 0x30U
#define MIG_FLAGS_KNOWN (MIG_FLAG_VALIDATED | MIG_FLAG_2M | MIG_FLAG_PLATFORM_MASK)
#define MIG_FLAGS_RECORD (MIG_FLAG_VALIDATED | MIG_FLAG_2M)
#define MIG_PLATFORM_SIM 1U
#define MIG_PLATFORM_NATIVE 2U
#define MIG_PLATFORM_SNP 3U

#define MIG_ROUND_END_SIZE (8U + 8U + CRYPTO_SHA384_SIZE)
#define MIG_FINAL_SIZE (8U + CRYPTO_SHA384_SIZE + 8U)
#define MIG_INFO_SIZE 64U
/* COMMIT and ABORT: the count and chain of the source's records the destination took. */
#define MIG_REPLY_SIZE (8U + CRYPTO_SHA384_SIZE)

/* One direction's keys, from the key schedule: the AES-256 key, the session both sides
 * derived, the stream's number (the nonce's prefix) and the platform of the sender. */
struct mig_keys {
	uint8_t key[32];
	uint8_t session[MIG_SESSION_SIZE];
	uint32_t stream;
	uint8_t platform;
};

/* A record as the engine gives it to the sender and gets it from the receiver. payload
 * is MIG_PAGE: 4096 bytes; MIG_VMSA: 4096 + MIG_VCPU_META_SIZE; MIG_SERVICE: 1 to
 * MIG_MAX_PAYLOAD; MIG_INFO: MIG_INFO_SIZE; COMMIT, ABORT: MIG_REPLY_SIZE; others: none. */
struct mig_record {
	uint8_t type;
	uint8_t flags; /* MIG_FLAGS_RECORD only; the platform bits are the stream's */
	uint64_t gpa;
	uint8_t perms[4];
	uint32_t vcpu;
	uint32_t round; /* set by the stream */
	uint32_t len;
	const uint8_t *payload;
};

struct mig_chain {
	uint64_t count;
	uint8_t hash[CRYPTO_SHA384_SIZE];
};

struct mig_tx {
	struct mig_keys keys;
	uint64_t seq; /* the last one used */
	uint32_t round;
	uint64_t in_round; /* data records of the current round */
	struct mig_chain all;
	uint32_t vmsas;
	bool done; /* FINAL sent (or a failure): nothing more is sealed */
};

enum mig_rx_state {
	MIG_RX_OPEN,
	MIG_RX_COMPLETE, /* FINAL verified: the stream is whole */
	MIG_RX_FAILED,
};

struct mig_rx {
	struct mig_keys keys;
	uint64_t seq; /* the last one accepted */
	uint32_t round;
	uint64_t in_round;
	struct mig_chain all;
	uint32_t vmsas;
	enum mig_rx_state state;
	const char *why; /* the first failure */
};

/* What mig_rx_record made of a record. */
enum mig_rx_result {
	MIG_RX_DATA,   /* any record but ROUND_END and FINAL, for the importer */
	MIG_RX_ROUND,  /* a round ended as its sender said it did */
	MIG_RX_FINAL,  /* the stream is complete and verified */
	MIG_RX_REFUSE, /* refused (rx->why); the stream has failed for good */
};

void mig_tx_init(struct mig_tx *tx, const struct mig_keys *keys);
/* Seal a data record (any type but ROUND_END and FINAL) of the current round into out (cap
 * bytes): its size, or 0 if the record is malformed, out is too small, the stream is done
 * or out of sequence numbers. */
size_t mig_tx_record(struct mig_tx *tx, const struct mig_record *r, uint8_t *out, size_t cap);
/* End the current round (ROUND_END) and begin the next; size or 0. */
size_t mig_tx_round_end(struct mig_tx *tx, uint8_t *out, size_t cap);
/* End the stream (FINAL); size or 0. Nothing can be sealed after it. */
size_t mig_tx_final(struct mig_tx *tx, uint8_t *out, size_t cap);

void mig_rx_init(struct mig_rx *rx, const struct mig_keys *keys);
/* Check and open the record in[0, len): on MIG_RX_DATA, *out describes it and its payload
 * is in payload (MIG_MAX_PAYLOAD bytes, the caller's); on anything refused, payload holds
 * nothing of it. */
enum mig_rx_result mig_rx_record(struct mig_rx *rx, const uint8_t *in, size_t len,
				 struct mig_record *out, uint8_t *payload);

#endif
