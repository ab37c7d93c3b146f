/* SEV-SNP firmware structures: the launch digest's PAGE_INFO, SNP guest messages and the
 * attestation report (SNP ABI spec 56860; Linux include/uapi/linux/sev-guest.h). */
#ifndef DONJON_SNP_H
#define DONJON_SNP_H

#include <stddef.h>
#include <stdint.h>

#define SNP_DIGEST_SIZE 48U /* SHA-384 */

/* PAGE_INFO, hashed once per launched page: LD = SHA-384(PAGE_INFO). */
struct snp_page_info {
	uint8_t digest_cur[SNP_DIGEST_SIZE];
	uint8_t contents[SNP_DIGEST_SIZE];
	uint16_t length;
	uint8_t page_type;
	uint8_t imi_page;
	uint8_t vmpl3_perms;
	uint8_t vmpl2_perms;
	uint8_t vmpl1_perms;
	uint8_t reserved;
	uint64_t gpa;
} __attribute__((packed));
_Static_assert(sizeof(struct snp_page_info) == 0x70, "PAGE_INFO is 0x70 bytes");
_Static_assert(offsetof(struct snp_page_info, page_type) == 0x62, "PAGE_TYPE");
_Static_assert(offsetof(struct snp_page_info, gpa) == 0x68, "GPA");

enum snp_page_type {
	SNP_PAGE_NORMAL = 1,
	SNP_PAGE_VMSA = 2,
	SNP_PAGE_ZERO = 3,
	SNP_PAGE_UNMEASURED = 4,
	SNP_PAGE_SECRETS = 5,
	SNP_PAGE_CPUID = 6,
};

/* KVM measures every VMSA at this GPA. */
#define SNP_VMSA_MEASURE_GPA 0xFFFFFFFFF000ULL

/* SNP guest message header: the payload follows at 0x60 in the same page. */
struct snp_msg_hdr {
	uint8_t authtag[32];
	uint64_t msg_seqno;
	uint8_t rsvd1[8];
	uint8_t algo;
	uint8_t hdr_version;
	uint16_t hdr_sz;
	uint8_t msg_type;
	uint8_t msg_version;
	uint16_t msg_sz;
	uint32_t rsvd2;
	uint8_t msg_vmpck;
	uint8_t rsvd3[35];
} __attribute__((packed));
_Static_assert(sizeof(struct snp_msg_hdr) == 0x60, "message header");
_Static_assert(offsetof(struct snp_msg_hdr, msg_seqno) == 0x20, "msg_seqno");
_Static_assert(offsetof(struct snp_msg_hdr, algo) == 0x30, "algo");
_Static_assert(offsetof(struct snp_msg_hdr, msg_type) == 0x34, "msg_type");
_Static_assert(offsetof(struct snp_msg_hdr, msg_vmpck) == 0x3C, "msg_vmpck");

#define SNP_AAD_OFFSET 0x30U
#define SNP_AAD_SIZE 0x30U
#define SNP_AUTHTAG_SIZE 16U
#define SNP_AEAD_AES_256_GCM 1U
#define SNP_MSG_HDR_VERSION 1U
#define SNP_MSG_PAYLOAD_MAX (4096U - sizeof(struct snp_msg_hdr))

enum snp_msg_type {
	SNP_MSG_REPORT_REQ = 5,
	SNP_MSG_REPORT_RSP = 6,
};

struct snp_report_req {
	uint8_t user_data[64];
	uint32_t vmpl;
	uint32_t key_sel;
	uint8_t rsvd[24];
};
_Static_assert(sizeof(struct snp_report_req) == 0x60, "MSG_REPORT_REQ");

#define SNP_REPORT_SIZE 0x4A0U

struct snp_report_rsp {
	uint32_t status;
	uint32_t report_size;
	uint8_t rsvd[24];
	uint8_t report[SNP_REPORT_SIZE];
};
_Static_assert(sizeof(struct snp_report_rsp) == 0x4C0, "MSG_REPORT_RSP");

/* Firmware status codes the simulated PSP uses. */
#define SNP_FW_SUCCESS 0x00U
#define SNP_FW_INVALID_PARAM 0x16U
#define SNP_FW_INVALID_KEY 0x27U

/* ATTESTATION_REPORT offsets. */
#define SNP_REPORT_VERSION_OFF 0x000U
#define SNP_REPORT_GUEST_SVN_OFF 0x004U
#define SNP_REPORT_POLICY_OFF 0x008U
#define SNP_REPORT_FAMILY_ID_OFF 0x010U
#define SNP_REPORT_IMAGE_ID_OFF 0x020U
#define SNP_REPORT_VMPL_OFF 0x030U
#define SNP_REPORT_SIG_ALGO_OFF 0x034U
#define SNP_REPORT_CURRENT_TCB_OFF 0x038U
#define SNP_REPORT_SIGNER_INFO_OFF 0x048U
#define SNP_REPORT_DATA_OFF 0x050U
#define SNP_REPORT_MEASUREMENT_OFF 0x090U
#define SNP_REPORT_HOST_DATA_OFF 0x0C0U
#define SNP_REPORT_ID_KEY_DIGEST_OFF 0x0E0U
#define SNP_REPORT_AUTHOR_KEY_DIGEST_OFF 0x110U
#define SNP_REPORT_ID_OFF 0x140U
#define SNP_REPORT_REPORTED_TCB_OFF 0x180U
#define SNP_REPORT_CPUID_FMS_OFF 0x188U
#define SNP_REPORT_CHIP_ID_OFF 0x1A0U
#define SNP_REPORT_COMMITTED_TCB_OFF 0x1E0U
#define SNP_REPORT_LAUNCH_TCB_OFF 0x1F0U
#define SNP_REPORT_SIGNED_SIZE 0x2A0U
#define SNP_REPORT_SIG_R_OFF 0x2A0U
#define SNP_REPORT_SIG_S_OFF 0x2E8U
#define SNP_REPORT_SIG_COMPONENT 72U
#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1U

#endif
