/* Physical memory: the boot memory map, the kernel's W^X page tables, a page allocator. */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include "hostif.h"

#define MM_MAX_RANGES 32U

struct mm_range {
	uint64_t base;
	uint64_t size;
};

/* Usable RAM from the PVH memory map (type 1), clipped to the 4 GiB the kernel maps. */
void mm_add_ram(uint64_t base, uint64_t size);
uint64_t mm_ram_bytes(void);

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
/* The kernel's first PML4 entry (the 1:1 map of the low 4 GiB), for an address space that
 * shares the kernel's mappings (kernel/service). */
uint64_t paging_kernel_entry0(void);
/* Load the kernel's page tables on this CPU (APs start on the boot tables). */
void paging_activate(void);

void pmm_free(uint64_t pa);
uint64_t pmm_free_pages(void);

#endif
