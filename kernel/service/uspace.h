/* A service's address space: its own page tables, sharing only the kernel's supervisor
 * mappings of the low 4 GiB (PML4 entry 0, which ring 3 cannot use); the service's pages
 * live in PML4 entry 1, [USER_LO, USER_HI). No guest memory is ever mapped there. Every
 * page, page-table pages included, comes from the kernel's page allocator and counts
 * against the space's page limit. */
#ifndef KERNEL_SERVICE_USPACE_H
#define KERNEL_SERVICE_USPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USER_LO 0x0000008000000000ULL
#define USER_HI 0x0000010000000000ULL
#define USER_PAGE 4096ULL

struct uspace {
	uint64_t pml4; /* physical */
	uint64_t pages, limit;
};

enum uspace_perm {
	USPACE_R = 0,
	USPACE_W = 1,
	USPACE_X = 2,
};

/* False if there is no page for the PML4. */
bool uspace_init(struct uspace *us, uint64_t limit_pages);
/* Every page back to the allocator. */
void uspace_destroy(struct uspace *us);
/* A new zeroed page at va (page aligned, in [USER_LO, USER_HI), not mapped yet) with perm
 * (never W and X together); its physical address in *pa. False when the limit or memory
 * is reached, or va is already mapped. */
bool uspace_map(struct uspace *us, uint64_t va, unsigned perm, uint64_t *pa);
/* The page at va unmapped and freed (nothing if none); the TLB entry of this CPU flushed
 * (another CPU reloads CR3 before it runs the space again). */
void uspace_unmap(struct uspace *us, uint64_t va);
/* The page at va gets perm; false if it is not mapped. */
bool uspace_protect(struct uspace *us, uint64_t va, unsigned perm);
/* True if the page at va is mapped executable. */
bool uspace_executable(const struct uspace *us, uint64_t va);
/* The physical address behind va if mapped (writable too, if write), else 0. */
uint64_t uspace_lookup(const struct uspace *us, uint64_t va, bool write);
/* Copies between the kernel and the space's memory, page by page through the page tables
 * (never through a ring-3 pointer). False, having copied a prefix, if any byte is not mapped
 * (or not writable, for copy_out) or outside [USER_LO, USER_HI). */
bool uspace_copy_in(const struct uspace *us, void *dst, uint64_t va, size_t len);
bool uspace_copy_out(const struct uspace *us, uint64_t va, const void *src, size_t len);
/* Like copy_out, whatever the pages' permissions: for the loader. */
bool uspace_load(const struct uspace *us, uint64_t va, const void *src, size_t len);
/* Zeroes [va, va + len) the same way as copy_out. */
bool uspace_zero(const struct uspace *us, uint64_t va, size_t len);

#endif
