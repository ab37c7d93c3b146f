/* Launching the guest on the native platform: what the PSP and the host do on SEV-SNP.
 * The guest's image, stack and page tables and its secrets and calling-area pages are
 * validated before it runs; Donjon's core takes over; the guest starts in long mode. */
#include "launch.h"

#include <donjon/svsm.h>
#include <donjon/svsm_abi.h>
#include <donjon/bytes.h>
#include <donjon/vmsa.h>

#include "native.h"
#include "svm.h"
#include "vmsa_init.h"

#define PTE_P 1ULL
#define PTE_RW 2ULL
#define PTE_PS 0x80ULL

extern const uint8_t guest_image_start[], guest_image_end[];

/* The guest's own page tables: 0-4 GiB mapped 1:1 with 2 MiB pages. */
static void build_guest_page_tables(void)
{
	uint64_t *pml4 = kernel_ptr(GUEST_PAGE_TABLES, GUEST_PAGE_TABLE_PAGES * PAGE_SIZE);
	uint64_t *pdpt = pml4 + 512;
	uint64_t *pd = pml4 + 1024;

	pml4[0] = (GUEST_PAGE_TABLES + 0x1000U) | PTE_P | PTE_RW;
	for (uint64_t g = 0; g < 4; g++) {
		pdpt[g] = (GUEST_PAGE_TABLES + 0x2000U + g * 0x1000U) | PTE_P | PTE_RW;
	}
	for (uint64_t i = 0; i < (uint64_t)4 * 512; i++) {
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	}
}

static bool validate_range(uint64_t base, uint64_t size, struct svsm_guest_range *r)
{
	for (uint64_t p = base; p < base + size; p += 4096U) {
		if (!native_launch_validate(p)) {
			return false;
		}
	}
	*r = (struct svsm_guest_range){ .base = gpa_init(base), .size = size };
	return true;
}

/* The pages the launch gives Donjon itself: allocated once, rewritten at every launch. */
static uint64_t secrets_page;
static uint64_t startup_vmsa;

/* The launch digest on this platform (docs/spec-notes.md): the PAGE_INFO chain of the
 * SEV-SNP launch over Donjon's own code and read-only data as it finds them in memory, the
 * guest's pages, its secrets page and its first VMSA, computed by Donjon itself. It says
 * which code runs to whoever trusts Donjon; no hardware vouches for it, and the chip key
 * that signs it is made at every boot. The PSP then fills Donjon's secrets page. */
void launch_measure(const struct launch_part *parts, unsigned count, uint64_t secrets,
		    uint64_t vmsa)
{
	uint64_t start = 0, end = 0;

	native_psp_launch_begin();
	kernel_image_constant(&start, &end);
	for (uint64_t pa = start; pa < end; pa += PAGE_SIZE) {
		native_psp_measure(SNP_PAGE_NORMAL, pa, kernel_ptr(pa, PAGE_SIZE));
	}
	for (unsigned i = 0; i < count; i++) {
		uint64_t base = parts[i].gpa & ~(PAGE_SIZE - 1U);

		for (uint64_t pa = base; pa < parts[i].gpa + parts[i].len; pa += PAGE_SIZE) {
			native_psp_measure(parts[i].type, pa, kernel_ptr(pa, PAGE_SIZE));
		}
	}
	native_psp_measure(SNP_PAGE_SECRETS, secrets, NULL);
	native_psp_measure(SNP_PAGE_VMSA, SNP_VMSA_MEASURE_GPA, kernel_ptr(vmsa, PAGE_SIZE));
	native_psp_launch_end(kernel_ptr(secrets, PAGE_SIZE));
}

bool native_launch_prepare(const struct native_launch_params *lp, uint64_t *vmsa_out)
{
	/* Two linker symbols around the image: compare their addresses, not the objects. */
	uint64_t image_size = (uint64_t)((uintptr_t)guest_image_end - (uintptr_t)guest_image_start);
	struct svsm_boot boot = {
		.mem_size = lp->mem_size,
		.svsm_base = gpa_init(0),
		.svsm_size = NATIVE_SVSM_SIZE,
		.guest_secrets = gpa_init(GUEST_SECRETS),
		.guest_vmpl = NATIVE_GUEST_VMPL,
		.vcpu_count = lp->vcpu_count,
		.startup_vcpu_count = 1,
		.state = lp->core_state,
		.state_size = lp->core_state_size,
		.guest_range_count = 4,
	};

	if ((secrets_page == 0U && !pmm_alloc(&secrets_page)) ||
	    (startup_vmsa == 0U && !pmm_alloc(&startup_vmsa))) {
		log_msg(LOG_ERR, "launch: no memory for the SVSM's pages");
		return false;
	}
	if (image_size > GUEST_IMAGE_MAX || !native_launch_validate(GUEST_SECRETS) ||
	    !native_launch_validate(GUEST_CAA(0)) || !native_launch_vmsa(startup_vmsa) ||
	    !validate_range(GUEST_PAGE_TABLES, GUEST_PAGE_TABLE_PAGES * PAGE_SIZE,
			    &boot.guest_ranges[0]) ||
	    !validate_range(GUEST_STACK_TOP - GUEST_STACK_PAGES * PAGE_SIZE,
			    GUEST_STACK_PAGES * PAGE_SIZE, &boot.guest_ranges[1]) ||
	    !validate_range(GUEST_PARAMS, PAGE_SIZE, &boot.guest_ranges[3]) ||
	    !validate_range(GUEST_IMAGE, (image_size + 4095U) & ~4095ULL, &boot.guest_ranges[2])) {
		log_msg(LOG_ERR, "launch: guest memory missing");
		return false;
	}
	__builtin_memcpy(kernel_ptr(GUEST_IMAGE, image_size), guest_image_start, image_size);
	build_guest_page_tables();
	*(uint32_t *)kernel_ptr(GUEST_PARAMS, 4) = lp->vcpu_count;
	*(uint64_t *)kernel_ptr(GUEST_PARAMS + GUEST_PARAMS_TOUCH_OFF, 8) = lp->touch_gpa;
	*(uint32_t *)kernel_ptr(GUEST_PARAMS + GUEST_PARAMS_MODE_OFF, 4) = lp->guest_mode;
	*(uint32_t *)kernel_ptr(GUEST_PARAMS + GUEST_PARAMS_VTPM_OFF, 4) =
		plat_service_running(SVSM_SERVICE_VTPM) ? 1U : 0U;
	vmsa_init_long_mode(kernel_ptr(startup_vmsa, 4096), GUEST_IMAGE, GUEST_STACK_TOP,
			    GUEST_PAGE_TABLES);
	const struct launch_part image = { SNP_PAGE_NORMAL, GUEST_IMAGE,
					   (image_size + 4095U) & ~4095ULL };

	launch_measure(&image, 1, secrets_page, startup_vmsa);
	boot.secrets = gpa_init(secrets_page);
	boot.vcpus[0] = (struct svsm_vcpu_boot){ .vmsa = gpa_init(startup_vmsa),
						 .caa = gpa_init(GUEST_CAA(0)) };
	if (!svsm_init(&boot)) {
		log_msg(LOG_ERR, "launch: the core refused the launch layout");
		return false;
	}
	*vmsa_out = startup_vmsa;
	return true;
}

bool native_launch(const struct native_launch_params *lp, bool *passed)
{
	struct native_cpu *bsp = svm_cpu_init(0);
	uint64_t vmsa = 0;

	if (bsp == NULL || !native_launch_prepare(lp, &vmsa)) {
		return false;
	}
	log_msg(LOG_INFO, "launch: guest image at 0x%lx; Donjon at [0, 0x%lx)",
		(uint64_t)GUEST_IMAGE, (uint64_t)NATIVE_SVSM_SIZE);
	svm_run_vcpu(bsp, svsm_vcpu_seq(0));
	if (bsp->vmsa != vmsa) {
		log_msg(LOG_ERR, "launch: the startup vCPU did not run");
		return false;
	}
	*passed = bsp->has_verdict && bsp->verdict == 0x10U;
	return true;
}
