/* SNP guest messages as a guest (or the SVSM) seals its requests and opens the PSP's
 * answers (spec sheet svsm-abi.md 8.2): AES-256-GCM under a VMPCK, the IV the sequence
 * number, header bytes 0x30-0x5F as AAD. Freestanding; crypto through crypto.h. */
#ifndef CORE_ATTEST_SNP_MSG_H
#define CORE_ATTEST_SNP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <donjon/snp.h>

/* Seal payload (len bytes, at most SNP_MSG_PAYLOAD_MAX) as a message of type type under
 * VMPCK vmpck (key) with sequence number seqno into the 4 KiB page. */
bool snp_msg_seal(const uint8_t key[32], uint8_t vmpck, uint64_t seqno, uint8_t type,
		  const void *payload, uint16_t len, uint8_t *page);
/* Open the answer in page: it must carry sequence number seqno, type type, vmpck, the
 * version, algorithm and header size of ours, exactly len bytes of payload and an
 * authentic tag; the payload goes to out. False otherwise (out is then not to be used). */
bool snp_msg_open(const uint8_t key[32], uint8_t vmpck, uint64_t seqno, uint8_t type,
		  const uint8_t *page, void *out, uint16_t len);

#endif
