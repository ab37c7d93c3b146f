/* The vTPM service's client in the core: requests built here, every response checked
 * against include/donjon/service_channel.h before a byte of it is used. */
#include <donjon/bytes.h>
#include <donjon/crypto.h>
#include <donjon/platform.h>

#include "services/vtpm.h"

enum vtpm_state {
	VTPM_ABSENT,  /* no service at launch */
	VTPM_FRESH,   /* not started: no command has been sent */
	VTPM_RUNNING, /* started; ek_len > 0 if its EK could be read */
	VTPM_BROKEN,  /* its service was stopped */
};

/* Guarded by the core lock. */
static enum vtpm_state state;
static uint8_t request[CHANNEL_HEADER_SIZE + 1U + CHANNEL_TPM_MAX];
static uint8_t reply[CHANNEL_HEADER_SIZE + CHANNEL_TPM_MAX];
/* The EK's TPMT_PUBLIC: an RSA 2048 one is 314 bytes. */
static uint8_t ek_public[VTPM_EK_MAX];
static uint32_t ek_len;
/* A GET_STATE response or a SET_STATE request: the channel's header, then a migration's
 * image (vtpm.h), in the platform's buffer for service state. */
#define STATE_MSG_SIZE (CHANNEL_HEADER_SIZE + VTPM_IMAGE_MAX)

static uint8_t *state_msg(void)
{
	return plat_service_state_buffer(STATE_MSG_SIZE);
}

#define TPM_ST_NO_SESSIONS 0x8001U
#define TPM_RC_SUCCESS 0U
#define TPM_RC_FAILURE 0x101U

void vtpm_init(void)
{
	state = plat_service_running(SVSM_SERVICE_VTPM) ? VTPM_FRESH : VTPM_ABSENT;
	ek_len = 0;
	if (state != VTPM_ABSENT) {
		vtpm_wipe_state();
	}
}

bool vtpm_offered(void)
{
	return state != VTPM_ABSENT;
}

static void broken(const char *why)
{
	plat_service_stop(SVSM_SERVICE_VTPM, why);
	state = VTPM_BROKEN;
}

/* A state blob's framing (service_channel.h); libtpms checks its contents. */
static bool blob_ok(const uint8_t *b, size_t len)
{
	uint32_t perm = 0;
	uint32_t vol = 0;

	if (len < CHANNEL_STATE_HEADER_SIZE || len > CHANNEL_STATE_MAX) {
		return false;
	}
	perm = load32(b, 4);
	vol = load32(b, 8);
	/* Each bound keeps the sum below 2^32. */
	return load32(b, 0) == CHANNEL_STATE_MAGIC && perm != 0U &&
	       perm <= CHANNEL_STATE_PERMANENT_MAX && vol <= CHANNEL_STATE_VOLATILE_MAX &&
	       CHANNEL_STATE_HEADER_SIZE + perm + vol == len;
}

static void put_header(uint8_t *msg, uint32_t kind, uint32_t length)
{
	store32(msg, 0, CHANNEL_MAGIC);
	store32(msg, 4, kind);
	store32(msg, 8, 0);
	store32(msg, 12, length);
}

/* A response's header: the channel's, for kind, with a payload of got - header bytes.
 * Returns its status, or UINT32_MAX (the service stopped) if it is not the channel's. */
static uint32_t reply_status(const uint8_t *msg, size_t got, uint32_t kind)
{
	if (got < CHANNEL_HEADER_SIZE || load32(msg, 0) != CHANNEL_MAGIC ||
	    load32(msg, 4) != kind || load32(msg, 12) != got - CHANNEL_HEADER_SIZE ||
	    load32(msg, 8) > CHANNEL_STATUS_LAST ||
	    (load32(msg, 8) != CHANNEL_STATUS_OK && got != CHANNEL_HEADER_SIZE)) {
		broken("its response's header is not one of the channel's");
		return UINT32_MAX;
	}
	return load32(msg, 8);
}

/* A TPM_COMMAND exchange. Returns the TPM response's length in reply's payload, or 0 if
 * the service is stopped, before or because of this exchange. */
static uint32_t exchange_command(const uint8_t *cmd, uint32_t len)
{
	size_t got = 0;

	put_header(request, CHANNEL_KIND_TPM_COMMAND, 1U + len);
	request[CHANNEL_HEADER_SIZE] = 0; /* locality */
	__builtin_memcpy(request + CHANNEL_HEADER_SIZE + 1U, cmd, len);
	if (!plat_service_exchange(SVSM_SERVICE_VTPM, request, CHANNEL_HEADER_SIZE + 1U + len,
				   reply, sizeof(reply), &got)) {
		state = VTPM_BROKEN;
		return 0;
	}
	uint32_t status = reply_status(reply, got, CHANNEL_KIND_TPM_COMMAND);
	uint32_t length = (uint32_t)(got - CHANNEL_HEADER_SIZE);

	if (status == UINT32_MAX) {
		return 0;
	}
	if (status != CHANNEL_STATUS_OK) {
		/* Donjon sends only well-formed requests: a refusal means the service or
		 * libtpms failed (TPM_FAILURE) or broke the rules. Either way it cannot serve. */
		broken(status == CHANNEL_STATUS_TPM_FAILURE
			       ? "libtpms failed outside the TPM protocol"
			       : "it refused a well-formed request");
		return 0;
	}
	if (length < CHANNEL_TPM_HEADER_SIZE || length > VTPM_RESPONSE_MAX ||
	    load32_be(reply, CHANNEL_HEADER_SIZE + 2U) != length) {
		broken("its TPM response's size is not the response's length");
		return 0;
	}
	return length;
}

/* An internal command's response code; TPM_RC_FAILURE if the service is gone. */
static uint32_t run_internal(const uint8_t *cmd, uint32_t len, uint32_t *resp_len)
{
	*resp_len = exchange_command(cmd, len);
	return *resp_len == 0U ? TPM_RC_FAILURE : load32_be(reply, CHANNEL_HEADER_SIZE + 6U);
}

/* TPM2_CreatePrimary(TPM_RH_ENDORSEMENT) with the empty password and an empty sensitive
 * area: 355 bytes, the TPM2B_PUBLIC at offset 33. */
static const uint8_t create_ek_head[] = {
	0x80, 0x02, 0x00, 0x00, 0x01, 0x63, 0x00, 0x00, 0x01, 0x31, /* tag, size, code */
	0x40, 0x00, 0x00, 0x0b,					    /* TPM_RH_ENDORSEMENT */
	0x00, 0x00, 0x00, 0x09,					    /* authorization: */
	0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,	    /* TPM_RS_PW, empty */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,			    /* inSensitive */
};
#define CREATE_EK_SIZE 355U
#define EK_TEMPLATE_SIZE 314U

/* The template L-1 of the TCG EK Credential Profile up to its unique field (256 bytes of
 * zero): RSA, SHA-256; fixedTPM, fixedParent, sensitiveDataOrigin, adminWithPolicy,
 * restricted, decrypt; PolicyA (PolicySecret(TPM_RH_ENDORSEMENT)); AES-128-CFB, no
 * scheme, 2048 bits, the default exponent. Then no outside info and no PCRs. */
static const uint8_t ek_template_head[] = {
	0x00, 0x01, 0x00, 0x0b, 0x00, 0x03, 0x00, 0xb2, 0x00, 0x20, /* to the policy */
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa, /* PolicyA */
	0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00, /* sym, scheme, bits */
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00,			    /* exponent, unique */
};
_Static_assert(sizeof(create_ek_head) + 2U + EK_TEMPLATE_SIZE + 6U == CREATE_EK_SIZE,
	       "CreatePrimary's size field");
_Static_assert(sizeof(ek_template_head) + 256U == EK_TEMPLATE_SIZE, "the template's size");

static void build_create_ek(uint8_t cmd[CREATE_EK_SIZE])
{
	size_t at = sizeof(create_ek_head);

	__builtin_memset(cmd, 0, CREATE_EK_SIZE);
	__builtin_memcpy(cmd, create_ek_head, at);
	cmd[at] = (uint8_t)(EK_TEMPLATE_SIZE >> 8);
	cmd[at + 1U] = (uint8_t)EK_TEMPLATE_SIZE;
	__builtin_memcpy(cmd + at + 2U, ek_template_head, sizeof(ek_template_head));
}

/* Reads the EK's public area from a CreatePrimary response of len bytes in reply, then
 * flushes the object. */
static void read_ek(uint32_t len)
{
	const uint8_t *r = reply + CHANNEL_HEADER_SIZE;
	uint8_t flush[14] = { 0x80, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x65 };
	uint32_t flush_len = 0;
	uint16_t pub_len = 0;

	/* objectHandle, parameterSize, then the TPM2B_PUBLIC. */
	if (len < 20U) {
		return;
	}
	pub_len = load16_be(r, 18);
	__builtin_memcpy(flush + 10, r + 10, 4);
	if (pub_len != 0U && pub_len <= VTPM_EK_MAX && 20U + pub_len <= len) {
		__builtin_memcpy(ek_public, r + 20, pub_len);
		ek_len = pub_len;
	}
	if (run_internal(flush, sizeof(flush), &flush_len) != TPM_RC_SUCCESS) {
		ek_len = 0;
	}
}

/* A fresh vTPM: TPM2_Startup(CLEAR), as a platform's firmware sends it, then its EK. A
 * TPM that refuses to start cannot serve: it is stopped. One whose EK cannot be made
 * (an endorsement password set in an earlier life of its state) serves without one. */
static void start(void)
{
	static const uint8_t startup[] = { 0x80, 0x01, 0x00, 0x00, 0x00, 0x0c,
					   0x00, 0x00, 0x01, 0x44, 0x00, 0x00 };
	uint8_t create_ek[CREATE_EK_SIZE];
	uint32_t len = 0;
	uint32_t rc = 0;

	if (state != VTPM_FRESH) {
		return;
	}
	state = VTPM_RUNNING;
	rc = run_internal(startup, sizeof(startup), &len);
	if (state != VTPM_RUNNING) {
		return;
	}
	if (rc != TPM_RC_SUCCESS) {
		broken("its TPM refused TPM2_Startup(CLEAR)");
		return;
	}
	build_create_ek(create_ek);
	rc = run_internal(create_ek, sizeof(create_ek), &len);
	if (rc == TPM_RC_SUCCESS) {
		read_ek(len);
	}
	plat_service_started(SVSM_SERVICE_VTPM);
}

uint32_t vtpm_execute(const uint8_t *cmd, uint32_t len, uint8_t resp[VTPM_RESPONSE_MAX])
{
	uint32_t got = 0;

	start();
	if (state == VTPM_RUNNING && len != 0U && len <= VTPM_COMMAND_MAX) {
		got = exchange_command(cmd, len);
	}
	if (got == 0U) {
		/* What a TPM in failure mode answers. */
		resp[0] = (uint8_t)(TPM_ST_NO_SESSIONS >> 8);
		resp[1] = (uint8_t)TPM_ST_NO_SESSIONS;
		store32_be(resp, 2, CHANNEL_TPM_HEADER_SIZE);
		store32_be(resp, 6, TPM_RC_FAILURE);
		return CHANNEL_TPM_HEADER_SIZE;
	}
	__builtin_memcpy(resp, reply + CHANNEL_HEADER_SIZE, got);
	return got;
}

enum attest_service_data vtpm_manifest(const uint8_t **data, uint32_t *len)
{
	*data = NULL;
	*len = 0;
	if (state == VTPM_ABSENT) {
		return ATTEST_DATA_ABSENT;
	}
	start();
	if (ek_len == 0U) {
		return ATTEST_DATA_FAILED;
	}
	*data = ek_public;
	*len = ek_len;
	return ATTEST_DATA_OK;
}

size_t vtpm_export(const uint8_t **image)
{
	size_t got = 0;
	uint8_t *msg = state_msg();
	uint8_t *img = NULL;

	*image = NULL;
	start();
	if (state != VTPM_RUNNING || msg == NULL) {
		return 0;
	}
	img = msg + CHANNEL_HEADER_SIZE;
	put_header(request, CHANNEL_KIND_GET_STATE, 0);
	if (!plat_service_exchange(SVSM_SERVICE_VTPM, request, CHANNEL_HEADER_SIZE, msg,
				   CHANNEL_HEADER_SIZE + CHANNEL_STATE_MAX, &got)) {
		state = VTPM_BROKEN;
		return 0;
	}
	uint32_t status = reply_status(msg, got, CHANNEL_KIND_GET_STATE);

	if (status == UINT32_MAX) {
		return 0;
	}
	if (status != CHANNEL_STATUS_OK || !blob_ok(img, got - CHANNEL_HEADER_SIZE)) {
		broken("it did not give its state");
		return 0;
	}
	size_t len = got - CHANNEL_HEADER_SIZE;

	__builtin_memcpy(img + len, ek_public, ek_len);
	store32(img, len + ek_len, ek_len);
	*image = img;
	return len + ek_len + 4U;
}

uint8_t *vtpm_import_buffer(void)
{
	uint8_t *msg = state_msg();

	return msg != NULL ? msg + CHANNEL_HEADER_SIZE : NULL;
}

const char *vtpm_import(size_t len)
{
	uint8_t *msg = state_msg();
	const uint8_t *img = NULL;
	uint32_t key_len = 0;
	size_t got = 0;

	if (msg == NULL) {
		return "this SVSM has no memory for the vTPM's state";
	}
	img = msg + CHANNEL_HEADER_SIZE;
	if (state != VTPM_FRESH) {
		return state == VTPM_ABSENT ? "this SVSM has no vTPM"
					    : "this SVSM's vTPM has run already";
	}
	if (len < 4U || len > VTPM_IMAGE_MAX) {
		return "the vTPM's state is malformed";
	}
	key_len = load32(img, len - 4U);
	if (key_len > VTPM_EK_MAX || key_len > len - 4U || !blob_ok(img, len - 4U - key_len)) {
		return "the vTPM's state is malformed";
	}
	size_t blob_len = len - 4U - key_len;

	put_header(msg, CHANNEL_KIND_SET_STATE, (uint32_t)blob_len);
	bool sent = plat_service_exchange(SVSM_SERVICE_VTPM, msg, CHANNEL_HEADER_SIZE + blob_len,
					  reply, sizeof(reply), &got);
	const char *why = NULL;

	if (sent) {
		__builtin_memcpy(ek_public, img + blob_len, key_len);
	}
	/* The seeds in clear go, whatever the answer. */
	vtpm_wipe_state();
	if (!sent) {
		state = VTPM_BROKEN;
		return "the vTPM's service stopped";
	}
	uint32_t status = reply_status(reply, got, CHANNEL_KIND_SET_STATE);

	if (status == CHANNEL_STATUS_BAD_STATE) {
		why = "the vTPM refused the state";
	} else if (status != CHANNEL_STATUS_OK || got != CHANNEL_HEADER_SIZE) {
		if (status != UINT32_MAX) {
			broken("it did not take a well-formed state");
		}
		why = "the vTPM's service stopped";
	} else {
		ek_len = key_len;
		state = VTPM_RUNNING;
		plat_service_started(SVSM_SERVICE_VTPM);
	}
	return why;
}

void vtpm_wipe_state(void)
{
	uint8_t *msg = state_msg();

	if (msg != NULL) {
		crypto_wipe(msg, STATE_MSG_SIZE);
	}
}
