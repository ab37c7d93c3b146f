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
/* Guest memory the launch leaves unvalidated (the test guest never validates it). */
#define GUEST_UNVALIDATED (NATIVE_GUEST_BASE + 0x2000000ULL)
#define GUEST_PAGE_TABLES (NATIVE_GUEST_BASE + 0x10000ULL) /* PML4, PDPT, 4 PDs */
#define GUEST_PAGE_TABLE_PAGES 6U
#define GUEST_STACK_TOP (NATIVE_GUEST_BASE + 0x30000ULL)
#define GUEST_STACK_PAGES 4U
#define GUEST_IMAGE (NATIVE_GUEST_BASE + 0x100000ULL)
#define GUEST_IMAGE_MAX (1ULL << 20)

#endif
