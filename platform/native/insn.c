/* Instruction lengths for the exits Donjon emulates: legacy prefixes, a REX prefix in
 * 64-bit mode, then the opcode the exit names. */
#include "insn.h"

#include <donjon/bytes.h>
#include <donjon/vmsa.h>

#include "guest_walk.h"

/* The segment attribute bits in VMSA form (the descriptor's bits 8-15 and 20-23). */
#define SEG_ATTR_L (1U << 9)
#define SEG_ATTR_OFF 2U
#define SEG_BASE_OFF 8U
#define EFER_LMA (1ULL << 10)

struct opcode {
	uint64_t exit_code;
	uint8_t len;
	uint8_t bytes[3];
};

static const struct opcode opcodes[] = {
	{ EXIT_CPUID, 2, { 0x0F, 0xA2 } },
	{ EXIT_VMMCALL, 3, { 0x0F, 0x01, 0xD9 } },
	{ EXIT_XSETBV, 3, { 0x0F, 0x01, 0xD1 } },
	{ EXIT_RDTSCP, 3, { 0x0F, 0x01, 0xF9 } },
	{ EXIT_INVD, 2, { 0x0F, 0x08 } },
	{ EXIT_WBINVD, 2, { 0x0F, 0x09 } },
	/* QEMU 7.2 reports INVD with WBINVD's exit code (its translator tests bit 1 of the
	 * opcode, which is clear in both); Donjon handles the two alike. */
	{ EXIT_WBINVD, 2, { 0x0F, 0x08 } },
	{ EXIT_MSR, 2, { 0x0F, 0x32 } },
	{ EXIT_MSR, 2, { 0x0F, 0x30 } },
};

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: /* ES, CS, SS, DS, FS, GS overrides */
	case 0x2E:
	case 0x36:
	case 0x3E:
	case 0x64:
	case 0x65:
	case 0x66: /* operand size */
	case 0x67: /* address size */
	case 0xF0: /* LOCK */
	case 0xF2: /* REPNE */
	case 0xF3: /* REP: the VMGEXIT encoding is F3 0F 01 D9 */
		return true;
	default:
		return false;
	}
}

/* Guest memory as the vCPU's VMPL may read it. */
static bool read_as_guest(void *opaque, gpa_t gpa, void *buf, size_t len)
{
	const struct native_cpu *c = opaque;

	return native_guest_copy_in(c->vmpl, gpa_val(gpa), buf, len, RMP_PERM_READ);
}

/* The vCPU's paging state, as the walker needs it. */
static void walk_ctx(struct native_cpu *c, struct gwalk_ctx *ctx)
{
	const uint8_t *s = c->state;

	*ctx = (struct gwalk_ctx){
		.cr0 = load64(s, VMSA_CR0_OFF),
		.cr3 = load64(s, VMSA_CR3_OFF),
		.cr4 = load64(s, VMSA_CR4_OFF),
		.efer = load64(s, VMSA_EFER_OFF),
		.rflags = load64(s, VMSA_RFLAGS_OFF),
		.cpl = s[VMSA_CPL_OFF],
		.maxphyaddr = c->maxphyaddr,
		.pages_1g = c->pages_1g,
		.c_bit_mask = c->c_bit_mask,
		.read = read_as_guest,
		.opaque = c,
	};
}

/* The bytes at the vCPU's CS:RIP, as it fetches them: how many, and where the opcode
 * starts after the legacy prefixes and a REX prefix; the last legacy prefix in *last. */
static size_t fetch_insn(struct native_cpu *c, uint8_t b[GWALK_INSN_MAX], size_t *opcode,
			 uint8_t *last, enum gwalk_result *res)
{
	const uint8_t *s = c->state;
	uint16_t cs_attr =
		(uint16_t)(s[VMSA_CS_OFF + SEG_ATTR_OFF] | s[VMSA_CS_OFF + SEG_ATTR_OFF + 1U] << 8);
	bool long64 = (load64(s, VMSA_EFER_OFF) & EFER_LMA) != 0U && (cs_attr & SEG_ATTR_L) != 0U;
	uint64_t rip = load64(s, VMSA_RIP_OFF);
	struct gwalk_ctx ctx;

	walk_ctx(c, &ctx);
	/* Outside 64-bit mode the fetch goes to CS.base + EIP, within 4 GiB. */
	uint64_t linear =
		long64 ? rip : (uint32_t)(load64(s, VMSA_CS_OFF + SEG_BASE_OFF) + (uint32_t)rip);
	size_t n = gwalk_fetch(&ctx, linear, b, GWALK_INSN_MAX, res);
	size_t i = 0;

	*last = 0;
	while (i < n && is_legacy_prefix(b[i])) {
		*last = b[i];
		i++;
	}
	if (long64 && i < n && (b[i] & 0xF0U) == 0x40U) {
		i++;
	}
	*opcode = i;
	return n;
}

unsigned insn_length(struct native_cpu *c, uint64_t exit_code, const char **why)
{
	uint8_t b[GWALK_INSN_MAX];
	enum gwalk_result res = GWALK_OK;
	size_t i = 0;
	uint8_t last = 0;
	size_t n = fetch_insn(c, b, &i, &last, &res);

	*why = "not the instruction that exited";
	for (unsigned k = 0; k < sizeof(opcodes) / sizeof(opcodes[0]); k++) {
		const struct opcode *op = &opcodes[k];

		if (op->exit_code != exit_code) {
			continue;
		}
		if (i + op->len > n) {
			*why = res != GWALK_OK ? gwalk_result_str(res) : "longer than 15 bytes";
		} else if (__builtin_memcmp(&b[i], op->bytes, op->len) == 0) {
			return (unsigned)(i + op->len);
		}
	}
	return 0;
}

enum snp_insn insn_snp(struct native_cpu *c, unsigned *len)
{
	uint8_t b[GWALK_INSN_MAX];
	enum gwalk_result res = GWALK_OK;
	size_t i = 0;
	uint8_t last = 0;
	size_t n = fetch_insn(c, b, &i, &last, &res);

	*len = (unsigned)(i + 3U);
	if (i + 3U > n || b[i] != 0x0FU || b[i + 1U] != 0x01U) {
		return SNP_INSN_NONE;
	}
	if (b[i + 2U] == 0xFEU && last == 0xF3U) {
		return SNP_INSN_RMPADJUST;
	}
	if (b[i + 2U] == 0xFFU && last == 0xF2U) {
		return SNP_INSN_PVALIDATE;
	}
	return SNP_INSN_NONE;
}

bool insn_translate(struct native_cpu *c, uint64_t linear, uint64_t *gpa)
{
	struct gwalk_ctx ctx;
	gpa_t g = gpa_init(0);

	walk_ctx(c, &ctx);
	if (gwalk_translate(&ctx, linear, GWALK_READ, &g) != GWALK_OK) {
		return false;
	}
	*gpa = gpa_val(g);
	return true;
}
