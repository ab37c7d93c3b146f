/* Boot memory map, page tables and page allocator. */
#include "mm.h"

#include <stddef.h>

#include "console.h"
#include "arch/x86/cpu.h"
#include "kernel.h"
#include "lapic.h"
#include "lock.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL
#define MAPPED_LIMIT (4ULL << 30)

static struct mm_range ram[MM_MAX_RANGES];
static unsigned ram_count;

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));
static uint64_t pt_low[512] __attribute__((aligned(4096))); /* the first 2 MiB, 4K pages */

void mm_add_ram(uint64_t base, uint64_t size)
{
	uint64_t end = base + size;

	if (ram_count == MM_MAX_RANGES || base >= MAPPED_LIMIT || size == 0U) {
		return;
	}
	if (end > MAPPED_LIMIT) {
		end = MAPPED_LIMIT;
	}
	ram[ram_count++] = (struct mm_range){ base, end - base };
}

uint64_t mm_ram_bytes(void)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < ram_count; i++) {
		total += ram[i].size;
	}
	return total;
}

uint64_t mm_ram_top(void)
{
	uint64_t top = 0;

	for (unsigned i = 0; i < ram_count; i++) {
		if (ram[i].base + ram[i].size > top) {
			top = ram[i].base + ram[i].size;
		}
	}
	return top;
}

bool kernel_ram_contains(uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < ram_count; i++) {
		if (pa >= ram[i].base && len <= ram[i].size &&
		    pa - ram[i].base <= ram[i].size - len) {
			return true;
		}
	}
	return false;
}

void *kernel_ptr(uint64_t pa, size_t len)
{
	if (pa < 4096U || !kernel_ram_contains(pa, len)) {
		return NULL;
	}
	/* SAFETY: the kernel maps all RAM below 4 GiB at its physical address (paging_init),
	 * and [pa, pa + len) was just checked to be RAM inside that map. */
	return (void *)(uintptr_t)pa;
}

const void *firmware_ptr(uint64_t pa, size_t len)
{
	if (pa < 4096U || pa >= MAPPED_LIMIT || len > MAPPED_LIMIT - pa) {
		return NULL;
	}
	/* SAFETY: paging_init maps every address below 4 GiB but page 0 to itself, and the
	 * range was checked to lie there. Firmware tables are only read. */
	return (const void *)(uintptr_t)pa;
}

static uint64_t kaddr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static uint64_t kernel_page_flags(uint64_t pa)
{
	if (pa >= kaddr(__text_start) && pa < kaddr(__text_end)) {
		return PTE_P;
	}
	if (pa >= kaddr(__rodata_start) && pa < kaddr(__rodata_end)) {
		return PTE_P | PTE_NX;
	}
	return PTE_P | PTE_W | PTE_NX;
}

void paging_init(void)
{
	pml4[0] = kaddr(pdpt) | PTE_P | PTE_W;
	for (unsigned g = 0; g < 4; g++) {
		pdpt[g] = kaddr(pd[g]) | PTE_P | PTE_W;
		for (unsigned i = 0; i < 512; i++) {
			uint64_t pa = ((uint64_t)g << 30) | ((uint64_t)i << 21);

			pd[g][i] = pa | PTE_P | PTE_W | PTE_PS | PTE_NX;
		}
	}
	/* Page 0 stays unmapped so that a NULL dereference faults. */
	pt_low[0] = 0;
	for (unsigned i = 1; i < 512; i++) {
		uint64_t pa = (uint64_t)i << 12;

		pt_low[i] = pa | kernel_page_flags(pa);
	}
	pd[0][0] = kaddr(pt_low) | PTE_P | PTE_W;
	/* The local APIC's registers: uncached. */
	pd[LAPIC_BASE >> 30][(LAPIC_BASE >> 21) & 511U] |= PTE_PCD | PTE_PWT;
	write_cr3(kaddr(pml4));
}

void clear_page0(void)
{
	uint64_t dst = 0, count = 4096U / 8U;

	/* Mapped for the stores only: NULL faults again afterwards, on every CPU (no other CPU
	 * touches page 0, so no other TLB holds the mapping). */
	pt_low[0] = PTE_P | PTE_W | PTE_NX;
	__asm__ volatile("invlpg (%0)" : : "r"(0UL) : "memory");
	/* SAFETY: page 0 is mapped just above; rep stosq writes [0, 4096) through RDI, which
	 * no C pointer names. */
	__asm__ volatile("rep stosq" : "+D"(dst), "+c"(count) : "a"(0UL) : "memory");
	pt_low[0] = 0;
	__asm__ volatile("invlpg (%0)" : : "r"(0UL) : "memory");
}

uint64_t paging_kernel_entry0(void)
{
	return pml4[0];
}

void paging_activate(void)
{
	write_cr3(kaddr(pml4));
}

struct page_flags paging_query(uint64_t va)
{
	struct page_flags f = { false, false, false };
	uint64_t e = 0;

	if (va >= MAPPED_LIMIT) {
		return f;
	}
	e = pd[va >> 30][(va >> 21) & 511U];
	if ((e & PTE_PS) == 0U && (e & PTE_P) != 0U) {
		/* Only the first 2 MiB has a page table. */
		e = pt_low[(va >> 12) & 511U];
	}
	f.present = (e & PTE_P) != 0U;
	f.writable = f.present && (e & PTE_W) != 0U;
	f.executable = f.present && (e & PTE_NX) == 0U;
	return f;
}

/* Free pages form a stack linked through their first 8 bytes; pmm_lock guards it (any
 * CPU allocates). */
static struct spinlock pmm_lock = { ATOMIC_FLAG_INIT };
static uint64_t free_head;
static uint64_t free_count;
static uint64_t initial_count;

void pmm_free(uint64_t pa)
{
	uint64_t *page = kernel_ptr(pa, 4096);

	if (page == NULL || (pa & 4095U) != 0U) {
		log_msg(LOG_ERR, "pmm: refusing to free 0x%lx", pa);
		return;
	}
	spin_lock(&pmm_lock);
	page[0] = free_head;
	free_head = pa;
	free_count++;
	spin_unlock(&pmm_lock);
}

static uint64_t reserve_next;

static uint64_t image_end(void)
{
	return (kaddr(__kernel_end) + 4095U) & ~4095ULL;
}

uint64_t mm_reserve(uint64_t bytes, uint64_t limit)
{
	uint64_t start = reserve_next != 0U ? reserve_next : image_end();
	uint64_t size = (bytes + 4095U) & ~4095ULL;

	if (size == 0U || start + size > limit || !kernel_ram_contains(start, size)) {
		return 0;
	}
	uint8_t *p = kernel_ptr(start, size);

	if (p == NULL) {
		return 0;
	}
	for (uint64_t i = 0; i < size; i++) {
		p[i] = 0;
	}
	reserve_next = start + size;
	return start;
}

void pmm_init(uint64_t limit)
{
	uint64_t first = reserve_next != 0U ? reserve_next : image_end();

	for (unsigned i = 0; i < ram_count; i++) {
		uint64_t base = (ram[i].base + 4095U) & ~4095ULL;
		uint64_t end = (ram[i].base + ram[i].size) & ~4095ULL;

		for (uint64_t pa = base; pa < end && pa < limit; pa += 4096U) {
			if (pa >= first) {
				pmm_free(pa);
			}
		}
	}
	initial_count = free_count;
}

uint64_t pmm_used_pages(void)
{
	return initial_count - free_count;
}

void kernel_image_constant(uint64_t *start, uint64_t *end)
{
	*start = kaddr(__text_start);
	*end = kaddr(__rodata_end);
}

uint64_t mm_image_bytes(void)
{
	return image_end() - kaddr(__kernel_start);
}

uint64_t mm_reserved_bytes(void)
{
	return reserve_next != 0U ? reserve_next - image_end() : 0U;
}

bool pmm_alloc(uint64_t *pa)
{
	spin_lock(&pmm_lock);
	uint64_t *page = free_count != 0U ? kernel_ptr(free_head, 4096) : NULL;

	/* Only RAM pages are ever freed onto the list (pmm_free checks). */
	if (page == NULL) {
		spin_unlock(&pmm_lock);
		return false;
	}
	*pa = free_head;
	free_head = page[0];
	free_count--;
	spin_unlock(&pmm_lock);
	for (unsigned i = 0; i < 512; i++) {
		page[i] = 0;
	}
	return true;
}

uint64_t pmm_free_pages(void)
{
	return free_count;
}
