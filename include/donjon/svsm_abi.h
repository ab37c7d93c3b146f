/* The guest-visible SVSM ABI (AMD spec 58019 as Linux and OVMF use it): protocol and call
 * numbers, result codes, the calling area, the core protocol's list formats and the
 * attestation protocol's operation structures and services manifest. */
#ifndef DONJON_SVSM_ABI_H
#define DONJON_SVSM_ABI_H

#include <stddef.h>
#include <stdint.h>

/* RAX = (protocol << 32) | call. */
#define SVSM_PROTOCOL_CORE 0U
#define SVSM_PROTOCOL_ATTEST 1U
#define SVSM_PROTOCOL_VTPM 2U

#define SVSM_CORE_REMAP_CA 0U
#define SVSM_CORE_PVALIDATE 1U
#define SVSM_CORE_CREATE_VCPU 2U
#define SVSM_CORE_DELETE_VCPU 3U
#define SVSM_CORE_DEPOSIT_MEM 4U
#define SVSM_CORE_WITHDRAW_MEM 5U
#define SVSM_CORE_QUERY_PROTOCOL 6U
#define SVSM_CORE_CONFIGURE_VTOM 7U

#define SVSM_CORE_VERSION_MIN 1U
#define SVSM_CORE_VERSION_MAX 1U

#define SVSM_ATTEST_SERVICES 0U
#define SVSM_ATTEST_SINGLE_SERVICE 1U

#define SVSM_ATTEST_VERSION_MIN 1U
#define SVSM_ATTEST_VERSION_MAX 1U

#define SVSM_VTPM_QUERY 0U
#define SVSM_VTPM_CMD 1U

#define SVSM_VTPM_VERSION_MIN 1U
#define SVSM_VTPM_VERSION_MAX 1U

/* SVSM_VTPM_CMD's buffer (spec 58019 Tables 15-17; packed, little-endian; the TPM's own
 * bytes inside are big-endian). Request: platform command (u32) at 0, locality (u8) at 4,
 * the TPM command's size (u32) at 5, the command at 9. Response, in the same buffer:
 * its size (u32) at 0, the TPM response at 4. The platform commands are the TCG
 * simulator's; SVSM_VTPM_QUERY's RCX has bit n set for each one supported. */
#define SVSM_VTPM_BUFFER_SIZE 4096U
#define SVSM_VTPM_REQ_HEADER 9U
#define SVSM_VTPM_RESP_HEADER 4U
#define SVSM_VTPM_SEND_COMMAND 8U

/* Result codes: 32-bit values, always written to RAX zero-extended (Linux compares all 64
 * bits). */
#define SVSM_SUCCESS 0x00000000U
#define SVSM_ERR_INCOMPLETE 0x80000000U
#define SVSM_ERR_UNSUPPORTED_PROTOCOL 0x80000001U
#define SVSM_ERR_UNSUPPORTED_CALL 0x80000002U
#define SVSM_ERR_INVALID_ADDRESS 0x80000003U
#define SVSM_ERR_INVALID_FORMAT 0x80000004U
#define SVSM_ERR_INVALID_PARAMETER 0x80000005U
#define SVSM_ERR_INVALID_REQUEST 0x80000006U
#define SVSM_ERR_BUSY 0x80000007U
/* Core protocol: 0x8000_1000 + the PVALIDATE/RMPADJUST EAX result. */
#define SVSM_ERR_CORE_BASE 0x80001000U
#define SVSM_ERR_PVALIDATE_FAIL_INPUT 0x80001001U
#define SVSM_ERR_RMPADJUST_FAIL_PERMISSION 0x80001002U
#define SVSM_ERR_DELETE_VCPU_FAIL_INUSE 0x80001003U
#define SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH 0x80001006U
#define SVSM_ERR_PVALIDATE_NO_CHANGE 0x80001010U
#define SVSM_ERR_PVALIDATE_FAIL_UNKNOWN 0x80001011U

/* The calling area: one 4 KiB page per vCPU. */
struct svsm_ca {
	uint8_t call_pending;
	uint8_t mem_available;
	uint8_t reserved[6];
	uint8_t buffer[4088];
};
_Static_assert(sizeof(struct svsm_ca) == 4096, "calling area is one page");
_Static_assert(offsetof(struct svsm_ca, mem_available) == 1, "SVSM_MEM_AVAILABLE");
_Static_assert(offsetof(struct svsm_ca, buffer) == 8, "CA buffer at +8");

#define SVSM_CA_CALL_PENDING_OFF 0U
#define SVSM_CA_MEM_AVAILABLE_OFF 1U
#define SVSM_CA_HEADER_SIZE 8U /* the bytes before the buffer */

/* Header shared by the PVALIDATE and DEPOSIT_MEM lists. */
struct svsm_list_hdr {
	uint16_t entries;
	uint16_t next;
	uint32_t reserved;
};
_Static_assert(sizeof(struct svsm_list_hdr) == 8, "list header");
_Static_assert(offsetof(struct svsm_list_hdr, next) == 2, "list next");

#define SVSM_LIST_NEXT_OFF 2U
#define SVSM_LIST_ENTRY_SIZE 8U
/* A list lies in one 4 KiB page: at most (4096 - 8) / 8 entries from a page start. */
#define SVSM_LIST_MAX_ENTRIES 511U

/* PVALIDATE entry: [1:0] size, [2] validate, [3] ignore_cf, [11:4] reserved, [63:12] GFN. */
#define PVAL_ENTRY_SIZE_MASK 0x3ULL
#define PVAL_ENTRY_VALIDATE (1ULL << 2)
#define PVAL_ENTRY_IGNORE_CF (1ULL << 3)
#define PVAL_ENTRY_RESERVED 0xFF0ULL
/* DEPOSIT_MEM entry: [1:0] size, [11:2] reserved, [63:12] GFN. */
#define DEPOSIT_ENTRY_RESERVED 0xFFCULL
#define LIST_ENTRY_GFN_MASK (~0xFFFULL)

/* WITHDRAW_MEM output: u16 count, 6 unused bytes, then 8-byte gPAs. */
#define WITHDRAW_HDR_SIZE 8U

/* CONFIGURE_VTOM RCX bits. */
#define VTOM_QUERY (1ULL << 0)
#define VTOM_CFG_RESERVED 0xFE0ULL

/* Secrets page: the SVSM fields the guest reads to discover its SVSM. */
#define SECRETS_VMPCK_OFF(n) (0x20U + 0x20U * (n))
#define SECRETS_VMPCK_SIZE 32U
#define SECRETS_SVSM_BASE_OFF 0x140U
#define SECRETS_SVSM_SIZE_OFF 0x148U
#define SECRETS_SVSM_CAA_OFF 0x150U
#define SECRETS_SVSM_MAX_VERSION_OFF 0x158U
#define SECRETS_SVSM_GUEST_VMPL_OFF 0x15CU

/* Attestation protocol (spec 58019 section 7). RCX = gPA of one of these operation
 * structures, 8-byte aligned. Every field is little-endian. */
struct svsm_attest_services_op { /* Table 11: SVSM_ATTEST_SERVICES */
	uint64_t report_gpa;	 /* 4 KiB aligned */
	uint32_t report_size;
	uint32_t reserved1;
	uint64_t nonce_gpa;
	uint16_t nonce_size; /* Linux writes a u32 here; below 64 KiB the bytes agree */
	uint8_t reserved2[6];
	uint64_t manifest_gpa; /* 4 KiB aligned */
	uint32_t manifest_size;
	uint32_t reserved3;
	uint64_t cert_gpa;  /* 4 KiB aligned */
	uint32_t cert_size; /* 0: no certificates wanted */
	uint32_t reserved4;
};
_Static_assert(sizeof(struct svsm_attest_services_op) == 0x40, "Table 11 is 0x40 bytes");
_Static_assert(offsetof(struct svsm_attest_services_op, report_size) == 0x08, "report size");
_Static_assert(offsetof(struct svsm_attest_services_op, nonce_gpa) == 0x10, "nonce gPA");
_Static_assert(offsetof(struct svsm_attest_services_op, nonce_size) == 0x18, "nonce size");
_Static_assert(offsetof(struct svsm_attest_services_op, reserved2) == 0x1A, "reserved");
_Static_assert(offsetof(struct svsm_attest_services_op, manifest_gpa) == 0x20, "manifest gPA");
_Static_assert(offsetof(struct svsm_attest_services_op, manifest_size) == 0x28, "manifest size");
_Static_assert(offsetof(struct svsm_attest_services_op, cert_gpa) == 0x30, "certificates gPA");
_Static_assert(offsetof(struct svsm_attest_services_op, cert_size) == 0x38, "certificates size");

struct svsm_attest_single_op { /* Table 13: SVSM_ATTEST_SINGLE_SERVICE */
	struct svsm_attest_services_op services;
	uint8_t guid[16]; /* the service, in EFI byte order (Linux's export_guid) */
	uint32_t manifest_version;
	uint32_t reserved5;
};
_Static_assert(sizeof(struct svsm_attest_single_op) == 0x58, "Table 13 is 0x58 bytes");
_Static_assert(offsetof(struct svsm_attest_single_op, guid) == 0x40, "service GUID");
_Static_assert(offsetof(struct svsm_attest_single_op, manifest_version) == 0x50, "version");
_Static_assert(offsetof(struct svsm_attest_single_op, reserved5) == 0x54, "reserved");

/* The nonce is REPORT_DATA's size: REPORT_DATA = SHA-512(nonce || manifest). */
#define SVSM_ATTEST_NONCE_SIZE 64U

/* The services manifest (Table 12): this header, one entry per service, then each
 * service's data in entry order. Offsets count from the start of the table. */
struct svsm_manifest_header {
	uint8_t guid[16]; /* SVSM_MANIFEST_GUID_BYTES */
	uint32_t length;  /* the whole table, data included */
	uint32_t count;
};
_Static_assert(sizeof(struct svsm_manifest_header) == 24, "manifest header");
_Static_assert(offsetof(struct svsm_manifest_header, length) == 0x10, "manifest length");

struct svsm_manifest_entry {
	uint8_t guid[16];
	uint32_t offset;
	uint32_t length;
};
_Static_assert(sizeof(struct svsm_manifest_entry) == 24, "manifest entry");
_Static_assert(offsetof(struct svsm_manifest_entry, offset) == 0x10, "entry offset");

/* 63849ebb-3d92-4670-a1ff-58f9c94b87bb in EFI byte order: the first three fields
 * little-endian, the last eight bytes as written. */
#define SVSM_MANIFEST_GUID_BYTES                                                                   \
	0xbb, 0x9e, 0x84, 0x63, 0x92, 0x3d, 0x70, 0x46, 0xa1, 0xff, 0x58, 0xf9, 0xc9, 0x4b, 0x87,  \
		0xbb

/* The vTPM service, c476f1eb-0123-45a5-9641-b4e7dde5bfe3 (Table 12), in EFI byte order: its
 * manifest data is its EK's TPMT_PUBLIC. */
#define SVSM_VTPM_SERVICE_GUID_BYTES                                                               \
	0xeb, 0xf1, 0x76, 0xc4, 0x23, 0x01, 0xa5, 0x45, 0x96, 0x41, 0xb4, 0xe7, 0xdd, 0xe5, 0xbf,  \
		0xe3

#endif
