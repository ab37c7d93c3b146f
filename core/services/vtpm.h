/* The vTPM inside the core: the client of the vTPM service's channel
 * (include/donjon/service_channel.h). Everything the service sends back is checked before
 * it is used; a service that breaks the channel's rules is stopped for good, and every
 * TPM command after that gets TPM_RC_FAILURE. Every function runs with the core lock
 * held (svsm_internal.h); a command holds it for as long as the service takes, which the
 * platform bounds by its time budget. */
#ifndef CORE_SERVICES_VTPM_H
#define CORE_SERVICES_VTPM_H

#include <donjon/service_channel.h>
#include <donjon/types.h>

#include "attest/attest.h"

/* The largest TPM command the vTPM protocol carries (4096 bytes of buffer less the
 * request's 9-byte header) and the largest response it returns (less the 4-byte size). */
#define VTPM_COMMAND_MAX (4096U - 9U)
#define VTPM_RESPONSE_MAX (4096U - 4U)

/* At launch: a vTPM exists if the platform runs its service. It is started (TPM2_Startup,
 * then its endorsement key read) at its first use. */
void vtpm_init(void);

/* True if this machine has a vTPM (its service was there at launch, whatever it has
 * done since): protocol 2 is offered. */
bool vtpm_offered(void);

/* Run one TPM command (len bytes, 1..VTPM_COMMAND_MAX) at locality 0 and put the TPM's
 * response into resp (VTPM_RESPONSE_MAX bytes); returns its length. A vTPM that cannot
 * answer gives a TPM_RC_FAILURE response. */
uint32_t vtpm_execute(const uint8_t *cmd, uint32_t len, uint8_t resp[VTPM_RESPONSE_MAX]);

/* The vTPM's manifest data (manifest version 0): its endorsement key's TPMT_PUBLIC,
 * made with the TCG EK Credential Profile's template L-1 (RSA 2048) as
 * `tpm2_createek -G rsa` makes it. ABSENT without a vTPM; FAILED if it could not be read. */
enum attest_service_data vtpm_manifest(const uint8_t **data, uint32_t *len);

/* The vTPM's state as a migration carries it (its "image"): the service's state blob
 * (include/donjon/service_channel.h), then the EK's TPMT_PUBLIC, then the EK's length as a
 * little-endian u32. It holds the TPM's primary seeds: only ever sent encrypted. */
#define VTPM_EK_MAX 1024U
#define VTPM_IMAGE_MAX (CHANNEL_STATE_MAX + VTPM_EK_MAX + 4U)

/* Source: the image of the vTPM (started first if it was fresh), read from its service
 * and checked; *image stays valid until the next vtpm_* call. 0 if there is no vTPM or it
 * cannot give its state. */
size_t vtpm_export(const uint8_t **image);

/* Destination: where the engine assembles the image it receives (VTPM_IMAGE_MAX bytes);
 * NULL if the platform has no memory for it. */
uint8_t *vtpm_import_buffer(void);

/* Destination: a vTPM that has run no command takes the len-byte image in the import
 * buffer and runs from it (the same PCRs, objects, sessions and EK). NULL on success,
 * otherwise why not; a refused image leaves the vTPM as it was. */
const char *vtpm_import(size_t len);

/* Wipe the state buffer (an image holds the TPM's seeds in clear). */
void vtpm_wipe_state(void);

#endif
