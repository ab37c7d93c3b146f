/* What Donjon's kernel offers the platform it hosts (platform/native; platform/snp later):
 * memory, the console, the CPUs and the command line. A platform includes this header and
 * the instruction wrappers of arch/x86/cpu.h, nothing else of the kernel's; the kernel
 * reaches the platform only through the platform's native_api.h. scripts/check-layers
 * keeps both directions to that. */
#ifndef KERNEL_HOSTIF_H
#define KERNEL_HOSTIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- memory ---- */

/* The kernel maps memory 1:1 below 4 GiB. A pointer to [pa, pa + len), or NULL if the
 * range is not inside mapped RAM. */
void *kernel_ptr(uint64_t pa, size_t len);
/* The end of the highest RAM range (below 4 GiB). */
uint64_t mm_ram_top(void);
/* Contiguous, zeroed, page-aligned memory right after the kernel image, for tables that
 * live as long as the kernel. Only before pmm_init; 0 if it does not fit below `limit`. */
uint64_t mm_reserve(uint64_t bytes, uint64_t limit);
/* Page allocator over usable RAM between the reservations and `limit`. Returns false when
 * memory is exhausted; never panics. Pages come back zeroed. */
void pmm_init(uint64_t limit);
bool pmm_alloc(uint64_t *pa);
/* Pages handed out and not freed since pmm_init. */
uint64_t pmm_used_pages(void);
/* The kernel's code and read-only data, [*start, *end), page aligned: what stays the same
 * while it runs. */
void kernel_image_constant(uint64_t *start, uint64_t *end);
/* The kernel image (text, data, bss) and the boot reservations, in bytes. */
uint64_t mm_image_bytes(void);
uint64_t mm_reserved_bytes(void);

/* ---- the console ---- */

enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Always printed, no prefix: test results and reports. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What a guest causes: printed with a "guest: " prefix until a budget is spent, so that a
 * guest cannot flood the console. */
void log_guest(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* len bytes as 2 * len lowercase hex digits and a NUL in out. */
void fmt_hex(char *out, const void *in, size_t len);

/* ---- CPUs ---- */

#define SMP_MAX_CPUS 8U

/* Start every AP listed in the MADT; each loads its own CPU tables and the kernel's page
 * tables, then calls ap_work(index). Returns the number of CPUs online, the BSP included. */
unsigned smp_start(void (*ap_work)(unsigned index));
unsigned smp_cpu_count(void);
/* Send an NMI to CPU `index`. The kernel's NMI handler does nothing: an NMI only makes a
 * CPU leave guest mode (the platform intercepts NMIs). */
void smp_send_nmi(unsigned index);
/* Send CPU `index` the tick's interrupt vector: it leaves guest mode, or wakes from
 * tick_wait, and takes it (with interrupts disabled it stays pending until then). */
void smp_send_wake(unsigned index);
/* The APIC ID of CPU `index` (~0 if none was started there). */
uint32_t smp_apic_id(unsigned index);
/* The index of the CPU with this APIC ID, or SMP_MAX_CPUS. */
unsigned smp_index_of(uint32_t apic_id);
/* The APIC ID of the calling CPU. */
unsigned this_cpu(void);

/* ---- time (tick.c) ---- */

/* Once, on the BSP: the 8259 PICs and LINT0 masked, this CPU's local APIC timer set up,
 * and the TSC and that timer measured against the PIT (50 ms). False, with a message, if
 * the PIT or the timer does not count. */
bool tick_init(void);
/* The same local APIC set-up on another CPU (after tick_init on the BSP). */
void tick_cpu_init(void);
/* The TSC's rate in Hz (tick_init's measure; 0 before). */
uint64_t tsc_hz(void);
/* This CPU's timer interrupts at TSC value deadline or a little after (at most 1/8 s from
 * now: a caller that waits longer re-arms); UINT64_MAX stops it. */
void tick_arm(uint64_t deadline);
/* The deadline this CPU's last tick_arm set (UINT64_MAX: stopped), to put it back after
 * another use of the timer. */
uint64_t tick_armed(void);
/* After a guest's run ended on a physical interrupt: interrupts enabled for one instruction,
 * so the pending one is taken. */
void tick_take(void);
/* tick_arm(deadline), then halt until an interrupt or an NMI. Callers loop on their own
 * condition: the wake-up may be early, or for another reason. */
void tick_wait(uint64_t deadline);

/* ---- the x87/SSE/AVX registers ---- */

#include "fpu.h"

/* ---- ring-3 services (kernel/service) ---- */

/* One static x86-64 Linux program (link it -static-pie) to run in ring 3 with its own
 * address space, FPU state and RAM filesystem; it speaks include/donjon/service_channel.h
 * on fd 0 and fd 1 (fd 2 goes to the console, rate-limited). */
struct kservice_spec {
	const char *name;   /* for reports */
	const uint8_t *elf; /* the executable, copied at start (the caller may reuse it) */
	size_t elf_len;
	const char *const *argv; /* NULL-terminated; argv[0] first */
	const char *const *envp; /* NULL-terminated */
	uint64_t page_limit;	 /* pages its address space may use, page tables included */
	uint64_t file_pages;	 /* pages its RAM filesystem may use */
	uint64_t start_ms;	 /* time it may run from its start until it first reads */
	uint64_t budget_ms;	 /* time it may run for one exchange */
};

#define KSERVICE_MAX 1U

struct kservice_stats {
	uint64_t pages, file_pages; /* in use now */
	uint64_t exchanges, syscalls;
	uint64_t tsc_user, tsc_kernel; /* TSC ticks in ring 3, and in its system calls */
};

/* Loads and starts service `id` and runs it until it first waits for a request. False,
 * with the reason in kservice_why, if the file is refused or the program stops first. */
bool kservice_start(unsigned id, const struct kservice_spec *spec);
bool kservice_running(unsigned id);
/* Service id's time budget for each exchange from now on, ms (> 0); false if it is not
 * running. */
bool kservice_set_budget(unsigned id, uint64_t ms);

/* Gives it in (in_len bytes) on fd 0 and runs it until it waits for more input; what it
 * wrote to fd 1 meanwhile is in out, *out_len bytes. False if it is not running or stopped
 * during the exchange (a fault, a forbidden or impossible system call, its exit, its time
 * budget spent, more than out_cap bytes written): it is then stopped for good, every page
 * of it freed, and kservice_why says why. Only one CPU at a time may call this for an id. */
bool kservice_exchange(unsigned id, const void *in, size_t in_len, void *out, size_t out_cap,
		       size_t *out_len);
void kservice_stop(unsigned id, const char *why);
/* Why it stopped ("" while it runs or before it started). */
const char *kservice_why(unsigned id);
void kservice_get_stats(unsigned id, struct kservice_stats *st);

/* ---- boot ---- */

/* The value of key=VALUE on the kernel's command line, or NULL. */
const char *cmdline_get(const char *key);
/* True if the command line has key=value, exactly that value. */
bool cmdline_is(const char *key, const char *value);
/* Clear physical page 0, which the kernel keeps unmapped (for a guest that gets it). */
void clear_page0(void);
/* QEMU's -initrd, as the PVH start info gave it: its physical range; false if none. */
bool boot_module(uint64_t *pa, uint64_t *size);
/* Leave QEMU through isa-debug-exit: exit code 33 when passed, 35 otherwise. */
__attribute__((noreturn)) void kernel_exit(bool passed);

#endif
