/* The host's interface to Donjon's migration engine: a mailbox page and a record ring in
 * memory the host shares with the SVSM (hypervisor-owned pages, never the guest's private
 * memory). The host writes a command into the mailbox and hands it to the SVSM (on the
 * simulator: svsm_migrate_request; on SNP: the host runs the SVSM's VMPL0 VMSA with the
 * mailbox's address as its request, see docs/migration.md); the SVSM copies the mailbox in,
 * acts, and writes back the status and results. Everything the host writes is untrusted:
 * the SVSM checks every field, copies each record out of the ring before it looks at it,
 * and the records themselves are authenticated (core/migrate/stream.h).
 *
 * The mailbox (64 bytes at the start of its page, little-endian):
 *   0  u32 magic (MIG_HOST_MAGIC)          4  u32 version (MIG_HOST_VERSION)
 *   8  u32 cmd, a MIG_CMD_ value          12  u32 status, a MIG_ST_ value (the SVSM's)
 *  16  u64 arg (per command)              24  u64 ring gPA (4 KiB aligned, shared)
 *  32  u32 ring size (bytes, 4 KiB multiple, MIG_HOST_RING_MIN..MIG_HOST_RING_MAX)
 *  36  u32 ring used (bytes the host put in the ring for PEER, PUSH and REPLY; bytes the
 *          SVSM put there for the other commands)
 *  40  u32 out flags, MIG_OUT_ bits      44  u32 out records (records the SVSM wrote
 *          or took; for PUSH, those it looked at, a refused one included)
 *  48  16 reserved bytes, zero
 * Records in the ring lie back to back, each a 64-byte header, payload and tag; a
 * record's size is 64 + the header's u32 payload length at offset 20 + 16. */
#ifndef DONJON_MIGRATE_HOST_H
#define DONJON_MIGRATE_HOST_H

#define MIG_HOST_MAGIC 0x474d4a44U /* "DJMG" */
#define MIG_HOST_VERSION 1U
#define MIG_HOST_MAILBOX_SIZE 64U
#define MIG_HOST_RING_MIN 0x2000U
#define MIG_HOST_RING_MAX 0x100000U

#define MIG_MB_MAGIC 0U
#define MIG_MB_VERSION 4U
#define MIG_MB_CMD 8U
#define MIG_MB_STATUS 12U
#define MIG_MB_ARG 16U
#define MIG_MB_RING_GPA 24U
#define MIG_MB_RING_SIZE 32U
#define MIG_MB_RING_USED 36U
#define MIG_MB_OUT_FLAGS 40U
#define MIG_MB_OUT_RECORDS 44U
#define MIG_MB_RESERVED 48U

enum mig_host_cmd {
	/* ring out: u32 version, u32 largest record, u32 platform, u32 1 if a migration key
	 * is set, u32 the launch policy's flags (LAUNCH_MIGRATE_*) */
	MIG_CMD_QUERY = 0,
	/* arg: MIG_ROLE_SOURCE or MIG_ROLE_DEST, with MIG_HELLO_ATTESTED for attested mode;
	 * ring out: this SVSM's hello (MIG_HELLO_SIZE; in attested mode with its report).
	 * MIG_ST_POLICY if the launch policy refuses the role or the mode. */
	MIG_CMD_HELLO = 1,
	/* ring in: the peer's hello; MIG_ST_POLICY if its policy digest is not this guest's
	 * (the guest keeps its policy) or, in attested mode, its report does not verify or
	 * the policy does not accept it. Derives the session's keys. The source starts tracking
	 * (every page to send is dirty); the destination holds its guest's memory until
	 * commit. */
	MIG_CMD_PEER = 2,
	/* source; arg: budget in bytes (0: the ring). Ring out: the next records, ending
	 * after a ROUND_END (MIG_OUT_ROUND_END) or the FINAL record (MIG_OUT_FINAL). */
	MIG_CMD_PULL = 3,
	/* source: stop every guest vCPU; the records that follow finish the stream */
	MIG_CMD_STOP = 4,
	/* destination; ring in: records. On a reply (FINAL verified: COMMIT; refused:
	 * ABORT) the ring holds it on return (MIG_OUT_REPLY), for the host to carry back. */
	MIG_CMD_PUSH = 5,
	/* source; ring in: the destination's reply. COMMIT: the source never resumes;
	 * ABORT: the source resumes its guest. */
	MIG_CMD_REPLY = 6,
	/* source: give up before FINAL was sent and resume the guest (refused after it) */
	MIG_CMD_CANCEL = 7,
	/* ring out: the status, MIG_STATUS_SIZE bytes */
	MIG_CMD_STATUS = 8,
};

#define MIG_ROLE_SOURCE 1U
#define MIG_ROLE_DEST 2U

enum mig_host_status {
	MIG_ST_OK = 0,
	MIG_ST_BAD_MAILBOX = 1, /* magic, version, reserved bytes, ring or sizes wrong */
	MIG_ST_BAD_COMMAND = 2, /* unknown command, or not now (the engine's phase) */
	MIG_ST_REFUSED = 3,	/* the engine refused (status's reason) and the session ended */
	/* 4 is not used (it was "no migration key": now a policy refusal of the mode) */
	/* The guest's launch policy refuses this session (STATUS gives the reason); nothing
	 * began, the guest runs on as before. */
	MIG_ST_POLICY = 5,
};

#define MIG_OUT_ROUND_END 0x1U
#define MIG_OUT_FINAL 0x2U
#define MIG_OUT_REPLY 0x4U
#define MIG_OUT_COMMITTED 0x8U /* PUSH: the destination committed; REPLY: the source is done */
#define MIG_OUT_RESUMED 0x10U  /* REPLY, CANCEL: the source's guest runs again */

/* A hello (MIG_HELLO_SIZE bytes):
 *    0  u32 "DJMH", u32 version, u32 role, u32 platform
 *   16  32-byte nonce
 *   48  the 48-byte digest of the guest's launch policy (core/migrate/policy.h)
 *   96  u32 mode (MIG_MODE_*), u32 zero
 *  104  the sender's ephemeral P-384 public key (97 bytes; attested mode), zero to 208
 *  208  the sender's SNP attestation report at VMPL0 (1184 bytes; attested mode), whose
 *       REPORT_DATA is SHA-512("donjon-migrate v1 hello" || the hello's bytes 0-207)
 * 1392  CHIP_ID (64), 1456 the chip's public key (97), 1553 its endorsement (96,
 *       include/donjon/chip_cert.h): the host's to fill in attested mode, as it would
 *       attach the VCEK certificate; zero to the end.
 * In test-key mode everything from 104 on is zero. */
#define MIG_HELLO_MAGIC 0x484d4a44U
#define MIG_HELLO_POLICY 48U
#define MIG_HELLO_MODE 96U
#define MIG_HELLO_PUB 104U
#define MIG_HELLO_BOUND 208U /* the bytes REPORT_DATA binds */
#define MIG_HELLO_REPORT 208U
#define MIG_HELLO_CHIP_ID 1392U
#define MIG_HELLO_CHIP_PUB 1456U
#define MIG_HELLO_ENDORSEMENT 1553U
#define MIG_HELLO_SIZE 1656U
#define MIG_MODE_TEST_KEY 1U /* keys from the launch's pre-shared test key */
#define MIG_MODE_ATTESTED 2U /* ECDH P-384 bound to both SVSMs' attestation reports */
/* HELLO's arg: the role, or'd with this for attested mode. */
#define MIG_HELLO_ATTESTED 0x100U

/* STATUS: u32 phase (a MIG_PHASE_ value), u32 round, u64 records sent or taken, u64 page
 * records, u64 bytes, u64 dirty pages now, u64 page records of the round, u64 of the
 * round before, u64 write faults taken, then a 128-byte reason (NUL-terminated) for the
 * last refusal. */
#define MIG_STATUS_SIZE 192U
#define MIG_STATUS_WHY 64U

enum mig_phase {
	MIG_PHASE_IDLE = 0,
	MIG_PHASE_HELLO = 1,	  /* hello made, waiting for the peer's */
	MIG_PHASE_PRECOPY = 2,	  /* source: rounds while the guest runs */
	MIG_PHASE_STOPPED = 3,	  /* source: guest stopped, the stream is being finished */
	MIG_PHASE_FINAL_SENT = 4, /* source: FINAL sent, waiting for the reply */
	MIG_PHASE_DONE = 5,	  /* source: the destination committed; the guest never resumes */
	MIG_PHASE_IMPORT = 6,	  /* destination: taking records */
	MIG_PHASE_COMMITTED = 7,  /* destination: the guest is this machine's */
	MIG_PHASE_FAILED = 8,	  /* destination: refused; its guest never runs */
};

#endif
