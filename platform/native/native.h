/* The native platform's parts and what they share: the RMP model and the nested page
 * tables that enforce it (plat.c), which CPU runs which vCPU (cpu_sync.c), the run loop
 * (svm.c), the launch (launch.c). core/ reaches this platform only through
 * include/donjon/platform.h, the kernel only through native_api.h.
 *
 * Lock order: the core lock, then native_lock (plat.c: the RMP model and the nested page
 * tables). cpu_sync.c takes no lock. */
#ifndef PLATFORM_NATIVE_NATIVE_H
#define PLATFORM_NATIVE_NATIVE_H

#include <donjon/platform.h>
#include <donjon/snp.h>

#include "guest_layout.h"
#include "hostif.h"

/* Take over memory: RMP model for [0, mem_size), Donjon's range validated. False if
 * memory for the tables is short. */
bool native_mm_init(uint64_t mem_size);
/* After pmm_init: one nested page table per VMPL a guest vCPU can have (the guest's VMPL
 * and every less privileged one), every level allocated for guest memory, so that later
 * changes never need memory. */
bool native_npt_init(void);
/* For Linux, before native_mm_init: the guest also gets the memory below end (real-mode
 * code needs it); Donjon keeps [end, NATIVE_SVSM_SIZE), of which the guest reads
 * [end, legacy) as zeros (the PC's legacy area). native_donjon_base: end, 0 otherwise. */
void native_give_low_memory(uint64_t end, uint64_t legacy);
uint64_t native_donjon_base(void);
/* For Linux, before native_npt_init: guest memory is mapped at both C-bit aliases. */
void native_set_c_bit(unsigned bit);
/* The host's page state change (GHCB PSC) of guest memory; NULL or why it was refused
 * (Donjon's memory, a VMSA page, outside memory, misaligned). */
const char *native_host_psc(uint64_t gpa, enum page_size size, bool to_private);
/* RMPADJUST executed by a guest vCPU at vmpl (the native platform emulates the
 * instruction): the RMP model's answer, the nested tables kept in step. */
enum rmp_result native_guest_rmpadjust(unsigned vmpl, uint64_t gpa, enum page_size size,
				       unsigned target, uint8_t perms, bool vmsa);
/* The nested page table of a VMPL; 0 for a VMPL no guest vCPU can have. */
uint64_t native_npt_root(unsigned vmpl);

/* Back to the RMP of the launch (and matching nested page tables): for the core's tests,
 * which launch a fresh machine per test. */
void native_rmp_reset(void);

/* Why an access at vmpl to [gpa, gpa + len) would fault, or NULL. need is RMP_PERM_READ,
 * RMP_PERM_WRITE or RMP_PERM_EXEC_SUPER. */
const char *native_guest_access_fault(unsigned vmpl, uint64_t gpa, uint64_t len, uint8_t need);
/* Copy [gpa, gpa + len) as a vCPU at vmpl may access it (need as above), checked and
 * copied under the RMP lock so that no concurrent change of the page slips between. */
bool native_guest_copy_in(unsigned vmpl, uint64_t gpa, void *buf, size_t len, uint8_t need);

/* What vmpl's nested page table gives the guest at gpa: present (and writable if write). */
bool native_npt_permits(unsigned vmpl, uint64_t gpa, bool write);

/* The same for a write. */
bool native_guest_copy_out(unsigned vmpl, uint64_t gpa, const void *buf, size_t len);

/* The host's write to guest memory: only into shared pages (on SEV-SNP the RMP stops a
 * host write to a private page), never Donjon's; false otherwise, nothing written. */
bool native_host_copy_out(uint64_t gpa, const void *buf, size_t len);
bool native_host_copy_in(uint64_t gpa, void *buf, size_t len);

struct rmp_entry;
/* A copy of gpa's RMP entry; false outside memory. */
bool native_rmp_entry(uint64_t gpa, struct rmp_entry *out);

/* Launch-time validation of a guest page (as the PSP's LAUNCH_UPDATE would). */
bool native_launch_validate(uint64_t gpa);
/* The startup vCPU's VMSA (in Donjon's range) becomes an RMP VMSA page, as LAUNCH_UPDATE
 * of a VMSA page does. */
bool native_launch_vmsa(uint64_t gpa);

/* The PSP model: a chip key made now (its public point printed on the console for
 * verifiers), VMPCKs, the launch digest. */
bool native_psp_init(void);
/* A new launch: the launch digest starts again; each page the launch measures goes in as
 * LAUNCH_UPDATE would put it (data: 4 KiB, or NULL for the types without contents); last,
 * the SECRETS page (4 KiB) is filled with the PSP's VMPCKs. */
void native_psp_launch_begin(void);
void native_psp_measure(enum snp_page_type type, uint64_t gpa, const uint8_t *data);
void native_psp_launch_end(uint8_t *secrets);
/* The chip key's public point (CRYPTO_P384_POINT_SIZE bytes). */
const uint8_t *native_psp_chip_key(void);

/* CPU cpu takes the VMSA at vmsa to run it: it must be an RMP VMSA page that is not
 * being stopped. Its 4 KiB are copied into state (Donjon's memory): the run loop works
 * on that copy and never writes the VMSA page, which the guest may own again as soon as
 * the vCPU is deleted. False if the page is not a runnable VMSA. */
bool native_vmsa_claim(unsigned cpu, uint64_t vmsa, uint8_t *state);

/* Services (services.c): whether the command line asks for one (the CPUs then need their
 * timers for its budget); the state buffer reserved (before pmm_init); the service started
 * (after pmm_init and tick_init), false with a message if it was asked for and did not
 * start. */
bool native_services_wanted(void);
void native_services_reserve(uint64_t limit);
bool native_services_start(void);
/* What the service did, and where each TPM command's exchanges spent their time. */
void native_services_report(void);
/* make bench (bench=vtpm): prints the exchanges logged since the last call ("vtpm:
 * exchange CODE TOTAL RING3 SYSCALLS"); svm.c calls it after an SVSM call's own time is
 * taken, so that printing them is not part of that time. */
void native_services_bench_flush(void);

#endif
