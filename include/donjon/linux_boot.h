/* What Donjon's native platform needs to start Linux: its bundle (how the kernel, the
 * initramfs and the command line reach Donjon), the fields of the x86 boot protocol it
 * fills (Documentation/arch/x86/boot.rst, zero-page.rst), and the SEV-SNP structures Linux
 * finds through setup_data without UEFI (linux-guest.md section 3). */
#ifndef DONJON_LINUX_BOOT_H
#define DONJON_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* ---- the bundle: QEMU's -initrd, which a PVH kernel receives as module 0 ----
 * A 4 KiB header, then the bzImage, the initramfs, the command line and, if there is one,
 * the vTPM service's executable, each at a 4 KiB aligned offset
 * (scripts/linux-guest/make-bundle writes it). */
#define LINUX_BUNDLE_MAGIC "DONJONLX"
#define LINUX_BUNDLE_VERSION 2U
#define LINUX_BUNDLE_HEADER 4096U
#define LINUX_CMDLINE_MAX 2047U

struct linux_bundle_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t kernel_off, kernel_size;
	uint64_t initrd_off, initrd_size;
	uint64_t cmdline_off, cmdline_size; /* without a terminating NUL */
	uint64_t service_off, service_size; /* both 0: no vTPM */
};
_Static_assert(sizeof(struct linux_bundle_header) == 0x50, "bundle header");
_Static_assert(offsetof(struct linux_bundle_header, cmdline_size) == 0x38, "cmdline size");

/* ---- the setup header in the bzImage and in boot_params (offsets in both) ---- */
#define BP_SETUP_SECTS 0x1F1U  /* u8 */
#define BP_HEADER_MAGIC 0x202U /* "HdrS" */
#define BP_VERSION 0x206U      /* u16 */
#define BP_TYPE_OF_LOADER 0x210U
#define BP_LOADFLAGS 0x211U
#define BP_CODE32_START 0x214U /* u32 */
#define BP_RAMDISK_IMAGE 0x218U
#define BP_RAMDISK_SIZE 0x21CU
#define BP_CMD_LINE_PTR 0x228U
#define BP_INITRD_ADDR_MAX 0x22CU
#define BP_KERNEL_ALIGNMENT 0x230U
#define BP_RELOCATABLE 0x234U /* u8 */
#define BP_XLOADFLAGS 0x236U  /* u16 */
#define BP_CMDLINE_SIZE 0x238U
#define BP_SETUP_DATA 0x250U   /* u64 */
#define BP_PREF_ADDRESS 0x258U /* u64 */
#define BP_INIT_SIZE 0x260U    /* u32 */
#define BP_HEADER_JUMP 0x201U  /* u8: the header ends at 0x202 + this */
/* boot_params only */
#define BP_ACPI_RSDP_ADDR 0x070U /* u64 */
#define BP_EXT_RAMDISK_IMAGE 0x0C0U
#define BP_EXT_RAMDISK_SIZE 0x0C4U
#define BP_EXT_CMD_LINE_PTR 0x0C8U
#define BP_E820_ENTRIES 0x1E8U /* u8 */
#define BP_E820_TABLE 0x2D0U   /* 128 entries of 20 bytes */
#define BP_E820_MAX 128U

#define BP_MIN_VERSION 0x020CU /* 2.12: xloadflags and the 64-bit entry */
#define LOADFLAG_LOADED_HIGH 0x01U
#define XLF_KERNEL_64 0x0001U
#define LINUX_ENTRY_64 0x200U /* the 64-bit entry, from the protected-mode kernel's start */
#define LINUX_LOADER_UNDEFINED 0xFFU

#define E820_RAM 1U
#define E820_RESERVED 2U
#define E820_ACPI 3U

/* ---- SEV-SNP without UEFI: setup_data SETUP_CC_BLOB pointing at the CC blob ---- */
#define SETUP_CC_BLOB 7U
#define CC_BLOB_MAGIC 0x45444D41U /* "AMDE" */

struct linux_setup_data {
	uint64_t next;
	uint32_t type;
	uint32_t len;
};

struct __attribute__((packed)) linux_cc_setup_data {
	struct linux_setup_data hdr;
	uint32_t cc_blob_address;
};
_Static_assert(sizeof(struct linux_cc_setup_data) == 20, "cc_setup_data is packed");

struct linux_cc_blob {
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;
	uint64_t secrets_phys;
	uint32_t secrets_len;
	uint32_t reserved1;
	uint64_t cpuid_phys;
	uint32_t cpuid_len;
	uint32_t reserved2;
};
_Static_assert(sizeof(struct linux_cc_blob) == 40, "cc_blob_sev_info");

/* The SNP CPUID page (AMD 56860, SNP_LAUNCH_UPDATE of a CPUID page). */
#define SNP_CPUID_MAX 64U

struct snp_cpuid_fn {
	uint32_t eax_in, ecx_in;
	uint64_t xcr0_in, xss_in;
	uint32_t eax, ebx, ecx, edx;
	uint64_t reserved;
};
_Static_assert(sizeof(struct snp_cpuid_fn) == 48, "snp_cpuid_fn");

struct snp_cpuid_table {
	uint32_t count;
	uint32_t reserved1;
	uint64_t reserved2;
	struct snp_cpuid_fn fn[SNP_CPUID_MAX];
};
_Static_assert(sizeof(struct snp_cpuid_table) <= 4096, "one page");

#endif
