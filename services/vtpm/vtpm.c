/* The vTPM service: a TPM 2.0 (libtpms) behind the request channel of
 * include/donjon/service_channel.h, built as an ordinary static Linux program.
 * Usage: vtpm --state DIR
 *
 * DIR holds the TPM's NV blobs as plain files named as libtpms names them ("permall" is the
 * only one a TPM 2.0 writes). With no "permall" in DIR, libtpms manufactures a new TPM at
 * start: new primary seeds, so a new endorsement key. The EK is not stored; a client
 * derives it from the endorsement primary seed with TPM2_CreatePrimary in the endorsement
 * hierarchy and the TCG EK Credential Profile's template L-1 (RSA 2048), so it is the same
 * for as long as "permall" is. TPM2_Startup is the client's to send.
 *
 * System calls (strace over all of tests/services/test-vtpm):
 *   glibc's start: arch_prctl, set_tid_address, set_robust_list, rseq, prlimit64, readlink,
 *   brk, mprotect (shared/spec/linux-abi-services.md: most may fail with ENOSYS);
 *   the channel: read (fd 0), write (fd 1; fd 2 for the message before an error exit);
 *   NV: openat, read, write and close on files in DIR (unlink is there for libtpms's
 *   deletename callback, which its TPM 2.0 never calls);
 *   memory: brk, and mmap/munmap for large buffers (libtpms's 272 KiB to marshal the
 *   permanent state, the 192 KiB nv_load() reads a file into);
 *   libtpms and libcrypto: getrandom, futex (FUTEX_WAKE_PRIVATE), getpid, clock_gettime
 *   (the TPM clock reads CLOCK_MONOTONIC, through the vDSO when there is one); newfstatat
 *   and lseek on fd 2 when libtpms logs an error (glibc's vdprintf);
 *   exit_group.
 * No stat of a file, no directory listing, no rename: a file's size is what read() returns
 * before end of file. OpenSSL reads no configuration file (OPENSSL_INIT_NO_LOAD_CONFIG). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <libtpms/tpm_nvfilename.h>
#include <openssl/crypto.h>

#include <donjon/service_channel.h>

/* What fits the SVSM_VTPM_CMD page: the request's 9-byte header and the command. */
#define VTPM_BUFFER_SIZE (4096U - 9U)
#define VTPM_PATH_MAX 4096U

_Static_assert(VTPM_BUFFER_SIZE <= CHANNEL_TPM_MAX, "the TPM's buffer fits a channel message");

static const char *state_dir;
static uint8_t locality;
/* A TPM_COMMAND has been processed, or a SET_STATE has succeeded: SET_STATE is refused. */
static bool state_fixed;
/* A store into state_dir failed. libtpms does not fail TPMLIB_MainInit for it (it only
 * enters failure mode when a store fails during a command), so tpm_init() does. */
static bool nv_store_failed;

static uint8_t request[CHANNEL_PAYLOAD_MAX];
static uint8_t response[CHANNEL_HEADER_SIZE + CHANNEL_TPM_MAX];
/* libtpms's response buffer: it may replace it (TPMLIB_Process(3)), so it is its own. */
static unsigned char *tpm_out;
static uint32_t tpm_out_size;

static uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Reads up to len bytes; fewer only at end of input. Returns the count, or -1 on error. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static bool write_full(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static void __attribute__((noreturn, format(printf, 2, 3))) die(int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n] = '\n';
	/* Nothing is left to do if stderr is gone too. */
	(void)write_full(STDERR_FILENO, (const uint8_t *)msg, (size_t)n + 1);
	exit(status);
}

/* Writes a response whose payload (length bytes) already follows the header in msg. */
static void send_response(uint8_t *msg, uint32_t kind, uint32_t status, uint32_t length)
{
	le32_put(msg, CHANNEL_MAGIC);
	le32_put(msg + 4, kind);
	le32_put(msg + 8, status);
	le32_put(msg + 12, length);
	if (!write_full(STDOUT_FILENO, msg, CHANNEL_HEADER_SIZE + (size_t)length))
		die(CHANNEL_EXIT_IO, "vtpm: writing a response failed: %s", strerror(errno));
}

static void send_status(uint32_t kind, uint32_t status)
{
	send_response(response, kind, status, 0);
}

/* ---- NV storage: libtpms's named blobs as files in state_dir ---- */

/* libtpms names only these blobs (tpm_nvfilename.h); the check keeps any other name, with a
 * '/' or not, out of the path. */
static bool nv_path(char *path, const char *name)
{
	int n = 0;

	if (strcmp(name, TPM_PERMANENT_ALL_NAME) != 0 &&
	    strcmp(name, TPM_VOLATILESTATE_NAME) != 0 && strcmp(name, TPM_SAVESTATE_NAME) != 0)
		return false;
	n = snprintf(path, VTPM_PATH_MAX, "%s/%s", state_dir, name);
	return n > 0 && (size_t)n < VTPM_PATH_MAX;
}

static TPM_RESULT nv_init(void)
{
	return TPM_SUCCESS;
}

/* A missing file is TPM_RETRY: libtpms then manufactures a TPM (permall) or starts without
 * that state. The buffer is malloc'd: libtpms frees it. A file larger than any state libtpms
 * writes is refused. */
static TPM_RESULT nv_load(unsigned char **data, uint32_t *length, uint32_t tpm_number,
			  const char *name)
{
	char path[VTPM_PATH_MAX];
	uint8_t *buf = NULL;
	size_t cap = CHANNEL_STATE_PERMANENT_MAX + 1;
	ssize_t got = 0;
	int fd = -1;

	(void)tpm_number;
	*data = NULL;
	*length = 0;
	if (!nv_path(path, name))
		return TPM_FAIL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? TPM_RETRY : TPM_FAIL;
	buf = malloc(cap);
	if (buf == NULL) {
		(void)close(fd);
		return TPM_FAIL;
	}
	got = read_full(fd, buf, cap);
	(void)close(fd);
	if (got < 0 || (size_t)got == cap) {
		free(buf);
		return TPM_FAIL;
	}
	*data = buf;
	*length = (uint32_t)got;
	return TPM_SUCCESS;
}

/* Not atomic (no rename in Donjon's RAM filesystem): the TPM enters failure mode if a
 * store fails, and a half-written file fails libtpms's checks at the next start. */
static TPM_RESULT nv_store(const unsigned char *data, uint32_t length, uint32_t tpm_number,
			   const char *name)
{
	char path[VTPM_PATH_MAX];
	bool ok = false;
	int fd = -1;

	(void)tpm_number;
	if (!nv_path(path, name))
		return TPM_FAIL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		nv_store_failed = true;
		return TPM_FAIL;
	}
	ok = write_full(fd, data, length);
	if (close(fd) != 0)
		ok = false;
	if (!ok)
		nv_store_failed = true;
	return ok ? TPM_SUCCESS : TPM_FAIL;
}

static TPM_RESULT nv_delete(uint32_t tpm_number, const char *name, TPM_BOOL must_exist)
{
	char path[VTPM_PATH_MAX];

	(void)tpm_number;
	if (!nv_path(path, name))
		return TPM_FAIL;
	if (unlink(path) == 0 || (errno == ENOENT && !must_exist))
		return TPM_SUCCESS;
	return TPM_FAIL;
}

static TPM_RESULT io_init(void)
{
	return TPM_SUCCESS;
}

static TPM_RESULT io_get_locality(TPM_MODIFIER_INDICATOR *modifier, uint32_t tpm_number)
{
	(void)tpm_number;
	*modifier = locality;
	return TPM_SUCCESS;
}

static TPM_RESULT io_get_physical_presence(TPM_BOOL *present, uint32_t tpm_number)
{
	(void)tpm_number;
	*present = 0;
	return TPM_SUCCESS;
}

/* ---- requests ---- */

static void do_tpm_command(uint8_t *payload, uint32_t length)
{
	uint32_t out_len = 0;

	if (length < 2 || length > 1 + CHANNEL_TPM_MAX) {
		send_status(CHANNEL_KIND_TPM_COMMAND, CHANNEL_STATUS_BAD_LENGTH);
		return;
	}
	if (payload[0] > CHANNEL_LOCALITY_MAX) {
		send_status(CHANNEL_KIND_TPM_COMMAND, CHANNEL_STATUS_BAD_FIELD);
		return;
	}
	locality = payload[0];
	state_fixed = true;
	if (TPMLIB_Process(&tpm_out, &out_len, &tpm_out_size, payload + 1, length - 1) !=
		    TPM_SUCCESS ||
	    out_len < CHANNEL_TPM_HEADER_SIZE || out_len > CHANNEL_TPM_MAX) {
		send_status(CHANNEL_KIND_TPM_COMMAND, CHANNEL_STATUS_TPM_FAILURE);
		return;
	}
	memcpy(response + CHANNEL_HEADER_SIZE, tpm_out, out_len);
	send_response(response, CHANNEL_KIND_TPM_COMMAND, CHANNEL_STATUS_OK, out_len);
}

static void do_get_state(uint32_t length)
{
	unsigned char *perm = NULL;
	unsigned char *vol = NULL;
	uint32_t perm_len = 0;
	uint32_t vol_len = 0;
	uint32_t status = CHANNEL_STATUS_TPM_FAILURE;
	uint32_t blob_len = 0;
	uint8_t *msg = NULL;

	if (length != 0) {
		send_status(CHANNEL_KIND_GET_STATE, CHANNEL_STATUS_BAD_LENGTH);
		return;
	}
	if (TPMLIB_GetState(TPMLIB_STATE_PERMANENT, &perm, &perm_len) != TPM_SUCCESS ||
	    TPMLIB_GetState(TPMLIB_STATE_VOLATILE, &vol, &vol_len) != TPM_SUCCESS)
		goto out;
	if (perm_len == 0 || perm_len > CHANNEL_STATE_PERMANENT_MAX ||
	    vol_len > CHANNEL_STATE_VOLATILE_MAX)
		goto out;
	blob_len = CHANNEL_STATE_HEADER_SIZE + perm_len + vol_len;
	msg = malloc(CHANNEL_HEADER_SIZE + (size_t)blob_len);
	if (msg == NULL)
		goto out;
	le32_put(msg + CHANNEL_HEADER_SIZE, CHANNEL_STATE_MAGIC);
	le32_put(msg + CHANNEL_HEADER_SIZE + 4, perm_len);
	le32_put(msg + CHANNEL_HEADER_SIZE + 8, vol_len);
	memcpy(msg + CHANNEL_HEADER_SIZE + CHANNEL_STATE_HEADER_SIZE, perm, perm_len);
	if (vol_len != 0)
		memcpy(msg + CHANNEL_HEADER_SIZE + CHANNEL_STATE_HEADER_SIZE + perm_len, vol,
		       vol_len);
	send_response(msg, CHANNEL_KIND_GET_STATE, CHANNEL_STATUS_OK, blob_len);
	status = CHANNEL_STATUS_OK;
out:
	free(msg);
	free(perm);
	free(vol);
	if (status != CHANNEL_STATUS_OK)
		send_status(CHANNEL_KIND_GET_STATE, status);
}

/* Starts the TPM (manufacturing it if state_dir has no "permall"); TPM_FAIL if the state
 * it started with could not be stored. */
static TPM_RESULT tpm_init(void)
{
	TPM_RESULT rc = TPM_SUCCESS;

	nv_store_failed = false;
	rc = TPMLIB_MainInit();
	if (rc == TPM_SUCCESS && nv_store_failed)
		rc = TPM_FAIL;
	return rc;
}

static void tpm_start(void)
{
	TPM_RESULT rc = tpm_init();

	if (rc != TPM_SUCCESS)
		die(CHANNEL_EXIT_START, "vtpm: the TPM did not start in %s (0x%x)", state_dir, rc);
}

/* Checks the blob's framing, then hands its parts to libtpms, which checks their contents
 * (TPMLIB_SetState(3): the TPM must be off, and the permanent state comes first; the
 * volatile state must match the permanent state's seeds and its own checksum). Refused,
 * the TPM starts again from state_dir, which nothing has written since it started. */
static void do_set_state(const uint8_t *blob, uint32_t length)
{
	uint32_t perm_len = 0;
	uint32_t vol_len = 0;
	TPM_RESULT rc = TPM_SUCCESS;

	if (state_fixed) {
		send_status(CHANNEL_KIND_SET_STATE, CHANNEL_STATUS_BAD_SEQUENCE);
		return;
	}
	if (length < CHANNEL_STATE_HEADER_SIZE) {
		send_status(CHANNEL_KIND_SET_STATE, CHANNEL_STATUS_BAD_STATE);
		return;
	}
	perm_len = le32_get(blob + 4);
	vol_len = le32_get(blob + 8);
	/* Each bound keeps the sum below 2^32. */
	if (le32_get(blob) != CHANNEL_STATE_MAGIC || perm_len == 0 ||
	    perm_len > CHANNEL_STATE_PERMANENT_MAX || vol_len > CHANNEL_STATE_VOLATILE_MAX ||
	    CHANNEL_STATE_HEADER_SIZE + perm_len + vol_len != length) {
		send_status(CHANNEL_KIND_SET_STATE, CHANNEL_STATUS_BAD_STATE);
		return;
	}
	TPMLIB_Terminate();
	rc = TPMLIB_SetState(TPMLIB_STATE_PERMANENT, blob + CHANNEL_STATE_HEADER_SIZE, perm_len);
	if (rc == TPM_SUCCESS && vol_len != 0)
		rc = TPMLIB_SetState(TPMLIB_STATE_VOLATILE,
				     blob + CHANNEL_STATE_HEADER_SIZE + perm_len, vol_len);
	if (rc == TPM_SUCCESS)
		rc = tpm_init();
	/* libtpms drops every blob it holds when it refuses one, and TPMLIB_MainInit takes
	 * them. TPMLIB_SetState(st, NULL, 0) is no way to drop them: it hides the file as
	 * well, and the TPM would start on an empty NV. */
	if (rc != TPM_SUCCESS) {
		TPMLIB_Terminate();
		tpm_start();
		send_status(CHANNEL_KIND_SET_STATE, CHANNEL_STATUS_BAD_STATE);
		return;
	}
	state_fixed = true;
	send_status(CHANNEL_KIND_SET_STATE, CHANNEL_STATUS_OK);
}

static void do_shutdown(uint32_t length)
{
	if (length != 0) {
		send_status(CHANNEL_KIND_SHUTDOWN, CHANNEL_STATUS_BAD_LENGTH);
		return;
	}
	TPMLIB_Terminate();
	send_status(CHANNEL_KIND_SHUTDOWN, CHANNEL_STATUS_OK);
	exit(CHANNEL_EXIT_OK);
}

/* Reads one request and answers it. Returns only to read the next. */
static void serve_one(void)
{
	uint8_t hdr[CHANNEL_HEADER_SIZE];
	ssize_t got = read_full(STDIN_FILENO, hdr, sizeof(hdr));
	uint32_t kind = 0;
	uint32_t length = 0;

	if (got < 0)
		die(CHANNEL_EXIT_IO, "vtpm: reading a request failed: %s", strerror(errno));
	if (got == 0)
		exit(CHANNEL_EXIT_OK);
	if ((size_t)got < sizeof(hdr))
		die(CHANNEL_EXIT_PROTOCOL,
		    "vtpm: the input ended inside a header (%zd of %u bytes)", got,
		    CHANNEL_HEADER_SIZE);
	if (le32_get(hdr) != CHANNEL_MAGIC)
		die(CHANNEL_EXIT_PROTOCOL, "vtpm: bad magic 0x%08x", le32_get(hdr));
	kind = le32_get(hdr + 4);
	length = le32_get(hdr + 12);
	if (length > CHANNEL_PAYLOAD_MAX)
		die(CHANNEL_EXIT_PROTOCOL, "vtpm: payload length %u is above %u", length,
		    CHANNEL_PAYLOAD_MAX);
	got = read_full(STDIN_FILENO, request, length);
	if (got < 0)
		die(CHANNEL_EXIT_IO, "vtpm: reading a request failed: %s", strerror(errno));
	if ((size_t)got < length)
		die(CHANNEL_EXIT_PROTOCOL,
		    "vtpm: the input ended inside a payload (%zd of %u bytes)", got, length);

	if (kind < CHANNEL_KIND_TPM_COMMAND || kind > CHANNEL_KIND_SHUTDOWN) {
		send_status(kind, CHANNEL_STATUS_BAD_KIND);
		return;
	}
	if (le32_get(hdr + 8) != 0) {
		send_status(kind, CHANNEL_STATUS_BAD_FIELD);
		return;
	}
	switch (kind) {
	case CHANNEL_KIND_TPM_COMMAND:
		do_tpm_command(request, length);
		break;
	case CHANNEL_KIND_GET_STATE:
		do_get_state(length);
		break;
	case CHANNEL_KIND_SET_STATE:
		do_set_state(request, length);
		break;
	default:
		do_shutdown(length);
	}
}

int main(int argc, char **argv)
{
	struct libtpms_callbacks callbacks = {
		.sizeOfStruct = sizeof(struct libtpms_callbacks),
		.tpm_nvram_init = nv_init,
		.tpm_nvram_loaddata = nv_load,
		.tpm_nvram_storedata = nv_store,
		.tpm_nvram_deletename = nv_delete,
		.tpm_io_init = io_init,
		.tpm_io_getlocality = io_get_locality,
		.tpm_io_getphysicalpresence = io_get_physical_presence,
	};

	if (argc != 3 || strcmp(argv[1], "--state") != 0 || argv[2][0] == '\0')
		die(CHANNEL_EXIT_START, "usage: vtpm --state DIR");
	state_dir = argv[2];
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL) != 1)
		die(CHANNEL_EXIT_START, "vtpm: OpenSSL did not initialise");
	if (TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2) != TPM_SUCCESS)
		die(CHANNEL_EXIT_START, "vtpm: libtpms has no TPM 2.0");
	if (TPMLIB_SetBufferSize(VTPM_BUFFER_SIZE, NULL, NULL) != VTPM_BUFFER_SIZE)
		die(CHANNEL_EXIT_START, "vtpm: libtpms refused a buffer of %u bytes",
		    VTPM_BUFFER_SIZE);
	if (TPMLIB_RegisterCallbacks(&callbacks) != TPM_SUCCESS)
		die(CHANNEL_EXIT_START, "vtpm: libtpms refused the callbacks");
	tpm_start();
	for (;;)
		serve_one();
}
