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
	{ EXIT_HLT, 1, { 0xF4 } },
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

/* 64-bit mode: EFER.LMA and CS.L. */
static bool long64_mode(const uint8_t *s)
{
	uint16_t cs_attr =
		(uint16_t)(s[VMSA_CS_OFF + SEG_ATTR_OFF] | s[VMSA_CS_OFF + SEG_ATTR_OFF + 1U] << 8);

	return (load64(s, VMSA_EFER_OFF) & EFER_LMA) != 0U && (cs_attr & SEG_ATTR_L) != 0U;
}

/* The bytes at the vCPU's CS:RIP, as it fetches them: how many, and where the opcode
 * starts after the legacy prefixes and a REX prefix; the last legacy prefix in *last. */
static size_t fetch_insn(struct native_cpu *c, uint8_t b[GWALK_INSN_MAX], size_t *opcode,
			 uint8_t *last, enum gwalk_result *res)
{
	const uint8_t *s = c->state;
	bool long64 = long64_mode(s);
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

/* The general registers in encoding order. */
static const uint16_t reg_offsets[16] = {
	VMSA_RAX_OFF, VMSA_RCX_OFF, VMSA_RDX_OFF, VMSA_RBX_OFF, VMSA_RSP_OFF, VMSA_RBP_OFF,
	VMSA_RSI_OFF, VMSA_RDI_OFF, VMSA_R8_OFF,  VMSA_R9_OFF,	VMSA_R10_OFF, VMSA_R11_OFF,
	VMSA_R12_OFF, VMSA_R13_OFF, VMSA_R14_OFF, VMSA_R15_OFF,
};

uint64_t insn_reg_read(const struct native_cpu *c, unsigned reg)
{
	return load64(c->state, reg_offsets[reg & 15U]);
}

void insn_reg_load(struct native_cpu *c, unsigned reg, unsigned size, uint64_t value)
{
	uint64_t mask = size >= 8U ? ~0ULL : (1ULL << (8U * size)) - 1U;
	uint64_t old = insn_reg_read(c, reg);
	uint64_t v = size == 4U ? value & mask : (old & ~mask) | (value & mask);

	store64(c->state, reg_offsets[reg & 15U], v);
}

/* The length of a ModRM memory operand from the ModRM byte on (ModRM, SIB, displacement);
 * 0 for a register operand. */
static size_t modrm_length(const uint8_t *b, size_t n)
{
	uint8_t mod = b[0] >> 6, rm = b[0] & 7U;
	size_t len = 1;

	if (mod == 3U) {
		return 0;
	}
	if (rm == 4U) {
		if (n < 2U) {
			return 0;
		}
		len++;
		if (mod == 0U && (b[1] & 7U) == 5U) {
			len += 4U;
		}
	} else if (mod == 0U && rm == 5U) {
		len += 4U;
	}
	return len + (mod == 1U ? 1U : mod == 2U ? 4U : 0U);
}

bool insn_mmio(struct native_cpu *c, struct insn_mmio *op, const char **why)
{
	uint8_t b[GWALK_INSN_MAX];
	enum gwalk_result res = GWALK_OK;
	size_t i = 0;
	uint8_t last = 0;
	size_t n = fetch_insn(c, b, &i, &last, &res);
	bool opsize16 = false;
	uint8_t rex = 0;

	for (size_t k = 0; k < i; k++) {
		if (b[k] == 0x66U) {
			opsize16 = true;
		}
	}
	if (i > 0U && (b[i - 1U] & 0xF0U) == 0x40U) {
		rex = b[i - 1U];
	}
	*why = res != GWALK_OK ? gwalk_result_str(res) : "not a MOV this platform decodes";
	/* Outside 64-bit mode operand and address sizes follow CS.D and 0x67: not decoded. */
	if (!long64_mode(c->state)) {
		*why = "MMIO outside 64-bit mode";
		return false;
	}
	if (i + 2U > n) {
		return false;
	}
	unsigned wide = (rex & 8U) != 0U ? 8U : opsize16 ? 2U : 4U;
	uint8_t opc = b[i];
	size_t at = i + 1U;

	*op = (struct insn_mmio){ .reg = -1 };
	switch (opc) {
	case 0x88:
	case 0x89:
	case 0x8A:
	case 0x8B:
		op->write = opc <= 0x89U;
		op->size = (opc & 1U) != 0U ? wide : 1U;
		break;
	case 0xC6:
	case 0xC7:
		op->write = true;
		op->size = opc == 0xC7U ? wide : 1U;
		break;
	case 0x0F:
		if (b[at] != 0xB6U && b[at] != 0xB7U) {
			return false;
		}
		op->size = b[at] == 0xB6U ? 1U : 2U;
		at++;
		break;
	default:
		return false;
	}
	op->dst_size = opc == 0x0FU ? wide : op->size;
	if (at >= n) {
		return false;
	}
	size_t mlen = modrm_length(&b[at], n - at);
	unsigned reg = ((b[at] >> 3) & 7U) | ((rex & 4U) != 0U ? 8U : 0U);

	if (mlen == 0U || at + mlen > n) {
		return false;
	}
	at += mlen;
	if (opc == 0xC6U || opc == 0xC7U) {
		/* /0 only; the immediate is 1, 2 or 4 bytes (sign-extended for 8). */
		size_t isz = op->size == 8U ? 4U : op->size;
		uint64_t imm = 0;

		if (reg % 8U != 0U || at + isz > n) {
			return false;
		}
		for (size_t k = 0; k < isz; k++) {
			imm |= (uint64_t)b[at + k] << (8U * k);
		}
		if (op->size == 8U && (imm & 0x80000000ULL) != 0U) {
			imm |= 0xFFFFFFFF00000000ULL;
		}
		op->imm = imm;
		at += isz;
	} else {
		/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
		if (op->size == 1U && opc != 0x0FU && rex == 0U && reg >= 4U) {
			*why = "a high-byte register";
			return false;
		}
		op->reg = (int)reg;
	}
	op->len = (unsigned)at;
	return true;
}
