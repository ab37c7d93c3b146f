/* The SEV-SNP launch digest (LD) of an IGVM file, and the SNP ID block that signs it.
 * Crypto is OpenSSL's. */
#ifndef TOOLS_IGVM_IGVM_MEASURE_H
#define TOOLS_IGVM_IGVM_MEASURE_H

#include <stdio.h>

#include <openssl/evp.h>

#include "igvm_launch.h"

/* A running LD: LD = SHA-384(PAGE_INFO{LD, SHA-384(page) or 0, type, gpa}) per page. */
struct snp_digest {
	EVP_MD_CTX *md;
	EVP_MD *sha384;
	uint8_t ld[SNP_DIGEST_SIZE];
	uint8_t zero_page_hash[SNP_DIGEST_SIZE];
};

bool snp_digest_init(struct snp_digest *d);
void snp_digest_fini(struct snp_digest *d);
/* The two steps of snp_digest_page: CONTENTS of a page, then the chain. */
bool snp_digest_contents(struct snp_digest *d, enum snp_page_type type, const uint8_t *data,
			 uint8_t contents[SNP_DIGEST_SIZE]);
bool snp_digest_extend(struct snp_digest *d, enum snp_page_type type, uint64_t gpa,
		       const uint8_t contents[SNP_DIGEST_SIZE]);
/* Extend by one page; data is 4 KiB (NULL: zeros), hashed for NORMAL and VMSA pages.
 * contents receives the CONTENTS field (zeros for the other types). */
bool snp_digest_page(struct snp_digest *d, enum snp_page_type type, uint64_t gpa,
		     const uint8_t *data, uint8_t contents[SNP_DIGEST_SIZE]);

/* The LD of f launched on host; with verbose, one line per page (gpa, type, contents). */
bool igvm_measure(const struct igvm_file *f, const struct igvm_host *host, FILE *verbose,
		  uint8_t ld[SNP_DIGEST_SIZE], struct igvm_launch *launch, struct igvm_error *err);

const char *snp_page_type_name(enum snp_page_type type);

/* ---- SNP ID block ---- */

#define IGVM_ID_BLOCK_SIZE 696U
#define SNP_ID_BLOCK_SIZE 96U /* what the PSP receives and the ID key signs */
#define SNP_ID_AUTH_KEY_SIZE 0x404U
#define SNP_ECDSA_P384_SHA384 1U
#define SNP_CURVE_P384 2U

struct id_block_input {
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t guest_svn;
	uint32_t mask; /* the SNP platform's compatibility mask */
};

/* The IGVM SNP_ID_BLOCK record for ld and policy, signed with id_key (P-384) and, if
 * author_key is not NULL, the ID key signed with the author key. */
bool igvm_id_block_sign(const uint8_t ld[SNP_DIGEST_SIZE], uint64_t policy,
			const struct id_block_input *in, EVP_PKEY *id_key, EVP_PKEY *author_key,
			uint8_t record[IGVM_ID_BLOCK_SIZE], char *why, size_t why_len);

/* What LAUNCH_FINISH checks: the block's LD is ld, the ID key's signature over the 96-byte
 * block QEMU builds (with policy) verifies, and so does the author's if enabled. */
bool igvm_id_block_check(const uint8_t record[IGVM_ID_BLOCK_SIZE],
			 const uint8_t ld[SNP_DIGEST_SIZE], uint64_t policy, char *why,
			 size_t why_len);

/* The 96-byte ID block and the 1028-byte public key structures QEMU builds from the
 * record (the report's ID_KEY_DIGEST is SHA-384 of the latter). */
void igvm_id_block_psp(const uint8_t record[IGVM_ID_BLOCK_SIZE], uint64_t policy,
		       uint8_t block[SNP_ID_BLOCK_SIZE]);
void igvm_id_block_key(const uint8_t record[IGVM_ID_BLOCK_SIZE], bool author,
		       uint8_t key[SNP_ID_AUTH_KEY_SIZE]);

#endif
