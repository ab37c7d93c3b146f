/* The per-CPU blocks FS points at. */
#include "percpu.h"

#include "arch/x86/cpu.h"

#define MSR_FS_BASE 0xC0000100U

/* The layout stack-protector code expects of the thread control block: a pointer to
 * itself at 0, the canary at 0x28. The kernel keeps the CPU index at 8. */
struct percpu_block {
	uint64_t self;
	uint64_t index;
	uint64_t unused[3];
	uint64_t canary;
};
_Static_assert(__builtin_offsetof(struct percpu_block, canary) == 0x28, "stack protector canary");

static struct percpu_block blocks[SMP_MAX_CPUS] __attribute__((aligned(64)));
static uint64_t canary;

/* 64 random bits for the canary: RDRAND where the CPU has it, else the TSC. The low byte
 * is zero, so that a string copy cannot reproduce the canary. */
static uint64_t draw_canary(void)
{
	uint32_t r[4];
	uint64_t v = rdtsc() * 0x9E3779B97F4A7C15ULL;
	uint8_t ok = 0;

	cpuid(1, 0, r);
	if ((r[2] & (1U << 30)) == 0U) {
		return v & ~0xFFULL;
	}
	for (unsigned tries = 0; tries < 10U; tries++) {
		__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
		if (ok != 0U) {
			break;
		}
	}
	return v & ~0xFFULL;
}

void percpu_init(unsigned index)
{
	struct percpu_block *b = &blocks[index];

	if (index == 0U) {
		canary = draw_canary();
	}
	*b = (struct percpu_block){ .self = (uint64_t)(uintptr_t)b,
				    .index = index,
				    .canary = canary };
	wrmsr(MSR_FS_BASE, b->self);
}

unsigned percpu_index(void)
{
	uint64_t index = 0;

	__asm__ volatile("movq %%fs:8, %0" : "=r"(index));
	return (unsigned)index;
}
