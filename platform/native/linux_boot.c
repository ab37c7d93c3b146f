/* Starting Linux on the native platform (linux-guest.md sections 2 and 3). QEMU loads the
 * bundle (include/donjon/linux_boot.h) as the PVH module; Donjon plays the boot loader and
 * the SEV-SNP firmware: the kernel goes to its preferred address, the initramfs stays where
 * QEMU put it, and Donjon builds boot_params (setup header, command line, E820 map, initrd,
 * ACPI RSDP, setup_data SETUP_CC_BLOB), the CC blob, CPUID page, secrets page and first
 * calling area, a GDT and identity page tables for the 64-bit entry. Every page of RAM is
 * validated before Linux's first instruction: without UEFI there is no unaccepted memory. */
#include "linux_boot.h"

#include <donjon/bytes.h>
#include <donjon/linux_boot.h>
#include <donjon/svsm.h>
#include <donjon/svsm_abi.h>
#include <donjon/vmsa.h>

#include "arch/x86/cpu.h"
#include "acpi_tables.h"
#include "cpuid_policy.h"
#include "machine.h"
#include "native.h"
#include "vmsa_init.h"

#define PTE_P 1ULL
#define PTE_RW 2ULL
#define PTE_PS 0x80ULL
/* __BOOT_CS and __BOOT_DS, which the 64-bit boot protocol requires: flat 64-bit code and
 * flat data. */
#define BOOT_CS 0x10U
#define BOOT_DS 0x18U
#define GDT_CODE64 0x00AF9B000000FFFFULL
#define GDT_DATA 0x00CF93000000FFFFULL

struct linux_image {
	uint64_t bundle_pa, bundle_size;
	const uint8_t *bz; /* the bzImage, inside the bundle */
	uint64_t bz_size;
	uint64_t pm_off; /* the protected-mode kernel's offset in it */
	uint64_t load;	 /* where it runs from */
	uint64_t initrd, initrd_size;
	const char *cmdline;
	uint64_t cmdline_size;
};

static bool part_inside(uint64_t off, uint64_t size, uint64_t total)
{
	return (off & (PAGE_SIZE - 1U)) == 0U && off >= LINUX_BUNDLE_HEADER && size <= total &&
	       off <= total - size;
}

bool linux_bundle_service(const uint8_t **elf, size_t *len)
{
	uint64_t pa = 0, size = 0;
	const struct linux_bundle_header *h = NULL;

	*elf = NULL;
	*len = 0;
	if (!boot_module(&pa, &size) || size < LINUX_BUNDLE_HEADER ||
	    (h = kernel_ptr(pa, LINUX_BUNDLE_HEADER)) == NULL ||
	    __builtin_memcmp(h->magic, LINUX_BUNDLE_MAGIC, 8) != 0 ||
	    h->version != LINUX_BUNDLE_VERSION || h->service_size == 0U ||
	    !part_inside(h->service_off, h->service_size, size)) {
		return false;
	}
	*elf = kernel_ptr(pa + h->service_off, h->service_size);
	*len = h->service_size;
	return *elf != NULL;
}

/* The bundle's header and the bzImage's setup header, checked; false with a message. */
static bool read_bundle(struct linux_image *li, uint64_t mem_size)
{
	const struct linux_bundle_header *h = NULL;

	if (!boot_module(&li->bundle_pa, &li->bundle_size) ||
	    li->bundle_size < LINUX_BUNDLE_HEADER ||
	    (h = kernel_ptr(li->bundle_pa, LINUX_BUNDLE_HEADER)) == NULL) {
		log_msg(LOG_ERR, "linux: no bundle (QEMU -initrd build/linux/bundle.bin)");
		return false;
	}
	if (__builtin_memcmp(h->magic, LINUX_BUNDLE_MAGIC, 8) != 0 ||
	    h->version != LINUX_BUNDLE_VERSION || h->header_size != LINUX_BUNDLE_HEADER ||
	    !part_inside(h->kernel_off, h->kernel_size, li->bundle_size) ||
	    !part_inside(h->initrd_off, h->initrd_size, li->bundle_size) ||
	    !part_inside(h->cmdline_off, h->cmdline_size, li->bundle_size) ||
	    (h->service_size != 0U &&
	     !part_inside(h->service_off, h->service_size, li->bundle_size)) ||
	    h->cmdline_size > LINUX_CMDLINE_MAX || h->kernel_size < 0x1000U ||
	    (li->bundle_pa & (PAGE_SIZE - 1U)) != 0U) {
		log_msg(LOG_ERR, "linux: the bundle's header is not one make-bundle writes");
		return false;
	}
	li->bz = kernel_ptr(li->bundle_pa + h->kernel_off, h->kernel_size);
	li->bz_size = h->kernel_size;
	li->initrd = li->bundle_pa + h->initrd_off;
	li->initrd_size = h->initrd_size;
	li->cmdline = kernel_ptr(li->bundle_pa + h->cmdline_off,
				 h->cmdline_size != 0U ? h->cmdline_size : 1U);
	li->cmdline_size = h->cmdline_size;
	if (li->bz == NULL || li->cmdline == NULL) {
		return false;
	}
	unsigned sects = li->bz[BP_SETUP_SECTS] != 0U ? li->bz[BP_SETUP_SECTS] : 4U;
	uint64_t align = load32(li->bz, BP_KERNEL_ALIGNMENT);
	uint64_t init_size = load32(li->bz, BP_INIT_SIZE);

	li->pm_off = (uint64_t)(sects + 1U) * 512U;
	if (__builtin_memcmp(li->bz + BP_HEADER_MAGIC, "HdrS", 4) != 0 ||
	    (uint16_t)load32(li->bz, BP_VERSION) < BP_MIN_VERSION ||
	    (load32(li->bz, BP_XLOADFLAGS) & XLF_KERNEL_64) == 0U || li->bz[BP_RELOCATABLE] == 0U ||
	    li->pm_off + 0x1000U > li->bz_size || align == 0U || (align & (align - 1U)) != 0U) {
		log_msg(LOG_ERR, "linux: not a relocatable 64-bit bzImage of boot protocol 2.12+");
		return false;
	}
	/* Its preferred address, else the first aligned one Donjon's layout allows. */
	uint64_t pref = load64(li->bz, BP_PREF_ADDRESS);
	uint64_t span = init_size > li->bz_size ? init_size : li->bz_size;

	li->load = pref >= LINUX_KERNEL_MIN && (pref & (align - 1U)) == 0U
			   ? pref
			   : (LINUX_KERNEL_MIN + align - 1U) & ~(align - 1U);
	if (span > mem_size || li->load > mem_size - span ||
	    (li->load < li->bundle_pa + li->bundle_size && li->bundle_pa < li->load + span)) {
		log_msg(LOG_ERR,
			"linux: no room for the kernel (%lu MiB) at 0x%lx below the bundle",
			span >> 20, li->load);
		return false;
	}
	return true;
}

/* boot_params: the bzImage's setup header and what a boot loader fills in. */
static void build_zero_page(const struct linux_image *li, uint8_t *bp, uint64_t mem_size,
			    uint64_t rsdp)
{
	static const struct {
		uint64_t base, size;
		uint32_t type;
	} map[] = {
		{ 0, LINUX_SECRETS, E820_RAM },
		{ LINUX_SECRETS, LINUX_ACPI - LINUX_SECRETS, E820_RESERVED },
		{ LINUX_ACPI, LINUX_ACPI_SIZE, E820_ACPI },
	};
	unsigned hdr_end = 0x202U + li->bz[BP_HEADER_JUMP];
	unsigned n = 0;

	__builtin_memset(bp, 0, PAGE_SIZE);
	__builtin_memcpy(bp + BP_SETUP_SECTS, li->bz + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
	bp[BP_TYPE_OF_LOADER] = LINUX_LOADER_UNDEFINED;
	bp[BP_LOADFLAGS] |= LOADFLAG_LOADED_HIGH;
	store32(bp, BP_CODE32_START, (uint32_t)li->load);
	store32(bp, BP_RAMDISK_IMAGE, (uint32_t)li->initrd);
	store32(bp, BP_RAMDISK_SIZE, (uint32_t)li->initrd_size);
	store32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(li->initrd >> 32));
	store32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)(li->initrd_size >> 32));
	store32(bp, BP_CMD_LINE_PTR, (uint32_t)LINUX_CMDLINE_PAGE);
	store64(bp, BP_SETUP_DATA, LINUX_CC_BLOB + sizeof(struct linux_cc_blob));
	store64(bp, BP_ACPI_RSDP_ADDR, rsdp);
	for (; n < sizeof(map) / sizeof(map[0]); n++) {
		store64(bp, BP_E820_TABLE + n * 20U, map[n].base);
		store64(bp, BP_E820_TABLE + n * 20U + 8U, map[n].size);
		store32(bp, BP_E820_TABLE + n * 20U + 16U, map[n].type);
	}
	store64(bp, BP_E820_TABLE + n * 20U, NATIVE_GUEST_BASE);
	store64(bp, BP_E820_TABLE + n * 20U + 8U, mem_size - NATIVE_GUEST_BASE);
	store32(bp, BP_E820_TABLE + n * 20U + 16U, E820_RAM);
	bp[BP_E820_ENTRIES] = (uint8_t)(n + 1U);
}

/* The machine's ACPI tables (machine.h's devices; the vCPUs with APIC IDs 0 to n-1) in
 * the E820 ACPI range; false if they do not fit. */
static bool build_acpi(unsigned vcpus, struct acpi_layout *out)
{
	uint32_t ids[NATIVE_MAX_VCPUS];
	/* As on a PC: the PIT's IRQ 0 on GSI 2, the SCI level-triggered, active high. */
	static const struct acpi_iso isos[] = {
		{ 0, 2, ACPI_INTI_EDGE | ACPI_INTI_ACTIVE_HIGH },
		{ MACHINE_SCI_IRQ, MACHINE_SCI_IRQ, ACPI_INTI_LEVEL | ACPI_INTI_ACTIVE_HIGH },
	};

	for (unsigned i = 0; i < vcpus && i < NATIVE_MAX_VCPUS; i++) {
		ids[i] = i;
	}
	const struct acpi_config cfg = {
		.oem_id = "DONJON",
		.vcpu_count = vcpus,
		.apic_ids = ids,
		.pm1a_evt_port = MACHINE_PM1A_EVT,
		.pm1a_cnt_port = MACHINE_PM1A_CNT,
		.pm_tmr_port = MACHINE_PM_TMR,
		.sci_int = MACHINE_SCI_IRQ,
		.cmos_rtc = true,
		.has_ioapic = true,
		.ioapic_id = 0,
		.ioapic_address = (uint32_t)MACHINE_IOAPIC_BASE,
		.ioapic_gsi_base = 0,
		.iso_count = sizeof(isos) / sizeof(isos[0]),
		.isos = isos,
	};

	return vcpus <= NATIVE_MAX_VCPUS &&
	       acpi_tables_build(kernel_ptr(LINUX_ACPI, LINUX_ACPI_SIZE), LINUX_ACPI_SIZE,
				 LINUX_ACPI, &cfg, out);
}

/* The CC blob and the setup_data that points Linux at it (one reserved page). */
static void build_cc_blob(uint8_t *page)
{
	struct linux_cc_blob blob = {
		.magic = CC_BLOB_MAGIC,
		.version = 0,
		.secrets_phys = LINUX_SECRETS,
		.secrets_len = PAGE_SIZE,
		.cpuid_phys = LINUX_CPUID,
		.cpuid_len = PAGE_SIZE,
	};
	struct linux_cc_setup_data sd = {
		.hdr = { .next = 0, .type = SETUP_CC_BLOB, .len = sizeof(uint32_t) },
		.cc_blob_address = (uint32_t)LINUX_CC_BLOB,
	};

	__builtin_memset(page, 0, PAGE_SIZE);
	__builtin_memcpy(page, &blob, sizeof(blob));
	__builtin_memcpy(page + sizeof(blob), &sd, sizeof(sd));
}

/* The CPUID page: the leaves Linux records, as the CPUID intercept answers them on the
 * startup vCPU (APIC ID 0). */
static void build_cpuid_page(uint8_t *page, const struct cpuid_policy *policy)
{
	struct snp_cpuid_table t;

	__builtin_memset(&t, 0, sizeof(t));
	t.count = CPUID_PAGE_LEAVES;
	for (unsigned i = 0; i < CPUID_PAGE_LEAVES; i++) {
		uint32_t host[4], out[4];

		cpuid(cpuid_page_leaves[i][0], cpuid_page_leaves[i][1], host);
		cpuid_guest(policy, cpuid_page_leaves[i][0], cpuid_page_leaves[i][1], host, out);
		t.fn[i] = (struct snp_cpuid_fn){
			.eax_in = cpuid_page_leaves[i][0],
			.ecx_in = cpuid_page_leaves[i][1],
			.xcr0_in = 1,
			.eax = out[0],
			.ebx = out[1],
			.ecx = out[2],
			.edx = out[3],
		};
	}
	__builtin_memset(page, 0, PAGE_SIZE);
	__builtin_memcpy(page, &t, sizeof(t));
}

/* 0-4 GiB identity-mapped with 2 MiB pages, without the C-bit (Linux adds it itself). */
static void build_page_tables(uint64_t *pml4)
{
	uint64_t *pdpt = pml4 + 512;
	uint64_t *pd = pml4 + 1024;

	__builtin_memset(pml4, 0, 6 * PAGE_SIZE);
	pml4[0] = (LINUX_PAGE_TABLES + 0x1000U) | PTE_P | PTE_RW;
	for (uint64_t g = 0; g < 4; g++) {
		pdpt[g] = (LINUX_PAGE_TABLES + 0x2000U + g * 0x1000U) | PTE_P | PTE_RW;
	}
	for (uint64_t i = 0; i < (uint64_t)4 * 512; i++) {
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	}
}

/* The startup vCPU at the 64-bit entry: __BOOT_CS and __BOOT_DS from a GDT in guest
 * memory, interrupts off, RSI = boot_params. */
static void build_vmsa(uint8_t *vmsa, const struct linux_image *li)
{
	vmsa_init_long_mode(vmsa, li->load + LINUX_ENTRY_64, 0, LINUX_PAGE_TABLES);
	store16(vmsa, VMSA_CS_OFF, BOOT_CS);
	store16(vmsa, VMSA_DS_OFF, BOOT_DS);
	store16(vmsa, VMSA_ES_OFF, BOOT_DS);
	store16(vmsa, VMSA_SS_OFF, BOOT_DS);
	store16(vmsa, VMSA_FS_OFF, BOOT_DS);
	store16(vmsa, VMSA_GS_OFF, BOOT_DS);
	store32(vmsa, VMSA_GDTR_OFF + 4U, 0x1FU);
	store64(vmsa, VMSA_GDTR_OFF + 8U, LINUX_GDT);
	store64(vmsa, VMSA_RSI_OFF, LINUX_ZERO_PAGE);
	store64(vmsa, VMSA_SEV_FEATURES_OFF, SEV_FEATURE_SNP_ACTIVE);
}

static bool validate_pages(uint64_t base, uint64_t end)
{
	for (uint64_t p = base; p < end; p += PAGE_SIZE) {
		if (!native_launch_validate(p)) {
			return false;
		}
	}
	return true;
}

/* The secrets page's SVSM fields: base, size, calling area, maximum version, guest VMPL. */
#define SVSM_FIELDS (SECRETS_SVSM_GUEST_VMPL_OFF + 1U - SECRETS_SVSM_BASE_OFF)

bool linux_launch_prepare(const struct native_launch_params *lp, const struct cpuid_policy *policy,
			  uint64_t *vmsa_out)
{
	struct linux_image li;
	uint64_t mem = lp->mem_size;
	uint64_t secrets = 0, vmsa = 0;
	struct svsm_boot boot = {
		.mem_size = mem,
		.svsm_base = gpa_init(LINUX_LOW_END),
		.svsm_size = NATIVE_SVSM_SIZE - LINUX_LOW_END,
		.guest_secrets = gpa_init(LINUX_SECRETS),
		.guest_vmpl = NATIVE_GUEST_VMPL,
		.vcpu_count = lp->vcpu_count,
		.startup_vcpu_count = 1,
		.state = lp->core_state,
		.state_size = lp->core_state_size,
		.guest_range_count = 3,
		.guest_ranges = {
			{ gpa_init(0), LINUX_SECRETS },
			{ gpa_init(LINUX_CPUID), LINUX_LOW_END - LINUX_CPUID },
			{ gpa_init(NATIVE_GUEST_BASE), mem - NATIVE_GUEST_BASE },
		},
	};

	if (!read_bundle(&li, mem) || !pmm_alloc(&secrets) || !pmm_alloc(&vmsa)) {
		return false;
	}
	/* The low memory held Donjon's AP trampoline and the firmware's data (the BIOS data
	 * area would send Linux to look for an EBDA outside its memory): the guest gets it
	 * cleared. */
	uint8_t *low = kernel_ptr(PAGE_SIZE, LINUX_LOW_END - PAGE_SIZE);
	uint8_t *kernel = kernel_ptr(li.load, li.bz_size - li.pm_off);

	if (low == NULL || kernel == NULL || !validate_pages(0, LINUX_LOW_END) ||
	    !validate_pages(NATIVE_GUEST_BASE, mem) || !native_launch_vmsa(vmsa)) {
		log_msg(LOG_ERR, "linux: guest memory missing");
		return false;
	}
	__builtin_memset(low, 0, LINUX_LOW_END - PAGE_SIZE);
	clear_page0();
	__builtin_memmove(kernel, li.bz + li.pm_off, li.bz_size - li.pm_off);
	struct acpi_layout acpi;

	if (!build_acpi(lp->vcpu_count, &acpi)) {
		log_msg(LOG_ERR, "linux: the ACPI tables do not fit");
		return false;
	}
	build_zero_page(&li, kernel_ptr(LINUX_ZERO_PAGE, PAGE_SIZE), mem, acpi.rsdp.gpa);
	char *cl = kernel_ptr(LINUX_CMDLINE_PAGE, PAGE_SIZE);

	__builtin_memcpy(cl, li.cmdline, li.cmdline_size);
	cl[li.cmdline_size] = '\0';
	uint64_t *gdt = kernel_ptr(LINUX_GDT, PAGE_SIZE);

	gdt[BOOT_CS / 8U] = GDT_CODE64;
	gdt[BOOT_DS / 8U] = GDT_DATA;
	build_page_tables(kernel_ptr(LINUX_PAGE_TABLES, 6 * PAGE_SIZE));
	build_cc_blob(kernel_ptr(LINUX_CC_BLOB, PAGE_SIZE));
	build_cpuid_page(kernel_ptr(LINUX_CPUID, PAGE_SIZE), policy);
	build_vmsa(kernel_ptr(vmsa, PAGE_SIZE), &li);
	struct launch_part parts[] = {
		{ SNP_PAGE_NORMAL, li.load, li.bz_size - li.pm_off },
		{ SNP_PAGE_NORMAL, li.initrd, li.initrd_size },
		{ SNP_PAGE_NORMAL, LINUX_ZERO_PAGE, LINUX_SECRETS - LINUX_ZERO_PAGE },
		{ SNP_PAGE_CPUID, LINUX_CPUID, PAGE_SIZE },
		{ SNP_PAGE_NORMAL, LINUX_CC_BLOB, LINUX_LOW_END - LINUX_CC_BLOB },
	};

	launch_measure(parts, sizeof(parts) / sizeof(parts[0]), secrets, vmsa);
	boot.secrets = gpa_init(secrets);
	boot.vcpus[0] =
		(struct svsm_vcpu_boot){ .vmsa = gpa_init(vmsa), .caa = gpa_init(LINUX_CAA) };
	if (!svsm_init(&boot)) {
		log_msg(LOG_ERR, "linux: the core refused the launch layout");
		return false;
	}
	/* secrets=no-svsm (a test): the launch gives the guest a secrets page whose SVSM
	 * fields are zero, as on a machine without an SVSM, where a guest at VMPL2 must not
	 * run. */
	uint8_t *svsm_fields = kernel_ptr(LINUX_SECRETS + SECRETS_SVSM_BASE_OFF, SVSM_FIELDS);

	if (cmdline_is("secrets", "no-svsm") && svsm_fields != NULL) {
		__builtin_memset(svsm_fields, 0, SVSM_FIELDS);
		log_msg(LOG_INFO,
			"linux: the guest's secrets page names no SVSM (secrets=no-svsm)");
	}
	log_msg(LOG_INFO,
		"linux: kernel at 0x%lx (entry 0x%lx), initramfs at 0x%lx (%lu KiB), "
		"command line '%s'",
		li.load, li.load + LINUX_ENTRY_64, li.initrd, li.initrd_size >> 10, cl);
	*vmsa_out = vmsa;
	return true;
}
