/* The VMSA fields Donjon reads or writes (AMD APM vol. 2, SEV-ES save area; the SVM VMCB
 * save area at VMCB+0x400 uses the same offsets for these fields). */
#ifndef DONJON_VMSA_H
#define DONJON_VMSA_H

/* Segment registers: {u16 selector, u16 attrib, u32 limit, u64 base} each. */
#define VMSA_ES_OFF 0x000U
#define VMSA_CS_OFF 0x010U
#define VMSA_SS_OFF 0x020U
#define VMSA_DS_OFF 0x030U
#define VMSA_FS_OFF 0x040U
#define VMSA_GS_OFF 0x050U
#define VMSA_GDTR_OFF 0x060U
#define VMSA_LDTR_OFF 0x070U
#define VMSA_IDTR_OFF 0x080U
#define VMSA_TR_OFF 0x090U
#define VMSA_SEGS_END 0x0A0U
#define VMSA_VMPL_OFF 0x0CAU
#define VMSA_CPL_OFF 0x0CBU
#define VMSA_EFER_OFF 0x0D0U
#define VMSA_CR4_OFF 0x148U
#define VMSA_CR3_OFF 0x150U
#define VMSA_CR0_OFF 0x158U
#define VMSA_DR7_OFF 0x160U
#define VMSA_DR6_OFF 0x168U
#define VMSA_RFLAGS_OFF 0x170U
#define VMSA_RIP_OFF 0x178U
#define VMSA_RSP_OFF 0x1D8U
#define VMSA_G_PAT_OFF 0x268U
#define VMSA_RAX_OFF 0x1F8U
#define VMSA_CR2_OFF 0x240U
#define VMSA_RCX_OFF 0x308U
#define VMSA_RDX_OFF 0x310U
#define VMSA_RBX_OFF 0x318U
#define VMSA_RBP_OFF 0x328U
#define VMSA_RSI_OFF 0x330U
#define VMSA_RDI_OFF 0x338U
#define VMSA_R8_OFF 0x340U
#define VMSA_R9_OFF 0x348U
#define VMSA_R10_OFF 0x350U
#define VMSA_R11_OFF 0x358U
#define VMSA_R12_OFF 0x360U
#define VMSA_R13_OFF 0x368U
#define VMSA_R14_OFF 0x370U
#define VMSA_R15_OFF 0x378U
#define VMSA_XCR0_OFF 0x3E8U
#define VMSA_MXCSR_OFF 0x408U
#define VMSA_X87_FCW_OFF 0x410U
#define VMSA_SEV_FEATURES_OFF 0x3B0U
#define VMSA_EXIT_CODE_OFF 0x3C0U

#define EFER_SVME (1ULL << 12)
#define VMEXIT_VMGEXIT 0x403ULL
#define SEV_FEATURE_SNP_ACTIVE (1ULL << 0)

#endif
