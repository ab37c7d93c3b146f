/* The guest page-table walker: each paging mode and page size, the reserved bits and
 * protection rules, and a hostile guest's tables and registers, over a fake guest memory
 * whose read callback can refuse chosen pages. */
#include <string.h>

#include "guest_walk.h"
#include "harness.h"

#define FAKE_PAGES 64U
#define UNSET 0xDEADBEEFCAFEF00DULL
#define PRW (X86_PTE_P | X86_PTE_RW)
#define PRWU (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define BIT(n) (1ULL << (n))
/* The GPA of entry i of a table of 4- or 8-byte entries. */
#define ENTRY32(table, i) ((table) + 4ULL * (i))
#define ENTRY64(table, i) ((table) + 8ULL * (i))
#define LONG_CR0 (X86_CR0_PE | X86_CR0_WP | X86_CR0_PG)
#define LONG_EFER (X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)

/* Guest memory [0, FAKE_PAGES * 4K): the only memory the walker can reach. */
static struct {
	uint8_t bytes[FAKE_PAGES * PAGE_SIZE];
	bool refused[FAKE_PAGES];
	unsigned reads;
	bool crossed; /* a read crossed a 4K page: the walker promised never to ask */
	unsigned next;
} mem;

static uint64_t got_gpa;

static bool fake_read(void *opaque, gpa_t gpa, void *buf, size_t len)
{
	uint64_t at = gpa_val(gpa);

	(void)opaque;
	if (len == 0U || len > PAGE_SIZE || (at & (PAGE_SIZE - 1U)) + len > PAGE_SIZE) {
		mem.crossed = true;
		return false;
	}
	if (at >= sizeof(mem.bytes) || mem.refused[at / PAGE_SIZE]) {
		return false;
	}
	memcpy(buf, &mem.bytes[at], len);
	mem.reads++;
	return true;
}

static void fake_reset(void)
{
	memset(&mem, 0, sizeof(mem));
	mem.next = 1; /* page 0 is never a table */
}

static uint64_t fake_page(void)
{
	return (uint64_t)mem.next++ * PAGE_SIZE;
}

/* The tests' own accesses stay inside the fake memory (a test bug fails, not crashes). */
static bool in_mem(uint64_t gpa, size_t len)
{
	bool ok = gpa < sizeof(mem.bytes) && len <= sizeof(mem.bytes) - gpa;

	EXPECT_TRUE(ok);
	return ok;
}

static void put64(uint64_t gpa, uint64_t v)
{
	if (in_mem(gpa, sizeof(v))) {
		memcpy(&mem.bytes[gpa], &v, sizeof(v));
	}
}

static uint64_t get64(uint64_t gpa)
{
	uint64_t v = 0;

	if (in_mem(gpa, sizeof(v))) {
		memcpy(&v, &mem.bytes[gpa], sizeof(v));
	}
	return v;
}

static void put32(uint64_t gpa, uint32_t v)
{
	if (in_mem(gpa, sizeof(v))) {
		memcpy(&mem.bytes[gpa], &v, sizeof(v));
	}
}

/* The GPA of linear's 8-byte entry at level (1 = PTE) under the table at table, level top;
 * missing tables on the way are allocated and entered with table_flags. */
static uint64_t entry64(uint64_t table, unsigned top, uint64_t linear, unsigned level,
			uint64_t table_flags)
{
	for (unsigned l = top;; l--) {
		uint64_t e = table + ((linear >> (12U + 9U * (l - 1U))) & 511U) * 8U;

		if (l == level) {
			return e;
		}
		if ((get64(e) & X86_PTE_P) == 0U) {
			put64(e, fake_page() | table_flags);
		}
		table = get64(e) & 0x000FFFFFFFFFF000ULL & ~BIT(51);
	}
}

/* Maps linear with leaf (the whole entry) at level, user-writable tables above it;
 * returns the leaf's GPA. */
static uint64_t map64(uint64_t root, unsigned top, uint64_t linear, unsigned level, uint64_t leaf)
{
	uint64_t e = entry64(root, top, linear, level, PRWU);

	put64(e, leaf);
	return e;
}

/* Sets bits set and clears bits clear in linear's entry at level. */
static void change_entry(uint64_t root, unsigned top, uint64_t linear, unsigned level, uint64_t set,
			 uint64_t clear)
{
	uint64_t e = entry64(root, top, linear, level, PRWU);

	put64(e, (get64(e) | set) & ~clear);
}
/* Translates; a failed walk must leave the GPA as it was. */
static enum gwalk_result tr(const struct gwalk_ctx *c, uint64_t linear, enum gwalk_access a)
{
	gpa_t g = gpa_init(UNSET);
	enum gwalk_result r = gwalk_translate(c, linear, a, &g);

	got_gpa = gpa_val(g);
	if (r != GWALK_OK) {
		EXPECT_EQ(got_gpa, UNSET);
	}
	return r;
}

static size_t fetched;

/* Fetches len bytes at linear into a buffer of 0xAA, sets fetched to the count and checks
 * that the fetched bytes are want's, that the rest of the buffer is untouched and that no
 * read crossed a page. */
static enum gwalk_result fetch(const struct gwalk_ctx *c, uint64_t linear, size_t len,
			       const uint8_t *want)
{
	uint8_t buf[GWALK_INSN_MAX + 1U];
	enum gwalk_result res = GWALK_UNSUPPORTED_MODE;

	memset(buf, 0xAA, sizeof(buf));
	fetched = gwalk_fetch(c, linear, buf, len, &res);
	EXPECT_TRUE(fetched <= GWALK_INSN_MAX);
	if (fetched <= GWALK_INSN_MAX) {
		EXPECT_MEM(buf, want, fetched);
	}
	for (size_t i = fetched; i < sizeof(buf); i++) {
		EXPECT_EQ(buf[i], 0xAA);
	}
	EXPECT_TRUE(!mem.crossed);
	return res;
}

/* Translates a read while the guest may not read the page holding gpa. */
static enum gwalk_result tr_refused(const struct gwalk_ctx *c, uint64_t linear, uint64_t gpa)
{
	enum gwalk_result r = GWALK_UNSUPPORTED_MODE;

	mem.refused[gpa / PAGE_SIZE] = true;
	r = tr(c, linear, GWALK_READ);
	mem.refused[gpa / PAGE_SIZE] = false;
	return r;
}

static struct gwalk_ctx ctx_base(void)
{
	return (struct gwalk_ctx){
		.cr0 = X86_CR0_PE,
		.maxphyaddr = 48,
		.pages_1g = true,
		.read = fake_read,
		.opaque = &mem,
	};
}

static struct gwalk_ctx ctx_long(uint64_t root, bool la57)
{
	struct gwalk_ctx c = ctx_base();

	c.cr0 = LONG_CR0;
	c.cr3 = root;
	c.cr4 = X86_CR4_PAE | (la57 ? X86_CR4_LA57 : 0U);
	c.efer = LONG_EFER;
	return c;
}

/* Fresh memory and a long-mode vCPU (4- or 5-level paging) whose root table is *root. */
static struct gwalk_ctx long_vcpu(bool la57, uint64_t *root)
{
	fake_reset();
	*root = fake_page();
	return ctx_long(*root, la57);
}

/* The address most long-mode tests map, and the page it maps to (not a table). */
#define LA 0x0000123456789000ULL
#define DATA_PAGE (40U * PAGE_SIZE)

/* long_vcpu with LA mapped to DATA_PAGE, user-writable at every level. */
static struct gwalk_ctx mapped_vcpu(bool la57)
{
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(la57, &root);

	map64(root, la57 ? 5U : 4U, LA, 1, DATA_PAGE | PRWU);
	return c;
}

/* Translates with linear's entry at level changed (set ORed in, clear taken out) in c's
 * long-mode tables, then puts the entry back. */
static enum gwalk_result tr_changed(const struct gwalk_ctx *c, uint64_t linear, unsigned level,
				    uint64_t set, uint64_t clear, enum gwalk_access a)
{
	unsigned top = (c->cr4 & X86_CR4_LA57) != 0U ? 5U : 4U;
	uint64_t e = entry64(c->cr3 & 0x000FFFFFFFFFF000ULL & ~BIT(51), top, linear, level, PRWU);
	uint64_t was = get64(e);
	enum gwalk_result r = GWALK_UNSUPPORTED_MODE;

	put64(e, (was | set) & ~clear);
	r = tr(c, linear, a);
	put64(e, was);
	return r;
}

static struct gwalk_ctx ctx_32bit(uint64_t cr3)
{
	struct gwalk_ctx c = ctx_base();

	c.cr0 = X86_CR0_PE | X86_CR0_PG;
	c.cr3 = cr3;
	return c;
}

static struct gwalk_ctx ctx_pae(uint64_t cr3)
{
	struct gwalk_ctx c = ctx_32bit(cr3);

	c.cr4 = X86_CR4_PAE;
	c.efer = X86_EFER_NXE;
	return c;
}

/* Fresh memory holding a page directory *pd whose entry 0 points to the page table *pt
 * (user-writable), and a vCPU with 32-bit paging over it. */
static struct gwalk_ctx vcpu_32bit(uint64_t *pd, uint64_t *pt)
{
	fake_reset();
	*pd = fake_page();
	*pt = fake_page();
	put32(*pd, (uint32_t)(*pt | PRWU));
	return ctx_32bit(*pd);
}

/* The same with PAE paging: a page-directory-pointer table *pdpt before them. */
static struct gwalk_ctx vcpu_pae(uint64_t *pdpt, uint64_t *pd, uint64_t *pt)
{
	fake_reset();
	*pdpt = fake_page();
	*pd = fake_page();
	*pt = fake_page();
	put64(*pdpt, *pd | X86_PTE_P);
	put64(*pd, *pt | PRWU);
	return ctx_pae(*pdpt);
}

TEST(gwalk_paging_off_is_identity_in_32_bits)
{
	struct gwalk_ctx c = ctx_base();

	fake_reset();
	EXPECT_EQ(tr(&c, 0x123456789ULL, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x23456789);
	/* No page protection without paging: CPL 3, SMEP, SMAP, WP change nothing. */
	c.cpl = 3;
	c.cr0 |= X86_CR0_WP;
	c.cr4 = X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PAE;
	EXPECT_EQ(tr(&c, 0xFFFFFFFFFFFFF123ULL, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(got_gpa, 0xFFFFF123);
	/* Real mode; and EFER.LME without paging is still legacy mode. */
	c.cr0 = 0;
	c.efer = X86_EFER_LME;
	EXPECT_EQ(tr(&c, 0x1FFFF0, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x1FFFF0);
	EXPECT_EQ(mem.reads, 0);
}

TEST(gwalk_32bit_4k_page)
{
	fake_reset();
	uint64_t pd = fake_page();
	uint64_t pt = fake_page();
	/* CR3's PWT and PCD are not address bits. */
	struct gwalk_ctx c = ctx_32bit(pd | 0x18U);

	put32(ENTRY32(pd, 1U), (uint32_t)(pt | PRWU));
	put32(ENTRY32(pt, 3U), 0xABCDE000U | (uint32_t)PRWU);
	EXPECT_EQ(tr(&c, 0x00403123, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(got_gpa, 0xABCDE123);
	EXPECT_EQ(mem.reads, 2);
	/* Linear addresses are 32 bits outside long mode. */
	EXPECT_EQ(tr(&c, 0xFFFFFFFF00403FFFULL, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0xABCDEFFF);
	EXPECT_EQ(tr(&c, 0x00404000, GWALK_READ), GWALK_NOT_PRESENT);
	EXPECT_EQ(tr(&c, 0x00803123, GWALK_READ), GWALK_NOT_PRESENT);
	/* A PDE without P, pointing to a valid page table. */
	put32(ENTRY32(pd, 2U), (uint32_t)(pt | X86_PTE_RW | X86_PTE_US));
	EXPECT_EQ(tr(&c, 0x00803123, GWALK_READ), GWALK_NOT_PRESENT);
	/* No NX in 32-bit paging, whatever EFER.NXE says. */
	c.efer = X86_EFER_NXE;
	EXPECT_EQ(tr(&c, 0x00403123, GWALK_FETCH), GWALK_OK);
}

TEST(gwalk_32bit_4m_page_pse36)
{
	/* PDE bits (M-20):13 are address bits (M-1):32, bits 21:(M-19) are reserved; M is
	 * MAXPHYADDR capped at 40. */
	static const struct {
		uint8_t maxphyaddr;
		uint32_t pde_bits; /* bits 21:13 */
		enum gwalk_result want;
		uint64_t gpa;
	} cases[] = {
		{ 40, 0x5AU << 13, GWALK_OK, 0x5AC0512345ULL },
		{ 40, 1U << 21, GWALK_RESERVED_BIT, 0 },
		{ 36, 0xAU << 13, GWALK_OK, 0xAC0512345ULL },
		{ 36, 1U << 17, GWALK_RESERVED_BIT, 0 },
		{ 48, 0xFFU << 13, GWALK_OK, 0xFFC0512345ULL },
		{ 48, 1U << 21, GWALK_RESERVED_BIT, 0 },
		{ 32, 0, GWALK_OK, 0xC0512345ULL },
		{ 32, 1U << 13, GWALK_RESERVED_BIT, 0 },
	};
	fake_reset();
	uint64_t pd = fake_page();
	struct gwalk_ctx c = ctx_32bit(pd);

	c.cr4 = X86_CR4_PSE;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.maxphyaddr = cases[i].maxphyaddr;
		put32(ENTRY32(pd, 0x301U),
		      0xC0400000U | cases[i].pde_bits | (uint32_t)(PRWU | X86_PTE_PS));
		EXPECT_EQ(tr(&c, 0xC0512345, GWALK_FETCH), cases[i].want);
		if (cases[i].want == GWALK_OK) {
			EXPECT_EQ(got_gpa, cases[i].gpa);
		}
	}
	/* One entry per walk: a 4M page has no page table. */
	EXPECT_EQ(mem.reads, sizeof(cases) / sizeof(cases[0]));
}

TEST(gwalk_32bit_ps_ignored_without_pse)
{
	uint64_t pd = 0;
	uint64_t pt = 0;
	struct gwalk_ctx c = vcpu_32bit(&pd, &pt);

	put32(pd, (uint32_t)(pt | PRWU | X86_PTE_PS));
	put32(ENTRY32(pt, 5U), 0x77777000U | (uint32_t)PRWU);
	EXPECT_EQ(tr(&c, 0x5ABC, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x77777ABC);
	/* With CR4.PSE the same PDE maps 4M: pt's bit 13 becomes address bit 32. */
	c.cr4 = X86_CR4_PSE;
	EXPECT_EQ(tr(&c, 0x5ABC, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x100005ABCULL);
	put32(pd, (uint32_t)(PRWU | X86_PTE_PS));
	EXPECT_EQ(tr(&c, 0x3FFFFF, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x3FFFFF);
}

TEST(gwalk_32bit_protection)
{
	uint64_t pd = 0;
	uint64_t pt = 0;
	struct gwalk_ctx c = vcpu_32bit(&pd, &pt);

	put32(pd, (uint32_t)(pt | X86_PTE_P | X86_PTE_US));
	put32(pt, 0x55555000U | (uint32_t)PRWU);
	c.cpl = 3;
	EXPECT_EQ(tr(&c, 0x10, GWALK_READ), GWALK_OK);
	/* R/W clear in the PDE: no user write, supervisor write only with CR0.WP = 0. */
	EXPECT_EQ(tr(&c, 0x10, GWALK_WRITE), GWALK_PROTECTION);
	c.cpl = 0;
	EXPECT_EQ(tr(&c, 0x10, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x55555010);
	c.cr0 |= X86_CR0_WP;
	EXPECT_EQ(tr(&c, 0x10, GWALK_WRITE), GWALK_PROTECTION);
	/* U/S clear in the PTE: a supervisor page. */
	put32(pt, 0x55555000U | (uint32_t)PRW);
	EXPECT_EQ(tr(&c, 0x10, GWALK_FETCH), GWALK_OK);
	c.cpl = 3;
	EXPECT_EQ(tr(&c, 0x10, GWALK_FETCH), GWALK_PROTECTION);
	/* U/S clear in the PDE only. */
	put32(pd, (uint32_t)(pt | PRW));
	put32(pt, 0x55555000U | (uint32_t)PRWU);
	EXPECT_EQ(tr(&c, 0x10, GWALK_READ), GWALK_PROTECTION);
	put32(pd, (uint32_t)(pt | X86_PTE_P | X86_PTE_US));
	/* SMEP and SMAP apply to 32-bit paging too. */
	put32(pt, 0x55555000U | (uint32_t)PRWU);
	c.cpl = 0;
	c.cr4 = X86_CR4_SMEP | X86_CR4_SMAP;
	EXPECT_EQ(tr(&c, 0x10, GWALK_FETCH), GWALK_PROTECTION);
	EXPECT_EQ(tr(&c, 0x10, GWALK_READ), GWALK_PROTECTION);
}

TEST(gwalk_pae_4k_and_2m_pages)
{
	fake_reset();
	uint64_t pdpt = fake_page() + 0x20U; /* CR3[31:5]: 32-byte aligned */
	uint64_t pd = fake_page();
	uint64_t pt = fake_page();
	struct gwalk_ctx c = ctx_pae(pdpt | 0x18U);

	put64(ENTRY64(pdpt, 3U), pd | X86_PTE_P);
	put64(ENTRY64(pd, 3U), pt | PRWU);
	put64(ENTRY64(pt, 3U), 0xABCDEF0000ULL | PRWU);
	EXPECT_EQ(tr(&c, 0xC0603123, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(got_gpa, 0xABCDEF0123ULL);
	EXPECT_EQ(mem.reads, 3);
	/* A 2M page; bit 12 is its PAT bit, not an address bit. */
	put64(ENTRY64(pd, 4U), 0x1234400000ULL | BIT(12) | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, 0xC0923456, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x1234523456ULL);
	/* The PDPTE carries no rights: CPL 3 with WP writes through it. */
	c.cpl = 3;
	c.cr0 |= X86_CR0_WP;
	EXPECT_EQ(tr(&c, 0xC0603123, GWALK_WRITE), GWALK_OK);
	/* Only bits 31:30 select a PDPTE. */
	EXPECT_EQ(tr(&c, 0x3C0603123ULL, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0xABCDEF0123ULL);
	EXPECT_EQ(tr(&c, 0x80603123, GWALK_READ), GWALK_NOT_PRESENT);
	/* A PDPTE without P, whatever else it holds. */
	put64(ENTRY64(pdpt, 3U), pd | BIT(1));
	EXPECT_EQ(tr(&c, 0xC0603123, GWALK_READ), GWALK_NOT_PRESENT);
	put64(ENTRY64(pdpt, 3U), pd | X86_PTE_P);
	/* A 2M page is aligned: bits 20:13 reserved. */
	put64(ENTRY64(pd, 4U), 0x1234400000ULL | BIT(13) | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, 0xC0923456, GWALK_READ), GWALK_RESERVED_BIT);
	put64(ENTRY64(pd, 4U), 0x1234400000ULL | BIT(20) | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, 0xC0923456, GWALK_READ), GWALK_RESERVED_BIT);
}

TEST(gwalk_pae_reserved_bits)
{
	static const unsigned pdpte_rsvd[] = { 1, 2, 5, 6, 7, 8, 48, 52, 62, 63 };
	uint64_t pdpt = 0;
	uint64_t pd = 0;
	uint64_t pt = 0;
	struct gwalk_ctx c = vcpu_pae(&pdpt, &pd, &pt);

	put64(pt, 0x9000ULL | PRWU);
	for (unsigned i = 0; i < sizeof(pdpte_rsvd) / sizeof(pdpte_rsvd[0]); i++) {
		put64(pdpt, pd | X86_PTE_P | BIT(pdpte_rsvd[i]));
		EXPECT_EQ(tr(&c, 0x123, GWALK_READ), GWALK_RESERVED_BIT);
	}
	/* PCD, PWT and the bits for software are not reserved. */
	put64(pdpt, pd | X86_PTE_P | BIT(3) | BIT(4) | BIT(9) | BIT(11));
	EXPECT_EQ(tr(&c, 0x123, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x9123);
	/* PAE reserves 62:MAXPHYADDR in PDEs and PTEs (long mode only 51:MAXPHYADDR). */
	put64(pd, pt | PRWU | BIT(52));
	EXPECT_EQ(tr(&c, 0x123, GWALK_READ), GWALK_RESERVED_BIT);
	put64(pd, pt | PRWU);
	put64(pt, 0x9000ULL | PRWU | BIT(62));
	EXPECT_EQ(tr(&c, 0x123, GWALK_READ), GWALK_RESERVED_BIT);
	put64(pt, 0x9000ULL | PRWU | BIT(48));
	EXPECT_EQ(tr(&c, 0x123, GWALK_READ), GWALK_RESERVED_BIT);
	/* NX: reserved without EFER.NXE, a fetch fault with it. */
	put64(pt, 0x9000ULL | PRWU | X86_PTE_NX);
	EXPECT_EQ(tr(&c, 0x123, GWALK_FETCH), GWALK_PROTECTION);
	EXPECT_EQ(tr(&c, 0x123, GWALK_READ), GWALK_OK);
	c.efer = 0;
	EXPECT_EQ(tr(&c, 0x123, GWALK_READ), GWALK_RESERVED_BIT);
}

TEST(gwalk_long4_4k_2m_1g_pages)
{
	uint64_t root = 0;
	/* CR3's PCID bits are not address bits. */
	struct gwalk_ctx c = long_vcpu(false, &root);
	uint64_t la = 0x00007F1234567123ULL;

	c.cr3 |= 0xFFFU;
	map64(root, 4, la, 1, 0x987654000ULL | PRWU);
	EXPECT_EQ(tr(&c, la, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x987654123ULL);
	EXPECT_EQ(mem.reads, 4);
	map64(root, 4, 0xFFFF800012345678ULL, 2, 0x123400000ULL | BIT(12) | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, 0xFFFF800012345678ULL, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x123545678ULL);
	map64(root, 4, 0xFFFFFFFFC1234567ULL, 3, 0x40C0000000ULL | BIT(12) | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, 0xFFFFFFFFC1234567ULL, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x40C1234567ULL);
	/* The bits 62:52 of long-mode entries belong to software (no PKE here). */
	change_entry(root, 4, la, 1, BIT(52) | BIT(62), 0);
	change_entry(root, 4, la, 4, BIT(52) | BIT(62), 0);
	EXPECT_EQ(tr(&c, la, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x987654123ULL);
	EXPECT_EQ(tr(&c, la + PAGE_SIZE, GWALK_READ), GWALK_NOT_PRESENT);
}

TEST(gwalk_long5_la57)
{
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(true, &root);
	uint64_t la = 0x00FE3456789AB123ULL;

	map64(root, 5, la, 1, 0x1111000ULL | PRWU);
	EXPECT_EQ(tr(&c, la, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x1111123ULL);
	EXPECT_EQ(mem.reads, 5);
	map64(root, 5, 0xFF12345640000000ULL, 3, 0x80000000ULL | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, 0xFF1234567FFFFFFFULL, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0xBFFFFFFFULL);
	/* The same address is not canonical for 4-level paging. */
	c.cr4 &= ~X86_CR4_LA57;
	EXPECT_EQ(tr(&c, la, GWALK_FETCH), GWALK_NON_CANONICAL);
	/* LA57 means nothing outside long mode. */
	c = ctx_pae(root);
	c.cr4 |= X86_CR4_LA57;
	EXPECT_EQ(tr(&c, 0x123, GWALK_READ), GWALK_NOT_PRESENT);
}

TEST(gwalk_non_canonical_addresses)
{
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);

	EXPECT_EQ(tr(&c, 0x0000800000000000ULL, GWALK_READ), GWALK_NON_CANONICAL);
	EXPECT_EQ(tr(&c, 0xFFFF7FFFFFFFFFFFULL, GWALK_FETCH), GWALK_NON_CANONICAL);
	EXPECT_EQ(tr(&c, 0x8000000000000000ULL, GWALK_READ), GWALK_NON_CANONICAL);
	EXPECT_EQ(tr(&c, 0x7FFFFFFFFFFFFFFFULL, GWALK_READ), GWALK_NON_CANONICAL);
	EXPECT_EQ(mem.reads, 0);
	EXPECT_EQ(tr(&c, 0x00007FFFFFFFFFFFULL, GWALK_READ), GWALK_NOT_PRESENT);
	EXPECT_EQ(tr(&c, 0xFFFF800000000000ULL, GWALK_READ), GWALK_NOT_PRESENT);
	c.cr4 |= X86_CR4_LA57;
	EXPECT_EQ(tr(&c, 0x0100000000000000ULL, GWALK_READ), GWALK_NON_CANONICAL);
	EXPECT_EQ(tr(&c, 0xFEFFFFFFFFFFFFFFULL, GWALK_READ), GWALK_NON_CANONICAL);
	EXPECT_EQ(tr(&c, 0x00FFFFFFFFFFFFFFULL, GWALK_READ), GWALK_NOT_PRESENT);
	EXPECT_EQ(tr(&c, 0xFF00000000000000ULL, GWALK_READ), GWALK_NOT_PRESENT);
}

TEST(gwalk_long_reserved_above_maxphyaddr)
{
	struct gwalk_ctx c = mapped_vcpu(true);

	c.maxphyaddr = 40;
	for (unsigned level = 1; level <= 5; level++) {
		EXPECT_EQ(tr_changed(&c, LA, level, BIT(45), 0, GWALK_READ), GWALK_RESERVED_BIT);
		EXPECT_EQ(tr_changed(&c, LA, level, BIT(51), 0, GWALK_READ), GWALK_RESERVED_BIT);
	}
	EXPECT_EQ(tr(&c, LA, GWALK_READ), GWALK_OK);
	/* Bit 39 is an address bit at MAXPHYADDR 40; at 52 so is bit 51. */
	EXPECT_EQ(tr_changed(&c, LA, 1, BIT(39), 0, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, BIT(39) | DATA_PAGE);
	c.maxphyaddr = 52;
	EXPECT_EQ(tr_changed(&c, LA, 1, BIT(51) | BIT(39), 0, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, BIT(51) | BIT(39) | DATA_PAGE);
}

TEST(gwalk_long_reserved_structure_bits)
{
	struct gwalk_ctx c = mapped_vcpu(true);

	/* PS is reserved in a PML5E and a PML4E; so is bit 8 (AMD). */
	for (unsigned level = 4; level <= 5; level++) {
		EXPECT_EQ(tr_changed(&c, LA, level, X86_PTE_PS, 0, GWALK_READ), GWALK_RESERVED_BIT);
		EXPECT_EQ(tr_changed(&c, LA, level, BIT(8), 0, GWALK_READ), GWALK_RESERVED_BIT);
	}
	/* Bit 8 of a non-leaf PDPTE or PDE, and a PTE's G, are not reserved. */
	for (unsigned level = 1; level <= 3; level++) {
		EXPECT_EQ(tr_changed(&c, LA, level, BIT(8), 0, GWALK_READ), GWALK_OK);
		EXPECT_EQ(got_gpa, DATA_PAGE);
	}
	/* NX is reserved at every level without EFER.NXE. */
	c.efer &= ~X86_EFER_NXE;
	for (unsigned level = 1; level <= 5; level++) {
		EXPECT_EQ(tr_changed(&c, LA, level, X86_PTE_NX, 0, GWALK_READ), GWALK_RESERVED_BIT);
	}
	EXPECT_EQ(tr(&c, LA, GWALK_FETCH), GWALK_OK);
}

TEST(gwalk_large_page_alignment_and_1g_support)
{
	static const unsigned rsvd_2m[] = { 13, 16, 20 };
	static const unsigned rsvd_1g[] = { 13, 21, 29 };
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);
	uint64_t l2m = 0x200000ULL * 3U;
	uint64_t l1g = 0x40000000ULL * 5U;

	map64(root, 4, l2m, 2, 0x600000ULL | PRWU | X86_PTE_PS);
	map64(root, 4, l1g, 3, 0x80000000ULL | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, l2m + 0x1FFFFFU, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x7FFFFFULL);
	EXPECT_EQ(tr(&c, l1g + 0x3FFFFFFFU, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0xBFFFFFFFULL);
	for (unsigned i = 0; i < 3U; i++) {
		EXPECT_EQ(tr_changed(&c, l2m, 2, BIT(rsvd_2m[i]), 0, GWALK_READ),
			  GWALK_RESERVED_BIT);
		EXPECT_EQ(tr_changed(&c, l1g, 3, BIT(rsvd_1g[i]), 0, GWALK_READ),
			  GWALK_RESERVED_BIT);
	}
	/* Without 1-GiB pages in CPUID, PS in a PDPTE is reserved. */
	c.pages_1g = false;
	EXPECT_EQ(tr(&c, l1g, GWALK_READ), GWALK_RESERVED_BIT);
	EXPECT_EQ(tr(&c, l2m, GWALK_READ), GWALK_OK);
}

TEST(gwalk_user_supervisor_at_every_level)
{
	struct gwalk_ctx c = mapped_vcpu(true);
	struct gwalk_ctx kernel = c;

	c.cpl = 3;
	EXPECT_EQ(tr(&c, LA, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(tr(&c, LA, GWALK_WRITE), GWALK_OK);
	/* A supervisor page at any level: CPL 0 to 2 only, even under SMEP and SMAP. */
	kernel.cpl = 2;
	kernel.cr4 |= X86_CR4_SMEP | X86_CR4_SMAP;
	for (unsigned level = 1; level <= 5; level++) {
		EXPECT_EQ(tr_changed(&c, LA, level, 0, X86_PTE_US, GWALK_FETCH), GWALK_PROTECTION);
		EXPECT_EQ(tr_changed(&c, LA, level, 0, X86_PTE_US, GWALK_READ), GWALK_PROTECTION);
		EXPECT_EQ(tr_changed(&kernel, LA, level, 0, X86_PTE_US, GWALK_FETCH), GWALK_OK);
		EXPECT_EQ(tr_changed(&kernel, LA, level, 0, X86_PTE_US, GWALK_WRITE), GWALK_OK);
	}
}

TEST(gwalk_smep_and_smap)
{
	struct gwalk_ctx c = mapped_vcpu(false);

	/* A user page: the supervisor may use it freely without SMEP and SMAP. */
	EXPECT_EQ(tr(&c, LA, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(tr(&c, LA, GWALK_WRITE), GWALK_OK);
	c.cr4 |= X86_CR4_SMEP;
	EXPECT_EQ(tr(&c, LA, GWALK_FETCH), GWALK_PROTECTION);
	EXPECT_EQ(tr(&c, LA, GWALK_READ), GWALK_OK);
	c.cr4 = X86_CR4_PAE | X86_CR4_SMAP;
	EXPECT_EQ(tr(&c, LA, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(tr(&c, LA, GWALK_READ), GWALK_PROTECTION);
	EXPECT_EQ(tr(&c, LA, GWALK_WRITE), GWALK_PROTECTION);
	/* RFLAGS.AC opens user pages to supervisor data accesses (not to writes R/W forbids). */
	c.rflags = X86_RFLAGS_AC;
	EXPECT_EQ(tr(&c, LA, GWALK_READ), GWALK_OK);
	EXPECT_EQ(tr(&c, LA, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(tr_changed(&c, LA, 3, 0, X86_PTE_RW, GWALK_WRITE), GWALK_PROTECTION);
	/* CPL 3 is not subject to either. */
	c.rflags = 0;
	c.cpl = 3;
	c.cr4 |= X86_CR4_SMEP;
	EXPECT_EQ(tr(&c, LA, GWALK_READ), GWALK_OK);
	EXPECT_EQ(tr(&c, LA, GWALK_FETCH), GWALK_OK);
}

TEST(gwalk_write_protect)
{
	struct gwalk_ctx wp = mapped_vcpu(false);
	struct gwalk_ctx no_wp = wp;
	struct gwalk_ctx user = wp;

	no_wp.cr0 &= ~X86_CR0_WP;
	user.cpl = 3;
	/* R/W clear at any level: the supervisor writes only with CR0.WP = 0, the user never. */
	for (unsigned level = 1; level <= 4; level++) {
		EXPECT_EQ(tr_changed(&wp, LA, level, 0, X86_PTE_RW, GWALK_WRITE), GWALK_PROTECTION);
		EXPECT_EQ(tr_changed(&wp, LA, level, 0, X86_PTE_RW, GWALK_READ), GWALK_OK);
		EXPECT_EQ(tr_changed(&no_wp, LA, level, 0, X86_PTE_RW, GWALK_WRITE), GWALK_OK);
		EXPECT_EQ(got_gpa, DATA_PAGE);
		EXPECT_EQ(tr_changed(&user, LA, level, 0, X86_PTE_RW, GWALK_WRITE),
			  GWALK_PROTECTION);
		EXPECT_EQ(tr_changed(&user, LA, level, 0, X86_PTE_RW, GWALK_READ), GWALK_OK);
	}
}

TEST(gwalk_nx_with_and_without_nxe)
{
	struct gwalk_ctx nxe = mapped_vcpu(false);
	struct gwalk_ctx user = nxe;
	struct gwalk_ctx no_nxe = nxe;

	user.cpl = 3;
	no_nxe.efer &= ~X86_EFER_NXE;
	for (unsigned level = 1; level <= 4; level++) {
		EXPECT_EQ(tr_changed(&nxe, LA, level, X86_PTE_NX, 0, GWALK_FETCH),
			  GWALK_PROTECTION);
		EXPECT_EQ(tr_changed(&nxe, LA, level, X86_PTE_NX, 0, GWALK_WRITE), GWALK_OK);
		EXPECT_EQ(tr_changed(&user, LA, level, X86_PTE_NX, 0, GWALK_FETCH),
			  GWALK_PROTECTION);
		EXPECT_EQ(tr_changed(&no_nxe, LA, level, X86_PTE_NX, 0, GWALK_READ),
			  GWALK_RESERVED_BIT);
	}
	EXPECT_EQ(tr(&no_nxe, LA, GWALK_FETCH), GWALK_OK);
}

TEST(gwalk_protection_keys)
{
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);
	/* Two pages with key 5; PKRU's bits for key 5: access disabled, write disabled. */
	enum { USER = 0x7000, KERN = 0x8000, AD5 = 1U << 10, WD5 = 1U << 11 };
	static const struct {
		uint32_t pkru;
		uint8_t cpl;
		bool wp;
		uint64_t linear;
		enum gwalk_access access;
		enum gwalk_result want;
	} cases[] = {
		/* AD stops data accesses to user pages, supervisor ones too, not fetches. */
		{ AD5, 3, true, USER, GWALK_READ, GWALK_PROTECTION },
		{ AD5, 3, true, USER, GWALK_FETCH, GWALK_OK },
		{ AD5, 0, true, USER, GWALK_READ, GWALK_PROTECTION },
		/* Keys restrict only user pages. */
		{ AD5, 0, true, KERN, GWALK_WRITE, GWALK_OK },
		/* WD stops writes, by the supervisor only with CR0.WP. */
		{ WD5, 3, true, USER, GWALK_READ, GWALK_OK },
		{ WD5, 3, true, USER, GWALK_WRITE, GWALK_PROTECTION },
		{ WD5, 3, false, USER, GWALK_WRITE, GWALK_PROTECTION },
		{ WD5, 0, true, USER, GWALK_WRITE, GWALK_PROTECTION },
		{ WD5, 0, false, USER, GWALK_WRITE, GWALK_OK },
		/* Other keys' bits do not count. */
		{ ~(3U << 10), 3, true, USER, GWALK_WRITE, GWALK_OK },
	};

	map64(root, 4, USER, 1, 0x5000ULL | PRWU | (5ULL << 59));
	map64(root, 4, KERN, 1, 0x6000ULL | PRW | (5ULL << 59));
	c.cr4 |= X86_CR4_PKE;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.pkru = cases[i].pkru;
		c.cpl = cases[i].cpl;
		c.cr0 = cases[i].wp ? LONG_CR0 : LONG_CR0 & ~X86_CR0_WP;
		EXPECT_EQ(tr(&c, cases[i].linear, cases[i].access), cases[i].want);
	}
	/* CR4.PKE = 0: no keys. */
	c.cr4 &= ~X86_CR4_PKE;
	c.pkru = AD5 | WD5;
	EXPECT_EQ(tr(&c, USER, GWALK_WRITE), GWALK_OK);
	/* Keys exist only in long mode. */
	fake_reset();
	uint64_t pdpt = fake_page();
	uint64_t pd = fake_page();
	struct gwalk_ctx p = ctx_pae(pdpt);

	put64(pdpt, pd | X86_PTE_P);
	put64(pd, 0x200000ULL | PRWU | X86_PTE_PS);
	p.cr4 |= X86_CR4_PKE;
	p.pkru = ~0U;
	p.cpl = 3;
	EXPECT_EQ(tr(&p, 0x1234, GWALK_WRITE), GWALK_OK);
}

TEST(gwalk_c_bit_is_masked)
{
	fake_reset();
	uint64_t root = fake_page();
	struct gwalk_ctx c = ctx_long(root | BIT(51), false);
	uint64_t la = 0xFFFF800000403000ULL;

	c.c_bit_mask = BIT(51);
	map64(root, 4, la, 1, 0x5000ULL | BIT(51) | PRWU);
	for (unsigned level = 2; level <= 4; level++) {
		change_entry(root, 4, la, level, BIT(51), 0);
	}
	EXPECT_EQ(tr(&c, la + 0x10U, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x5010ULL);
	/* The same entries without a C-bit: bit 51 is reserved above MAXPHYADDR 48. */
	c.c_bit_mask = 0;
	EXPECT_EQ(tr(&c, la, GWALK_FETCH), GWALK_RESERVED_BIT);
	/* A C-bit at 47 below a reduced MAXPHYADDR of 43: 47 masked, 44 still reserved. */
	fake_reset();
	root = fake_page();
	c = ctx_long(root, false);
	c.maxphyaddr = 43;
	c.c_bit_mask = BIT(47);
	map64(root, 4, la, 2, 0x400000ULL | BIT(47) | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, la, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x403000ULL);
	EXPECT_EQ(tr_changed(&c, la, 2, BIT(44), 0, GWALK_READ), GWALK_RESERVED_BIT);
	/* A C-bit below MAXPHYADDR is still not an address bit. */
	c.maxphyaddr = 48;
	EXPECT_EQ(tr(&c, la, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x403000ULL);
	/* PAE entries carry the C-bit too. */
	fake_reset();
	uint64_t pdpt = fake_page();
	uint64_t pd = fake_page();
	c = ctx_pae(pdpt);
	c.c_bit_mask = BIT(51);
	put64(pdpt, pd | BIT(51) | X86_PTE_P);
	put64(pd, 0x200000ULL | BIT(51) | PRWU | X86_PTE_PS);
	EXPECT_EQ(tr(&c, 0x1234, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x201234ULL);
}

TEST(gwalk_table_unreadable_at_every_level)
{
	struct gwalk_ctx c = mapped_vcpu(true);

	for (unsigned level = 1; level <= 5; level++) {
		uint64_t table = entry64(c.cr3, 5, LA, level, PRWU);

		EXPECT_EQ(tr_refused(&c, LA, table), GWALK_TABLE_UNREADABLE);
	}
	/* The final page is not read by a translation. */
	EXPECT_EQ(tr_refused(&c, LA, DATA_PAGE), GWALK_OK);
	EXPECT_EQ(got_gpa, DATA_PAGE);
	/* 32-bit paging: the page directory, then the page table. */
	uint64_t pd = 0;
	uint64_t pt = 0;
	struct gwalk_ctx p = vcpu_32bit(&pd, &pt);

	put32(pt, (uint32_t)(0x5000U | PRWU));
	EXPECT_EQ(tr_refused(&p, 0x10, pd), GWALK_TABLE_UNREADABLE);
	EXPECT_EQ(tr_refused(&p, 0x10, pt), GWALK_TABLE_UNREADABLE);
	EXPECT_EQ(tr(&p, 0x10, GWALK_READ), GWALK_OK);
	/* PAE: the page-directory-pointer table, the page directory, the page table. */
	uint64_t pdpt = 0;
	uint64_t pae_pd = 0;
	uint64_t pae_pt = 0;
	struct gwalk_ctx q = vcpu_pae(&pdpt, &pae_pd, &pae_pt);

	put64(pae_pt, 0x9000ULL | PRWU);
	EXPECT_EQ(tr_refused(&q, 0x123, pdpt), GWALK_TABLE_UNREADABLE);
	EXPECT_EQ(tr_refused(&q, 0x123, pae_pd), GWALK_TABLE_UNREADABLE);
	EXPECT_EQ(tr_refused(&q, 0x123, pae_pt), GWALK_TABLE_UNREADABLE);
	EXPECT_EQ(tr(&q, 0x123, GWALK_READ), GWALK_OK);
}

TEST(gwalk_not_present_at_every_level)
{
	struct gwalk_ctx c = mapped_vcpu(true);
	/* With P = 0 the other bits do not matter, reserved ones included. */
	for (unsigned level = 1; level <= 5; level++) {
		EXPECT_EQ(tr_changed(&c, LA, level, X86_PTE_PS | BIT(51), X86_PTE_P, GWALK_READ),
			  GWALK_NOT_PRESENT);
	}
	EXPECT_EQ(tr(&c, LA, GWALK_READ), GWALK_OK);
}

TEST(gwalk_fetch_crosses_a_page)
{
	static const uint8_t vmgexit[] = { 0xF3, 0x0F, 0x01, 0xD9 };
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);
	uint64_t la = 0xFFFF800000010000ULL;

	/* Two linear pages, backed by page 20 then page 10. */
	map64(root, 4, la, 1, 20U * PAGE_SIZE | PRWU);
	map64(root, 4, la + PAGE_SIZE, 1, 10U * PAGE_SIZE | PRWU);
	memcpy(&mem.bytes[21U * PAGE_SIZE - 2U], vmgexit, 2);
	memcpy(&mem.bytes[10U * PAGE_SIZE], vmgexit + 2, 2);
	EXPECT_EQ(fetch(&c, la + PAGE_SIZE - 2U, 4, vmgexit), GWALK_OK);
	EXPECT_EQ(fetched, 4);
	/* At most GWALK_INSN_MAX bytes; zero bytes is a complete fetch. */
	EXPECT_EQ(fetch(&c, la + PAGE_SIZE - 15U, 64, &mem.bytes[21U * PAGE_SIZE - 15U]), GWALK_OK);
	EXPECT_EQ(fetched, GWALK_INSN_MAX);
	EXPECT_EQ(fetch(&c, la, 0, vmgexit), GWALK_OK);
	EXPECT_EQ(fetched, 0);
	/* Without paging, the bytes at the physical addresses. */
	struct gwalk_ctx off = ctx_base();

	EXPECT_EQ(fetch(&off, 21U * PAGE_SIZE - 2U, 2, vmgexit), GWALK_OK);
	EXPECT_EQ(fetched, 2);
}

TEST(gwalk_fetch_stops_at_the_first_missing_byte)
{
	static const uint8_t vmmcall[] = { 0x0F, 0x01, 0xD9 };
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);
	uint64_t la = 0x10000ULL + PAGE_SIZE - 3U;

	map64(root, 4, la, 1, 20U * PAGE_SIZE | PRWU);
	memcpy(&mem.bytes[21U * PAGE_SIZE - 3U], vmmcall, 3);
	/* The second page is not present: the first page's bytes only. */
	EXPECT_EQ(fetch(&c, la, 4, vmmcall), GWALK_NOT_PRESENT);
	EXPECT_EQ(fetched, 3);
	/* Not executable. */
	map64(root, 4, la + 3U, 1, 10U * PAGE_SIZE | PRWU | X86_PTE_NX);
	EXPECT_EQ(fetch(&c, la, 4, vmmcall), GWALK_PROTECTION);
	EXPECT_EQ(fetched, 3);
	/* Present, but the guest may not read the page itself (the callback refuses it). */
	map64(root, 4, la + 3U, 1, 10U * PAGE_SIZE | PRWU);
	mem.refused[10] = true;
	EXPECT_EQ(fetch(&c, la, 4, vmmcall), GWALK_PAGE_UNREADABLE);
	EXPECT_EQ(fetched, 3);
	mem.refused[20] = true;
	EXPECT_EQ(fetch(&c, la, 4, vmmcall), GWALK_PAGE_UNREADABLE);
	EXPECT_EQ(fetched, 0);
	/* Into non-canonical space. */
	mem.refused[20] = false;
	map64(root, 4, 0x00007FFFFFFFF000ULL, 1, 20U * PAGE_SIZE | PRWU);
	EXPECT_EQ(fetch(&c, 0x00007FFFFFFFFFFDULL, 4, vmmcall), GWALK_NON_CANONICAL);
	EXPECT_EQ(fetched, 3);
}

TEST(gwalk_addresses_wrap_at_the_top)
{
	static const uint8_t vmgexit[] = { 0xF3, 0x0F, 0x01, 0xD9 };
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);

	/* Long mode: the last page of the address space, then page 0. */
	map64(root, 4, 0xFFFFFFFFFFFFF000ULL, 1, 30U * PAGE_SIZE | PRWU);
	map64(root, 4, 0, 1, 31U * PAGE_SIZE | PRWU);
	memcpy(&mem.bytes[31U * PAGE_SIZE - 2U], vmgexit, 4);
	EXPECT_EQ(tr(&c, 0xFFFFFFFFFFFFFFFFULL, GWALK_FETCH), GWALK_OK);
	EXPECT_EQ(got_gpa, 31U * PAGE_SIZE - 1U);
	EXPECT_EQ(fetch(&c, 0xFFFFFFFFFFFFFFFEULL, 4, vmgexit), GWALK_OK);
	EXPECT_EQ(fetched, 4);
	/* 32-bit paging: at 4 GiB. */
	fake_reset();
	uint64_t pd = fake_page();
	uint64_t pt_top = fake_page();
	uint64_t pt_low = fake_page();
	struct gwalk_ctx p = ctx_32bit(pd);

	put32(ENTRY32(pd, 1023U), (uint32_t)(pt_top | PRWU));
	put32(ENTRY32(pt_top, 1023U), (uint32_t)(40U * PAGE_SIZE | PRWU));
	put32(pd, (uint32_t)(pt_low | PRWU));
	put32(pt_low, (uint32_t)(41U * PAGE_SIZE | PRWU));
	memcpy(&mem.bytes[41U * PAGE_SIZE - 1U], vmgexit, 4);
	EXPECT_EQ(fetch(&p, 0xFFFFFFFF, 4, vmgexit), GWALK_OK);
	EXPECT_EQ(fetched, 4);
}

TEST(gwalk_self_referencing_tables_terminate)
{
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);

	/* PML4[0] points to the PML4 itself: every level reads it again, then maps it. */
	put64(root, root | PRWU);
	EXPECT_EQ(tr(&c, 0x123, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(got_gpa, root + 0x123U);
	EXPECT_EQ(mem.reads, 4);
	c.cr4 |= X86_CR4_LA57;
	mem.reads = 0;
	EXPECT_EQ(tr(&c, 0x456, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, root + 0x456U);
	EXPECT_EQ(mem.reads, 5);
	/* 32-bit paging: the page directory as its own page table. */
	struct gwalk_ctx p = ctx_32bit(root);

	put32(root, (uint32_t)(root | PRWU));
	mem.reads = 0;
	EXPECT_EQ(tr(&p, 0x10, GWALK_READ), GWALK_OK);
	EXPECT_EQ(got_gpa, root + 0x10U);
	EXPECT_EQ(mem.reads, 2);
}

TEST(gwalk_entries_with_all_bits_set)
{
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);
	uint64_t la = 0xFFFFFFFFFFFFF123ULL;

	put64(ENTRY64(root, 511U), ~0ULL);
	EXPECT_EQ(tr(&c, la, GWALK_READ), GWALK_RESERVED_BIT);
	/* A leaf with every bit set: no reserved bit at MAXPHYADDR 52 with NXE; the address is
	 * bits 51:12, and NX forbids fetches. */
	c.maxphyaddr = 52;
	put64(ENTRY64(root, 511U), 0);
	map64(root, 4, la, 1, ~0ULL);
	EXPECT_EQ(tr(&c, la, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(got_gpa, 0x000FFFFFFFFFF123ULL);
	EXPECT_EQ(tr(&c, la, GWALK_FETCH), GWALK_PROTECTION);
	/* CR3 with every bit set points outside guest memory. */
	c.cr3 = ~0ULL;
	EXPECT_EQ(tr(&c, la, GWALK_READ), GWALK_TABLE_UNREADABLE);
	/* 32-bit paging. */
	fake_reset();
	uint64_t pd = fake_page();
	uint64_t pt = fake_page();
	struct gwalk_ctx p = ctx_32bit(~0ULL);

	EXPECT_EQ(tr(&p, 0xFFFFFFFF, GWALK_READ), GWALK_TABLE_UNREADABLE);
	p.cr3 = pd;
	put32(ENTRY32(pd, 1023U), ~0U);
	EXPECT_EQ(tr(&p, 0xFFFFFFFF, GWALK_READ), GWALK_TABLE_UNREADABLE);
	p.cr4 = X86_CR4_PSE;
	EXPECT_EQ(tr(&p, 0xFFFFFFFF, GWALK_READ), GWALK_RESERVED_BIT);
	p.cr4 = 0;
	put32(ENTRY32(pd, 1023U), (uint32_t)(pt | PRWU));
	put32(ENTRY32(pt, 1023U), ~0U);
	EXPECT_EQ(tr(&p, 0xFFFFFFFF, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(got_gpa, 0xFFFFFFFFULL);
	/* PAE: a PDPTE with every bit set is reserved. */
	fake_reset();
	uint64_t pdpt = fake_page();
	struct gwalk_ctx q = ctx_pae(pdpt);

	put64(ENTRY64(pdpt, 3U), ~0ULL);
	EXPECT_EQ(tr(&q, 0xFFFFFFFF, GWALK_READ), GWALK_RESERVED_BIT);
}

TEST(gwalk_inconsistent_registers_are_unsupported)
{
	uint64_t root = 0;
	struct gwalk_ctx good = long_vcpu(false, &root);
	struct gwalk_ctx c = good;

	map64(root, 4, 0x1000, 1, 0x5000ULL | PRWU);
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_OK);
	mem.reads = 0;
	c.cpl = 4;
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_UNSUPPORTED_MODE);
	c = good;
	c.maxphyaddr = 31;
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_UNSUPPORTED_MODE);
	c.maxphyaddr = 53;
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_UNSUPPORTED_MODE);
	c = good;
	c.efer &= ~X86_EFER_LMA; /* LME and PG without LMA */
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_UNSUPPORTED_MODE);
	c = good;
	c.efer &= ~X86_EFER_LME; /* LMA without LME */
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_UNSUPPORTED_MODE);
	c = good;
	c.cr0 &= ~X86_CR0_PG; /* LMA without paging */
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_UNSUPPORTED_MODE);
	c = good;
	c.cr4 &= ~X86_CR4_PAE; /* long mode without PAE */
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_UNSUPPORTED_MODE);
	c = good;
	c.cr0 &= ~X86_CR0_PE; /* paging without protected mode */
	EXPECT_EQ(tr(&c, 0x1000, GWALK_READ), GWALK_UNSUPPORTED_MODE);
	c = good;
	EXPECT_EQ(tr(&c, 0x1000, (enum gwalk_access)3), GWALK_UNSUPPORTED_MODE);
	EXPECT_EQ(mem.reads, 0);
	/* A fetch in an unsupported mode fetches nothing. */
	uint8_t buf[4] = { 0 };
	enum gwalk_result res = GWALK_OK;

	c.cpl = 7;
	EXPECT_EQ(gwalk_fetch(&c, 0x1000, buf, 4, &res), 0);
	EXPECT_EQ(res, GWALK_UNSUPPORTED_MODE);
}

TEST(gwalk_never_writes_guest_memory)
{
	uint64_t root = 0;
	struct gwalk_ctx c = long_vcpu(false, &root);
	static uint8_t before[FAKE_PAGES * PAGE_SIZE];
	uint8_t buf[GWALK_INSN_MAX];
	enum gwalk_result res = GWALK_OK;

	/* Accessed and dirty bits clear everywhere: the walker must leave them so. */
	map64(root, 4, 0x1000, 1, 0x5000ULL | PRWU);
	map64(root, 4, 0x2000, 1, 0x6000ULL | PRWU);
	memcpy(before, mem.bytes, sizeof(before));
	EXPECT_EQ(tr(&c, 0x1000, GWALK_WRITE), GWALK_OK);
	EXPECT_EQ(gwalk_fetch(&c, 0x1FF8, buf, sizeof(buf), &res), sizeof(buf));
	EXPECT_EQ(res, GWALK_OK);
	EXPECT_MEM(mem.bytes, before, sizeof(before));
}

TEST(gwalk_result_strings)
{
	EXPECT_TRUE(strcmp(gwalk_result_str(GWALK_OK), "translated") == 0);
	EXPECT_TRUE(strcmp(gwalk_result_str(GWALK_NOT_PRESENT), "page not present") == 0);
	EXPECT_TRUE(strcmp(gwalk_result_str(GWALK_PROTECTION),
			   "forbidden by the page protection") == 0);
	EXPECT_TRUE(strcmp(gwalk_result_str(GWALK_RESERVED_BIT),
			   "reserved bit set in a page-table entry") == 0);
	EXPECT_TRUE(strcmp(gwalk_result_str(GWALK_TABLE_UNREADABLE),
			   "page table not readable by the guest") == 0);
	EXPECT_TRUE(strcmp(gwalk_result_str(GWALK_PAGE_UNREADABLE),
			   "page not readable by the guest") == 0);
	EXPECT_TRUE(strcmp(gwalk_result_str(GWALK_NON_CANONICAL), "non-canonical address") == 0);
	EXPECT_TRUE(strcmp(gwalk_result_str(GWALK_UNSUPPORTED_MODE),
			   "unsupported or inconsistent paging mode") == 0);
	EXPECT_TRUE(strcmp(gwalk_result_str((enum gwalk_result)99), "unknown walk result") == 0);
}
