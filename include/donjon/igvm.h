/* The IGVM file format (microsoft/igvm igvm_defs), as QEMU's loader accepts it: the fixed
 * header, the variable-header records Donjon uses, and their layouts. Little-endian. */
#ifndef DONJON_IGVM_H
#define DONJON_IGVM_H

#include <stddef.h>
#include <stdint.h>

#define IGVM_MAGIC 0x4D564749U /* "IGVM" */
#define IGVM_FIXED_HEADER_V1 24U
#define IGVM_FIXED_HEADER_V2 32U
#define IGVM_PAGE 4096U

struct igvm_fixed_header {
	uint32_t magic;
	uint32_t format_version;
	uint32_t variable_header_offset;
	uint32_t variable_header_size;
	uint32_t total_file_size;
	uint32_t checksum;     /* CRC-32 of this header (checksum 0) and the variable headers */
	uint32_t architecture; /* V2: 0 = x64 */
	uint32_t page_size;    /* V2: 4096 */
};
_Static_assert(sizeof(struct igvm_fixed_header) == IGVM_FIXED_HEADER_V2, "IGVM fixed header");

/* Variable-header types. Sections: platform 0x001-0x100, initialization 0x101-0x200,
 * directives 0x301-0x400, in that order. */
#define IGVM_VHT_SUPPORTED_PLATFORM 0x001U
#define IGVM_VHT_GUEST_POLICY 0x101U
#define IGVM_VHT_PARAMETER_AREA 0x301U
#define IGVM_VHT_PAGE_DATA 0x302U
#define IGVM_VHT_PARAMETER_INSERT 0x303U
#define IGVM_VHT_VP_CONTEXT 0x304U
#define IGVM_VHT_REQUIRED_MEMORY 0x305U
#define IGVM_VHT_VP_COUNT_PARAMETER 0x307U
#define IGVM_VHT_SNP_ID_BLOCK 0x30BU
#define IGVM_VHT_MEMORY_MAP 0x30CU
#define IGVM_VHT_COMMAND_LINE 0x30EU
#define IGVM_VHT_ENVIRONMENT_INFO_PARAMETER 0x313U

#define IGVM_PLATFORM_NATIVE 0x00U
#define IGVM_PLATFORM_SEV_SNP 0x02U

struct igvm_supported_platform {
	uint32_t compatibility_mask;
	uint8_t highest_vtl;
	uint8_t platform_type;
	uint16_t platform_version;
	uint64_t shared_gpa_boundary;
};
_Static_assert(sizeof(struct igvm_supported_platform) == 16, "SUPPORTED_PLATFORM");

struct igvm_guest_policy {
	uint64_t policy;
	uint32_t compatibility_mask;
	uint32_t reserved;
};
_Static_assert(sizeof(struct igvm_guest_policy) == 16, "GUEST_POLICY");

struct igvm_parameter_area {
	uint64_t number_of_bytes;
	uint32_t parameter_area_index;
	uint32_t file_offset;
};
_Static_assert(sizeof(struct igvm_parameter_area) == 16, "PARAMETER_AREA");

#define IGVM_PAGE_DATA_FLAG_2MB 0x1U
#define IGVM_PAGE_DATA_FLAG_UNMEASURED 0x2U
#define IGVM_PAGE_DATA_FLAG_SHARED 0x4U
#define IGVM_PAGE_DATA_NORMAL 0U
#define IGVM_PAGE_DATA_SECRETS 1U
#define IGVM_PAGE_DATA_CPUID_DATA 2U
#define IGVM_PAGE_DATA_CPUID_XF 3U

struct igvm_page_data {
	uint64_t gpa;
	uint32_t compatibility_mask;
	uint32_t file_offset; /* 0: a page of zeros */
	uint32_t flags;
	uint16_t data_type;
	uint16_t reserved;
};
_Static_assert(sizeof(struct igvm_page_data) == 24, "PAGE_DATA");

struct igvm_parameter_insert {
	uint64_t gpa;
	uint32_t compatibility_mask;
	uint32_t parameter_area_index;
};
_Static_assert(sizeof(struct igvm_parameter_insert) == 16, "PARAMETER_INSERT");

/* VP_CONTEXT is 20 bytes: its gpa is an unaligned u64 in the spec's terms. */
struct igvm_vp_context {
	uint64_t gpa;
	uint32_t compatibility_mask;
	uint32_t file_offset;
	uint16_t vp_index;
	uint16_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct igvm_vp_context) == 20, "VP_CONTEXT");

struct igvm_required_memory {
	uint64_t gpa;
	uint32_t compatibility_mask;
	uint32_t number_of_bytes;
	uint32_t flags;
	uint32_t reserved;
};
_Static_assert(sizeof(struct igvm_required_memory) == 24, "REQUIRED_MEMORY");

/* The parameter directives (VP count, memory map, command line, environment info). */
struct igvm_parameter {
	uint32_t parameter_area_index;
	uint32_t byte_offset;
};
_Static_assert(sizeof(struct igvm_parameter) == 8, "PARAMETER");

#endif
