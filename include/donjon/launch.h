/* The launch description Donjon's IGVM file carries: one measured page the builder
 * writes and the SVSM reads first, saying where everything else is. Its gPA is in the
 * SVSM's first register at entry (RBX, as the PVH start info is), and its first word tells
 * the two apart. Little-endian, 4 KiB. */
#ifndef DONJON_LAUNCH_H
#define DONJON_LAUNCH_H

#include <stdint.h>

#define LAUNCH_INFO_MAGIC 0x4C4E4A44U /* "DJNL" */
#define LAUNCH_INFO_VERSION 1U

/* The general parameter page (an IGVM parameter area): the host writes the vCPU count at
 * +0 (u32) and the environment flags at +4 (u32, bit 0: memory starts shared). */
#define LAUNCH_PARAM_VCPUS_OFF 0U
#define LAUNCH_PARAM_ENV_OFF 4U
#define LAUNCH_ENV_MEMORY_SHARED 0x1U

/* The memory map the host writes: IGVM MEMORY_MAP entries, sorted, unused ones zero. */
struct launch_memory_map_entry {
	uint64_t starting_gpa_page_number;
	uint64_t number_of_pages;
	uint16_t entry_type; /* 0 RAM, 1 platform reserved, 2 persistent */
	uint16_t flags;
	uint32_t reserved;
};
_Static_assert(sizeof(struct launch_memory_map_entry) == 24, "IGVM MEMORY_MAP entry");

/* The guest's migration policy, fixed at launch and so part of the launch digest (in the
 * launch info of an IGVM file; in a measured page of the simulator's own launch). All zero:
 * the guest never migrates. Checked by core/migrate/policy.c before any page moves. */
#define LAUNCH_MIGRATE_OUT 0x1U	     /* the guest may leave this machine (Donjon a source) */
#define LAUNCH_MIGRATE_IN 0x2U	     /* a guest may arrive (Donjon a destination) */
#define LAUNCH_MIGRATE_TEST_KEY 0x4U /* sessions keyed by the pre-shared test key */
/* The peer must attest the same launch digest as this SVSM's. */
#define LAUNCH_MIGRATE_SAME_MEASUREMENT 0x8U
#define LAUNCH_MIGRATE_FLAGS_KNOWN 0xFU
#define LAUNCH_MIGRATE_MEASUREMENTS 4U
#define LAUNCH_MEASUREMENT_SIZE 48U

struct launch_migrate_policy {
	uint32_t flags;		    /* LAUNCH_MIGRATE_ bits */
	uint32_t measurement_count; /* peers' launch digests allowed besides SAME_MEASUREMENT */
	uint64_t min_tcb;	    /* each byte of the peer's REPORTED_TCB at least this one's */
	uint8_t measurements[LAUNCH_MIGRATE_MEASUREMENTS][LAUNCH_MEASUREMENT_SIZE];
};
_Static_assert(sizeof(struct launch_migrate_policy) == 208, "migration policy layout");

struct launch_info {
	uint32_t magic;
	uint32_t version;
	uint64_t svsm_base; /* Donjon's range: the kernel, these pages, its memory */
	uint64_t svsm_size;
	uint64_t params;	   /* general parameter page */
	uint64_t memory_map;	   /* memory map pages */
	uint64_t memory_map_size;  /* bytes */
	uint64_t secrets;	   /* the PSP's secrets page */
	uint64_t cpuid;		   /* the CPUID page */
	uint64_t guest_secrets;	   /* the guest's copy, a launch page in guest memory */
	uint64_t guest_caa;	   /* the guest BSP's first calling area */
	uint64_t guest_params;	   /* the test guest's parameter page (vCPU count at +0) */
	uint64_t guest_image;	   /* the guest image Donjon starts at guest_vmpl */
	uint64_t guest_image_size; /* bytes, page multiple */
	uint64_t guest_entry;
	uint32_t guest_vmpl;
	uint32_t reserved;
	/* Zero in a file built without one: no migration. */
	struct launch_migrate_policy migrate;
};

#endif
