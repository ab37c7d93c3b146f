/* The guest-visible SVSM ABI (AMD spec 58019 as Linux and OVMF use it): protocol and call
 * numbers, result codes, the calling area and the core protocol's list formats. */
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

#endif
