/* A model of the platform security processor (the machine around the SVSM, not Donjon's
 * trusted code): the launch digest, the VMPCKs and secrets page, SNP guest messages, and
 * attestation reports signed by a chip key (ECDSA P-384) made when the model starts. The
 * simulator runs it hosted; the native platform runs it inside the kernel. Crypto through
 * include/donjon/crypto.h. Callers serialise access to one PSP. */
#ifndef MODEL_PSP_PSP_H
#define MODEL_PSP_PSP_H

#include <stdbool.h>
#include <stdint.h>

#include <donjon/crypto.h>
#include <donjon/snp.h>

#define PSP_VMPCK_COUNT 4U
#define PSP_SECRETS_VERSION 3U
#define PSP_DEFAULT_POLICY 0x30000ULL /* SMT allowed, reserved bit 17 set */

struct psp {
	uint8_t launch_digest[SNP_DIGEST_SIZE];
	uint8_t vmpck[PSP_VMPCK_COUNT][32];
	uint64_t msg_count[PSP_VMPCK_COUNT]; /* per key: last response sequence number */
	uint64_t policy;
	uint8_t report_id[32];
	uint8_t chip_id[64];
	/* From the launch's ID block (zero without one). */
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint8_t id_key_digest[SNP_DIGEST_SIZE];
	uint8_t author_key_digest[SNP_DIGEST_SIZE];
	bool author_key_en;
	uint8_t chip_priv[CRYPTO_P384_SCALAR_SIZE];
	uint8_t chip_pub[CRYPTO_P384_POINT_SIZE];
};

/* A new PSP: fresh chip key, VMPCKs and report ID; launch digest zero. chip_id_prefix,
 * if not NULL, starts CHIP_ID (the rest is SHA-512 of the chip's public key): a model
 * that is no hardware says so in every report. */
bool psp_init(struct psp *psp, const char *chip_id_prefix);
void psp_fini(struct psp *psp);

/* LD = SHA-384(PAGE_INFO{LD, contents hash, type, gpa}). `page` (4 KiB) is hashed for
 * NORMAL and VMSA pages and ignored (may be NULL) for the other types. */
void psp_measure_page(uint8_t ld[SNP_DIGEST_SIZE], enum snp_page_type type, uint64_t gpa,
		      const uint8_t *page);
/* Power-on: launch digest, message counters and ID-block fields back to zero. */
void psp_reset_launch(struct psp *psp);
void psp_launch_update(struct psp *psp, enum snp_page_type type, uint64_t gpa, const uint8_t *page);

/* The SECRETS page the PSP fills at launch (4 KiB). */
void psp_fill_secrets(const struct psp *psp, uint8_t *page);

/* The model's stand-in for AMD's certificate chain (ARK, ASK, VCEK): one root key of the
 * simulated manufacturer, the same in every model (derived from a fixed string, so two
 * simulators agree on it, and public: the model is no secret), which endorses each chip
 * key as include/donjon/chip_cert.h says. */
bool psp_root_public(uint8_t pub[CRYPTO_P384_POINT_SIZE]);
bool psp_chip_endorsement(const struct psp *psp, uint8_t sig[CRYPTO_P384_SIG_SIZE]);

/* Handle one SNP guest request: req and resp are 4 KiB message pages. Returns the
 * firmware status (SNP_FW_*); resp is written only on success. */
uint32_t psp_guest_request(struct psp *psp, const uint8_t *req, uint8_t *resp);

#endif
