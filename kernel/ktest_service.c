/* test=service: the ring-3 runtime against a hostile service (tests/services/hostile, QEMU's
 * -initrd). What it must get an error for, it gets Linux's error and goes on; what must stop
 * it (its faults, a privileged instruction, a forbidden call, a loop, its exit, too much
 * output) stops it with that reason, every page it had back in the allocator, the kernel's
 * image unchanged and its FPU state its own. One PASS/FAIL line per check group. */
#include "arch/x86/cpu.h"
#include "console.h"
#include "kernel.h"
#include "ktest.h"
#include "mm.h"

#define OUT_CAP (16U + 4096U)
#define EFAULT 14
#define EACCES 13
#define EINVAL 22
#define ENOSYS 38
#define ENOMEM 12
#define ENOENT 2
#define EPERM 1

static unsigned failures, passed, failed;
static uint8_t out[OUT_CAP];
static int64_t res[16];
static unsigned res_count;

static void check(bool ok, const char *what, int line)
{
	if (!ok && failures++ < 5U) {
		kprintf("    ktest_service.c:%d: %s", line, what);
	}
}
#define CHECK(x) check((x), #x, __LINE__)

static void verdict(const char *name)
{
	kprintf("%s kernel/service-%s", failures == 0U ? "PASS" : "FAIL", name);
	if (failures == 0U) {
		passed++;
	} else {
		failed++;
	}
	failures = 0;
}

static bool contains(const char *s, const char *part)
{
	for (; *s != '\0'; s++) {
		unsigned i = 0;

		while (part[i] != '\0' && s[i] == part[i]) {
			i++;
		}
		if (part[i] == '\0') {
			return true;
		}
	}
	return false;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A TPM_COMMAND request for the probe (with one more byte for probe 1); the results the
 * service answered in res. False if the service stopped. */
static bool probe(unsigned n)
{
	uint8_t req[19] = {
		0x44, 0x4E, 0x4A, 0x31, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0x5A
	};
	size_t got = 0;

	req[12] = n == 1U ? 3U : 2U;
	req[17] = (uint8_t)n;
	res_count = 0;
	if (!kservice_exchange(0, req, n == 1U ? 19U : 18U, out, sizeof(out), &got)) {
		return false;
	}
	uint32_t len = got >= 16U ? le32(out + 12) : 0U;

	CHECK(got >= 26U && len == got - 16U && le32(out) == 0x314A4E44U && (len - 10U) % 8U == 0U);
	for (unsigned i = 0; got >= 26U && i < (len - 10U) / 8U && i < 16U; i++) {
		__builtin_memcpy(&res[i], out + 26U + (size_t)i * 8U, 8);
		res_count++;
	}
	return true;
}

static uint64_t image_hash(void)
{
	uint64_t start = 0, end = 0, h = 0xCBF29CE484222325ULL;

	kernel_image_constant(&start, &end);
	const uint8_t *p = kernel_ptr(start, end - start);

	for (uint64_t i = 0; p != NULL && i < end - start; i++) {
		h = (h ^ p[i]) * 0x100000001B3ULL;
	}
	return h;
}

static uint32_t mxcsr(void)
{
	uint32_t v = 0;

	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static struct kservice_spec spec;

static bool start_service(void)
{
	return kservice_start(0, &spec);
}

static void test_errors(uint64_t baseline)
{
	uint64_t deadline = rdtsc() + 1000U * tsc_hz();
	size_t got = ~(size_t)0;

	CHECK(start_service());
	/* The timer's deadline for this CPU survives an exchange (the service's budget takes
	 * the timer meanwhile). */
	tick_arm(deadline);
	CHECK(probe(0) && res_count == 1U && res[0] == 0x600D);
	CHECK(tick_armed() == deadline);
	tick_arm(UINT64_MAX);
	/* An exchange with no input leaves it waiting for some. */
	CHECK(kservice_exchange(0, out, 0, out, sizeof(out), &got) && got == 0U &&
	      kservice_running(0));
	CHECK(probe(0) && res_count == 1U && res[0] == 0x600D);
	/* Memory it wrote cannot become code (mprotect PROT_EXEC: EACCES). */
	CHECK(probe(16) && res_count == 1U && res[0] == -EACCES);
	CHECK(probe(1) && res_count == 16U);
	static const int64_t want[16] = {
		-EFAULT, -EFAULT, 0x5A, -EACCES, -EINVAL, -EACCES, -ENOSYS, -EFAULT,
		-ENOMEM, -ENOENT, 0,	-EINVAL, -EPERM,  0,	   -ENOMEM, 15,
	};
	for (unsigned i = 0; i < 16U; i++) {
		if (res[i] != want[i]) {
			kprintf("    result %u: %ld, not %ld", i, res[i], want[i]);
			failures++;
		}
	}
	CHECK(kservice_running(0));
	verdict("errors");

	/* Its MXCSR and x87 control word survive another context's in between, and never
	 * reach the kernel's. */
	fpu_section_begin();
	fpu_scrub();
	CHECK(probe(14) && res_count == 2U && res[0] == 0x7F80 && res[1] == 0xF7F);
	CHECK(mxcsr() == 0x1F80U);
	CHECK(probe(15) && res_count == 2U && res[0] == 0x7F80 && res[1] == 0xF7F);
	CHECK(mxcsr() == 0x1F80U);
	fpu_section_end();
	struct kservice_stats st;

	kservice_get_stats(0, &st);
	CHECK(st.exchanges == 8U && st.syscalls > 20U && st.pages > 100U);
	CHECK(pmm_used_pages() == baseline + st.pages + st.file_pages);
	kservice_stop(0, "the test is done");
	CHECK(!kservice_running(0) && contains(kservice_why(0), "the test is done"));
	CHECK(pmm_used_pages() == baseline);
	verdict("fpu-and-stop");
}

void ktest_services(void)
{
	static const char *const argv[] = { "hostile", NULL };
	static const struct {
		unsigned probe;
		const char *name;
		const char *why;
	} fatal[] = {
		{ 2, "reads-kernel-memory", "#PF page fault at rip 0x" },
		{ 3, "writes-its-code", "error 0x7)" },
		{ 4, "runs-its-stack", "error 0x15)" },
		{ 5, "privileged-instruction", "#GP general protection" },
		{ 6, "loops", "ran past its time budget" },
		{ 7, "thread", "called clone (threads), which a service cannot have" },
		{ 8, "exit", "exited with status 3" },
		{ 9, "floods-its-output", "wrote more than a response may hold" },
		{ 10, "futex-wait", "waits on a futex that no other thread can wake" },
		{ 11, "abort", "killed itself with signal 6" },
		{ 12, "breakpoint", "#GP general protection at rip 0x" },
		{ 13, "writes-rodata", "error 0x7)" },
	};
	uint64_t pa = 0, size = 0;

	if (!tick_init() || !boot_module(&pa, &size) || kernel_ptr(pa, size) == NULL) {
		kprintf("FAIL kernel/service: no timer or no module (QEMU -initrd hostile)");
		kernel_exit(false);
	}
	/* The allocator's pages end below the module (QEMU puts it high). */
	pmm_init(pa);
	spec = (struct kservice_spec){
		.name = "hostile",
		.elf = kernel_ptr(pa, size),
		.elf_len = size,
		.argv = argv,
		.page_limit = 4096,
		.file_pages = 16,
		.start_ms = 30000,
		.budget_ms = 300,
	};
	uint64_t baseline = pmm_used_pages(), hash = image_hash();

	test_errors(baseline);
	for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		CHECK(start_service() && !probe(fatal[i].probe) && !kservice_running(0));
		if (!contains(kservice_why(0), fatal[i].why)) {
			kprintf("    stopped: %s", kservice_why(0));
			failures++;
		}
		CHECK(pmm_used_pages() == baseline);
		verdict(fatal[i].name);
	}
	/* SMEP, SMAP and UMIP are on exactly where the CPU has them (trap.c); with UMIP the
	 * service's SGDT is a #GP that stops it, without it the service reads the GDT's
	 * base (a kernel address: what UMIP is for). */
	uint32_t r[4] = { 0, 0, 0, 0 };

	cpuid(0, 0, r);
	if (r[0] >= 7U) {
		cpuid(7, 0, r);
	} else {
		r[1] = r[2] = 0;
	}
	bool umip = (r[2] & (1U << 2)) != 0U;
	uint64_t cr4 = read_cr4();

	CHECK(((cr4 >> 20) & 1U) == ((r[1] >> 7) & 1U));  /* SMEP */
	CHECK(((cr4 >> 21) & 1U) == ((r[1] >> 20) & 1U)); /* SMAP */
	CHECK(((cr4 >> 11) & 1U) == (umip ? 1U : 0U));	  /* UMIP */
	CHECK(start_service());
	if (umip) {
		CHECK(!probe(17) && !kservice_running(0) &&
		      contains(kservice_why(0), "#GP general protection"));
	} else {
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) gdtr = { 0, 0 };

		__asm__ volatile("sgdt %0" : "=m"(gdtr));
		CHECK(probe(17) && res_count == 1U && (uint64_t)res[0] == gdtr.base &&
		      kservice_running(0));
		kservice_stop(0, "the test is done");
	}
	CHECK(pmm_used_pages() == baseline);
	kprintf("    SMEP %s, SMAP %s, UMIP %s", (cr4 >> 20 & 1U) != 0U ? "on" : "off",
		(cr4 >> 21 & 1U) != 0U ? "on" : "off", umip ? "on" : "off");
	verdict("supervisor-protections");
	/* A file that is no ELF executable, and one cut short. */
	spec.elf_len = 40;
	CHECK(!start_service() &&
	      contains(kservice_why(0), "refused its executable: not an ELF file"));
	spec.elf_len = size / 2U;
	CHECK(!start_service() && contains(kservice_why(0), "refused its executable"));
	spec.elf_len = size;
	CHECK(pmm_used_pages() == baseline);
	CHECK(image_hash() == hash);
	verdict("bad-files-and-image-intact");
	kprintf("%u passed, %u failed", passed, failed);
	kernel_exit(failed == 0U);
}
