/* Where the native platform's launch puts the protocol test guest and its pages: the
 * contract between Donjon's launch (launch.c) and tests/guest.
 *
 * Donjon's range is [0, 16 MiB) (the kernel, its tables and pages); guest memory starts
 * at 16 MiB and is mapped 1:1 in the nested page tables, page by page, only while the RMP
 * model says the vCPU's VMPL may use it. The "host" assigns guest memory below 64 MiB as
 * 4K RMP entries and above as 2M entries (as KVM does with huge pages), so both the 2M
 * validation and Linux's 2M-to-4K fallback happen. */
#ifndef PLATFORM_NATIVE_GUEST_LAYOUT_H
#define PLATFORM_NATIVE_GUEST_LAYOUT_H

#define NATIVE_SVSM_SIZE (16ULL << 20)
#define NATIVE_GUEST_BASE NATIVE_SVSM_SIZE
#define NATIVE_2M_FROM (64ULL << 20)
#define NATIVE_GUEST_VMPL 2U
#define NATIVE_MAX_VCPUS 8U

/* The guest's launch pages (validated before it runs, full access for VMPL1/2). */
#define GUEST_SECRETS (NATIVE_GUEST_BASE + 0x0000ULL)
#define GUEST_CAA(i) (NATIVE_GUEST_BASE + 0x1000ULL + 0x1000ULL * (i))
/* The launch parameters: u32 vCPU count at +0; at +8 the address the test guest touches
 * last (it must be stopped there). */
#define GUEST_PARAMS (NATIVE_GUEST_BASE + 0xF000ULL)
#define GUEST_PARAMS_TOUCH_OFF 8U
/* u32 at +16: what the test guest does. */
#define GUEST_PARAMS_MODE_OFF 16U
#define GUEST_MODE_CHECKS 0U	     /* its checks */
#define GUEST_MODE_HALT 1U	     /* halt at once (make bench's boot baseline) */
#define GUEST_MODE_TIME_CALLS 2U     /* time SVSM calls (make bench) */
#define GUEST_MODE_HOSTILE 3U	     /* one vCPU runs, writes and exits while another calls */
#define GUEST_MODE_TIME_SHOOTDOWN 4U /* time rescinds with other vCPUs running (make bench) */
#define GUEST_MODE_TIME_ATTEST 5U    /* time SVSM_ATTEST_SERVICES (make bench) */
#define GUEST_MODE_VTPM_BROKEN 6U    /* its vTPM is stopped by the first command it runs */
#define GUEST_MODE_TIME_VTPM 7U	     /* time vTPM commands (make bench) */
/* u32 at +20: 1 if Donjon runs a vTPM (the vTPM protocol is offered), else 0. */
#define GUEST_PARAMS_VTPM_OFF 20U
/* Guest memory the launch leaves unvalidated (the test guest never validates it). */
#define GUEST_UNVALIDATED (NATIVE_GUEST_BASE + 0x2000000ULL)
#define GUEST_PAGE_TABLES (NATIVE_GUEST_BASE + 0x10000ULL) /* PML4, PDPT, 4 PDs */
#define GUEST_PAGE_TABLE_PAGES 6U
#define GUEST_STACK_TOP (NATIVE_GUEST_BASE + 0x30000ULL)
#define GUEST_STACK_PAGES 4U
#define GUEST_IMAGE (NATIVE_GUEST_BASE + 0x100000ULL)
#define GUEST_IMAGE_MAX (1ULL << 20)

/* Linux (linux_boot.c): guest RAM is [0, LINUX_SECRETS) and [NATIVE_GUEST_BASE, top);
 * Donjon keeps [LINUX_LOW_END, NATIVE_SVSM_SIZE). The pages SEV-SNP firmware gives a guest
 * are E820 reserved (Linux neither reserves nor may map RAM there), the ACPI tables E820
 * ACPI; the boot loader's pages (boot_params, command line, GDT, page tables) are RAM that
 * Linux reuses once it has copied what it needs. */
#define LINUX_ZERO_PAGE 0x10000ULL
#define LINUX_CMDLINE_PAGE 0x11000ULL
#define LINUX_GDT 0x12000ULL
#define LINUX_PAGE_TABLES 0x13000ULL /* PML4, PDPT, 4 PDs: 0-4 GiB in 2 MiB pages */
#define LINUX_SECRETS 0x90000ULL
#define LINUX_CAA 0x91000ULL
#define LINUX_CPUID 0x92000ULL
#define LINUX_CC_BLOB 0x93000ULL /* the CC blob, then the SETUP_CC_BLOB setup_data */
#define LINUX_ACPI 0x94000ULL
#define LINUX_ACPI_SIZE 0x4000ULL
#define LINUX_LOW_END 0x98000ULL
#define LINUX_LEGACY_END 0x100000ULL	   /* [LINUX_LOW_END, here) reads as zeros */
#define LINUX_KERNEL_MIN NATIVE_GUEST_BASE /* the lowest load address (2 MiB aligned) */

#endif
