/* The GHCB (AMD 56421): the page and MSR through which an SEV-SNP guest talks to its host.
 * Offsets and codes as the spec sheet svsm-abi.md 9.3-9.4 and linux-guest.md 4.4 give them. */
#ifndef DONJON_GHCB_H
#define DONJON_GHCB_H

#define GHCB_MSR 0xC0010130U

/* GHCB page fields. */
#define GHCB_RAX_OFF 0x1F8U
#define GHCB_RBX_OFF 0x318U
#define GHCB_SW_EXIT_CODE_OFF 0x390U
#define GHCB_SW_EXIT_INFO1_OFF 0x398U
#define GHCB_SW_EXIT_INFO2_OFF 0x3A0U
#define GHCB_SW_SCRATCH_OFF 0x3A8U
#define GHCB_VALID_BITMAP_OFF 0x3F0U
#define GHCB_SHARED_BUFFER_OFF 0x800U
#define GHCB_PROTOCOL_VERSION_OFF 0xFFAU
#define GHCB_USAGE_OFF 0xFFCU
#define GHCB_PROTOCOL_VERSION 2U

/* Events in SW_EXITCODE. */
#define GHCB_EVENT_NMI_COMPLETE 0x80000003ULL
#define GHCB_EVENT_AP_HLT_LOOP 0x80000004ULL
#define GHCB_EVENT_PSC 0x80000010ULL
#define GHCB_EVENT_GUEST_REQUEST 0x80000011ULL
#define GHCB_EVENT_EXT_GUEST_REQUEST 0x80000012ULL
#define GHCB_EVENT_AP_CREATION 0x80000013ULL
#define GHCB_EVENT_RUN_VMPL 0x80000018ULL
#define GHCB_EVENT_TERMINATE 0x8000FFFEULL

/* The MSR protocol: GHCBData[11:0] is the function. */
#define GHCB_MSR_FUNC_MASK 0xFFFULL
#define GHCB_MSR_SEV_INFO_RESP 0x001ULL
#define GHCB_MSR_SEV_INFO_REQ 0x002ULL
#define GHCB_MSR_REG_GPA_REQ 0x012ULL
#define GHCB_MSR_REG_GPA_RESP 0x013ULL
#define GHCB_MSR_PSC_REQ 0x014ULL
#define GHCB_MSR_PSC_RESP 0x015ULL
#define GHCB_MSR_RUN_VMPL_REQ 0x016ULL
#define GHCB_MSR_RUN_VMPL_RESP 0x017ULL
#define GHCB_MSR_HV_FEATURES_REQ 0x080ULL
#define GHCB_MSR_HV_FEATURES_RESP 0x081ULL
#define GHCB_MSR_TERM_REQ 0x100ULL

/* Hypervisor features (GHCBData[63:12] of HV_FEATURES_RESP). */
/* A page state change: the PSC buffer (in the GHCB's shared buffer) is this header and
 * entries cur_entry..end_entry; an entry is cur_page (11:0), GFN (51:12), operation
 * (55:52: 1 private, 2 shared) and page size (bit 56: 2M). */
#define GHCB_PSC_HEADER 8U
#define GHCB_PSC_MAX_ENTRIES 253U
#define GHCB_PSC_OP_PRIVATE 1U
#define GHCB_PSC_OP_SHARED 2U
#define GHCB_HV_FEATURE_SNP (1ULL << 0)
#define GHCB_HV_FEATURE_AP_CREATION (1ULL << 1)
#define GHCB_HV_FEATURE_MULTI_VMPL (1ULL << 5)

/* AP_CREATION: SW_EXITINFO1 is the APIC ID (63:32), the VMPL (23:16) and the operation
 * (3:0); SW_EXITINFO2 the VMSA's gPA; RAX the VMSA's SEV features. */
#define GHCB_AP_CREATE_ON_INIT 0U
#define GHCB_AP_CREATE 1U
#define GHCB_AP_DESTROY 2U
/* SW_EXITINFO1 of a refused event: 2, with the reason in SW_EXITINFO2. */
#define GHCB_EXIT_INFO1_ERROR 2U
#define GHCB_ERR_INVALID_INPUT 5U

#endif
