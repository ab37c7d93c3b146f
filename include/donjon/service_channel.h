/* The request channel between Donjon (its kernel, or the simulator, which runs a service as
 * an ordinary child process) and a service: the service reads requests from fd 0 and writes
 * responses to fd 1, one response per request, in order. Both are plain byte streams.
 *
 * A message is a 16-byte header and then `length` payload bytes. Header fields and
 * state-blob fields are little-endian u32; a TPM command or response inside a payload is
 * the TPM's own big-endian bytes, passed through unchanged.
 *
 *   offset 0   magic    CHANNEL_MAGIC: the bytes 'D' 'N' 'J' '1' ('1': this version)
 *   offset 4   kind     request: CHANNEL_KIND_*; response: the kind of its request
 *   offset 8   status   request: reserved, must be 0; response: CHANNEL_STATUS_*
 *   offset 12  length   payload bytes that follow, at most CHANNEL_PAYLOAD_MAX
 *
 * Requests and their payloads:
 *   TPM_COMMAND  u8 locality (0..4), then the TPM command exactly as TPM_SEND_COMMAND
 *                carries it (1..CHANNEL_TPM_MAX bytes). The service does not parse the
 *                command: one that is malformed at the TPM level gets the TPM's error
 *                response (a TPM_RC inside a status-OK response).
 *   GET_STATE    empty. The response is the whole TPM state as a state blob.
 *   SET_STATE    a state blob. Accepted only while the service has processed neither a
 *                TPM_COMMAND nor a successful SET_STATE. The TPM then runs from the blob
 *                exactly as the TPM it came from was running: already started (no
 *                TPM2_Startup), same PCRs, loaded objects and sessions. A blob with no
 *                volatile part gives that TPM's permanent state after a power cycle.
 *   SHUTDOWN     empty. The service answers, then exits with status 0. What the TPM keeps
 *                in its state directory is what a power cycle keeps: the next start needs
 *                TPM2_Startup, and TPM2_Shutdown(STATE) before it lets TPM2_Startup(STATE)
 *                restore what a real TPM would.
 *
 * The state blob (vTPM; the permanent and volatile blobs are libtpms's own, versioned and,
 * for the volatile one, checksummed and tied to the permanent one's primary seeds):
 *   offset 0   magic           CHANNEL_STATE_MAGIC: the bytes 'V' 'T' 'S' '1'
 *   offset 4   permanent_len   1..CHANNEL_STATE_PERMANENT_MAX
 *   offset 8   volatile_len    0..CHANNEL_STATE_VOLATILE_MAX
 *   offset 12  the permanent state (libtpms "permall"), then the volatile state
 * and nothing else: 12 + permanent_len + volatile_len is the payload's length.
 * The blob holds the TPM's primary seeds in clear: whoever carries it must keep it secret.
 *
 * The receiver of responses (Donjon) treats everything a service sends as untrusted. A
 * response is valid only if all of these hold; anything else means the service is broken:
 *   - magic is CHANNEL_MAGIC, kind is the kind of the request it answers, status is one of
 *     CHANNEL_STATUS_*, and length is at most CHANNEL_PAYLOAD_MAX;
 *   - status other than OK: length is 0;
 *   - TPM_COMMAND, OK: CHANNEL_TPM_HEADER_SIZE <= length <= CHANNEL_TPM_MAX, and the TPM
 *     response's own size field (big-endian u32 at offset 2) equals length;
 *   - GET_STATE, OK: a state blob as above whose lengths add up to length exactly;
 *   - SET_STATE or SHUTDOWN, OK: length is 0.
 *
 * Errors. Each of these gets a response with that status and an empty payload, and the
 * service goes on with the next request; but for TPM_FAILURE, the request had no effect:
 *   BAD_KIND      kind is not a request kind (the payload is read and dropped);
 *   BAD_LENGTH    length is not valid for the kind;
 *   BAD_FIELD     the reserved status field is not 0, or the locality is above 4;
 *   BAD_SEQUENCE  SET_STATE after a TPM_COMMAND or after a successful SET_STATE;
 *   BAD_STATE     a state blob that is malformed or that libtpms refuses; the TPM keeps
 *                 the state it had;
 *   TPM_FAILURE   libtpms failed outside the TPM protocol (TPMLIB_Process or
 *                 TPMLIB_GetState returned an error, or memory ran out).
 * When the byte stream itself cannot be trusted any more, the service writes nothing, says
 * why on stderr and exits with one of CHANNEL_EXIT_*. */
#ifndef DONJON_SERVICE_CHANNEL_H
#define DONJON_SERVICE_CHANNEL_H

#include <stdint.h>

#define CHANNEL_MAGIC 0x314a4e44U /* "DNJ1" */
#define CHANNEL_HEADER_SIZE 16U

enum channel_kind {
	CHANNEL_KIND_TPM_COMMAND = 1,
	CHANNEL_KIND_GET_STATE = 2,
	CHANNEL_KIND_SET_STATE = 3,
	CHANNEL_KIND_SHUTDOWN = 4,
};

enum channel_status {
	CHANNEL_STATUS_OK = 0,
	CHANNEL_STATUS_BAD_KIND = 1,
	CHANNEL_STATUS_BAD_LENGTH = 2,
	CHANNEL_STATUS_BAD_FIELD = 3,
	CHANNEL_STATUS_BAD_SEQUENCE = 4,
	CHANNEL_STATUS_BAD_STATE = 5,
	CHANNEL_STATUS_TPM_FAILURE = 6,
};
#define CHANNEL_STATUS_LAST CHANNEL_STATUS_TPM_FAILURE

/* The service's exit status. */
enum channel_exit {
	/* SHUTDOWN was answered, or the input ended where a header would start. */
	CHANNEL_EXIT_OK = 0,
	/* Bad arguments, or the TPM could not start (at start, or again after a refused
	 * SET_STATE). */
	CHANNEL_EXIT_START = 1,
	/* Framing lost: a bad magic, a length above CHANNEL_PAYLOAD_MAX, or the input ended
	 * inside a header or a payload. */
	CHANNEL_EXIT_PROTOCOL = 2,
	/* A read or write on the channel failed (hosted, writing to a pipe nobody reads
	 * ends the service with SIGPIPE instead, as for any program). */
	CHANNEL_EXIT_IO = 3,
};

/* A TPM command or response: at most 4096 bytes (the SVSM vTPM protocol's buffer). The
 * vTPM limits itself further to what fits the SVSM_VTPM_CMD page (4096 - 9 bytes of
 * command, advertised as TPM_PT_MAX_COMMAND_SIZE and TPM_PT_MAX_RESPONSE_SIZE). */
#define CHANNEL_TPM_MAX 4096U
#define CHANNEL_TPM_HEADER_SIZE 10U /* tag, size, command code or response code */
#define CHANNEL_LOCALITY_MAX 4U

#define CHANNEL_STATE_MAGIC 0x31535456U /* "VTS1" */
#define CHANNEL_STATE_HEADER_SIZE 12U
/* libtpms 0.9.2's permanent state, measured: 1,299 bytes for a freshly manufactured TPM;
 * 144,142 bytes with its NV full of NV indices (tests/services/test-vtpm fills it), 25,609
 * with it full of persistent objects. The whole NV is NV_MEMORY_SIZE (176,832) bytes; 192 KiB
 * holds all of it and the fixed parts around it. */
#define CHANNEL_STATE_PERMANENT_MAX (192U * 1024U)
/* libtpms counts the volatile state's bytes in a UINT16 (TPM2_VolatileAllStore). Measured:
 * 8,778 bytes before TPM2_Startup, 8,970 after it, 10,023 with the three object slots
 * holding ECC keys. */
#define CHANNEL_STATE_VOLATILE_MAX 65535U
#define CHANNEL_STATE_MAX                                                                          \
	(CHANNEL_STATE_HEADER_SIZE + CHANNEL_STATE_PERMANENT_MAX + CHANNEL_STATE_VOLATILE_MAX)

/* The largest payload of any message: a state blob (a TPM command is far smaller). */
#define CHANNEL_PAYLOAD_MAX CHANNEL_STATE_MAX

#endif
