/* The long-mode start state of a guest vCPU, in VMSA form. */
#include "vmsa_init.h"

#include <donjon/bytes.h>
#include <donjon/vmsa.h>

/* A segment in VMSA form: selector, attributes, limit, base. */
static void put_segment(uint8_t *vmsa, unsigned off, uint16_t sel, uint16_t attr)
{
	uint32_t limit = 0xFFFFFFFFU;

	__builtin_memcpy(vmsa + off, &sel, 2);
	__builtin_memcpy(vmsa + off + 2, &attr, 2);
	__builtin_memcpy(vmsa + off + 4, &limit, 4);
	store64(vmsa, off + 8, 0);
}

void vmsa_init_long_mode(uint8_t *vmsa, uint64_t rip, uint64_t rsp, uint64_t cr3)
{
	for (unsigned i = 0; i < 4096U; i++) {
		vmsa[i] = 0;
	}
	put_segment(vmsa, 0x010, 0x08, 0x0A9B); /* CS: long mode code */
	put_segment(vmsa, 0x000, 0x10, 0x0C93); /* ES */
	put_segment(vmsa, 0x020, 0x10, 0x0C93); /* SS */
	put_segment(vmsa, 0x030, 0x10, 0x0C93); /* DS */
	put_segment(vmsa, 0x040, 0x10, 0x0C93); /* FS */
	put_segment(vmsa, 0x050, 0x10, 0x0C93); /* GS */
	put_segment(vmsa, 0x070, 0, 0x0082);	/* LDTR */
	put_segment(vmsa, 0x090, 0, 0x008B);	/* TR */
	vmsa[VMSA_VMPL_OFF] = 2U;
	store64(vmsa, VMSA_EFER_OFF, 0x500U | EFER_SVME); /* LME, LMA */
	store64(vmsa, VMSA_CR4_OFF, 0x20U | 0x200U);	  /* CR4: PAE, OSFXSR */
	store64(vmsa, VMSA_CR3_OFF, cr3);
	store64(vmsa, VMSA_CR0_OFF, 0x80010033U); /* CR0: PG, WP, NE, ET, MP, PE */
	store64(vmsa, VMSA_DR7_OFF, 0x400U);
	store64(vmsa, VMSA_DR6_OFF, 0xFFFF0FF0U);
	store64(vmsa, VMSA_RFLAGS_OFF, 0x2U);
	store64(vmsa, VMSA_RIP_OFF, rip);
	store64(vmsa, VMSA_RSP_OFF, rsp);
	store64(vmsa, VMSA_G_PAT_OFF, 0x0007040600070406ULL);
	store64(vmsa, VMSA_SEV_FEATURES_OFF, SEV_FEATURE_SNP_ACTIVE);
}
