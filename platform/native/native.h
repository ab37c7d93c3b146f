/* The native platform: Donjon runs the guest under AMD SVM with nested paging and
 * enforces, with the nested page tables, what the RMP would enforce on SEV-SNP.
 *
 * Layout: Donjon's range is [0, 16 MiB) (the kernel, its tables and pages); guest memory
 * starts at 16 MiB and is mapped 1:1 in the nested page tables, page by page, only while
 * the RMP model says VMPL2 may use it. The "host" assigns guest memory below 64 MiB as
 * 4K RMP entries and above as 2M entries (as KVM does with huge pages), so both the 2M
 * validation and Linux's 2M-to-4K fallback happen.
 *
 * Lock order: the core lock, then native_lock (this platform's RMP and NPT). */
#ifndef PLATFORM_NATIVE_NATIVE_H
#define PLATFORM_NATIVE_NATIVE_H

#include <donjon/platform.h>

#define NATIVE_SVSM_SIZE ((uint64_t)16 << 20)
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
/* u32 at +16: what the test guest does: its checks (0), halt at once (1), time calls (2). */
#define GUEST_PARAMS_MODE_OFF 16U
#define GUEST_MODE_CHECKS 0U
#define GUEST_MODE_HALT 1U
#define GUEST_MODE_TIME_CALLS 2U
/* Guest memory the launch leaves unvalidated (the test guest never validates it). */
#define GUEST_UNVALIDATED (NATIVE_GUEST_BASE + 0x2000000ULL)
#define GUEST_PAGE_TABLES (NATIVE_GUEST_BASE + 0x10000ULL) /* PML4, PDPT, 4 PDs */
#define GUEST_STACK_TOP (NATIVE_GUEST_BASE + 0x30000ULL)
#define GUEST_STACK_PAGES 4U
#define GUEST_IMAGE (NATIVE_GUEST_BASE + 0x100000ULL)
#define GUEST_IMAGE_MAX (1ULL << 20)

/* Take over memory: RMP model for [0, mem_size), Donjon's range validated, nested page
 * tables for the guest range. False if memory for the tables is short. */
bool native_mm_init(uint64_t mem_size);
/* After pmm_init: the nested page tables, every level allocated for guest memory. */
bool native_npt_init(void);
uint64_t native_npt_root(void);

/* Back to the RMP of the launch (and matching nested page tables): for the core's tests,
 * which launch a fresh machine per test. */
void native_rmp_reset(void);

/* Why an access by the guest (VMPL2) to [gpa, gpa + len) would fault, or NULL. */
const char *native_guest_access_fault(uint64_t gpa, uint64_t len, uint8_t need);

struct rmp_entry;
/* A copy of gpa's RMP entry; false outside memory. */
bool native_rmp_entry(uint64_t gpa, struct rmp_entry *out);

/* Launch-time validation of a guest page (as the PSP's LAUNCH_UPDATE would). */
bool native_launch_validate(uint64_t gpa);

/* Why the guest's access to gpa faults (for a nested page fault report), never NULL
 * for a gpa the guest cannot use. */
const char *native_access_fault(uint64_t gpa, uint8_t need);

#endif
