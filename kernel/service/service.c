/* Ring-3 services (hostif.h, "ring-3 services"): loading a static executable into its own
 * address space, and the run loop that enters it and takes back control at each system
 * call, exception or timer interrupt. A service runs only inside an exchange, on the CPU
 * that asked, with interrupts enabled in ring 3 only: the local APIC timer, armed for the
 * exchange's deadline, ends a service that loops. */
#include <stdarg.h>

#include <donjon/crypto.h>
#include <donjon/elf_image.h>

#include "arch/x86/cpu.h"
#include "console.h"
#include "fpu.h"
#include "linux_abi.h"
#include "mm.h"
#include "service.h"
#include "trap.h"

#define MSR_FS_BASE 0xC0000100U
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_FIXED (1ULL << 1)
/* What ring 3 may keep of RFLAGS: CF, PF, AF, ZF, SF, DF, OF and AC (not TF, IOPL, NT, RF,
 * VM, VIF, VIP; IF is always set). */
#define RFLAGS_USER 0x40CD5ULL
#define AT_RANDOM_BYTES 16U
#define MAX_ARGS 16U

static struct service services[KSERVICE_MAX];

static struct service *service_of(unsigned id)
{
	return id < KSERVICE_MAX ? &services[id] : NULL;
}

void service_fail(struct service *s, const char *fmt, ...)
{
	va_list ap;

	if (s->state != SERVICE_RUNNING) {
		return;
	}
	va_start(ap, fmt);
	(void)fmt_vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->state = SERVICE_STOPPED;
}

/* Frees everything of a stopped service; only while its page tables are not loaded. */
static void release(struct service *s)
{
	uspace_destroy(&s->us);
	ramfs_clear(&s->fs);
	s->stats.pages = 0;
	s->stats.file_pages = 0;
	log_msg(LOG_WARN, "service %s stopped: %s", s->name, s->why);
}

static void fault(struct service *s, uint64_t vector)
{
	if (vector == 14U) {
		uint64_t cr2 = 0;

		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		service_fail(s, "%s at rip 0x%lx (address 0x%lx, error 0x%lx)",
			     trap_vector_name(vector), s->regs.rip, cr2, s->regs.error);
	} else {
		service_fail(s, "%s at rip 0x%lx (error 0x%lx)", trap_vector_name(vector),
			     s->regs.rip, s->regs.error);
	}
}

/* Runs it until it waits for input (true) or stops (false). */
static bool run(struct service *s)
{
	struct user_cpu *c = user_cpu_this();

	c->kernel_fs = rdmsr(MSR_FS_BASE);
	while (s->state == SERVICE_RUNNING) {
		uint64_t t0 = rdtsc();

		if (t0 >= s->deadline) {
			service_fail(s, "ran past its time budget");
			break;
		}
		tick_arm(s->deadline);
		s->regs.cs = USER_SEL_CODE;
		s->regs.ss = USER_SEL_DATA;
		s->regs.rflags = (s->regs.rflags & RFLAGS_USER) | RFLAGS_IF | RFLAGS_FIXED;
		uint64_t vector = user_enter(&s->regs, c);
		uint64_t t1 = rdtsc();

		s->stats.tsc_user += t1 - t0;
		if (vector == TICK_VECTOR || vector == TICK_SPURIOUS_VECTOR) {
			continue;
		}
		if (vector != USER_VECTOR_SYSCALL) {
			fault(s, vector);
			break;
		}
		s->stats.syscalls++;
		enum sys_next next = service_syscall(s);

		s->stats.tsc_kernel += rdtsc() - t1;
		if (next == SYS_NEXT_WAIT) {
			return true;
		}
	}
	return false;
}

/* Runs it in its own address space and FPU state, the caller's both put back after. */
static bool run_exchange(struct service *s)
{
	uint64_t cr3 = read_cr3();
	/* The timer's deadline for whatever this CPU runs (a vCPU's next guest timer): the
	 * service's budget takes the timer for the exchange, then it is put back. */
	uint64_t timer = tick_armed();

	s->deadline = rdtsc() + s->budget_tsc;
	write_cr3(s->us.pml4);
	/* Whatever is in the registers (a guest vCPU's state, an FPU section's) is kept
	 * aside, not through the FPU sections' nesting, which would leave it to an outer
	 * section's end. */
	fpu_state_save(s->outer_fpu);
	fpu_state_load(s->fpu);
	/* Parked in read(0) with no input given: it waits on, nothing runs. */
	bool waiting = (s->waiting && !service_feed(s)) || run(s);

	fpu_state_save(s->fpu);
	fpu_state_load(s->outer_fpu);
	write_cr3(cr3);
	tick_arm(timer);
	s->stats.exchanges++;
	s->stats.pages = s->us.pages;
	s->stats.file_pages = s->fs.pages;
	if (!waiting) {
		release(s);
	}
	return waiting;
}

/* ---- loading ---- */

static unsigned seg_perm(const struct elf_segment *g)
{
	return (g->writable ? USPACE_W : 0U) | (g->executable ? USPACE_X : 0U);
}

static bool load_segments(struct service *s, const struct elf_image *img, const uint8_t *elf,
			  uint64_t base)
{
	for (unsigned i = 0; i < img->count; i++) {
		const struct elf_segment *g = &img->seg[i];
		uint64_t lo = (base + g->vaddr) & ~(USER_PAGE - 1U);
		uint64_t end = base + g->vaddr + g->memsz;
		unsigned perm = seg_perm(g);

		for (uint64_t va = lo; va < end; va += USER_PAGE) {
			uint64_t pa = uspace_lookup(&s->us, va, false);

			/* A page the previous segment shares gets both's permissions: the
			 * parser made sure that W^X still holds. */
			if (pa != 0U ? !uspace_protect(&s->us, va,
						       perm | seg_perm(&img->seg[i - 1U]))
				     : !uspace_map(&s->us, va, perm, &pa)) {
				return false;
			}
		}
		if (!uspace_load(&s->us, base + g->vaddr, elf + g->offset, g->filesz)) {
			return false;
		}
	}
	return true;
}

static size_t str_len(const char *p)
{
	size_t n = 0;

	while (p[n] != '\0') {
		n++;
	}
	return n;
}

/* Pushes a string (with its NUL) below *sp; its address in *at. */
static bool push_string(struct service *s, uint64_t *sp, const char *str, uint64_t *at)
{
	size_t n = str_len(str) + 1U;

	*sp -= n;
	*at = *sp;
	return uspace_copy_out(&s->us, *sp, str, n);
}

/* The initial stack as Linux's execve leaves it: argc at RSP (16-byte aligned), argv[],
 * NULL, envp[], NULL, the auxiliary vector, and above them the strings and AT_RANDOM's
 * 16 bytes. */
static bool build_stack(struct service *s, const struct kservice_spec *spec,
			const struct elf_image *img, uint64_t base, uint64_t *rsp)
{
	uint64_t sp = USER_STACK_TOP, pa = 0, random = 0;
	uint64_t argv[MAX_ARGS], envp[MAX_ARGS];
	unsigned argc = 0, envc = 0;
	uint8_t seed[AT_RANDOM_BYTES];

	for (uint64_t va = USER_STACK_TOP - USER_STACK_PAGES * USER_PAGE; va < USER_STACK_TOP;
	     va += USER_PAGE) {
		if (!uspace_map(&s->us, va, USPACE_W, &pa)) {
			return false;
		}
	}
	for (; spec->argv[argc] != NULL; argc++) {
		if (argc == MAX_ARGS || !push_string(s, &sp, spec->argv[argc], &argv[argc])) {
			return false;
		}
	}
	for (; spec->envp != NULL && spec->envp[envc] != NULL; envc++) {
		if (envc == MAX_ARGS || !push_string(s, &sp, spec->envp[envc], &envp[envc])) {
			return false;
		}
	}
	sp = (sp - AT_RANDOM_BYTES) & ~15ULL;
	random = sp;
	if (!crypto_random(seed, sizeof(seed)) ||
	    !uspace_copy_out(&s->us, sp, seed, sizeof(seed))) {
		return false;
	}
	const uint64_t aux[][2] = {
		{ LINUX_AT_PHDR, img->phdr != 0U ? base + img->phdr : 0U },
		{ LINUX_AT_PHENT, img->phdr != 0U ? 56U : 0U },
		{ LINUX_AT_PHNUM, img->phdr != 0U ? img->phnum : 0U },
		{ LINUX_AT_PAGESZ, USER_PAGE },
		{ LINUX_AT_BASE, 0 },
		{ LINUX_AT_ENTRY, base + img->entry },
		{ LINUX_AT_UID, 0 },
		{ LINUX_AT_EUID, 0 },
		{ LINUX_AT_GID, 0 },
		{ LINUX_AT_EGID, 0 },
		{ LINUX_AT_CLKTCK, 100 },
		{ LINUX_AT_SECURE, 0 },
		{ LINUX_AT_RANDOM, random },
		{ LINUX_AT_NULL, 0 },
	};
	uint64_t words = 1U + argc + 1U + envc + 1U + 2U * (sizeof(aux) / sizeof(aux[0]));
	uint64_t at = (sp - words * 8U) & ~15ULL;
	bool ok = true;

	*rsp = at;
	ok = ok && uspace_copy_out(&s->us, at, &(uint64_t){ argc }, 8);
	for (unsigned i = 0; ok && i < argc; i++) {
		ok = uspace_copy_out(&s->us, at += 8U, &argv[i], 8);
	}
	ok = ok && uspace_copy_out(&s->us, at += 8U, &(uint64_t){ 0 }, 8);
	for (unsigned i = 0; ok && i < envc; i++) {
		ok = uspace_copy_out(&s->us, at += 8U, &envp[i], 8);
	}
	ok = ok && uspace_copy_out(&s->us, at += 8U, &(uint64_t){ 0 }, 8);
	return ok && uspace_copy_out(&s->us, at + 8U, aux, sizeof(aux));
}

static void set_fds(struct service *s)
{
	for (unsigned i = 0; i < USER_FDS; i++) {
		s->fd[i] = (struct user_fd){ .kind = FD_FREE, .file = -1 };
	}
	s->fd[0] = (struct user_fd){ .kind = FD_IN, .readable = true, .file = -1 };
	s->fd[1] = (struct user_fd){ .kind = FD_OUT, .writable = true, .file = -1 };
	s->fd[2] = (struct user_fd){ .kind = FD_ERR, .writable = true, .file = -1 };
}

static bool load(struct service *s, const struct kservice_spec *spec)
{
	struct elf_image img;
	char err[96];
	uint64_t rsp = 0;

	if (!elf_image_parse(spec->elf, spec->elf_len, USER_IMAGE_SPAN, USER_IMAGE_BASE,
			     USER_IMAGE_BASE + USER_IMAGE_SPAN, &img, err, sizeof(err))) {
		service_fail(s, "refused its executable: %s", err);
		return false;
	}
	uint64_t base = img.pie ? USER_IMAGE_BASE - img.lo : 0U;

	if (!uspace_init(&s->us, spec->page_limit) || !load_segments(s, &img, spec->elf, base) ||
	    !build_stack(s, spec, &img, base, &rsp)) {
		service_fail(s, "no memory to load it (%lu pages allowed)", spec->page_limit);
		return false;
	}
	s->brk_lo = s->brk_cur = base + img.hi;
	s->brk_hi = s->brk_lo + USER_BRK_SPAN;
	s->regs = (struct user_regs){ .rip = base + img.entry, .rsp = rsp, .rflags = 0 };
	return true;
}

/* ---- hostif.h ---- */

bool kservice_start(unsigned id, const struct kservice_spec *spec)
{
	struct service *s = service_of(id);

	if (s == NULL || s->state == SERVICE_RUNNING) {
		return false;
	}
	uint64_t hz = tsc_hz();

	__builtin_memset(s, 0, sizeof(*s));
	s->name = spec->name;
	s->state = SERVICE_RUNNING;
	s->err_lines_left = 64;
	s->budget_tsc = spec->start_ms * (hz / 1000U);
	set_fds(s);
	ramfs_init(&s->fs, spec->file_pages);
	fpu_state_save(s->outer_fpu);
	fpu_scrub();
	fpu_state_save(s->fpu);
	fpu_state_load(s->outer_fpu);
	if (hz == 0U) {
		service_fail(s, "no timer to hold it to a budget");
		return false;
	}
	if (!load(s, spec)) {
		release(s);
		return false;
	}
	bool ok = run_exchange(s);

	s->budget_tsc = spec->budget_ms * (hz / 1000U);
	return ok;
}

bool kservice_set_budget(unsigned id, uint64_t ms)
{
	struct service *s = service_of(id);

	if (s == NULL || s->state != SERVICE_RUNNING || ms == 0U) {
		return false;
	}
	s->budget_tsc = ms * (tsc_hz() / 1000U);
	return true;
}

bool kservice_running(unsigned id)
{
	const struct service *s = service_of(id);

	return s != NULL && s->state == SERVICE_RUNNING;
}

bool kservice_exchange(unsigned id, const void *in, size_t in_len, void *out, size_t out_cap,
		       size_t *out_len)
{
	struct service *s = service_of(id);

	*out_len = 0;
	if (s == NULL || s->state != SERVICE_RUNNING) {
		return false;
	}
	s->in = in;
	s->in_len = in_len;
	s->in_off = 0;
	s->out = out;
	s->out_cap = out_cap;
	s->out_len = 0;
	bool ok = run_exchange(s);

	*out_len = s->out_len;
	s->in = NULL;
	s->out = NULL;
	return ok;
}

void kservice_stop(unsigned id, const char *why)
{
	struct service *s = service_of(id);

	if (s != NULL && s->state == SERVICE_RUNNING) {
		service_fail(s, "%s", why);
		release(s);
	}
}

const char *kservice_why(unsigned id)
{
	const struct service *s = service_of(id);

	return s != NULL && s->state == SERVICE_STOPPED ? s->why : "";
}

void kservice_get_stats(unsigned id, struct kservice_stats *st)
{
	const struct service *s = service_of(id);

	*st = s != NULL ? s->stats : (struct kservice_stats){ 0 };
}
