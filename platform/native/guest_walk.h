/* The guest's page tables, walked as the guest's CPU would walk them: a guest linear
 * address becomes a guest physical address with the guest's own rights, every
 * paging-structure entry read through a callback that grants only what the guest itself
 * may read. Nothing is written to guest memory (no accessed or dirty bits).
 *
 * Sources: AMD APM vol. 2, 5 (page translation and protection) and 7.10 (memory
 * encryption); Intel SDM vol. 3A, 4 (paging). */
#ifndef PLATFORM_NATIVE_GUEST_WALK_H
#define PLATFORM_NATIVE_GUEST_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <donjon/types.h>

/* The register bits the walk depends on. */
#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_WP (1ULL << 16)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PSE (1ULL << 4)
#define X86_CR4_PAE (1ULL << 5)
#define X86_CR4_LA57 (1ULL << 12)
#define X86_CR4_SMEP (1ULL << 20)
#define X86_CR4_SMAP (1ULL << 21)
#define X86_CR4_PKE (1ULL << 22)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)
#define X86_EFER_NXE (1ULL << 11)
#define X86_RFLAGS_AC (1ULL << 18)

/* Paging-structure entry bits (all modes; NX only with PAE and long-mode paging). */
#define X86_PTE_P (1ULL << 0)
#define X86_PTE_RW (1ULL << 1)
#define X86_PTE_US (1ULL << 2)
#define X86_PTE_PS (1ULL << 7)
#define X86_PTE_NX (1ULL << 63)

/* The longest x86 instruction, in bytes. */
#define GWALK_INSN_MAX 15U

enum gwalk_access {
	GWALK_FETCH,
	GWALK_READ,
	GWALK_WRITE,
};

enum gwalk_result {
	GWALK_OK = 0,
	GWALK_NOT_PRESENT,	/* an entry of the walk has P = 0 */
	GWALK_PROTECTION,	/* U/S, R/W, NX, SMEP, SMAP or a protection key forbid it */
	GWALK_RESERVED_BIT,	/* a present entry has a reserved bit set */
	GWALK_TABLE_UNREADABLE, /* the guest may not read a paging structure (callback) */
	GWALK_PAGE_UNREADABLE,	/* gwalk_fetch: the guest may not read the bytes (callback) */
	GWALK_NON_CANONICAL,	/* long mode: the address is not canonical */
	GWALK_UNSUPPORTED_MODE, /* CR0/CR4/EFER/CPL no CPU would run with, or a bad context */
};

/* One vCPU's view of memory. The registers are the guest's (from its VMSA) and as hostile
 * as the guest; the CPU model is Donjon's (what the guest's CPUID shows). */
struct gwalk_ctx {
	uint64_t cr0;
	uint64_t cr3;
	uint64_t cr4;
	uint64_t efer;
	/* Only AC is used: with CR4.SMAP, it lets supervisor data accesses reach user pages. */
	uint64_t rflags;
	/* Protection keys of user pages, used only with CR4.PKE in long mode. */
	uint32_t pkru;
	/* 0 to 3; below 3 every access is a supervisor access (as an explicit one). */
	uint8_t cpl;
	/* MAXPHYADDR, 32 to 52: CPUID Fn8000_0008 EAX[7:0], less any SEV physical address
	 * reduction (CPUID Fn8000_001F EBX[11:6]). Entry bits from it up to bit 51 are
	 * reserved, except the C-bit. */
	uint8_t maxphyaddr;
	/* 1-GiB pages exist (CPUID Fn8000_0001 EDX[26]); otherwise PS in a PDPTE is reserved. */
	bool pages_1g;
	/* An SEV guest's C-bit in entries (1 << CPUID Fn8000_001F EBX[5:0]), or 0: neither an
	 * address bit nor a reserved one, so it never reaches a GPA. */
	uint64_t c_bit_mask;
	/* Copies [gpa, gpa + len) of guest memory into buf if the guest itself (its vCPU's
	 * VMPL, through the nested page tables or the RMP) may read it; false otherwise. The
	 * walker asks for an 8- or 4-byte entry, or for instruction bytes, never across a 4K
	 * page. */
	bool (*read)(void *opaque, gpa_t gpa, void *buf, size_t len);
	void *opaque;
};

/* Translates linear for access as ctx's CPU would: paging off (linear is physical), 32-bit
 * paging (4K pages, and 4M pages with CR4.PSE and PSE-36), PAE paging (the four PDPTEs
 * read at CR3 on each walk), 4- and 5-level paging (4K, 2M and 1G pages). Outside long mode
 * linear is truncated to 32 bits. Reads the paging-structure entries through ctx->read
 * (which must be set), never the page itself. GWALK_OK sets *gpa (C-bit cleared); any
 * other result leaves it unchanged. */
enum gwalk_result gwalk_translate(const struct gwalk_ctx *ctx, uint64_t linear,
				  enum gwalk_access access, gpa_t *gpa);

/* Fetches the instruction bytes at [linear, linear + len) into buf, len at most
 * GWALK_INSN_MAX (more is fetched as GWALK_INSN_MAX), each page translated as a fetch and
 * read through ctx->read. Returns how many bytes it fetched, from the first: all of them,
 * or those before the first byte it could not fetch, *result saying why (GWALK_OK when
 * all were fetched). Bytes of buf past the count are unchanged. Linear addresses wrap at
 * 2^32 outside long mode and at 2^64 in it; in compatibility mode, where the CPU wraps at
 * 2^32, a fetch crossing 4 GiB is the caller's to split. */
size_t gwalk_fetch(const struct gwalk_ctx *ctx, uint64_t linear, uint8_t *buf, size_t len,
		   enum gwalk_result *result);

/* A short reason for a result, for logs ("page not present", ...). */
const char *gwalk_result_str(enum gwalk_result result);

#endif
