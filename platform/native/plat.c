/* The platform interface on the native platform: an RMP model kept in step with nested
 * page tables, one per VMPL a guest vCPU can run at, that give each VMPL exactly what the
 * RMP grants it. A change that takes a permission away is complete only when no CPU can
 * still use the old translation (cpusync_npt_changed). */
#include "native.h"

#include <donjon/svsm.h>

#include "arch/x86/cpu.h"
#include "cpu_sync.h"
#include "lock.h"
#include "psp.h"
#include "rmp.h"

#define NPTE_P (1ULL << 0)
#define NPTE_RW (1ULL << 1)
#define NPTE_US (1ULL << 2) /* nested walks treat every guest access as a user access */
#define NPTE_NX (1ULL << 63)
#define NPTE_ADDR 0x000FFFFFFFFFF000ULL

static struct spinlock native_lock = { ATOMIC_FLAG_INIT };
/* The PSP model, inside the kernel; psp_lock serialises its guest messages. */
static struct psp psp;
static struct spinlock psp_lock = { ATOMIC_FLAG_INIT };
static struct rmp_table rmp;
static uint64_t npt_pml4[VMPL_COUNT];
/* Donjon's range is [donjon_low, NATIVE_SVSM_SIZE): 0 for the test guest; for Linux, the
 * guest also has the low memory below it (native_give_low_memory). */
static uint64_t donjon_low;
/* For Linux, [donjon_low, legacy_end) is the PC's legacy area (EBDA, VGA, option and BIOS
 * ROMs): Linux scans it (for an iBFT, for instance), so it reads as zeros, through one
 * read-only page holding nothing. */
static uint64_t legacy_end;
static uint64_t zero_page;
/* The C-bit's place in a guest-physical address (0: none): guest memory is mapped twice,
 * at gpa (C=0, the shared view) and at gpa | c_bit_mask (C=1, private). */
static uint64_t c_bit_mask;

static bool in_donjon(uint64_t gpa)
{
	return gpa >= donjon_low && gpa < NATIVE_SVSM_SIZE;
}

/* True if [gpa, gpa + len) has a byte in Donjon's range (or wraps). With guest memory on
 * both sides of the range (Linux), a check of the start alone would not do. */
static bool touches_donjon(uint64_t gpa, uint64_t len)
{
	uint64_t end = 0;

	return __builtin_add_overflow(gpa, len, &end) ||
	       (len != 0U && gpa < NATIVE_SVSM_SIZE && end > donjon_low);
}

/* Guest memory: below the top of memory and outside Donjon's range. */
static bool guest_memory(uint64_t gpa)
{
	return !in_donjon(gpa) && gpa < rmp.mem_size;
}
/* The VMSA plat_vmsa_stop is stopping, until the core clears its VMSA bit: it may not be
 * claimed again in between. Guarded by native_lock. */
static uint64_t stopping_vmsa;

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

/* The leaf entry that maps gpa (4K) in the table rooted at root, with every table on the
 * way allocated. */
static uint64_t *npt_leaf(uint64_t root, uint64_t gpa)
{
	uint64_t pa = root;

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

/* What vmpl's nested page table must say for gpa through one alias: the RMP's verdict for
 * that VMPL. A private page is mapped while validated, with its VMPL's permissions, through
 * both aliases (real-mode code and the boot page tables carry no C-bit); a shared page only
 * through the C=0 alias, readable, writable, not executable. A VMSA page is at most
 * readable (never writable or executable), whatever its permissions say; Donjon's memory is
 * never mapped. */
static uint64_t npte_for(unsigned vmpl, uint64_t gpa, bool c_bit)
{
	const struct rmp_entry *e = rmp_entry_at(&rmp, gpa);
	uint8_t p = e->perms[vmpl];
	uint64_t v = gpa | NPTE_P | NPTE_US;

	if (gpa >= donjon_low && gpa < legacy_end) {
		return zero_page | NPTE_P | NPTE_US | NPTE_NX;
	}
	if (!guest_memory(gpa)) {
		return 0;
	}
	if (!e->assigned) {
		return c_bit_mask != 0U && !c_bit ? v | NPTE_RW | NPTE_NX : 0U;
	}
	if (!e->validated || (p & RMP_PERM_READ) == 0U) {
		return 0;
	}
	if (e->vmsa) {
		return v | NPTE_NX;
	}
	if ((p & RMP_PERM_WRITE) != 0U) {
		v |= NPTE_RW;
	}
	if ((p & (RMP_PERM_EXEC_USER | RMP_PERM_EXEC_SUPER)) == 0U) {
		v |= NPTE_NX;
	}
	return v;
}

/* True if going from old to new takes something away that a TLB may still hold. */
static bool npte_reduces(uint64_t old, uint64_t new)
{
	if ((old & NPTE_P) == 0U) {
		return false; /* a not-present entry is never cached */
	}
	return (new &NPTE_P) == 0U || (new &NPTE_ADDR) != (old & NPTE_ADDR) ||
	       ((old & NPTE_RW) != 0U && (new &NPTE_RW) == 0U) ||
	       ((old & NPTE_NX) == 0U && (new &NPTE_NX) != 0U);
}

/* Bring every VMPL's nested page table in step with the RMP for [gpa, gpa + len); then
 * the shootdown if anything was taken away. Caller holds native_lock. */
static void npt_sync(uint64_t gpa, uint64_t len)
{
	bool changed = false;
	bool reduced = false;

	for (unsigned vmpl = 0; vmpl < VMPL_COUNT; vmpl++) {
		if (npt_pml4[vmpl] == 0U) {
			continue;
		}
		for (uint64_t p = gpa; p < gpa + len; p += PAGE_SIZE) {
			for (unsigned alias = 0; alias < (c_bit_mask != 0U ? 2U : 1U); alias++) {
				uint64_t *leaf = npt_leaf(npt_pml4[vmpl],
							  p | (alias != 0U ? c_bit_mask : 0U));
				uint64_t want = npte_for(vmpl, p, alias != 0U);

				/* Every leaf table was allocated by native_npt_init. */
				if (leaf == NULL || *leaf == want) {
					continue;
				}
				reduced = reduced || npte_reduces(*leaf, want);
				changed = true;
				__atomic_store_n(leaf, want, __ATOMIC_RELEASE);
			}
		}
	}
	if (changed) {
		cpusync_npt_changed(reduced);
	}
}

/* The RMP as the host leaves it at launch: Donjon's range validated, guest memory
 * assigned and not validated; for the test guest 4K entries below NATIVE_2M_FROM and 2M
 * above, for Linux (whose launch validates all of its memory a page at a time) 4K
 * entries. */
static void rmp_initial(void)
{
	uint64_t pages = rmp.mem_size >> PAGE_SHIFT;

	for (uint64_t i = 0; i < pages; i++) {
		uint64_t gpa = i << PAGE_SHIFT;

		rmp.entries[i] = (struct rmp_entry){
			.assigned = true,
			.validated = in_donjon(gpa),
			.size_2m = donjon_low == 0U && gpa >= NATIVE_2M_FROM &&
				   (gpa | (PAGE_SIZE_2M - 1U)) < rmp.mem_size,
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
	stopping_vmsa = 0;
	npt_sync(0, rmp.mem_size);
	spin_unlock(&native_lock);
}

const char *native_guest_access_fault(unsigned vmpl, uint64_t gpa, uint64_t len, uint8_t need)
{
	if (touches_donjon(gpa, len)) {
		return "Donjon's memory";
	}
	spin_lock(&native_lock);
	const char *why = rmp_access_fault(&rmp, vmpl, gpa, len, need);

	spin_unlock(&native_lock);
	return why;
}

bool native_guest_copy_in(unsigned vmpl, uint64_t gpa, void *buf, size_t len, uint8_t need)
{
	const void *src = NULL;

	spin_lock(&native_lock);
	if (!touches_donjon(gpa, len) && rmp_access_fault(&rmp, vmpl, gpa, len, need) == NULL) {
		src = kernel_ptr(gpa, len);
	}
	if (src != NULL) {
		__builtin_memcpy(buf, src, len);
	}
	spin_unlock(&native_lock);
	return src != NULL;
}

bool native_guest_copy_out(unsigned vmpl, uint64_t gpa, const void *buf, size_t len)
{
	void *dst = NULL;

	spin_lock(&native_lock);
	if (!touches_donjon(gpa, len) &&
	    rmp_access_fault(&rmp, vmpl, gpa, len, RMP_PERM_WRITE) == NULL) {
		dst = kernel_ptr(gpa, len);
	}
	if (dst != NULL) {
		__builtin_memcpy(dst, buf, len);
	}
	spin_unlock(&native_lock);
	return dst != NULL;
}

/* [gpa, gpa + len) inside one shared page of guest memory, as a pointer; NULL otherwise.
 * native_lock held. */
static void *host_page_ptr(uint64_t gpa, size_t len)
{
	if (len == 0U || len > PAGE_SIZE || gpa > UINT64_MAX - len ||
	    (gpa & ~(PAGE_SIZE - 1U)) != ((gpa + len - 1U) & ~(PAGE_SIZE - 1U)) ||
	    touches_donjon(gpa, len) || !rmp_range_in_memory(&rmp, gpa, len) ||
	    rmp_entry_at(&rmp, gpa)->assigned) {
		return NULL;
	}
	return kernel_ptr(gpa, len);
}

bool native_host_copy_out(uint64_t gpa, const void *buf, size_t len)
{
	spin_lock(&native_lock);
	void *dst = host_page_ptr(gpa, len);

	if (dst != NULL) {
		__builtin_memcpy(dst, buf, len);
	}
	spin_unlock(&native_lock);
	return dst != NULL;
}

bool native_host_copy_in(uint64_t gpa, void *buf, size_t len)
{
	spin_lock(&native_lock);
	const void *src = host_page_ptr(gpa, len);

	if (src != NULL) {
		__builtin_memcpy(buf, src, len);
	}
	spin_unlock(&native_lock);
	return src != NULL;
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
	uint64_t *zero = NULL;

	if (legacy_end > donjon_low &&
	    (!pmm_alloc(&zero_page) || (zero = kernel_ptr(zero_page, PAGE_SIZE)) == NULL)) {
		return false;
	}
	if (zero != NULL) {
		__builtin_memset(zero, 0, PAGE_SIZE);
	}
	for (unsigned vmpl = NATIVE_GUEST_VMPL; vmpl < VMPL_COUNT; vmpl++) {
		if (!pmm_alloc(&npt_pml4[vmpl])) {
			return false;
		}
		for (uint64_t gpa = 0; gpa < rmp.mem_size; gpa += PAGE_SIZE_2M) {
			if ((!in_donjon(gpa) || !in_donjon(gpa + PAGE_SIZE_2M - 1U)) &&
			    (npt_leaf(npt_pml4[vmpl], gpa) == NULL ||
			     (c_bit_mask != 0U &&
			      npt_leaf(npt_pml4[vmpl], gpa | c_bit_mask) == NULL))) {
				return false;
			}
		}
	}
	spin_lock(&native_lock);
	npt_sync(donjon_low, legacy_end > donjon_low ? legacy_end - donjon_low : 0U);
	spin_unlock(&native_lock);
	return true;
}

bool native_npt_permits(unsigned vmpl, uint64_t gpa, bool write)
{
	uint64_t root = native_npt_root(vmpl);
	bool ok = false;

	if (root == 0U || !rmp_range_in_memory(&rmp, gpa, 1)) {
		return false;
	}
	spin_lock(&native_lock);
	/* Every table on the way exists (native_npt_init); nothing is allocated here. */
	const uint64_t *leaf = npt_leaf(root, gpa & ~(PAGE_SIZE - 1U));

	if (leaf != NULL) {
		ok = (*leaf & NPTE_P) != 0U && (!write || (*leaf & NPTE_RW) != 0U);
	}
	spin_unlock(&native_lock);
	return ok;
}

uint64_t native_npt_root(unsigned vmpl)
{
	return vmpl < VMPL_COUNT ? npt_pml4[vmpl] : 0U;
}

bool native_launch_validate(uint64_t gpa)
{
	if (in_donjon(gpa) || !rmp_range_in_memory(&rmp, gpa, PAGE_SIZE)) {
		return false;
	}
	spin_lock(&native_lock);
	rmp_entry_at(&rmp, gpa)->validated = true;
	spin_unlock(&native_lock);
	return true;
}

bool native_launch_vmsa(uint64_t gpa)
{
	if (!in_donjon(gpa) || (gpa & (PAGE_SIZE - 1U)) != 0U) {
		return false;
	}
	spin_lock(&native_lock);
	rmp_entry_at(&rmp, gpa)->vmsa = true;
	spin_unlock(&native_lock);
	return true;
}

bool native_vmsa_claim(unsigned cpu, uint64_t vmsa, uint8_t *state)
{
	bool ok = false;

	spin_lock(&native_lock);
	if ((vmsa & (PAGE_SIZE - 1U)) == 0U && rmp_range_in_memory(&rmp, vmsa, PAGE_SIZE) &&
	    vmsa != stopping_vmsa) {
		const struct rmp_entry *e = rmp_entry_at(&rmp, vmsa);
		const uint8_t *page = kernel_ptr(vmsa, PAGE_SIZE);

		ok = e->assigned && e->validated && e->vmsa && page != NULL &&
		     cpusync_claim(cpu, vmsa);
		if (ok) {
			__builtin_memcpy(state, page, PAGE_SIZE);
		}
	}
	spin_unlock(&native_lock);
	return ok;
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
	uint64_t pa = gpa_val(gpa);

	spin_lock(&native_lock);
	/* As on SNP: a VMSA still in use on a CPU does not stop being one. */
	const struct rmp_entry *e =
		rmp_range_in_memory(&rmp, pa, PAGE_SIZE) ? rmp_entry_at(&rmp, pa) : NULL;
	enum rmp_result r = RMP_FAIL_INUSE;

	if (e == NULL || !e->vmsa || vmsa || !cpusync_claimed(pa)) {
		r = rmp_rmpadjust(&rmp, 0, pa, size, target_vmpl, perms, vmsa);
	}
	if (r == RMP_SUCCESS) {
		if (pa == stopping_vmsa) {
			stopping_vmsa = 0;
		}
		npt_sync(pa, page_size_bytes(size));
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

void *plat_map_shared(gpa_t gpa, size_t len)
{
	/* No host on this platform asks for a migration yet: no memory is shared for it. */
	(void)gpa;
	(void)len;
	return NULL;
}

void plat_unmap(const void *ptr, size_t len)
{
	/* All RAM stays mapped in the kernel. */
	(void)ptr;
	(void)len;
}

bool plat_vmsa_stop(gpa_t vmsa)
{
	spin_lock(&native_lock);
	stopping_vmsa = gpa_val(vmsa);
	cpusync_revoke(gpa_val(vmsa));
	spin_unlock(&native_lock);
	return true;
}

/* What a verifier must know of this PSP: it is a model that Donjon's kernel runs, its chip
 * key is made at every boot, and its launch digest is what Donjon computed itself. */
#define PSP_CHIP_ID_PREFIX "Donjon native PSP model, not hardware"

bool native_psp_init(void)
{
	if (!psp_init(&psp, PSP_CHIP_ID_PREFIX)) {
		return false;
	}
	char hex[2 * CRYPTO_P384_POINT_SIZE + 1];

	fmt_hex(hex, psp.chip_pub, sizeof(psp.chip_pub));
	kprintf("psp: chip key P-384 %s", hex);
	return true;
}

void native_psp_launch_begin(void)
{
	spin_lock(&psp_lock);
	psp_reset_launch(&psp);
	spin_unlock(&psp_lock);
}

void native_psp_measure(enum snp_page_type type, uint64_t gpa, const uint8_t *data)
{
	spin_lock(&psp_lock);
	psp_launch_update(&psp, type, gpa, data);
	spin_unlock(&psp_lock);
}

void native_psp_launch_end(uint8_t *secrets)
{
	char hex[2 * SNP_DIGEST_SIZE + 1];

	spin_lock(&psp_lock);
	psp_fill_secrets(&psp, secrets);
	fmt_hex(hex, psp.launch_digest, sizeof(psp.launch_digest));
	spin_unlock(&psp_lock);
	kprintf("psp: launch digest %s", hex);
}

const uint8_t *native_psp_chip_key(void)
{
	return psp.chip_pub;
}

uint32_t plat_guest_request(const void *req, void *resp)
{
	spin_lock(&psp_lock);
	uint32_t status = psp_guest_request(&psp, req, resp);

	spin_unlock(&psp_lock);
	return status;
}

bool plat_chip_root(uint8_t pub[CRYPTO_P384_POINT_SIZE])
{
	return psp_root_public(pub);
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

void native_give_low_memory(uint64_t end, uint64_t legacy)
{
	donjon_low = end;
	legacy_end = legacy;
}

uint64_t native_donjon_base(void)
{
	return donjon_low;
}

void native_set_c_bit(unsigned bit)
{
	c_bit_mask = bit != 0U ? 1ULL << bit : 0U;
}

const char *native_host_psc(uint64_t gpa, enum page_size size, bool to_private)
{
	const char *err = NULL;
	uint64_t bytes = page_size_bytes(size);

	if (touches_donjon(gpa, bytes) || gpa >= rmp.mem_size || bytes > rmp.mem_size - gpa) {
		return "not guest memory";
	}
	spin_lock(&native_lock);
	for (uint64_t p = gpa; p < gpa + bytes && err == NULL; p += PAGE_SIZE) {
		if (rmp_entry_at(&rmp, p)->vmsa || cpusync_claimed(p)) {
			err = "a VMSA page";
		}
	}
	if (err == NULL) {
		err = rmp_host_psc(&rmp, gpa, size, to_private ? PSC_PRIVATE : PSC_SHARED);
	}
	if (err == NULL) {
		npt_sync(gpa, bytes);
	}
	spin_unlock(&native_lock);
	return err;
}

enum rmp_result native_guest_rmpadjust(unsigned vmpl, uint64_t gpa, enum page_size size,
				       unsigned target, uint8_t perms, bool vmsa)
{
	spin_lock(&native_lock);
	enum rmp_result r = rmp_rmpadjust(&rmp, vmpl, gpa, size, target, perms, vmsa);

	if (r == RMP_SUCCESS) {
		npt_sync(gpa, page_size_bytes(size));
	}
	spin_unlock(&native_lock);
	return r;
}
