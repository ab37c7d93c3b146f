/* Services on the native platform: the kernel's ring-3 runtime (hostif.h) behind
 * include/donjon/platform.h's plat_service_*. With `vtpm=module` on the command line,
 * QEMU's -initrd is the vTPM service's executable (build/services/vtpm), started before
 * the guest's launch with `--state /state` in its RAM filesystem. `service-budget=MS` is its
 * time for one exchange (default 30000) once the core says its start-up is over
 * (plat_service_started: for the vTPM, TPM2_Startup and the EK); until then, and for the
 * process's own start, it has 30 s. `service-env=NAME=VALUE` is one environment variable.
 * For Linux (mode=linux) the bundle carries the executable (make-bundle --service).
 * Exchanges are serialised: the service runs on the CPU whose vCPU asked. */
#include <donjon/bytes.h>
#include <donjon/platform.h>
#include <donjon/service_channel.h>

#include "arch/x86/cpu.h"
#include "linux_boot.h"
#include "lock.h"
#include "native.h"

#define VTPM_PAGE_LIMIT 4096U /* 16 MiB: its image, heap, stack and page tables */
#define VTPM_FILE_PAGES 128U  /* 512 KiB of files: the TPM's NV is at most 192 KiB */
#define BUDGET_DEFAULT_MS 30000U
#define ENV_MAX 128U

static struct spinlock service_lock = { ATOMIC_FLAG_INIT };
/* Where each TPM command's exchanges spent their time (TSC ticks), for make bench. */
#define TIMED_COMMANDS 16U
static struct {
	uint32_t code;
	uint64_t count, total, user, syscalls;
} timed[TIMED_COMMANDS];
static uint64_t state_buffer_pa;
static char env[ENV_MAX];
/* service-budget=MS: each exchange's once the vTPM's own start-up is over. */
static uint64_t command_budget_ms = BUDGET_DEFAULT_MS;

/* The vTPM service's executable: QEMU's -initrd itself with vtpm=module (the test guest),
 * or the part of Linux's bundle that holds one. */
static bool service_image(const uint8_t **elf, size_t *len)
{
	uint64_t pa = 0, size = 0;

	if (cmdline_is("mode", "linux")) {
		return linux_bundle_service(elf, len);
	}
	*elf = NULL;
	*len = 0;
	if (!cmdline_is("vtpm", "module") || !boot_module(&pa, &size) ||
	    (*elf = kernel_ptr(pa, size)) == NULL) {
		return false;
	}
	*len = size;
	return true;
}

bool native_services_wanted(void)
{
	/* Decided at the first call, during the platform's set-up: later the bundle's memory is
	 * Linux's. */
	static enum { UNKNOWN, NO, YES } wanted;
	const uint8_t *elf = NULL;
	size_t len = 0;

	if (wanted == UNKNOWN) {
		wanted = cmdline_is("vtpm", "module") || service_image(&elf, &len) ? YES : NO;
	}
	return wanted == YES;
}

void native_services_reserve(uint64_t limit)
{
	if (native_services_wanted()) {
		state_buffer_pa =
			mm_reserve(CHANNEL_HEADER_SIZE + CHANNEL_STATE_MAX + 4096U, limit);
	}
}

static uint64_t number(const char *v, uint64_t fallback)
{
	uint64_t n = 0;
	unsigned i = 0;

	for (; v != NULL && v[i] >= '0' && v[i] <= '9' && i < 9U; i++) {
		n = n * 10U + (uint64_t)(v[i] - '0');
	}
	return i != 0U ? n : fallback;
}

bool native_services_start(void)
{
	static const char *const argv[] = { "vtpm", "--state", "/state", NULL };
	const char *envp[2] = { NULL, NULL };
	const char *e = cmdline_get("service-env");
	const uint8_t *elf = NULL;
	size_t size = 0;

	if (!native_services_wanted()) {
		return true;
	}
	if (!service_image(&elf, &size)) {
		log_msg(LOG_ERR, "vtpm: no service executable (vtpm=module: QEMU -initrd "
				 "build/services/vtpm; for Linux: make-bundle --service)");
		return false;
	}
	for (unsigned i = 0; e != NULL && e[i] != '\0' && e[i] != ' ' && i + 1U < ENV_MAX; i++) {
		env[i] = e[i];
	}
	envp[0] = env[0] != '\0' ? env : NULL;
	const struct kservice_spec spec = {
		.name = "vtpm",
		.elf = elf,
		.elf_len = size,
		.argv = argv,
		.envp = envp,
		.page_limit = VTPM_PAGE_LIMIT,
		.file_pages = VTPM_FILE_PAGES,
		.start_ms = BUDGET_DEFAULT_MS,
		.budget_ms = BUDGET_DEFAULT_MS,
	};

	/* The start budget holds until the core says the vTPM's own start-up is over. */
	command_budget_ms = number(cmdline_get("service-budget"), BUDGET_DEFAULT_MS);
	if (command_budget_ms == 0U) {
		log_msg(LOG_WARN, "vtpm: service-budget=0 is no budget; each command has %u ms",
			BUDGET_DEFAULT_MS);
		command_budget_ms = BUDGET_DEFAULT_MS;
	}
	if (!kservice_start(0, &spec)) {
		log_msg(LOG_ERR, "vtpm: the service did not start: %s", kservice_why(0));
		return false;
	}
	struct kservice_stats st;

	kservice_get_stats(0, &st);
	log_msg(LOG_INFO, "vtpm: service started in ring 3 (%lu KiB of pages)", st.pages * 4U);
	return true;
}

/* The exchanges native_services_bench_flush is to print (bench=vtpm); under service_lock. */
#define BENCH_PENDING 8U
struct bench_line {
	uint32_t code;
	uint64_t total, user, syscalls;
};
static struct bench_line pending[BENCH_PENDING];
static unsigned pending_count;

void native_services_bench_flush(void)
{
	struct bench_line lines[BENCH_PENDING];

	spin_lock(&service_lock);
	unsigned n = pending_count;

	__builtin_memcpy(lines, pending, sizeof(lines));
	pending_count = 0;
	spin_unlock(&service_lock);
	for (unsigned i = 0; i < n; i++) {
		log_msg(LOG_INFO, "vtpm: exchange 0x%x %lu %lu %lu", lines[i].code, lines[i].total,
			lines[i].user, lines[i].syscalls);
	}
}

static void account(const uint8_t *req, size_t len, uint64_t total, uint64_t user,
		    uint64_t syscalls)
{
	/* A TPM_COMMAND: the header, the locality, then the TPM's command code at 6. */
	if (len < CHANNEL_HEADER_SIZE + 1U + CHANNEL_TPM_HEADER_SIZE ||
	    load32(req, 4) != CHANNEL_KIND_TPM_COMMAND) {
		return;
	}
	uint32_t code = load32_be(req, CHANNEL_HEADER_SIZE + 1U + 6U);

	/* make bench reads each exchange (bench=vtpm), printed after the SVSM call; more than
	 * BENCH_PENDING in one call (none does) are printed at once. */
	if (cmdline_is("bench", "vtpm")) {
		if (pending_count < BENCH_PENDING) {
			pending[pending_count].code = code;
			pending[pending_count].total = total;
			pending[pending_count].user = user;
			pending[pending_count].syscalls = syscalls;
			pending_count++;
		} else {
			log_msg(LOG_INFO, "vtpm: exchange 0x%x %lu %lu %lu", code, total, user,
				syscalls);
		}
	}
	for (unsigned i = 0; i < TIMED_COMMANDS; i++) {
		if (timed[i].count == 0U || timed[i].code == code) {
			timed[i].code = code;
			timed[i].count++;
			timed[i].total += total;
			timed[i].user += user;
			timed[i].syscalls += syscalls;
			return;
		}
	}
}

void native_services_report(void)
{
	struct kservice_stats st;

	native_services_bench_flush();
	if (!native_services_wanted()) {
		return;
	}
	kservice_get_stats(0, &st);
	log_msg(LOG_INFO, "vtpm: %s; %lu exchanges, %lu system calls, %lu KiB of pages now",
		kservice_running(0) ? "running" : kservice_why(0), st.exchanges, st.syscalls,
		(st.pages + st.file_pages) * 4U);
	for (unsigned i = 0; i < TIMED_COMMANDS && timed[i].count != 0U; i++) {
		log_msg(LOG_INFO,
			"vtpm: command 0x%x: %lu exchanges, ticks %lu in all, %lu in ring 3, %lu "
			"in "
			"its system calls",
			timed[i].code, timed[i].count, timed[i].total, timed[i].user,
			timed[i].syscalls);
	}
}

void plat_service_started(enum svsm_service s)
{
	if (s == SVSM_SERVICE_VTPM) {
		spin_lock(&service_lock);
		(void)kservice_set_budget(0, command_budget_ms);
		spin_unlock(&service_lock);
	}
}

bool plat_service_running(enum svsm_service s)
{
	return s == SVSM_SERVICE_VTPM && kservice_running(0);
}

bool plat_service_exchange(enum svsm_service s, const void *req, size_t req_len, void *resp,
			   size_t resp_cap, size_t *resp_len)
{
	uint8_t *out = resp;
	size_t got = 0;

	*resp_len = 0;
	if (s != SVSM_SERVICE_VTPM) {
		return false;
	}
	spin_lock(&service_lock);
	struct kservice_stats before, after;

	kservice_get_stats(0, &before);
	uint64_t t0 = rdtsc();
	bool ok = kservice_exchange(0, req, req_len, resp, resp_cap, &got);
	uint64_t t1 = rdtsc();

	kservice_get_stats(0, &after);
	account(req, req_len, t1 - t0, after.tsc_user - before.tsc_user,
		after.tsc_kernel - before.tsc_kernel);

	/* Exactly one response: its header's length says where it ends. */
	if (ok &&
	    (got < CHANNEL_HEADER_SIZE || got - CHANNEL_HEADER_SIZE < (size_t)load32(out, 12))) {
		kservice_stop(0, got == 0U ? "answered nothing" : "sent a response cut short");
		ok = false;
	} else if (ok && got - CHANNEL_HEADER_SIZE > (size_t)load32(out, 12)) {
		kservice_stop(0, "sent more than one response");
		ok = false;
	}
	spin_unlock(&service_lock);
	*resp_len = ok ? got : 0U;
	return ok;
}

void *plat_service_state_buffer(size_t len)
{
	if (state_buffer_pa == 0U || len > CHANNEL_HEADER_SIZE + CHANNEL_STATE_MAX + 4096U) {
		return NULL;
	}
	return kernel_ptr(state_buffer_pa, len);
}

void plat_service_stop(enum svsm_service s, const char *why)
{
	if (s == SVSM_SERVICE_VTPM) {
		spin_lock(&service_lock);
		kservice_stop(0, why);
		spin_unlock(&service_lock);
	}
}
