/* The only path from a guest physical address to memory. Guest-supplied buffers go
 * through guestmem_* (checked against what the guest may access, copied once); the SVSM's
 * own pages through svsmmem_*. Callers hold the core lock. */
#ifndef CORE_MM_GUESTMEM_H
#define CORE_MM_GUESTMEM_H

#include <donjon/types.h>

/* The caller of an SVSM call: its VMPL and the calling area it called through, which is
 * the one SVSM-tracked page besides ordinary guest memory that it may pass as a buffer. */
struct guest_view {
	unsigned vmpl;
	gpa_t own_caa;
};

/* Copy between a guest buffer and SVSM memory. False (nothing copied) if any byte of the
 * range is outside guest memory, owned by the SVSM, another vCPU's calling area or VMSA,
 * not validated, or not readable (copy_in) / writable (copy_out) by the caller's VMPL. */
bool guestmem_copy_in(const struct guest_view *g, gpa_t gpa, void *dst, size_t len);
bool guestmem_copy_out(const struct guest_view *g, gpa_t gpa, const void *src, size_t len);

/* True if the caller may write every byte of [gpa, gpa + len) (same rules as copy_out). */
bool guestmem_writable(const struct guest_view *g, gpa_t gpa, size_t len);

/* The SVSM's own access at VMPL0, for pages whose ownership the caller has checked.
 * False if the platform cannot map the range (not validated or not assigned). */
bool svsmmem_copy_in(gpa_t gpa, void *dst, size_t len);
bool svsmmem_copy_out(gpa_t gpa, const void *src, size_t len);
bool svsmmem_zero(gpa_t gpa, size_t len);
/* The 8-byte field at gpa (8-byte aligned) with the bits of clear cleared and those of set
 * set, through one mapping. */
bool svsmmem_update64(gpa_t gpa, uint64_t clear, uint64_t set);

#endif
