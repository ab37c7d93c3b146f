/* The VMSA fields Donjon reads or writes (AMD APM vol. 2, SEV-ES save area; the SVM VMCB
 * save area at VMCB+0x400 uses the same offsets for these fields). */
#ifndef DONJON_VMSA_H
#define DONJON_VMSA_H

#define VMSA_VMPL_OFF 0x0CAU
#define VMSA_CPL_OFF 0x0CBU
#define VMSA_EFER_OFF 0x0D0U
#define VMSA_RIP_OFF 0x178U
#define VMSA_RAX_OFF 0x1F8U
#define VMSA_RCX_OFF 0x308U
#define VMSA_RDX_OFF 0x310U
#define VMSA_R8_OFF 0x340U
#define VMSA_R9_OFF 0x348U
#define VMSA_SEV_FEATURES_OFF 0x3B0U
#define VMSA_EXIT_CODE_OFF 0x3C0U

#define EFER_SVME (1ULL << 12)
#define VMEXIT_VMGEXIT 0x403ULL
#define SEV_FEATURE_SNP_ACTIVE (1ULL << 0)

#endif
