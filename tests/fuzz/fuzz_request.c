/* libFuzzer target over the whole request path: a sequence of guest operations (SVSM
 * calls with fuzzed registers and calling-area contents, on random vCPUs; guest writes;
 * host page-state changes and AP creations) on a freshly launched machine. After each
 * input: the SVSM's memory and its RMP entries are unchanged, every page the SVSM owns
 * is closed to VMPL1..3, and the core's page tracking agrees with the RMP. */
#include <string.h>

#include <donjon/svsm_abi.h>

#include "fuzz_common.h"

#define MEM (16ULL << 20)
#define VCPUS 3U
#define MAX_OPS 48U

static struct sim_machine *m;
static uint8_t psc_touched[MEM >> PAGE_SHIFT];

/* Addresses a guest would use, and some it should not: its calling areas, the pages
 * around them, the SVSM's range and VMSAs, 2M boundaries, the end of memory, anything. */
static uint64_t pick_gpa(struct input *in)
{
	uint64_t sel = take(in, 1);
	uint64_t off = take(in, 2);

	switch (sel % 8U) {
	case 0:
		return SIM_CAA_BASE + (off % VCPUS) * PAGE_SIZE + (off & 0xFF8);
	case 1:
		return 0x200000 + (off % 64U) * PAGE_SIZE;
	case 2:
		return SIM_SVSM_BASE + (off % (SIM_SVSM_SIZE >> PAGE_SHIFT)) * PAGE_SIZE;
	case 3:
		return (off % (MEM / PAGE_SIZE_2M)) * PAGE_SIZE_2M;
	case 4:
		return MEM - PAGE_SIZE + (off & 0x1FFF);
	case 5:
		return take(in, 8);
	default:
		return (off % (MEM >> PAGE_SHIFT)) << PAGE_SHIFT;
	}
}

/* A list entry: an address from pick_gpa with fuzzed low bits (size, flags, reserved). */
static uint64_t pick_entry(struct input *in)
{
	return (pick_gpa(in) & ~0xFFFULL) | (take(in, 2) & 0xFFF);
}

static void op_call(struct input *in)
{
	unsigned vcpu = (unsigned)(take(in, 1) % VCPUS);
	uint64_t call = take(in, 1);
	struct svsm_regs regs = {
		.rax = (call & 0x80) != 0U ? take(in, 8) : (call & 0x7) | ((call & 0x30) << 28),
		.rcx = pick_gpa(in),
		.rdx = pick_gpa(in),
		.r8 = take(in, 1) % 4U,
		.r9 = take(in, 8),
	};
	enum sim_call_status status;
	uint64_t list[1 + 24];
	unsigned entries = (unsigned)(take(in, 1) % 24U);

	/* A list in the vCPU's calling area, as Linux places it, or in ordinary guest memory
	 * (where an entry can name the list's own page). */
	list[0] = (take(in, 1) % 26U) | (take(in, 1) % 4U) << 16;
	for (unsigned i = 0; i < entries; i++) {
		list[1 + i] = pick_entry(in);
	}
	uint64_t where = take(in, 1);

	if (where % 4U != 3U) {
		uint64_t at = where % 4U == 2U ? 0x200000 + (take(in, 1) % 64U) * PAGE_SIZE
					       : gpa_val(m->vcpus[vcpu].caa) + 8;

		(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(at), list,
				      (1 + entries) * sizeof(uint64_t));
		if (call % 3U == 0U) {
			regs.rcx = at;
		}
	}
	(void)sim_vcpu_call(m, vcpu, &regs, &status);
}

static void op_guest_write(struct input *in)
{
	uint64_t gpa = pick_gpa(in);
	uint64_t v = take(in, 8);

	/* Either a VMSA-like page (VMPL, EFER.SVME, SEV features) or one fuzzed qword. */
	if (v % 2U == 0U) {
		uint8_t page[PAGE_SIZE];

		memset(page, 0, sizeof(page));
		page[VMSA_VMPL_OFF] = (uint8_t)(take(in, 1) % 4U);
		page[VMSA_EFER_OFF + 1] = (uint8_t)take(in, 1);
		page[VMSA_SEV_FEATURES_OFF] = (uint8_t)take(in, 1);
		(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(gpa & ~0xFFFULL), page,
				      sizeof(page));
	} else {
		(void)sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(gpa), &v, sizeof(v));
	}
}

static void op_host(struct input *in)
{
	uint64_t kind = take(in, 1);
	uint64_t gpa = pick_gpa(in) & ~0xFFFULL;

	if (kind % 2U == 0U) {
		(void)sim_host_ap_create(m, (unsigned)(kind >> 1) % VCPUS, gpa_init(gpa));
		return;
	}
	enum page_size size = (kind & 2U) != 0U ? PAGE_2M : PAGE_4K;

	gpa &= ~(page_size_bytes(size) - 1U);
	/* The host may do anything to guest memory; the SVSM's own range is out of scope of
	 * this invariant (a host that reclaims it only denies service). */
	if (gpa >= MEM ||
	    (gpa < SIM_SVSM_BASE + SIM_SVSM_SIZE && gpa + page_size_bytes(size) > SIM_SVSM_BASE)) {
		return;
	}
	if (sim_host_psc(m, gpa_init(gpa), size, (enum psc_op)(1U + (kind >> 2) % 3U)) == NULL) {
		uint64_t region = gpa & ~(PAGE_SIZE_2M - 1U);

		/* A 4K change may also smash its 2M region. */
		memset(&psc_touched[region >> PAGE_SHIFT], 1, PAGES_PER_2M);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	m = fuzz_machine(MEM, VCPUS);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .data = data, .size = size };

	fuzz_relaunch();
	memset(psc_touched, 0, sizeof(psc_touched));
	for (unsigned n = 0; n < MAX_OPS && in.size > 0; n++) {
		uint64_t op = take(&in, 1);

		if (op < 200U) {
			op_call(&in);
		} else if (op < 240U) {
			op_guest_write(&in);
		} else {
			op_host(&in);
		}
	}
	fuzz_check_machine(psc_touched);
	return 0;
}
