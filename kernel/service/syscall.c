/* The system calls a service may make (shared/spec/linux-abi-services.md: what a static
 * glibc program with libtpms and OpenSSL asks for), with Linux's numbers, arguments and
 * errors. Every pointer is ring 3's and goes through uspace's copies, which refuse what
 * is not the service's own memory: a bad one gets -EFAULT, as from Linux. What a service
 * needs but cannot have (threads, processes, other programs) stops it; anything else
 * unknown gets -ENOSYS, reported once per call number. */
#include <donjon/crypto.h>

#include "arch/x86/cpu.h"
#include "console.h"
#include "linux_abi.h"
#include "service.h"

#define PAGE USER_PAGE
#define IOV_MAX 1024U
#define PATH_MAX_LEN (RAMFS_NAME_MAX + 1U)

static int64_t err(int e)
{
	return -(int64_t)e;
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1U) & ~(PAGE - 1U);
}

/* ---- fd 0: the request; fd 1: the response ---- */

bool service_feed(struct service *s)
{
	size_t left = s->in_len - s->in_off;
	size_t n = s->wait_count < left ? (size_t)s->wait_count : left;

	if (n == 0U && s->wait_count != 0U) {
		return false;
	}
	s->waiting = false;
	if (!uspace_copy_out(&s->us, s->wait_buf, s->in + s->in_off, n)) {
		s->regs.rax = (uint64_t)err(LINUX_EFAULT);
		return true;
	}
	s->in_off += n;
	s->regs.rax = n;
	return true;
}

static enum sys_next read_input(struct service *s, uint64_t buf, uint64_t count)
{
	s->wait_buf = buf;
	s->wait_count = count;
	s->waiting = true;
	/* Nothing left of this exchange's input: it waits for the next one. */
	return service_feed(s) ? SYS_NEXT_RUN : SYS_NEXT_WAIT;
}

static int64_t write_output(struct service *s, uint64_t buf, uint64_t count)
{
	if (count > s->out_cap - s->out_len) {
		service_fail(s, "wrote more than a response may hold (%lu bytes)", s->out_cap);
		return 0;
	}
	if (!uspace_copy_in(&s->us, s->out + s->out_len, buf, (size_t)count)) {
		return err(LINUX_EFAULT);
	}
	s->out_len += (size_t)count;
	return (int64_t)count;
}

/* fd 2: whole lines to the console, at most err_lines_left of them. */
static void err_char(struct service *s, char c)
{
	if (c != '\n' && s->errlen + 1U < sizeof(s->errline)) {
		s->errline[s->errlen++] = c;
		if (c < ' ' || c > '~') {
			s->errline[s->errlen - 1U] = '?';
		}
		return;
	}
	s->errline[s->errlen] = '\0';
	if (s->err_lines_left != 0U) {
		s->err_lines_left--;
		log_msg(LOG_WARN, "service %s: %s", s->name, s->errline);
	}
	s->errlen = 0;
}

static int64_t write_err(struct service *s, uint64_t buf, uint64_t count)
{
	for (uint64_t done = 0; done < count;) {
		size_t n = count - done < sizeof(s->bounce) ? (size_t)(count - done)
							    : sizeof(s->bounce);

		if (!uspace_copy_in(&s->us, s->bounce, buf + done, n)) {
			return done != 0U ? (int64_t)done : err(LINUX_EFAULT);
		}
		for (size_t i = 0; i < n; i++) {
			err_char(s, (char)s->bounce[i]);
		}
		done += n;
	}
	return (int64_t)count;
}

/* ---- files ---- */

static struct user_fd *fd_of(struct service *s, uint64_t fd)
{
	return fd < USER_FDS && s->fd[fd].kind != FD_FREE ? &s->fd[fd] : NULL;
}

static int64_t file_read(struct service *s, struct user_fd *f, uint64_t buf, uint64_t count)
{
	uint64_t done = 0;

	while (done < count) {
		size_t want = count - done < sizeof(s->bounce) ? (size_t)(count - done)
							       : sizeof(s->bounce);
		size_t n = ramfs_read(&s->fs, f->file, f->off, s->bounce, want);

		if (n == 0U) {
			break;
		}
		if (!uspace_copy_out(&s->us, buf + done, s->bounce, n)) {
			return done != 0U ? (int64_t)done : err(LINUX_EFAULT);
		}
		f->off += n;
		done += n;
	}
	return (int64_t)done;
}

static int64_t file_write(struct service *s, struct user_fd *f, uint64_t buf, uint64_t count)
{
	uint64_t done = 0;

	if (f->append) {
		f->off = ramfs_size(&s->fs, f->file);
	}
	while (done < count) {
		size_t want = count - done < sizeof(s->bounce) ? (size_t)(count - done)
							       : sizeof(s->bounce);

		if (!uspace_copy_in(&s->us, s->bounce, buf + done, want)) {
			return done != 0U ? (int64_t)done : err(LINUX_EFAULT);
		}
		size_t n = ramfs_write(&s->fs, f->file, f->off, s->bounce, want);

		f->off += n;
		done += n;
		if (n < want) {
			return done != 0U ? (int64_t)done : err(LINUX_ENOSPC);
		}
	}
	return (int64_t)done;
}

static int64_t do_write(struct service *s, uint64_t fd, uint64_t buf, uint64_t count)
{
	struct user_fd *f = fd_of(s, fd);

	if (f == NULL || !f->writable) {
		return err(LINUX_EBADF);
	}
	if (count > (1ULL << 31)) {
		count = 1ULL << 31;
	}
	switch (f->kind) {
	case FD_OUT:
		return write_output(s, buf, count);
	case FD_ERR:
		return write_err(s, buf, count);
	default:
		return file_write(s, f, buf, count);
	}
}

static int64_t do_writev(struct service *s, uint64_t fd, uint64_t iov, uint64_t cnt)
{
	int64_t total = 0;

	if (cnt > IOV_MAX) {
		return err(LINUX_EINVAL);
	}
	for (uint64_t i = 0; i < cnt && s->state == SERVICE_RUNNING; i++) {
		uint64_t v[2];
		int64_t r = 0;

		if (!uspace_copy_in(&s->us, v, iov + 16U * i, sizeof(v))) {
			return total != 0 ? total : err(LINUX_EFAULT);
		}
		r = v[1] != 0U ? do_write(s, fd, v[0], v[1]) : 0;
		if (r < 0) {
			return total != 0 ? total : r;
		}
		total += r;
	}
	return total;
}

/* A NUL-terminated path of at most RAMFS_NAME_MAX bytes from ring 3 into name. */
static int64_t get_path(struct service *s, uint64_t va, char name[PATH_MAX_LEN])
{
	for (unsigned i = 0; i < PATH_MAX_LEN; i++) {
		if (!uspace_copy_in(&s->us, &name[i], va + i, 1)) {
			return err(LINUX_EFAULT);
		}
		if (name[i] == '\0') {
			return 0;
		}
	}
	return err(LINUX_ENAMETOOLONG);
}

static int64_t do_openat(struct service *s, int64_t dirfd, uint64_t path, uint64_t flags)
{
	char name[PATH_MAX_LEN];
	int64_t r = get_path(s, path, name);
	unsigned acc = (unsigned)(flags & LINUX_O_ACCMODE);
	unsigned slot = 3;

	if (r != 0) {
		return r;
	}
	if (dirfd != LINUX_AT_FDCWD && name[0] != '/') {
		return err(LINUX_EBADF);
	}
	if ((flags & LINUX_O_DIRECTORY) != 0U) {
		return err(LINUX_ENOTDIR);
	}
	while (slot < USER_FDS && s->fd[slot].kind != FD_FREE) {
		slot++;
	}
	if (slot == USER_FDS) {
		return err(LINUX_EMFILE);
	}
	bool create = (flags & LINUX_O_CREAT) != 0U;
	int exists = ramfs_open(&s->fs, name, false);

	if (create && exists >= 0 && (flags & LINUX_O_EXCL) != 0U) {
		return err(LINUX_EEXIST);
	}
	int file = exists >= 0 ? exists : ramfs_open(&s->fs, name, create);

	if (file < 0) {
		return file;
	}
	if ((flags & LINUX_O_TRUNC) != 0U && acc != 0U) {
		ramfs_truncate(&s->fs, file);
	}
	s->fd[slot] = (struct user_fd){
		.kind = FD_FILE,
		.readable = acc != LINUX_O_WRONLY,
		.writable = acc != 0U,
		.append = (flags & LINUX_O_APPEND) != 0U,
		.file = file,
	};
	return slot;
}

static int64_t do_lseek(struct service *s, uint64_t fd, int64_t off, uint64_t whence)
{
	struct user_fd *f = fd_of(s, fd);
	int64_t base = 0;

	if (f == NULL) {
		return err(LINUX_EBADF);
	}
	if (f->kind != FD_FILE) {
		return err(LINUX_ESPIPE);
	}
	if (whence == LINUX_SEEK_CUR) {
		base = (int64_t)f->off;
	} else if (whence == LINUX_SEEK_END) {
		base = (int64_t)ramfs_size(&s->fs, f->file);
	} else if (whence != LINUX_SEEK_SET) {
		return err(LINUX_EINVAL);
	}
	if ((off < 0 && base + off < 0) || (off > 0 && base > INT64_MAX - off)) {
		return err(LINUX_EINVAL);
	}
	f->off = (uint64_t)(base + off);
	return base + off;
}

static int64_t do_fstat(struct service *s, uint64_t fd, uint64_t st)
{
	struct user_fd *f = fd_of(s, fd);
	uint8_t buf[LINUX_STAT_SIZE] = { 0 };
	uint32_t mode = LINUX_S_IFCHR | 0600U;
	uint64_t size = 0, blksize = PAGE;

	if (f == NULL) {
		return err(LINUX_EBADF);
	}
	if (f->kind == FD_FILE) {
		mode = LINUX_S_IFREG | 0600U;
		size = ramfs_size(&s->fs, f->file);
	}
	__builtin_memcpy(buf + LINUX_STAT_MODE, &mode, 4);
	__builtin_memcpy(buf + LINUX_STAT_SIZE_OFF, &size, 8);
	__builtin_memcpy(buf + LINUX_STAT_BLKSIZE, &blksize, 8);
	return uspace_copy_out(&s->us, st, buf, sizeof(buf)) ? 0 : err(LINUX_EFAULT);
}

static int64_t do_newfstatat(struct service *s, int64_t dirfd, uint64_t path, uint64_t st,
			     uint64_t flags)
{
	char name[PATH_MAX_LEN];
	int64_t r = get_path(s, path, name);

	if (r != 0) {
		return r;
	}
	if (name[0] == '\0' && (flags & LINUX_AT_EMPTY_PATH) != 0U) {
		return dirfd >= 0 ? do_fstat(s, (uint64_t)dirfd, st) : err(LINUX_EBADF);
	}
	/* Files are reached through open() only; a path names nothing to stat. */
	return err(LINUX_ENOENT);
}

/* ---- memory ---- */

static int64_t do_brk(struct service *s, uint64_t want)
{
	uint64_t cur = page_up(s->brk_cur);

	if (want < s->brk_lo || want > s->brk_hi) {
		return (int64_t)s->brk_cur;
	}
	uint64_t end = page_up(want);

	for (uint64_t va = cur; va < end; va += PAGE) {
		uint64_t pa = 0;

		if (!uspace_map(&s->us, va, USPACE_W, &pa)) {
			for (uint64_t undo = cur; undo < va; undo += PAGE) {
				uspace_unmap(&s->us, undo);
			}
			return (int64_t)s->brk_cur;
		}
	}
	for (uint64_t va = end; va < cur; va += PAGE) {
		uspace_unmap(&s->us, va);
	}
	s->brk_cur = want;
	return (int64_t)want;
}

/* The lowest gap of len bytes in the mmap window, or 0. */
static uint64_t find_gap(const struct service *s, uint64_t len)
{
	uint64_t at = USER_MMAP_LO;

	for (unsigned i = 0; i < s->maps; i++) {
		if (s->map[i].lo - at >= len) {
			return at;
		}
		at = s->map[i].hi;
	}
	return USER_MMAP_HI - at >= len ? at : 0U;
}

static void add_map(struct service *s, uint64_t lo, uint64_t hi)
{
	unsigned i = s->maps;

	while (i > 0U && s->map[i - 1U].lo > lo) {
		s->map[i] = s->map[i - 1U];
		i--;
	}
	s->map[i] = (struct user_map){ lo, hi };
	s->maps++;
}

/* fd is ignored, as Linux ignores it for anonymous memory. */
static int64_t do_mmap(struct service *s, uint64_t len, uint64_t prot, uint64_t flags)
{
	uint64_t known = LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_NORESERVE;

	if (len == 0U || len > USER_MMAP_HI - USER_MMAP_LO || (flags & ~known) != 0U ||
	    (flags & (LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS)) !=
		    (LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS) ||
	    (prot & ~(uint64_t)(LINUX_PROT_READ | LINUX_PROT_WRITE)) != 0U || prot == 0U) {
		/* Only private anonymous memory, readable (and writable): no file mappings, no
		 * fixed addresses, nothing executable. */
		return err((prot & LINUX_PROT_EXEC) != 0U ? LINUX_EACCES : LINUX_EINVAL);
	}
	len = page_up(len);
	uint64_t at = s->maps < USER_MAPS ? find_gap(s, len) : 0U;

	if (at == 0U) {
		return err(LINUX_ENOMEM);
	}
	unsigned perm = (prot & LINUX_PROT_WRITE) != 0U ? USPACE_W : USPACE_R;

	for (uint64_t va = at; va < at + len; va += PAGE) {
		uint64_t pa = 0;

		if (!uspace_map(&s->us, va, perm, &pa)) {
			for (uint64_t undo = at; undo < va; undo += PAGE) {
				uspace_unmap(&s->us, undo);
			}
			return err(LINUX_ENOMEM);
		}
	}
	add_map(s, at, at + len);
	return (int64_t)at;
}

static int64_t do_munmap(struct service *s, uint64_t addr, uint64_t len)
{
	if ((addr & (PAGE - 1U)) != 0U || len == 0U || addr < USER_MMAP_LO ||
	    addr >= USER_MMAP_HI || len > USER_MMAP_HI - addr) {
		return err(LINUX_EINVAL);
	}
	uint64_t lo = addr, hi = addr + page_up(len);

	for (unsigned i = 0; i < s->maps;) {
		struct user_map m = s->map[i];

		if (m.hi <= lo || m.lo >= hi) {
			i++;
			continue;
		}
		/* What stays of the mapping below and above the cut. */
		bool below = m.lo<lo, above = m.hi> hi;
		uint64_t cut_lo = below ? lo : m.lo, cut_hi = above ? hi : m.hi;

		if (below && above && s->maps == USER_MAPS) {
			return err(LINUX_ENOMEM); /* no entry left to split it */
		}
		for (uint64_t va = cut_lo; va < cut_hi; va += PAGE) {
			uspace_unmap(&s->us, va);
		}
		for (unsigned j = i; j + 1U < s->maps; j++) {
			s->map[j] = s->map[j + 1U];
		}
		s->maps--;
		if (below) {
			add_map(s, m.lo, lo);
		}
		if (above) {
			add_map(s, hi, m.hi);
		}
		i = 0; /* the array moved: start again (what stays lies outside the cut) */
	}
	return 0;
}

/* RELRO and the like: permissions of pages it has, never writable and executable, and
 * executable only where the page already is (its code): no page it could write becomes
 * code. */
static int64_t do_mprotect(struct service *s, uint64_t addr, uint64_t len, uint64_t prot)
{
	unsigned perm = ((prot & LINUX_PROT_WRITE) != 0U ? USPACE_W : 0U) |
			((prot & LINUX_PROT_EXEC) != 0U ? USPACE_X : 0U);

	if ((addr & (PAGE - 1U)) != 0U || (prot & ~7ULL) != 0U || len > USER_HI - USER_LO) {
		return err(LINUX_EINVAL);
	}
	if (perm == (USPACE_W | USPACE_X)) {
		return err(LINUX_EACCES);
	}
	if (prot == 0U) {
		return err(LINUX_EINVAL); /* PROT_NONE: no page it has can become inaccessible */
	}
	for (uint64_t va = addr; va < addr + page_up(len); va += PAGE) {
		if (uspace_lookup(&s->us, va, false) == 0U) {
			return err(LINUX_ENOMEM);
		}
		if ((perm & USPACE_X) != 0U && !uspace_executable(&s->us, va)) {
			return err(LINUX_EACCES);
		}
	}
	for (uint64_t va = addr; va < addr + page_up(len); va += PAGE) {
		(void)uspace_protect(&s->us, va, perm);
	}
	return 0;
}

/* ---- time, randomness, the rest ---- */

static int64_t do_clock_gettime(struct service *s, uint64_t clock, uint64_t ts)
{
	uint64_t hz = tsc_hz(), t = rdtsc();
	uint64_t v[2];

	switch (clock) {
	case LINUX_CLOCK_REALTIME:
	case LINUX_CLOCK_MONOTONIC:
	case LINUX_CLOCK_PROCESS_CPUTIME_ID:
	case LINUX_CLOCK_THREAD_CPUTIME_ID:
	case LINUX_CLOCK_MONOTONIC_RAW:
	case LINUX_CLOCK_REALTIME_COARSE:
	case LINUX_CLOCK_MONOTONIC_COARSE:
	case LINUX_CLOCK_BOOTTIME:
		break;
	default:
		return err(LINUX_EINVAL);
	}
	/* Every clock counts from the CPU's reset: there is no trusted wall clock. */
	v[0] = t / hz;
	v[1] = (t % hz) * 1000000000ULL / hz;
	return uspace_copy_out(&s->us, ts, v, sizeof(v)) ? 0 : err(LINUX_EFAULT);
}

static int64_t do_getrandom(struct service *s, uint64_t buf, uint64_t len)
{
	uint64_t done = 0;

	if (len > (1ULL << 25)) {
		len = 1ULL << 25;
	}
	while (done < len) {
		size_t n =
			len - done < sizeof(s->bounce) ? (size_t)(len - done) : sizeof(s->bounce);

		if (!crypto_random(s->bounce, n)) {
			return done != 0U ? (int64_t)done : err(LINUX_EAGAIN);
		}
		if (!uspace_copy_out(&s->us, buf + done, s->bounce, n)) {
			return done != 0U ? (int64_t)done : err(LINUX_EFAULT);
		}
		done += n;
	}
	return (int64_t)done;
}

static int64_t do_futex(struct service *s, uint64_t addr, uint64_t op, uint64_t val)
{
	uint32_t word = 0;

	switch (op & LINUX_FUTEX_CMD_MASK) {
	case LINUX_FUTEX_WAKE:
		return 0; /* one thread: nobody waits */
	case LINUX_FUTEX_WAIT:
		if (!uspace_copy_in(&s->us, &word, addr, sizeof(word))) {
			return err(LINUX_EFAULT);
		}
		if (word != (uint32_t)val) {
			return err(LINUX_EAGAIN);
		}
		service_fail(s, "waits on a futex that no other thread can wake");
		return 0;
	default:
		return err(LINUX_ENOSYS);
	}
}

static int64_t do_arch_prctl(struct service *s, uint64_t code, uint64_t addr)
{
	if (code == LINUX_ARCH_SET_FS) {
		if (addr >= USER_HI) {
			return err(LINUX_EPERM);
		}
		s->regs.fs_base = addr;
		return 0;
	}
	if (code == LINUX_ARCH_GET_FS) {
		return uspace_copy_out(&s->us, addr, &s->regs.fs_base, 8) ? 0 : err(LINUX_EFAULT);
	}
	return err(LINUX_EINVAL);
}

static const char *forbidden(uint64_t nr)
{
	switch (nr) {
	case SYS_CLONE:
	case SYS_CLONE3:
		return "clone (threads)";
	case SYS_FORK:
	case SYS_VFORK:
		return "fork";
	case SYS_EXECVE:
	case SYS_EXECVEAT:
		return "execve";
	case SYS_PTRACE:
		return "ptrace";
	default:
		return NULL;
	}
}

static int64_t unknown(struct service *s, uint64_t nr)
{
	if (nr >= 64U || (s->unknown_logged & (1ULL << nr)) == 0U) {
		if (nr < 64U) {
			s->unknown_logged |= 1ULL << nr;
		}
		log_msg(LOG_DEBUG, "service %s: system call %lu not provided (ENOSYS)", s->name,
			nr);
	}
	return err(LINUX_ENOSYS);
}

/* A signal it sends itself (abort() raises SIGABRT): it ends there. */
static int64_t signal_self(struct service *s, uint64_t sig)
{
	if (sig == 0U) {
		return 0;
	}
	service_fail(s, "killed itself with signal %lu", sig);
	return 0;
}

enum sys_next service_syscall(struct service *s)
{
	struct user_regs *r = &s->regs;
	uint64_t nr = r->rax, a0 = r->rdi, a1 = r->rsi, a2 = r->rdx, a3 = r->r10;
	int64_t ret = 0;
	struct user_fd *f = NULL;
	const char *no = forbidden(nr);

	if (no != NULL) {
		service_fail(s, "called %s, which a service cannot have", no);
		return SYS_NEXT_STOP;
	}
	switch (nr) {
	case SYS_READ:
		f = fd_of(s, a0);
		if (f != NULL && f->kind == FD_IN) {
			return read_input(s, a1, a2);
		}
		ret = f == NULL || !f->readable ? err(LINUX_EBADF)
		      : f->kind == FD_FILE	? file_read(s, f, a1, a2)
						: 0;
		break;
	case SYS_WRITE:
		ret = do_write(s, a0, a1, a2);
		break;
	case SYS_WRITEV:
		ret = do_writev(s, a0, a1, a2);
		break;
	case SYS_OPEN:
		ret = do_openat(s, LINUX_AT_FDCWD, a0, a1);
		break;
	case SYS_OPENAT:
		ret = do_openat(s, (int64_t)a0, a1, a2);
		break;
	case SYS_CLOSE:
		f = fd_of(s, a0);
		ret = f != NULL ? 0 : err(LINUX_EBADF);
		if (f != NULL) {
			*f = (struct user_fd){ .kind = FD_FREE, .file = -1 };
		}
		break;
	case SYS_UNLINK:
	case SYS_UNLINKAT: {
		char name[PATH_MAX_LEN];

		ret = get_path(s, nr == SYS_UNLINK ? a0 : a1, name);
		ret = ret != 0 ? ret : ramfs_unlink(&s->fs, name);
		break;
	}
	case SYS_LSEEK:
		ret = do_lseek(s, a0, (int64_t)a1, a2);
		break;
	case SYS_FSTAT:
		ret = do_fstat(s, a0, a1);
		break;
	case SYS_NEWFSTATAT:
		ret = do_newfstatat(s, (int64_t)a0, a1, a2, a3);
		break;
	case SYS_BRK:
		ret = do_brk(s, a0);
		break;
	case SYS_MMAP:
		/* The address is a hint it may ignore; do_mmap refuses MAP_FIXED. */
		ret = do_mmap(s, a1, a2, a3);
		break;
	case SYS_MUNMAP:
		ret = do_munmap(s, a0, a1);
		break;
	case SYS_MPROTECT:
		ret = do_mprotect(s, a0, a1, a2);
		break;
	case SYS_MADVISE:
	case SYS_SCHED_YIELD:
		ret = 0;
		break;
	case SYS_GETPID:
	case SYS_GETTID:
		ret = 1;
		break;
	case SYS_CLOCK_GETTIME:
		ret = do_clock_gettime(s, a0, a1);
		break;
	case SYS_TIME: {
		uint64_t t = rdtsc() / tsc_hz();

		ret = a0 == 0U || uspace_copy_out(&s->us, a0, &t, 8) ? (int64_t)t
								     : err(LINUX_EFAULT);
		break;
	}
	case SYS_GETRANDOM:
		ret = (a2 & ~(uint64_t)(LINUX_GRND_NONBLOCK | LINUX_GRND_RANDOM)) != 0U
			      ? err(LINUX_EINVAL)
			      : do_getrandom(s, a0, a1);
		break;
	case SYS_FUTEX:
		ret = do_futex(s, a0, a1, a2);
		break;
	case SYS_ARCH_PRCTL:
		ret = do_arch_prctl(s, a0, a1);
		break;
	case SYS_KILL:
	case SYS_TKILL:
		ret = a0 == 1U ? signal_self(s, a1) : err(LINUX_EPERM);
		break;
	case SYS_TGKILL:
		ret = a0 == 1U && a1 == 1U ? signal_self(s, a2) : err(LINUX_EPERM);
		break;
	case SYS_EXIT:
	case SYS_EXIT_GROUP:
		service_fail(s, "exited with status %lu", a0 & 0xFFU);
		return SYS_NEXT_STOP;
	default:
		ret = unknown(s, nr);
		break;
	}
	r->rax = (uint64_t)ret;
	return s->state == SERVICE_RUNNING ? SYS_NEXT_RUN : SYS_NEXT_STOP;
}
