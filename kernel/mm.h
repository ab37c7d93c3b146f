/* Physical memory: the boot memory map, the kernel's W^X page tables, a page allocator. */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include <stdbool.h>
#include <stdint.h>

#define MM_MAX_RANGES 32U

struct mm_range {
	uint64_t base;
	uint64_t size;
};

/* Usable RAM from the PVH memory map (type 1), clipped to the 4 GiB the kernel maps. */
void mm_add_ram(uint64_t base, uint64_t size);
uint64_t mm_ram_bytes(void);
/* The end of the highest RAM range (below 4 GiB). */
uint64_t mm_ram_top(void);

/* Replace the boot tables: kernel text RX, read-only data R+NX, data RW+NX, the rest of
 * RAM RW+NX, page 0 unmapped. No mapping is both writable and executable. */
void paging_init(void);

/* The flags the kernel's page tables give the page at va: present, writable, executable. */
struct page_flags {
	bool present;
	bool writable;
	bool executable;
};
struct page_flags paging_query(uint64_t va);
/* Load the kernel's page tables on this CPU (APs start on the boot tables). */
void paging_activate(void);

/* Contiguous, zeroed, page-aligned memory right after the kernel image, for tables that
 * live as long as the kernel (the core's page tracking, SVM permission maps). Only
 * before pmm_init; 0 if it does not fit below `limit`. */
uint64_t mm_reserve(uint64_t bytes, uint64_t limit);

/* Page allocator over usable RAM between the reservations and `limit` (the end of the
 * SVSM's range; the rest belongs to the guest). Returns false when memory is exhausted;
 * never panics. Pages come back zeroed. */
void pmm_init(uint64_t limit);
bool pmm_alloc(uint64_t *pa);
void pmm_free(uint64_t pa);
uint64_t pmm_free_pages(void);
/* Pages handed out and not freed since pmm_init. */
uint64_t pmm_used_pages(void);
/* The kernel image (text, data, bss) and the boot reservations, in bytes. */
uint64_t mm_image_bytes(void);
uint64_t mm_reserved_bytes(void);

#endif
