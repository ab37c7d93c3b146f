/* The platform interface on the native platform: an RMP model kept in step with nested
 * page tables that give the guest (VMPL2) exactly what the RMP grants it. */
#include "native.h"

#include <donjon/svsm.h>

#include "io.h"
#include "kernel.h"
#include "lock.h"
#include "mm.h"
#include "rmp.h"

#define NPTE_P (1ULL << 0)
#define NPTE_RW (1ULL << 1)
#define NPTE_US (1ULL << 2) /* nested walks treat every guest access as a user access */
#define NPTE_NX (1ULL << 63)
#define NPTE_ADDR 0x000FFFFFFFFFF000ULL

static struct spinlock native_lock = { ATOMIC_FLAG_INIT };
static struct rmp_table rmp;
static uint64_t npt_pml4;

static uint64_t *table(uint64_t pa)
{
	return kernel_ptr(pa, 4096);
}

/* The table entry below `entry`, allocated if absent. 0 if memory is exhausted. */
static uint64_t next_level(uint64_t *entry)
{
	uint64_t pa = 0;

	if ((*entry & NPTE_P) != 0U) {
		return *entry & NPTE_ADDR;
	}
	if (!pmm_alloc(&pa)) {
		return 0;
	}
	*entry = pa | NPTE_P | NPTE_RW | NPTE_US;
	return pa;
}

/* The leaf entry that maps gpa (4K), with every table on the way allocated. */
static uint64_t *npt_leaf(uint64_t gpa)
{
	uint64_t pa = npt_pml4;

	for (unsigned shift = 39; shift > 12; shift -= 9) {
		uint64_t *t = table(pa);

		if (t == NULL) {
			return NULL;
		}
		pa = next_level(&t[(gpa >> shift) & 511U]);
		if (pa == 0U) {
			return NULL;
		}
	}
	uint64_t *leaf = table(pa);

	return leaf != NULL ? &leaf[(gpa >> 12) & 511U] : NULL;
}

/* What the nested page tables must say for gpa: the RMP's verdict for VMPL2. */
static uint64_t npte_for(uint64_t gpa)
{
	const struct rmp_entry *e = rmp_entry_at(&rmp, gpa);
	uint8_t p = e->perms[NATIVE_GUEST_VMPL];
	uint64_t v = gpa | NPTE_P | NPTE_US;

	if (gpa < NATIVE_GUEST_BASE || !e->assigned || !e->validated || e->vmsa ||
	    (p & RMP_PERM_READ) == 0U) {
		return 0;
	}
	if ((p & RMP_PERM_WRITE) != 0U) {
		v |= NPTE_RW;
	}
	if ((p & (RMP_PERM_EXEC_USER | RMP_PERM_EXEC_SUPER)) == 0U) {
		v |= NPTE_NX;
	}
	return v;
}

static void npt_sync(uint64_t gpa, uint64_t len)
{
	for (uint64_t p = gpa; p < gpa + len; p += PAGE_SIZE) {
		uint64_t *leaf = npt_leaf(p);

		/* Every leaf table was allocated by native_mm_init. */
		if (leaf != NULL) {
			*leaf = npte_for(p);
		}
	}
}

/* The RMP as the host leaves it at launch: Donjon's range validated, guest memory
 * assigned (4K entries below NATIVE_2M_FROM, 2M above) and not validated. */
static void rmp_initial(void)
{
	uint64_t pages = rmp.mem_size >> PAGE_SHIFT;

	for (uint64_t i = 0; i < pages; i++) {
		uint64_t gpa = i << PAGE_SHIFT;

		rmp.entries[i] = (struct rmp_entry){
			.assigned = true,
			.validated = gpa < NATIVE_GUEST_BASE,
			.size_2m =
				gpa >= NATIVE_2M_FROM && (gpa | (PAGE_SIZE_2M - 1U)) < rmp.mem_size,
		};
	}
}

bool native_mm_init(uint64_t mem_size)
{
	uint64_t pages = mem_size >> PAGE_SHIFT;
	uint64_t rmp_pa = mm_reserve(pages * sizeof(struct rmp_entry), NATIVE_SVSM_SIZE);

	rmp = (struct rmp_table){ .entries = kernel_ptr(rmp_pa, pages * sizeof(struct rmp_entry)),
				  .mem_size = mem_size };
	if (rmp_pa == 0U || rmp.entries == NULL) {
		return false;
	}
	rmp_initial();
	return true;
}

void native_rmp_reset(void)
{
	spin_lock(&native_lock);
	rmp_initial();
	npt_sync(NATIVE_GUEST_BASE, rmp.mem_size - NATIVE_GUEST_BASE);
	spin_unlock(&native_lock);
}

const char *native_guest_access_fault(uint64_t gpa, uint64_t len, uint8_t need)
{
	if (gpa < NATIVE_GUEST_BASE) {
		return "Donjon's memory";
	}
	spin_lock(&native_lock);
	const char *why = rmp_access_fault(&rmp, NATIVE_GUEST_VMPL, gpa, len, need);

	spin_unlock(&native_lock);
	return why;
}

bool native_rmp_entry(uint64_t gpa, struct rmp_entry *out)
{
	if (!rmp_range_in_memory(&rmp, gpa, 1)) {
		return false;
	}
	spin_lock(&native_lock);
	*out = *rmp_entry_at(&rmp, gpa);
	spin_unlock(&native_lock);
	return true;
}

bool native_npt_init(void)
{
	if (!pmm_alloc(&npt_pml4)) {
		return false;
	}
	/* Allocate every table now, so that later changes never need memory. */
	for (uint64_t gpa = NATIVE_GUEST_BASE; gpa < rmp.mem_size; gpa += PAGE_SIZE_2M) {
		if (npt_leaf(gpa) == NULL) {
			return false;
		}
	}
	return true;
}

uint64_t native_npt_root(void)
{
	return npt_pml4;
}

bool native_launch_validate(uint64_t gpa)
{
	if (gpa < NATIVE_GUEST_BASE || !rmp_range_in_memory(&rmp, gpa, PAGE_SIZE)) {
		return false;
	}
	spin_lock(&native_lock);
	rmp_entry_at(&rmp, gpa)->validated = true;
	spin_unlock(&native_lock);
	return true;
}

const char *native_access_fault(uint64_t gpa, uint8_t need)
{
	const char *why = native_guest_access_fault(gpa, 1, need);

	return why != NULL ? why : "a page the guest may access (stale translation)";
}

enum rmp_result plat_pvalidate(gpa_t gpa, enum page_size size, bool validate)
{
	spin_lock(&native_lock);
	enum rmp_result r = rmp_pvalidate(&rmp, 0, gpa_val(gpa), size, validate);

	if (r == RMP_SUCCESS) {
		npt_sync(gpa_val(gpa), page_size_bytes(size));
	}
	spin_unlock(&native_lock);
	return r;
}

enum rmp_result plat_rmpadjust(gpa_t gpa, enum page_size size, unsigned target_vmpl, uint8_t perms,
			       bool vmsa)
{
	spin_lock(&native_lock);
	enum rmp_result r = rmp_rmpadjust(&rmp, 0, gpa_val(gpa), size, target_vmpl, perms, vmsa);

	if (r == RMP_SUCCESS) {
		npt_sync(gpa_val(gpa), page_size_bytes(size));
	}
	spin_unlock(&native_lock);
	return r;
}

void *plat_map(gpa_t gpa, size_t len)
{
	spin_lock(&native_lock);
	/* VMPL0 reaches every validated page; anything else would fault. */
	const char *fault = rmp_access_fault(&rmp, 0, gpa_val(gpa), len, RMP_PERM_READ);

	spin_unlock(&native_lock);
	return fault == NULL ? kernel_ptr(gpa_val(gpa), len) : NULL;
}

void plat_unmap(const void *ptr, size_t len)
{
	/* All RAM stays mapped in the kernel. */
	(void)ptr;
	(void)len;
}

bool plat_random(void *buf, size_t len)
{
	uint8_t *out = buf;
	uint32_t r[4];

	/* CPUID.1:ECX[30]: RDRAND; without it there is no entropy source here. */
	cpuid(1, 0, r);
	if ((r[2] & (1U << 30)) == 0U) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		uint64_t v = 0;
		uint8_t ok = 0;

		__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
		if (ok == 0U) {
			return false;
		}
		out[i] = (uint8_t)v;
	}
	return true;
}
