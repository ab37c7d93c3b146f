/* Donjon's kernel entry: PVH start info, CPU tables, memory, then the kernel's tests or
 * its work. Exits QEMU through isa-debug-exit. */
#include <stdarg.h>

#include "acpi.h"
#include "arch/x86/cpu.h"
#include "console.h"
#include "bench_crypto.h"
#include "harness.h"
#include "kernel.h"
#include "ktest.h"
#include "mm.h"
#include "native_api.h"
#include "percpu.h"
#include "trap.h"

#define PVH_MAGIC 0x336EC578U
#define E820_RAM 1U
#define DEBUG_EXIT_PORT 0xF4
#define CMDLINE_MAX 256U

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1");

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

/* QEMU's -initrd: the first PVH module, if any. */
static uint64_t module_pa, module_size;

bool boot_module(uint64_t *pa, uint64_t *size)
{
	*pa = module_pa;
	*size = module_size;
	return module_size != 0U;
}

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct ksym {
	uint64_t addr;
	const char *name;
};
extern const struct ksym kernel_symbols[];
extern const unsigned kernel_symbol_count;

static char cmdline[CMDLINE_MAX];

unsigned this_cpu(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[1] >> 24;
}

void kernel_exit(bool passed)
{
	outl(DEBUG_EXIT_PORT, passed ? 0x10U : 0x11U);
	for (;;) {
		__asm__ volatile("cli; hlt");
	}
}

const char *kernel_symbol(uint64_t addr, char *buf, size_t size)
{
	unsigned lo = 0, hi = kernel_symbol_count;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2U;

		if (kernel_symbols[mid].addr <= addr) {
			lo = mid + 1U;
		} else {
			hi = mid;
		}
	}
	if (lo == 0U || addr >= (uint64_t)(uintptr_t)__text_end) {
		return "?";
	}
	const struct ksym *s = &kernel_symbols[lo - 1U];
	char off[24];
	uint64_t d = addr - s->addr;
	int n = 0;

	do {
		off[n++] = "0123456789abcdef"[d % 16U];
		d /= 16U;
	} while (d != 0U);
	size_t len = 0;

	for (const char *p = s->name; *p != '\0' && len + 1U < size; p++) {
		buf[len++] = *p;
	}
	const char *plus = "+0x";

	for (const char *p = plus; *p != '\0' && len + 1U < size; p++) {
		buf[len++] = *p;
	}
	while (n > 0 && len + 1U < size) {
		buf[len++] = off[--n];
	}
	buf[len] = '\0';
	return buf;
}

/* The value of key=VALUE on the command line, or NULL. */
const char *cmdline_get(const char *key)
{
	size_t klen = 0;

	while (key[klen] != '\0') {
		klen++;
	}
	for (const char *p = cmdline; *p != '\0';) {
		while (*p == ' ') {
			p++;
		}
		const char *word = p;

		while (*p != '\0' && *p != ' ') {
			p++;
		}
		bool match = (size_t)(p - word) > klen && word[klen] == '=';

		for (size_t i = 0; match && i < klen; i++) {
			match = word[i] == key[i];
		}
		if (match) {
			return word + klen + 1;
		}
	}
	return NULL;
}

bool cmdline_is(const char *key, const char *value)
{
	const char *v = cmdline_get(key);
	size_t i = 0;

	for (; v != NULL && value[i] != '\0'; i++) {
		if (v[i] != value[i]) {
			return false;
		}
	}
	return v != NULL && (v[i] == '\0' || v[i] == ' ');
}

/* Before paging_init, the boot tables map the first 4 GiB 1:1, page 0 included, and
 * QEMU's PVH loader puts the start info, memory map and command line in low memory
 * (the map in page 0). Read them here, once, into the kernel's own copies. */
static const void *boot_ptr(uint64_t pa, uint64_t len)
{
	if (pa >= (4ULL << 30) || len > (4ULL << 30) - pa) {
		return NULL;
	}
	/* SAFETY: only called before paging_init, while the boot tables (boot.S) map every
	 * address below 4 GiB to itself; the range was checked to lie below 4 GiB. */
	return (const void *)(uintptr_t)pa;
}

static void read_start_info(uint32_t pa)
{
	const struct hvm_start_info *si = boot_ptr(pa, sizeof(*si));

	if (si == NULL || si->magic != PVH_MAGIC) {
		log_msg(LOG_ERR, "no PVH start info (booted without QEMU -kernel?)");
		kernel_exit(false);
	}
	const struct hvm_memmap_entry *map =
		boot_ptr(si->memmap_paddr, (uint64_t)si->memmap_entries * sizeof(*map));

	for (uint32_t i = 0; map != NULL && i < si->memmap_entries; i++) {
		if (map[i].type == E820_RAM) {
			mm_add_ram(map[i].addr, map[i].size);
		}
	}
	acpi_set_rsdp(si->rsdp_paddr);
	const struct hvm_modlist_entry *mod =
		si->nr_modules != 0U ? boot_ptr(si->modlist_paddr, sizeof(*mod)) : NULL;

	if (mod != NULL && mod->size != 0U && kernel_ram_contains(mod->paddr, mod->size)) {
		module_pa = mod->paddr;
		module_size = mod->size;
	}
	const char *cl = si->cmdline_paddr != 0U ? boot_ptr(si->cmdline_paddr, CMDLINE_MAX) : NULL;

	for (unsigned i = 0; cl != NULL && i + 1U < CMDLINE_MAX && cl[i] != '\0'; i++) {
		cmdline[i] = cl[i];
	}
}

/* crash=ud: an unexpected exception, to show (and test) the report. The leaf has no
 * frame of its own; its caller's frame makes the backtrace start in kmain. */
__attribute__((noinline)) static void invalid_opcode(void)
{
	__asm__ volatile("ud2");
}

__attribute__((noinline)) static void crash_on_purpose(void)
{
	invalid_opcode();
	__asm__ volatile("" ::: "memory");
}

void kmain(uint32_t start_info);

void kmain(uint32_t start_info)
{
	console_init();
	read_start_info(start_info);
	/* bench=exit: the baseline of `make bench`, a kernel that only boots and exits. */
	if (cmdline_is("bench", "exit")) {
		kernel_exit(true);
	}
	const char *level = cmdline_get("loglevel");

	if (level != NULL && level[0] >= '0' && level[0] <= '3') {
		console_set_level((enum log_level)(level[0] - '0'));
	}
	log_msg(LOG_INFO, "Donjon kernel: %lu MiB of RAM, command line '%s'", mm_ram_bytes() >> 20,
		cmdline);
	if ((uint64_t)(uintptr_t)__kernel_end > (2ULL << 20)) {
		log_msg(LOG_ERR, "kernel image ends above 2 MiB");
		kernel_exit(false);
	}
	trap_init_cpu(0);
	percpu_init(0);
	crypto_env_init();
	paging_init();
	/* bench=crypto: the crypto workload make bench compares with the hosted builds. */
	if (cmdline_is("bench", "crypto")) {
		struct crypto_bench b;
		bool ok = crypto_bench_run(&b);

		log_msg(LOG_INFO, "bench: gcm-seal-4k %lu sha384-4k %lu ecdsa-sign %lu ticks",
			b.gcm_seal_4k, b.sha384_4k, b.ecdsa_sign);
		kernel_exit(ok);
	}
	const char *test = cmdline_get("test");

	if (cmdline_get("crash") != NULL) {
		crash_on_purpose();
		kernel_exit(false);
	}
	if (test != NULL && test[0] == 'c' && test[1] == 'o' && test[2] == 'r' && test[3] == 'e') {
		native_run_core_tests();
	}
	if (test != NULL && test[0] == 'c' && test[1] == 'r' && test[2] == 'y') {
		kernel_exit(ct_run_tests("crypto-kernel", crypto_tests, crypto_test_count) == 0U);
	}
	if (cmdline_is("test", "service")) {
		ktest_services();
	}
	if (test != NULL) {
		pmm_init(~0ULL);
		kernel_exit(ktest_run(test));
	}
	native_run_guest();
}
