/* A hostile service for the kernel's ring-3 runtime (the kernel's test=service): a static
 * Linux program that speaks include/donjon/service_channel.h and, for each TPM_COMMAND,
 * runs the probe named by the payload's second byte. Probe 1 tries what a service must
 * get an error for and answers with each system call's result; the others do what must
 * stop it (a fault, a privileged instruction, a forbidden call, a loop); probe 17 reads the
 * GDT's base (SGDT), which a kernel with UMIP refuses. Hosted, the same
 * program runs as an ordinary process (the answers are Linux's own).
 *
 * A response is a TPM-shaped payload: tag 0x8001, its size, response code 0, then the
 * probe's results as little-endian 64-bit values. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <donjon/service_channel.h>

/* Memory a service must never reach: Donjon's kernel image (1 MiB, mapped supervisor-only
 * in every address space). SAFETY: never a valid pointer here; every use is an attack the
 * kernel must refuse (an error code) or stop (a fault). */
#define KERNEL_ADDR ((void *)0x100000UL)
#define RESULTS 16U

static uint8_t in[CHANNEL_HEADER_SIZE + 64];
static uint8_t out[CHANNEL_HEADER_SIZE + CHANNEL_TPM_HEADER_SIZE + 8U * RESULTS];
static const char rodata_word[8] = "const";

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4U; i++) {
		p[i] = (uint8_t)(v >> (8U * i));
	}
}

static int read_all(uint8_t *p, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = read(0, p + done, n - done);

		if (r <= 0) {
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

static __attribute__((noinline)) void answer(const int64_t *res, unsigned count)
{
	uint32_t len = CHANNEL_TPM_HEADER_SIZE + 8U * count;

	memset(out, 0, sizeof(out));
	put32(out, CHANNEL_MAGIC);
	put32(out + 4, CHANNEL_KIND_TPM_COMMAND);
	put32(out + 12, len);
	out[16] = 0x80;
	out[17] = 0x01;
	out[18] = (uint8_t)(len >> 24);
	out[19] = (uint8_t)(len >> 16);
	out[20] = (uint8_t)(len >> 8);
	out[21] = (uint8_t)len;
	memcpy(out + CHANNEL_HEADER_SIZE + CHANNEL_TPM_HEADER_SIZE, res, (size_t)count * 8U);
	if (write(1, out, CHANNEL_HEADER_SIZE + len) != (ssize_t)(CHANNEL_HEADER_SIZE + len)) {
		exit(3);
	}
}

static int64_t sys(long nr, long a, long b, long c)
{
	long r = syscall(nr, a, b, c);

	return r == -1 ? -(int64_t)errno : r;
}

/* The calls that must fail, each with Linux's error, and leave the service running. The
 * request still holds one unread payload byte when this starts. */
static void probe_errors(void)
{
	int64_t r[RESULTS] = { 0 };
	uint8_t last = 0;
	char buf[5000], back[5000];
	struct timespec t0, t1;
	long page = (long)(uintptr_t)probe_errors & ~4095L;

	r[0] = sys(SYS_write, 1, (long)KERNEL_ADDR, 16);
	r[1] = sys(SYS_read, 0, (long)KERNEL_ADDR, 1); /* must not consume the byte */
	r[2] = read(0, &last, 1) == 1 ? last : -1;
	void *rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	r[3] = rwx == MAP_FAILED ? -(int64_t)errno : 0;
	r[4] = (int64_t)syscall(SYS_mmap, KERNEL_ADDR, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	r[4] = r[4] == -1 ? -(int64_t)errno : 0;
	r[5] = sys(SYS_mprotect, page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	r[6] = sys(999, 0, 0, 0);
	r[7] = sys(SYS_getrandom, (long)KERNEL_ADDR, 16, 0);
	void *huge =
		mmap(NULL, 64UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	r[8] = huge == MAP_FAILED ? -(int64_t)errno : 0;
	r[9] = sys(SYS_open, (long)"/nothing", O_RDONLY, 0);
	int fd = open("/state/f", O_CREAT | O_RDWR, 0600);

	for (unsigned i = 0; i < sizeof(buf); i++) {
		buf[i] = (char)(i * 7U);
	}
	r[10] = fd >= 3 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
				lseek(fd, 0, SEEK_SET) == 0 &&
				read(fd, back, sizeof(back)) == (ssize_t)sizeof(back) &&
				memcmp(buf, back, sizeof(buf)) == 0 && close(fd) == 0
			? 0
			: -1;
	r[11] = sys(SYS_munmap, (long)KERNEL_ADDR, 4096, 0);
	r[12] = sys(SYS_arch_prctl, 0x1002, (long)0xFFFF800000000000UL, 0);
	r[13] = clock_gettime(CLOCK_MONOTONIC, &t0) == 0 &&
				clock_gettime(CLOCK_MONOTONIC, &t1) == 0 &&
				(t1.tv_sec > t0.tv_sec ||
				 (t1.tv_sec == t0.tv_sec && t1.tv_nsec >= t0.tv_nsec))
			? 0
			: -1;
	r[14] = sys(SYS_mprotect, (long)KERNEL_ADDR, 4096, PROT_READ);
	r[15] = write(2, "hostile: probe\n", 15);
	answer(r, RESULTS);
}

/* MXCSR and the x87 control word set (probe 14: rounding toward zero, every exception
 * masked), then read back by the next exchange (probe 15): the kernel keeps a service's
 * registers across exchanges, whatever ran on the CPU in between. glibc's own code leaves
 * both alone. */
static void probe_fpu(int set)
{
	int64_t r[2] = { 0, 0 };
	uint32_t mxcsr = 0x7F80U;
	uint16_t fcw = 0x0F7FU;

	if (set) {
		__asm__ volatile("ldmxcsr %0; fldcw %1" : : "m"(mxcsr), "m"(fcw));
	}
	__asm__ volatile("stmxcsr %0; fnstcw %1" : "=m"(mxcsr), "=m"(fcw));
	r[0] = mxcsr;
	r[1] = fcw;
	answer(r, 2);
}

static __attribute__((noinline)) void run_probe(unsigned probe)
{
	static volatile uint8_t sink;
	uint8_t code[16];
	int futex_word = 7;

	switch (probe) {
	case 0: /* echo: a well-behaved answer */
		answer((const int64_t[]){ 0x600D }, 1);
		break;
	case 1:
		probe_errors();
		break;
	case 2: /* read the kernel's memory */
		sink = *(volatile uint8_t *)KERNEL_ADDR;
		break;
	case 3: /* write its own code */
		/* SAFETY: an attack: the text is read-only, the write must fault. */
		*(volatile uint8_t *)(uintptr_t)answer = 0xC3;
		break;
	case 4: /* run code from its stack */
		code[0] = 0xC3;
		((void (*)(void))(uintptr_t)code)();
		break;
	case 5: /* a privileged instruction */
		__asm__ volatile("hlt");
		break;
	case 6: /* loop forever */
		for (;;) {
			__asm__ volatile("" ::: "memory");
		}
	case 7: /* a thread */
		(void)syscall(SYS_clone, 0, 0, 0, 0, 0);
		break;
	case 8:
		_exit(3);
	case 9: /* more than a response may hold */
		for (unsigned i = 0; i < 3U; i++) {
			static uint8_t big[4096];

			(void)write(1, big, sizeof(big));
		}
		break;
	case 10: /* wait for a wake-up that cannot come */
		(void)syscall(SYS_futex, &futex_word, 0 /* FUTEX_WAIT */, 7, NULL, NULL, 0);
		break;
	case 11:
		abort();
	case 12: /* a breakpoint: the kernel's gate is not for ring 3 */
		__asm__ volatile("int3");
		break;
	case 13: /* write read-only data */
		/* SAFETY: an attack: the constant is in a read-only page, the write must fault. */
		*(volatile char *)(uintptr_t)rodata_word = 'x';
		break;
	case 14:
	case 15:
		probe_fpu(probe == 14);
		break;
	case 16: { /* memory it wrote made code: refused */
		uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int64_t r = page == MAP_FAILED ? -1 : 0;

		if (r == 0) {
			page[0] = 0xC3;
			r = mprotect(page, 4096, PROT_READ | PROT_EXEC) == 0 ? 0 : -(int64_t)errno;
		}
		answer(&r, 1);
		break;
	}
	case 17: { /* read the GDT's base: with UMIP a #GP, without it the kernel's address */
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) gdtr = { 0, 0 };

		__asm__ volatile("sgdt %0" : "=m"(gdtr));
		answer((const int64_t[]){ (int64_t)gdtr.base }, 1);
		break;
	}
	default:
		answer((const int64_t[]){ -1 }, 1);
		break;
	}
	(void)sink;
}

int main(void)
{
	for (;;) {
		if (read_all(in, CHANNEL_HEADER_SIZE) != 0) {
			return 0;
		}
		uint32_t len = le32(in + 12);

		/* locality, the probe, then (for probe 1) one byte it reads itself. */
		if (le32(in) != CHANNEL_MAGIC || len < 2U || len > 3U ||
		    read_all(in + 16, 2) != 0) {
			return 2;
		}
		run_probe(in[17]);
		if (len == 3U && in[17] != 1U && read_all(in + 18, 1) != 0) {
			return 2;
		}
	}
}
