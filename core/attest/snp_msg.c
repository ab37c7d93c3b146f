/* Sealing and opening SNP guest messages. */
#include "attest/snp_msg.h"

#include <donjon/crypto.h>

static void seqno_iv(uint64_t seqno, uint8_t iv[CRYPTO_GCM_IV_SIZE])
{
	__builtin_memset(iv, 0, CRYPTO_GCM_IV_SIZE);
	__builtin_memcpy(iv, &seqno, sizeof(seqno));
}

bool snp_msg_seal(const uint8_t key[32], uint8_t vmpck, uint64_t seqno, uint8_t type,
		  const void *payload, uint16_t len, uint8_t *page)
{
	struct snp_msg_hdr hdr;
	uint8_t iv[CRYPTO_GCM_IV_SIZE];

	if (len > SNP_MSG_PAYLOAD_MAX) {
		return false;
	}
	__builtin_memset(&hdr, 0, sizeof(hdr));
	hdr.msg_seqno = seqno;
	hdr.algo = SNP_AEAD_AES_256_GCM;
	hdr.hdr_version = SNP_MSG_HDR_VERSION;
	hdr.hdr_sz = sizeof(hdr);
	hdr.msg_type = type;
	hdr.msg_version = 1;
	hdr.msg_sz = len;
	hdr.msg_vmpck = vmpck;
	__builtin_memset(page, 0, 4096);
	__builtin_memcpy(page, &hdr, sizeof(hdr));
	seqno_iv(seqno, iv);
	return crypto_aes256gcm_seal(key, iv, page + SNP_AAD_OFFSET, SNP_AAD_SIZE, payload, len,
				     page + sizeof(hdr), page);
}

bool snp_msg_open(const uint8_t key[32], uint8_t vmpck, uint64_t seqno, uint8_t type,
		  const uint8_t *page, void *out, uint16_t len)
{
	struct snp_msg_hdr hdr;
	uint8_t iv[CRYPTO_GCM_IV_SIZE];

	__builtin_memcpy(&hdr, page, sizeof(hdr));
	if (hdr.msg_seqno != seqno || hdr.msg_vmpck != vmpck || hdr.algo != SNP_AEAD_AES_256_GCM ||
	    hdr.hdr_version != SNP_MSG_HDR_VERSION || hdr.hdr_sz != sizeof(hdr) ||
	    hdr.msg_type != type || hdr.msg_version != 1U || hdr.msg_sz != len) {
		return false;
	}
	seqno_iv(seqno, iv);
	return crypto_aes256gcm_open(key, iv, page + SNP_AAD_OFFSET, SNP_AAD_SIZE,
				     page + sizeof(hdr), len, out, page);
}
