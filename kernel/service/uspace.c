/* A service's page tables (uspace.h). */
#include "uspace.h"

#include "arch/x86/cpu.h"
#include "hostif.h"
#include "mm.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_U (1ULL << 2)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL
#define PML4_USER 1U

static uint64_t *table(uint64_t pa)
{
	return kernel_ptr(pa, USER_PAGE);
}

static unsigned index_at(uint64_t va, unsigned level)
{
	return (unsigned)((va >> (12U + 9U * level)) & 511U);
}

static bool in_window(uint64_t va)
{
	return va >= USER_LO && va < USER_HI;
}

static bool take_page(struct uspace *us, uint64_t *pa)
{
	if (us->pages >= us->limit || !pmm_alloc(pa)) {
		return false;
	}
	us->pages++;
	return true;
}

static void give_page(struct uspace *us, uint64_t pa)
{
	pmm_free(pa);
	us->pages--;
}

bool uspace_init(struct uspace *us, uint64_t limit_pages)
{
	uint64_t *root = NULL;

	*us = (struct uspace){ .limit = limit_pages };
	if (!take_page(us, &us->pml4) || (root = table(us->pml4)) == NULL) {
		return false;
	}
	root[0] = paging_kernel_entry0();
	return true;
}

/* The leaf entry for va, creating the tables on the way if create; NULL if absent (or no
 * page for a table). */
static uint64_t *leaf(struct uspace *us, uint64_t va, bool create)
{
	uint64_t *t = table(us->pml4);

	for (unsigned level = 3; t != NULL && level > 0U; level--) {
		uint64_t *e = &t[index_at(va, level)];
		uint64_t pa = 0;

		if ((*e & PTE_P) == 0U) {
			if (!create || !take_page(us, &pa)) {
				return NULL;
			}
			*e = pa | PTE_P | PTE_W | PTE_U;
		}
		t = table(*e & PTE_ADDR);
	}
	return t != NULL ? &t[index_at(va, 0)] : NULL;
}

static uint64_t perm_bits(unsigned perm)
{
	return PTE_P | PTE_U | ((perm & USPACE_W) != 0U ? PTE_W : 0U) |
	       ((perm & USPACE_X) != 0U ? 0U : PTE_NX);
}

bool uspace_map(struct uspace *us, uint64_t va, unsigned perm, uint64_t *pa)
{
	if (!in_window(va) || (va & (USER_PAGE - 1U)) != 0U ||
	    (perm & (USPACE_W | USPACE_X)) == (USPACE_W | USPACE_X)) {
		return false;
	}
	uint64_t *e = leaf(us, va, true);

	if (e == NULL || (*e & PTE_P) != 0U || !take_page(us, pa)) {
		return false;
	}
	*e = *pa | perm_bits(perm);
	return true;
}

static void flush(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

void uspace_unmap(struct uspace *us, uint64_t va)
{
	uint64_t *e = in_window(va) ? leaf(us, va, false) : NULL;

	if (e == NULL || (*e & PTE_P) == 0U) {
		return;
	}
	uint64_t pa = *e & PTE_ADDR;

	*e = 0;
	flush(va);
	give_page(us, pa);
}

bool uspace_protect(struct uspace *us, uint64_t va, unsigned perm)
{
	uint64_t *e = in_window(va) ? leaf(us, va, false) : NULL;

	if (e == NULL || (*e & PTE_P) == 0U ||
	    (perm & (USPACE_W | USPACE_X)) == (USPACE_W | USPACE_X)) {
		return false;
	}
	*e = (*e & PTE_ADDR) | perm_bits(perm);
	flush(va);
	return true;
}

/* The present leaf entry for va, or NULL; nothing is created. */
static const uint64_t *find_leaf(const struct uspace *us, uint64_t va)
{
	const uint64_t *t = table(us->pml4);

	if (!in_window(va)) {
		return NULL;
	}
	for (unsigned level = 3; t != NULL; level--) {
		const uint64_t *e = &t[index_at(va, level)];

		if ((*e & PTE_P) == 0U) {
			return NULL;
		}
		if (level == 0U) {
			return e;
		}
		t = table(*e & PTE_ADDR);
	}
	return NULL;
}

bool uspace_executable(const struct uspace *us, uint64_t va)
{
	const uint64_t *e = find_leaf(us, va);

	return e != NULL && (*e & PTE_NX) == 0U;
}

uint64_t uspace_lookup(const struct uspace *us, uint64_t va, bool write)
{
	const uint64_t *e = find_leaf(us, va);

	if (e == NULL || (*e & PTE_U) == 0U || (write && (*e & PTE_W) == 0U)) {
		return 0;
	}
	return (*e & PTE_ADDR) | (va & (USER_PAGE - 1U));
}

/* One of in (ring 3's bytes to kernel), out (kernel to ring 3) or neither (zeroes); force:
 * whatever the pages' permissions. */
static bool copy(const struct uspace *us, uint64_t va, uint8_t *in, const uint8_t *out, size_t len,
		 bool force)
{
	while (len != 0U) {
		size_t chunk = (size_t)(USER_PAGE - (va & (USER_PAGE - 1U)));
		uint64_t pa = uspace_lookup(us, va, in == NULL && !force);
		uint8_t *p = NULL;

		if (chunk > len) {
			chunk = len;
		}
		if (pa == 0U || (p = kernel_ptr(pa, chunk)) == NULL) {
			return false;
		}
		if (in != NULL) {
			__builtin_memcpy(in, p, chunk);
		} else if (out != NULL) {
			__builtin_memcpy(p, out, chunk);
		} else {
			__builtin_memset(p, 0, chunk);
		}
		in = in != NULL ? in + chunk : NULL;
		out = out != NULL ? out + chunk : NULL;
		va += chunk;
		len -= chunk;
	}
	return true;
}

bool uspace_copy_in(const struct uspace *us, void *dst, uint64_t va, size_t len)
{
	return copy(us, va, dst, NULL, len, false);
}

bool uspace_copy_out(const struct uspace *us, uint64_t va, const void *src, size_t len)
{
	return copy(us, va, NULL, src, len, false);
}

bool uspace_load(const struct uspace *us, uint64_t va, const void *src, size_t len)
{
	return copy(us, va, NULL, src, len, true);
}

bool uspace_zero(const struct uspace *us, uint64_t va, size_t len)
{
	return copy(us, va, NULL, NULL, len, false);
}

static void free_level(struct uspace *us, uint64_t pa, unsigned level)
{
	uint64_t *t = table(pa);

	for (unsigned i = 0; t != NULL && i < 512U; i++) {
		if ((t[i] & PTE_P) == 0U) {
			continue;
		}
		if (level == 0U) {
			give_page(us, t[i] & PTE_ADDR);
		} else {
			free_level(us, t[i] & PTE_ADDR, level - 1U);
		}
	}
	give_page(us, pa);
}

void uspace_destroy(struct uspace *us)
{
	uint64_t *root = us->pml4 != 0U ? table(us->pml4) : NULL;

	if (root == NULL) {
		return;
	}
	if ((root[PML4_USER] & PTE_P) != 0U) {
		free_level(us, root[PML4_USER] & PTE_ADDR, 2);
	}
	root[0] = 0;
	give_page(us, us->pml4);
	us->pml4 = 0;
}
