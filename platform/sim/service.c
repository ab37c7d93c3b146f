/* Services on the simulated machine: each runs as an ordinary child process, the same
 * static binary the kernel will run in ring 3, with the channel of
 * include/donjon/service_channel.h on a pipe to its fd 0 and one from its fd 1. Its
 * stderr is the simulator's. A service that dies, runs past its time budget or sends
 * what cannot be framed is killed, reaped and recorded as stopped, with the reason;
 * Donjon's core decides what its callers see. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <donjon/bytes.h>
#include <donjon/service_channel.h>

#include "service.h"

struct sim_service {
	pid_t pid;
	int to_fd;   /* its fd 0 */
	int from_fd; /* its fd 1 */
	bool running;
	bool started;
	char why[160];
	char temp_dir[64]; /* a state directory the simulator made, removed at the end */
};

static struct sim_service services[SVSM_SERVICE_COUNT];
static unsigned budget_ms = SIM_SERVICE_BUDGET_MS;

static const char *const service_names[SVSM_SERVICE_COUNT] = { "vtpm" };

static struct sim_service *service_of(enum svsm_service s)
{
	return (unsigned)s < SVSM_SERVICE_COUNT ? &services[s] : NULL;
}

void sim_service_set_budget(unsigned ms)
{
	budget_ms = ms;
}

static int64_t now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Kill and reap it. How it ended goes after the reason: its exit status or signal if it
 * had ended by itself. */
static void stop(struct sim_service *sv, const char *why)
{
	int status = 0;
	char how[48] = " (killed)";
	pid_t done = 0;

	if (!sv->running) {
		return;
	}
	(void)close(sv->to_fd);
	(void)close(sv->from_fd);
	/* One that closed its output is usually exiting: give it 50 ms to be reaped. */
	for (int i = 0; i < 10 && (done = waitpid(sv->pid, &status, WNOHANG)) != sv->pid; i++) {
		(void)usleep(5000);
	}
	if (done != sv->pid) {
		(void)kill(sv->pid, SIGKILL);
		while (waitpid(sv->pid, &status, 0) < 0 && errno == EINTR) {
		}
	} else if (WIFEXITED(status)) {
		(void)snprintf(how, sizeof(how), " (exit status %d)", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		(void)snprintf(how, sizeof(how), " (signal %d)", WTERMSIG(status));
	}
	(void)snprintf(sv->why, sizeof(sv->why), "%s%s", why, how);
	sv->running = false;
}

static void remove_temp_dir(struct sim_service *sv)
{
	DIR *d = NULL;
	struct dirent *e = NULL;

	if (sv->temp_dir[0] == '\0') {
		return;
	}
	d = opendir(sv->temp_dir);
	if (d != NULL) {
		int fd = dirfd(d);

		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
				(void)unlinkat(fd, e->d_name, 0);
			}
		}
		(void)closedir(d);
	}
	(void)rmdir(sv->temp_dir);
	sv->temp_dir[0] = '\0';
}

bool sim_service_start(enum svsm_service s, const char *path, const char *state_dir, char *err,
		       size_t errlen)
{
	struct sim_service *sv = service_of(s);
	int to[2] = { -1, -1 };
	int from[2] = { -1, -1 };

	if (sv == NULL || sv->started) {
		(void)snprintf(err, errlen, "the service is already configured");
		return false;
	}
	if (state_dir == NULL) {
		(void)snprintf(sv->temp_dir, sizeof(sv->temp_dir), "/tmp/donjon-%s-XXXXXX",
			       service_names[s]);
		if (mkdtemp(sv->temp_dir) == NULL) {
			(void)snprintf(err, errlen, "cannot make a state directory: %s",
				       strerror(errno));
			sv->temp_dir[0] = '\0';
			return false;
		}
		state_dir = sv->temp_dir;
	}
	if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) {
		(void)snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* A write to a service that has died must fail with EPIPE, not end the simulator. */
	(void)signal(SIGPIPE, SIG_IGN);
	sv->pid = fork();
	if (sv->pid < 0) {
		(void)snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (sv->pid == 0) {
		if (dup2(to[0], STDIN_FILENO) < 0 || dup2(from[1], STDOUT_FILENO) < 0) {
			_exit(127);
		}
		(void)signal(SIGPIPE, SIG_DFL);
		execl(path, path, "--state", state_dir, (char *)NULL);
		(void)fprintf(stderr, "sim: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	(void)close(to[0]);
	(void)close(from[1]);
	/* Non-blocking: a service that stops reading or writing cannot hold a write or a
	 * read past the budget (poll says "ready" for the first byte only). */
	(void)fcntl(to[1], F_SETFL, O_NONBLOCK);
	(void)fcntl(from[0], F_SETFL, O_NONBLOCK);
	sv->to_fd = to[1];
	sv->from_fd = from[0];
	sv->running = true;
	sv->started = true;
	sv->why[0] = '\0';
	return true;
fail:
	for (int i = 0; i < 2; i++) {
		if (to[i] >= 0) {
			(void)close(to[i]);
		}
		if (from[i] >= 0) {
			(void)close(from[i]);
		}
	}
	remove_temp_dir(sv);
	return false;
}

/* The simulator holds every exchange to the one budget (sim_service_set_budget). */
void plat_service_started(enum svsm_service s)
{
	(void)s;
}

bool plat_service_running(enum svsm_service s)
{
	const struct sim_service *sv = service_of(s);

	return sv != NULL && sv->running;
}

/* Waits until fd is ready for events before the deadline; false on timeout or error. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int n = 0;

		if (left <= 0) {
			return false;
		}
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0) {
			return true;
		}
		if (n < 0 && errno != EINTR) {
			return false;
		}
	}
}

enum io_result { IO_OK, IO_EOF, IO_TIMEOUT, IO_ERROR };

/* Moves all len bytes one way (out: to the service) before the deadline. */
static enum io_result transfer(int fd, uint8_t *p, size_t len, bool out, int64_t deadline)
{
	while (len > 0) {
		if (!wait_fd(fd, out ? POLLOUT : POLLIN, deadline)) {
			return IO_TIMEOUT;
		}
		ssize_t n = out ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			continue;
		}
		if (n == 0 && !out) {
			return IO_EOF;
		}
		if (n <= 0) {
			return IO_ERROR;
		}
		p += n;
		len -= (size_t)n;
	}
	return IO_OK;
}

/* The reason for a failed read or write. */
static void stop_for(struct sim_service *sv, enum io_result r, const char *what)
{
	char why[128];

	if (r == IO_TIMEOUT) {
		(void)snprintf(why, sizeof(why), "no %s within its budget of %u ms", what,
			       budget_ms);
	} else if (r == IO_EOF) {
		(void)snprintf(why, sizeof(why), "its channel closed during a %s", what);
	} else {
		(void)snprintf(why, sizeof(why), "its channel failed during a %s", what);
	}
	stop(sv, why);
}

bool plat_service_exchange(enum svsm_service s, const void *req, size_t req_len, void *resp,
			   size_t resp_cap, size_t *resp_len)
{
	struct sim_service *sv = service_of(s);
	uint8_t *out = resp;
	int64_t deadline = now_ms() + budget_ms;
	enum io_result r = IO_OK;

	*resp_len = 0;
	if (sv == NULL || !sv->running) {
		return false;
	}
	if (resp_cap < CHANNEL_HEADER_SIZE) {
		return false;
	}
	/* SAFETY: transfer only reads through the pointer when out is true. */
	r = transfer(sv->to_fd, (uint8_t *)(uintptr_t)req, req_len, true, deadline);
	if (r != IO_OK) {
		/* A service that died reads nothing: the write fails with EPIPE. */
		stop_for(sv, r, "request");
		return false;
	}
	r = transfer(sv->from_fd, out, CHANNEL_HEADER_SIZE, false, deadline);
	if (r != IO_OK) {
		stop_for(sv, r, "response");
		return false;
	}
	uint32_t length = load32(out, 12);

	if (length > resp_cap - CHANNEL_HEADER_SIZE) {
		char why[96];

		(void)snprintf(why, sizeof(why), "it announced a %u-byte response, more than %zu",
			       length, resp_cap - CHANNEL_HEADER_SIZE);
		stop(sv, why);
		return false;
	}
	r = transfer(sv->from_fd, out + CHANNEL_HEADER_SIZE, length, false, deadline);
	if (r != IO_OK) {
		stop_for(sv, r, "response");
		return false;
	}
	/* One response per request: anything more would be taken for the next answer. */
	struct pollfd more = { .fd = sv->from_fd, .events = POLLIN };

	if (poll(&more, 1, 0) > 0 && (more.revents & POLLIN) != 0) {
		stop(sv, "it sent more than one response to a request");
		return false;
	}
	*resp_len = CHANNEL_HEADER_SIZE + (size_t)length;
	return true;
}

void *plat_service_state_buffer(size_t len)
{
	static uint8_t *buf;
	static size_t cap;

	if (buf == NULL) {
		buf = malloc(len);
		cap = buf != NULL ? len : 0U;
	}
	return len <= cap ? buf : NULL;
}

void plat_service_stop(enum svsm_service s, const char *why)
{
	struct sim_service *sv = service_of(s);

	if (sv != NULL) {
		stop(sv, why);
	}
}

const char *sim_service_state(enum svsm_service s, int *pid)
{
	const struct sim_service *sv = service_of(s);

	*pid = 0;
	if (sv == NULL || !sv->started) {
		return NULL;
	}
	if (sv->running) {
		*pid = (int)sv->pid;
		return "";
	}
	return sv->why;
}

void sim_service_end_all(void)
{
	for (unsigned i = 0; i < SVSM_SERVICE_COUNT; i++) {
		struct sim_service *sv = &services[i];

		/* Its input ends where a header would start: it exits by itself. */
		if (sv->running) {
			struct pollfd p = { .fd = sv->from_fd, .events = POLLIN };

			(void)close(sv->to_fd);
			sv->to_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
			(void)poll(&p, 1, 2000);
		}
		stop(sv, "the simulator ended");
		remove_temp_dir(&services[i]);
	}
}
