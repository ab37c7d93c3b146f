/* The services runtime's own state (kernel/service): one struct per service, shared by the
 * run loop and loader (service.c) and the system calls (syscall.c). */
#ifndef KERNEL_SERVICE_SERVICE_H
#define KERNEL_SERVICE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/user.h"
#include "hostif.h"
#include "ramfs.h"
#include "uspace.h"

/* The address space's layout, all inside [USER_LO, USER_HI). */
#define USER_IMAGE_BASE (USER_LO + 0x400000ULL)
#define USER_IMAGE_SPAN (256ULL << 20)
#define USER_BRK_SPAN (256ULL << 20)
#define USER_MMAP_LO (USER_LO + (64ULL << 30))
#define USER_MMAP_HI (USER_LO + (256ULL << 30))
#define USER_STACK_TOP (USER_HI - (1ULL << 20))
#define USER_STACK_PAGES 64U /* 256 KiB */
#define USER_MAPS 64U
#define USER_FDS 16U
#define USER_ERRLINE 160U

enum fd_kind { FD_FREE, FD_IN, FD_OUT, FD_ERR, FD_FILE };

struct user_fd {
	enum fd_kind kind;
	bool readable, writable, append;
	int file;
	uint64_t off;
};

struct user_map {
	uint64_t lo, hi;
};

enum service_state { SERVICE_ABSENT, SERVICE_RUNNING, SERVICE_STOPPED };

/* What a system call leaves the run loop to do. */
enum sys_next { SYS_NEXT_RUN, SYS_NEXT_WAIT, SYS_NEXT_STOP };

struct service {
	const char *name;
	enum service_state state;
	char why[160];
	struct uspace us;
	struct user_regs regs;
	uint8_t fpu[4096] __attribute__((aligned(64)));
	uint8_t outer_fpu[4096] __attribute__((aligned(64))); /* the CPU's, during an exchange */
	uint64_t brk_lo, brk_cur, brk_hi;
	struct user_map map[USER_MAPS];
	unsigned maps;
	struct user_fd fd[USER_FDS];
	struct ramfs fs;
	/* The exchange in progress. */
	const uint8_t *in;
	size_t in_len, in_off;
	uint8_t *out;
	size_t out_cap, out_len;
	/* Parked in read(0): where the bytes go. */
	bool waiting;
	uint64_t wait_buf, wait_count;
	uint64_t budget_tsc, deadline;
	/* fd 2, a line at a time, and how many lines are left to print. */
	char errline[USER_ERRLINE];
	size_t errlen;
	unsigned err_lines_left;
	uint64_t unknown_logged; /* bit n: system call n (< 64) already reported */
	uint8_t bounce[1024];
	struct kservice_stats stats;
};

/* The system call in s->regs (RAX and the argument registers), its result in RAX. */
enum sys_next service_syscall(struct service *s);
/* Records why it stopped (printf-style), once; the run loop then ends it. */
void service_fail(struct service *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Completes the read(0) it is parked in with what input there is; false if there is none. */
bool service_feed(struct service *s);

#endif
