/* The guest page-table walker (guest_walk.h): one walk per paging mode, the 8-byte entry
 * levels shared by PAE and long mode, and one protection check at the end of every walk. */
#include "guest_walk.h"

#include <donjon/bytes.h>

/* Bit 8 (G in a leaf) of a PML4E or PML5E: reserved on AMD, ignored on Intel. */
#define PTE_BIT8 (1ULL << 8)
#define LOW_32 0xFFFFFFFFULL

enum paging_mode {
	MODE_BAD,
	MODE_OFF,
	MODE_32BIT,
	MODE_PAE,
	MODE_LONG4,
	MODE_LONG5,
};

/* What the entries of one walk grant together: the most restrictive level wins. */
struct walk_rights {
	bool user;     /* U/S = 1 in every entry that has it */
	bool writable; /* R/W = 1 in every entry that has it */
	bool nx;       /* NX = 1 in some entry (only possible with EFER.NXE) */
	uint64_t leaf; /* long mode: the entry mapping the page (its protection key) */
};

/* The entry bits of a PAE or long-mode walk. */
struct entry_masks {
	uint64_t addr; /* the bits that address a table or a page */
	uint64_t rsvd; /* reserved in every entry */
};

/* Bits hi..lo (hi, lo <= 63); none when lo > hi. */
static uint64_t bits(unsigned hi, unsigned lo)
{
	return (~0ULL >> (63U - hi)) & (~0ULL << lo);
}

/* The registers come from the guest: a combination that no CPU runs with (the CPU keeps
 * EFER.LMA = LME && PG, long mode needs PAE, MOV to CR0 refuses PG without PE) or a bad
 * context answers GWALK_UNSUPPORTED_MODE instead of a guessed walk. */
static enum paging_mode paging_mode(const struct gwalk_ctx *ctx, enum gwalk_access access)
{
	bool pg = (ctx->cr0 & X86_CR0_PG) != 0U;
	bool lme = (ctx->efer & X86_EFER_LME) != 0U;
	bool lma = (ctx->efer & X86_EFER_LMA) != 0U;
	bool pae = (ctx->cr4 & X86_CR4_PAE) != 0U;

	if (ctx->cpl > 3U || ctx->maxphyaddr < 32U || ctx->maxphyaddr > 52U ||
	    access > GWALK_WRITE || lma != (lme && pg)) {
		return MODE_BAD;
	}
	if (!pg) {
		return MODE_OFF;
	}
	if ((ctx->cr0 & X86_CR0_PE) == 0U || (lma && !pae)) {
		return MODE_BAD;
	}
	if (lma) {
		/* CR4.LA57 counts only in long mode. */
		return (ctx->cr4 & X86_CR4_LA57) != 0U ? MODE_LONG5 : MODE_LONG4;
	}
	return pae ? MODE_PAE : MODE_32BIT;
}

static bool read_entry64(const struct gwalk_ctx *ctx, uint64_t gpa, uint64_t *entry)
{
	uint8_t raw[8] = { 0 };

	if (!ctx->read(ctx->opaque, gpa_init(gpa), raw, sizeof(raw))) {
		return false;
	}
	*entry = load64(raw, 0);
	return true;
}

static bool read_entry32(const struct gwalk_ctx *ctx, uint64_t gpa, uint32_t *entry)
{
	uint8_t raw[4] = { 0 };

	if (!ctx->read(ctx->opaque, gpa_init(gpa), raw, sizeof(raw))) {
		return false;
	}
	*entry = load32(raw, 0);
	return true;
}

/* PAE entries reserve bits 62:MAXPHYADDR, long-mode entries only 51:MAXPHYADDR (62:52
 * are free for software there); both reserve NX without EFER.NXE. The C-bit is neither
 * address nor reserved. */
static struct entry_masks entry_masks(const struct gwalk_ctx *ctx, unsigned high)
{
	unsigned m = ctx->maxphyaddr;
	uint64_t nx = (ctx->efer & X86_EFER_NXE) != 0U ? 0U : X86_PTE_NX;

	return (struct entry_masks){
		.addr = bits(m - 1U, PAGE_SHIFT) & ~ctx->c_bit_mask,
		.rsvd = (bits(high, m) & ~ctx->c_bit_mask) | nx,
	};
}

/* Reserved bits of a present 8-byte entry at level (1 = PTE ... 5 = PML5E) mapping
 * 2^shift bytes. */
static uint64_t entry_reserved(const struct gwalk_ctx *ctx, const struct entry_masks *m,
			       unsigned level, unsigned shift, bool leaf)
{
	uint64_t rsvd = m->rsvd;

	if (level >= 4U) {
		/* A PML4E or PML5E never maps a page: PS and (on AMD) bit 8 are MBZ. */
		rsvd |= X86_PTE_PS | PTE_BIT8;
	} else if (level == 3U && !ctx->pages_1g) {
		rsvd |= X86_PTE_PS;
	}
	if (leaf && level > 1U) {
		/* A large page is aligned to its size; bit 12 is its PAT bit. */
		rsvd |= bits(shift - 1U, PAGE_SHIFT + 1U);
	}
	return rsvd;
}

/* Walks 8-byte entries from the table at `table`, level top (5 = PML5 ... 1 = PT), down
 * to the page mapping linear. */
static enum gwalk_result walk_levels(const struct gwalk_ctx *ctx, const struct entry_masks *m,
				     uint64_t table, unsigned top, uint64_t linear,
				     struct walk_rights *r, uint64_t *gpa)
{
	unsigned level = top;

	for (;;) {
		unsigned shift = PAGE_SHIFT + 9U * (level - 1U);
		uint64_t entry = 0;

		/* table is below 2^52 (masked) and the index below 512: no overflow. */
		if (!read_entry64(ctx, table + ((linear >> shift) & 511U) * 8U, &entry)) {
			return GWALK_TABLE_UNREADABLE;
		}
		if ((entry & X86_PTE_P) == 0U) {
			return GWALK_NOT_PRESENT;
		}
		bool leaf = level == 1U || (level <= 3U && (entry & X86_PTE_PS) != 0U);

		if ((entry & entry_reserved(ctx, m, level, shift, leaf)) != 0U) {
			return GWALK_RESERVED_BIT;
		}
		r->user = r->user && (entry & X86_PTE_US) != 0U;
		r->writable = r->writable && (entry & X86_PTE_RW) != 0U;
		r->nx = r->nx || (entry & X86_PTE_NX) != 0U;
		if (leaf) {
			uint64_t offset = bits(shift - 1U, 0);

			r->leaf = entry;
			*gpa = (entry & m->addr & ~offset) | (linear & offset);
			return GWALK_OK;
		}
		table = entry & m->addr;
		level--;
	}
}

/* PAE paging: the four PDPTEs at CR3[31:5] carry no rights and reserve bits 2:1, 8:5 and
 * 63:MAXPHYADDR (Intel SDM 4.4.1). They are read on each walk: the VMCB keeps no copy of
 * them as a VMCS does, so the table in guest memory is what counts. */
static enum gwalk_result walk_pae(const struct gwalk_ctx *ctx, uint32_t linear,
				  struct walk_rights *r, uint64_t *gpa)
{
	struct entry_masks m = entry_masks(ctx, 62U);
	uint64_t pdpte_rsvd = (bits(62U, ctx->maxphyaddr) & ~ctx->c_bit_mask) | X86_PTE_NX |
			      bits(8U, 5U) | bits(2U, 1U);
	uint64_t pdpte = 0;

	if (!read_entry64(ctx, (ctx->cr3 & bits(31U, 5U)) + (uint64_t)(linear >> 30) * 8U,
			  &pdpte)) {
		return GWALK_TABLE_UNREADABLE;
	}
	if ((pdpte & X86_PTE_P) == 0U) {
		return GWALK_NOT_PRESENT;
	}
	if ((pdpte & pdpte_rsvd) != 0U) {
		return GWALK_RESERVED_BIT;
	}
	return walk_levels(ctx, &m, pdpte & m.addr, 2U, linear, r, gpa);
}

/* 32-bit paging: 4-byte entries, no NX. With CR4.PSE a PDE with PS maps 4M, its bits
 * (M-20):13 giving address bits (M-1):32 and bits 21:(M-19) reserved, M being
 * MAXPHYADDR capped at 40 (PSE-36; Intel SDM table 4-4). */
static enum gwalk_result walk_32bit(const struct gwalk_ctx *ctx, uint32_t linear,
				    struct walk_rights *r, uint64_t *gpa)
{
	uint32_t pde = 0;
	uint32_t pte = 0;

	if (!read_entry32(ctx, (ctx->cr3 & bits(31U, 12U)) + (uint64_t)(linear >> 22) * 4U, &pde)) {
		return GWALK_TABLE_UNREADABLE;
	}
	if ((pde & X86_PTE_P) == 0U) {
		return GWALK_NOT_PRESENT;
	}
	r->user = (pde & X86_PTE_US) != 0U;
	r->writable = (pde & X86_PTE_RW) != 0U;
	if ((ctx->cr4 & X86_CR4_PSE) != 0U && (pde & X86_PTE_PS) != 0U) {
		unsigned m = ctx->maxphyaddr < 40U ? ctx->maxphyaddr : 40U;
		uint64_t high = ((uint64_t)pde & bits(m - 20U, 13U)) >> 13;

		if ((pde & bits(21U, m - 19U)) != 0U) {
			return GWALK_RESERVED_BIT;
		}
		*gpa = (high << 32) | (pde & bits(31U, 22U)) | (linear & bits(21U, 0));
		return GWALK_OK;
	}
	/* Without CR4.PSE, PS is ignored: the PDE points to a page table. */
	if (!read_entry32(ctx, (pde & bits(31U, 12U)) + (uint64_t)((linear >> 12) & 1023U) * 4U,
			  &pte)) {
		return GWALK_TABLE_UNREADABLE;
	}
	if ((pte & X86_PTE_P) == 0U) {
		return GWALK_NOT_PRESENT;
	}
	r->user = r->user && (pte & X86_PTE_US) != 0U;
	r->writable = r->writable && (pte & X86_PTE_RW) != 0U;
	*gpa = (pte & bits(31U, 12U)) | (linear & bits(11U, 0));
	return GWALK_OK;
}

/* AMD APM 5.6, Intel SDM 4.6. Accesses are explicit ones at ctx->cpl. */
static enum gwalk_result check_rights(const struct gwalk_ctx *ctx, enum gwalk_access access,
				      const struct walk_rights *r, bool keys)
{
	bool supervisor = ctx->cpl < 3U;
	/* CR0.WP = 0 lets the supervisor write read-only pages; user writes never can. */
	bool write_checked = !supervisor || (ctx->cr0 & X86_CR0_WP) != 0U;

	if (!supervisor && !r->user) {
		return GWALK_PROTECTION;
	}
	if (access == GWALK_FETCH) {
		/* SMEP: the supervisor never runs code from user pages. */
		bool smep = supervisor && r->user && (ctx->cr4 & X86_CR4_SMEP) != 0U;

		return (r->nx || smep) ? GWALK_PROTECTION : GWALK_OK;
	}
	/* SMAP: supervisor data accesses reach user pages only with RFLAGS.AC set. */
	if (supervisor && r->user && (ctx->cr4 & X86_CR4_SMAP) != 0U &&
	    (ctx->rflags & X86_RFLAGS_AC) == 0U) {
		return GWALK_PROTECTION;
	}
	if (access == GWALK_WRITE && !r->writable && write_checked) {
		return GWALK_PROTECTION;
	}
	/* Protection keys (leaf bits 62:59) restrict data accesses to user pages: AD any
	 * access, WD writes, under the same CR0.WP rule as R/W. */
	if (keys && r->user) {
		unsigned key = (unsigned)(r->leaf >> 59) & 15U;
		bool access_disabled = ((ctx->pkru >> (2U * key)) & 1U) != 0U;
		bool write_disabled = ((ctx->pkru >> (2U * key + 1U)) & 1U) != 0U;

		if (access_disabled || (access == GWALK_WRITE && write_disabled && write_checked)) {
			return GWALK_PROTECTION;
		}
	}
	return GWALK_OK;
}

/* Bits 63:(va_bits - 1) all equal. */
static bool is_canonical(uint64_t linear, unsigned va_bits)
{
	uint64_t top = linear >> (va_bits - 1U);

	return top == 0U || top == (~0ULL >> (va_bits - 1U));
}

enum gwalk_result gwalk_translate(const struct gwalk_ctx *ctx, uint64_t linear,
				  enum gwalk_access access, gpa_t *gpa)
{
	enum paging_mode mode = paging_mode(ctx, access);
	struct walk_rights r = { .user = true, .writable = true, .nx = false, .leaf = 0 };
	struct entry_masks m = { 0 };
	uint64_t out = 0;
	enum gwalk_result res = GWALK_UNSUPPORTED_MODE;

	switch (mode) {
	case MODE_BAD:
		return GWALK_UNSUPPORTED_MODE;
	case MODE_OFF:
		/* No paging, no page protection; long mode needs paging, so 32 bits. */
		*gpa = gpa_init(linear & LOW_32);
		return GWALK_OK;
	case MODE_32BIT:
		res = walk_32bit(ctx, (uint32_t)linear, &r, &out);
		break;
	case MODE_PAE:
		res = walk_pae(ctx, (uint32_t)linear, &r, &out);
		break;
	case MODE_LONG4:
	case MODE_LONG5:
		if (!is_canonical(linear, mode == MODE_LONG5 ? 57U : 48U)) {
			return GWALK_NON_CANONICAL;
		}
		m = entry_masks(ctx, 51U);
		/* CR3's other bits (PCID, reserved ones MOV to CR3 refuses) are not an address. */
		res = walk_levels(ctx, &m, ctx->cr3 & m.addr, mode == MODE_LONG5 ? 5U : 4U, linear,
				  &r, &out);
		break;
	}
	if (res == GWALK_OK) {
		bool keys = (mode == MODE_LONG4 || mode == MODE_LONG5) &&
			    (ctx->cr4 & X86_CR4_PKE) != 0U;

		res = check_rights(ctx, access, &r, keys);
	}
	if (res == GWALK_OK) {
		*gpa = gpa_init(out);
	}
	return res;
}

size_t gwalk_fetch(const struct gwalk_ctx *ctx, uint64_t linear, uint8_t *buf, size_t len,
		   enum gwalk_result *result)
{
	size_t want = len;
	size_t done = 0;
	enum gwalk_result res = GWALK_OK;

	if (want > GWALK_INSN_MAX) {
		want = GWALK_INSN_MAX;
	}
	while (done < want) {
		/* Each page is translated on its own: the next may be absent or forbidden. The
		 * sum wraps at 2^64; translation truncates it to 32 bits outside long mode. */
		uint64_t at = linear + done;
		uint64_t room = PAGE_SIZE - (at & (PAGE_SIZE - 1U));
		size_t chunk = want - done < room ? want - done : (size_t)room;
		uint8_t bytes[GWALK_INSN_MAX] = { 0 };
		gpa_t gpa = gpa_init(0);

		res = gwalk_translate(ctx, at, GWALK_FETCH, &gpa);
		if (res != GWALK_OK) {
			break;
		}
		/* Through a copy: a refused read must not leave bytes in buf. */
		if (!ctx->read(ctx->opaque, gpa, bytes, chunk)) {
			res = GWALK_PAGE_UNREADABLE;
			break;
		}
		__builtin_memcpy(buf + done, bytes, chunk);
		done += chunk;
	}
	*result = res;
	return done;
}

const char *gwalk_result_str(enum gwalk_result result)
{
	switch (result) {
	case GWALK_OK:
		return "translated";
	case GWALK_NOT_PRESENT:
		return "page not present";
	case GWALK_PROTECTION:
		return "forbidden by the page protection";
	case GWALK_RESERVED_BIT:
		return "reserved bit set in a page-table entry";
	case GWALK_TABLE_UNREADABLE:
		return "page table not readable by the guest";
	case GWALK_PAGE_UNREADABLE:
		return "page not readable by the guest";
	case GWALK_NON_CANONICAL:
		return "non-canonical address";
	case GWALK_UNSUPPORTED_MODE:
		return "unsupported or inconsistent paging mode";
	}
	return "unknown walk result";
}
