/* What core/ may ask of a machine. One implementation per platform (sim, native, snp),
 * chosen at link time. Every call returns the architectural result so core/ maps it to
 * SVSM result codes in one place (core/protocol/core_protocol.c). */
#ifndef DONJON_PLATFORM_H
#define DONJON_PLATFORM_H

#include <donjon/crypto.h>
#include <donjon/types.h>

/* Results of PVALIDATE and RMPADJUST: EAX values, plus CF=1 and a fault. */
enum rmp_result {
	RMP_SUCCESS = 0,
	RMP_FAIL_INPUT = 1,
	RMP_FAIL_PERMISSION = 2,
	/* RMPADJUST would clear the VMSA bit of a VMSA that a CPU is still running. */
	RMP_FAIL_INUSE = 3,
	RMP_FAIL_SIZEMISMATCH = 6,
	/* PVALIDATE set CF=1: the validated bit already had the requested value. */
	RMP_NO_UPDATE = 0x10,
	/* The instruction faulted (#NPF/#GP): the page is not assigned to this guest, lies
	 * outside guest memory, or the caller may not run the instruction. */
	RMP_FAULT = 0x100,
};

/* VMPL permission mask bits (RMPADJUST RDX[15:8], one nibble per VMPL). */
#define RMP_PERM_READ 0x1U
#define RMP_PERM_WRITE 0x2U
#define RMP_PERM_EXEC_USER 0x4U
#define RMP_PERM_EXEC_SUPER 0x8U
#define RMP_PERM_ALL 0xFU

#define VMPL_COUNT 4U

/* PVALIDATE at VMPL0 on the page (4K or 2M, aligned) at gpa. */
enum rmp_result plat_pvalidate(gpa_t gpa, enum page_size size, bool validate);

/* RMPADJUST at VMPL0: give target_vmpl (1..3) the permission mask perms; vmsa sets or
 * clears the page's VMSA bit. */
enum rmp_result plat_rmpadjust(gpa_t gpa, enum page_size size, unsigned target_vmpl, uint8_t perms,
			       bool vmsa);

/* Map [gpa, gpa + len) for the SVSM's own (VMPL0) access. Returns NULL if any page of
 * the range is not accessible to VMPL0 (not assigned or not validated); the caller then
 * treats the address as invalid. The mapping is valid until plat_unmap. */
void *plat_map(gpa_t gpa, size_t len);
void plat_unmap(const void *ptr, size_t len);

/* Map [gpa, gpa + len) of memory shared with the host (hypervisor-owned, never a guest's
 * private page) for the SVSM's access: the migration mailbox and ring. NULL if any page of
 * the range is private or outside memory, or the platform shares no memory with the SVSM.
 * The host may change it at any time. */
void *plat_map_shared(gpa_t gpa, size_t len);

/* DELETE_VCPU: the VMSA at vmsa, whose EFER.SVME the core has just cleared, is not
 * executing on any CPU when this returns true, and will not be entered again until it is
 * made a VMSA anew. False if it may still be executing (on SNP hardware the host runs
 * vCPUs, and may not let go); the core then answers FAIL_INUSE and the page stays a VMSA.
 * The simulator and the native platform always return true (native: a CPU that does not
 * leave guest mode stops the machine). Also called for the caller's own VMSA. */
bool plat_vmsa_stop(gpa_t vmsa);

/* An SNP guest request: hand the sealed message page req to the PSP and receive its
 * sealed answer in resp (both 4 KiB; on SNP the host carries them through shared pages).
 * Returns the firmware status (0 on success). */
uint32_t plat_guest_request(const void *req, void *resp);

/* Fill buf with entropy. Returns false if the platform has none to give. */
bool plat_random(void *buf, size_t len);
/* The public key of the manufacturer's root that chip keys chain to (include/donjon/
 * chip_cert.h): on SEV-SNP hardware this would be AMD's ARK, fixed per product line and
 * built into Donjon; on the simulated machines it is the model's root. */
bool plat_chip_root(uint8_t pub[CRYPTO_P384_POINT_SIZE]);

/* The services the platform may run for Donjon, each a program speaking
 * include/donjon/service_channel.h (the simulator runs them as child processes). */
enum svsm_service {
	SVSM_SERVICE_VTPM = 0,
	SVSM_SERVICE_COUNT,
};

/* True while the platform runs service s: it was configured and has not been stopped. */
bool plat_service_running(enum svsm_service s);

/* One exchange on service s's channel: send req (a whole request, header and payload,
 * req_len bytes), then receive one response, header and payload, into resp: *resp_len
 * bytes, at most resp_cap. The platform reads the response's length field to know where it
 * ends and checks nothing else: every field is the caller's to check. False if the service
 * is not running, or did not answer: it died, ran past its time budget, or sent a response
 * longer than resp_cap or cut short; the platform has then stopped it for good and said
 * why. */
bool plat_service_exchange(enum svsm_service s, const void *req, size_t req_len, void *resp,
			   size_t resp_cap, size_t *resp_len);

/* Service s's own start-up is over (for the vTPM: TPM2_Startup and its EK, or the state a
 * migration brought): from here on each exchange is held to the per-command time budget.
 * Before, exchanges may take as long as the platform's start budget allows, so that a
 * short command budget does not stop a service in work the guest never asked for. */
void plat_service_started(enum svsm_service s);

/* A buffer of len bytes in Donjon's private memory for a service's state (a whole state
 * blob is far larger than any other message), the same one at every call; NULL if the
 * platform runs no services or has no such memory. */
void *plat_service_state_buffer(size_t len);

/* Stop service s for good, because of what it sent (why: a short reason for the report).
 * Nothing of it runs after this returns. */
void plat_service_stop(enum svsm_service s, const char *why);

#endif
