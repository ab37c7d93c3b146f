/* donjon-sim's TPM endpoint: the TCG simulator's socket protocol, as the "mssim" TCTI of
 * tpm2-tools speaks it (all integers big-endian u32), on loopback.
 *
 *   PORT (TPM commands): 8 SEND_COMMAND, u8 locality, u32 length, the command
 *       -> u32 length, the response, u32 0. 20 SESSION_END and 21 STOP close the
 *       connection.
 *   PORT + 1 (platform): 1 POWER_ON, 2 POWER_OFF, 3/4 physical presence, 9/10 cancel,
 *       11 NV_ON, 12 NV_OFF, 17 RESET -> u32 0. None of them changes the vTPM: it is
 *       always on and already started, as a TPM behind firmware is (the TCTI sends
 *       POWER_ON and NV_ON at every connection). 20 SESSION_END closes.
 *
 * Every TPM command becomes an SVSM_VTPM_CMD made by the guest at VMPL2 on the simulated
 * machine, through the guest's own page at the buffer address: the request written there
 * with the guest's access, the call made by its vCPU, the answer read back. A call the
 * SVSM refuses, or an answer Linux's tpm_svsm would refuse (a size above 4092), closes
 * the connection (the client sees an I/O error) and is reported on stderr. Anything else
 * that is not the protocol closes the connection too. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <donjon/bytes.h>
#include <donjon/svsm_abi.h>

#include "sockio.h"
#include "tcti.h"

#define TCTI_CLIENTS 8
#define MSSIM_SEND_COMMAND 8U
#define MSSIM_SESSION_END 20U
#define MSSIM_STOP 21U

static pthread_mutex_t host_lock = PTHREAD_MUTEX_INITIALIZER;

struct client {
	int fd;
	bool platform;
};

static struct {
	struct sim_machine *m;
	gpa_t buf;
	unsigned vcpu;
	int listen[2]; /* TPM, platform */
	int wake[2];   /* a byte here ends the thread */
	struct client clients[TCTI_CLIENTS];
	pthread_t thread;
	bool running;
} t = { .listen = { -1, -1 }, .wake = { -1, -1 } };

void sim_host_lock(void)
{
	pthread_mutex_lock(&host_lock);
}

void sim_host_unlock(void)
{
	pthread_mutex_unlock(&host_lock);
}

/* A message must arrive whole within 5 s of its first byte. */
#define MSG_BUDGET_MS 5000

/* The guest's SVSM_VTPM_CMD. Returns the response's length in resp, or -1 with a message on
 * stderr. Runs under the host lock: no command line runs meanwhile. */
static long guest_vtpm_cmd(uint8_t locality, const uint8_t *cmd, uint32_t len,
			   uint8_t resp[SVSM_VTPM_BUFFER_SIZE])
{
	uint8_t page[SVSM_VTPM_BUFFER_SIZE];
	struct svsm_regs regs = { 0 };
	enum sim_call_status status = SIM_CALL_DONE;
	const char *err = NULL;

	memset(page, 0, sizeof(page));
	store32(page, 0, SVSM_VTPM_SEND_COMMAND);
	page[4] = locality;
	store32(page, 5, len);
	memcpy(page + SVSM_VTPM_REQ_HEADER, cmd, len);
	err = sim_guest_write(t.m, SIM_GUEST_VMPL, t.buf, page, sizeof(page));
	if (err == NULL) {
		regs.rax = (uint64_t)SVSM_PROTOCOL_VTPM << 32 | SVSM_VTPM_CMD;
		regs.rcx = gpa_val(t.buf);
		err = sim_vcpu_call(t.m, t.vcpu, &regs, &status);
	}
	if (err == NULL && status == SIM_CALL_DONE && regs.rax == SVSM_SUCCESS) {
		err = sim_guest_read(t.m, SIM_GUEST_VMPL, t.buf, page, sizeof(page));
	}
	if (err != NULL || status != SIM_CALL_DONE) {
		(void)fprintf(stderr, "sim: tcti: the guest's SVSM_VTPM_CMD failed: %s\n",
			      err != NULL ? err : "its vCPU stopped");
		return -1;
	}
	if (regs.rax != SVSM_SUCCESS) {
		(void)fprintf(stderr, "sim: tcti: SVSM_VTPM_CMD answered 0x%llx\n",
			      (unsigned long long)regs.rax);
		return -1;
	}
	uint32_t size = load32(page, 0);

	if (size > SVSM_VTPM_BUFFER_SIZE - SVSM_VTPM_RESP_HEADER) {
		(void)fprintf(stderr, "sim: tcti: SVSM_VTPM_CMD gave a %u-byte response\n", size);
		return -1;
	}
	memcpy(resp, page + SVSM_VTPM_RESP_HEADER, size);
	return (long)size;
}

/* One SEND_COMMAND after its code; false ends the connection. */
static bool serve_command(int fd, int64_t deadline)
{
	uint8_t hdr[5];
	uint8_t cmd[SVSM_VTPM_BUFFER_SIZE];
	uint8_t out[4 + SVSM_VTPM_BUFFER_SIZE + 4];
	long n = 0;

	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	if (!sock_read_by(fd, hdr, sizeof(hdr), deadline)) {
		return false;
	}
	uint32_t len = load32_be(hdr, 1);

	if (len == 0 || len > SVSM_VTPM_BUFFER_SIZE - SVSM_VTPM_REQ_HEADER ||
	    !sock_read_by(fd, cmd, len, deadline)) {
		return false;
	}
	sim_host_lock();
	n = guest_vtpm_cmd(hdr[0], cmd, len, out + 4);
	sim_host_unlock();
	if (n < 0) {
		return false;
	}
	store32_be(out, 0, (uint32_t)n);
	store32_be(out, 4 + (size_t)n, 0);
	return sock_write_all(fd, out, 8 + (size_t)n);
}

/* One message from a client; false ends the connection. */
static bool serve(const struct client *c)
{
	uint8_t code[4];
	uint8_t zero[4] = { 0 };
	int one = 1;

	/* The TCTI writes a message in small pieces: without a quick ACK each tool call
	 * waits for the delayed one (toolchain notes, section 5). */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	int64_t deadline = sock_now_ms() + MSG_BUDGET_MS;

	if (!sock_read_by(c->fd, code, sizeof(code), deadline)) {
		return false;
	}
	uint32_t v = load32_be(code, 0);

	if (!c->platform) {
		return v == MSSIM_SEND_COMMAND && serve_command(c->fd, deadline);
	}
	/* POWER_ON, POWER_OFF, PP_ON, PP_OFF, CANCEL_ON, CANCEL_OFF, NV_ON, NV_OFF, RESET. */
	const uint32_t answered = 1U << 1 | 1U << 2 | 1U << 3 | 1U << 4 | 1U << 9 | 1U << 10 |
				  1U << 11 | 1U << 12 | 1U << 17;

	return v < 32U && (answered >> v & 1U) != 0U && sock_write_all(c->fd, zero, sizeof(zero));
}

static void drop(struct client *c)
{
	(void)close(c->fd);
	c->fd = -1;
}

static void accept_client(int lfd, bool platform)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	struct timeval tv = { .tv_sec = 5 };
	int one = 1;

	if (fd < 0) {
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A client that stops inside a message, or stops reading its answers, is dropped
	 * after 5 s (and a message must be whole within that). */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (unsigned i = 0; i < TCTI_CLIENTS; i++) {
		if (t.clients[i].fd < 0) {
			t.clients[i] = (struct client){ fd, platform };
			return;
		}
	}
	(void)close(fd);
}

static void *tcti_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[3 + TCTI_CLIENTS];
		unsigned n = 3;

		p[0] = (struct pollfd){ .fd = t.wake[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = t.listen[0], .events = POLLIN };
		p[2] = (struct pollfd){ .fd = t.listen[1], .events = POLLIN };
		for (unsigned i = 0; i < TCTI_CLIENTS; i++) {
			p[n++] = (struct pollfd){ .fd = t.clients[i].fd, .events = POLLIN };
		}
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		if (p[0].revents != 0) {
			break;
		}
		for (unsigned i = 0; i < TCTI_CLIENTS; i++) {
			if (t.clients[i].fd >= 0 && p[3 + i].revents != 0 &&
			    !serve(&t.clients[i])) {
				drop(&t.clients[i]);
			}
		}
		if (p[1].revents & POLLIN) {
			accept_client(t.listen[0], false);
		}
		if (p[2].revents & POLLIN) {
			accept_client(t.listen[1], true);
		}
	}
	return NULL;
}

static int listen_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0) {
		return -1;
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		return 0;
	}
	return ntohs(a.sin_port);
}

static void close_listeners(void)
{
	for (unsigned i = 0; i < 2; i++) {
		if (t.listen[i] >= 0) {
			(void)close(t.listen[i]);
		}
		t.listen[i] = -1;
	}
}

const char *sim_tcti_start(struct sim_machine *m, uint16_t port, gpa_t buf, unsigned vcpu,
			   uint16_t *bound)
{
	if (t.running) {
		return "the TPM endpoint is already listening";
	}
	if (port == UINT16_MAX) {
		return "the port must leave room for the platform port after it";
	}
	/* Port 0: any free pair of neighbours. */
	for (unsigned tries = 0; tries < 32 && t.listen[1] < 0; tries++) {
		t.listen[0] = listen_on(port);
		if (t.listen[0] < 0) {
			return "cannot listen on that port";
		}
		uint16_t p = bound_port(t.listen[0]);

		t.listen[1] = p != 0 && p != UINT16_MAX ? listen_on((uint16_t)(p + 1U)) : -1;
		if (t.listen[1] < 0) {
			(void)close(t.listen[0]);
			t.listen[0] = -1;
			if (port != 0) {
				return "cannot listen on the platform port (PORT + 1)";
			}
			continue;
		}
		*bound = p;
	}
	if (t.listen[1] < 0) {
		return "found no free pair of ports";
	}
	if (pipe2(t.wake, O_CLOEXEC) != 0) {
		close_listeners();
		return "pipe failed";
	}
	for (unsigned i = 0; i < TCTI_CLIENTS; i++) {
		t.clients[i].fd = -1;
	}
	t.m = m;
	t.buf = buf;
	t.vcpu = vcpu;
	if (pthread_create(&t.thread, NULL, tcti_thread, NULL) != 0) {
		close_listeners();
		for (unsigned i = 0; i < 2; i++) {
			(void)close(t.wake[i]);
			t.wake[i] = -1;
		}
		return "cannot start its thread";
	}
	t.running = true;
	return NULL;
}

void sim_tcti_stop(void)
{
	uint8_t b = 0;

	if (!t.running) {
		return;
	}
	(void)write(t.wake[1], &b, 1);
	(void)pthread_join(t.thread, NULL);
	for (unsigned i = 0; i < TCTI_CLIENTS; i++) {
		if (t.clients[i].fd >= 0) {
			drop(&t.clients[i]);
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		(void)close(t.listen[i]);
		(void)close(t.wake[i]);
		t.listen[i] = t.wake[i] = -1;
	}
	t.running = false;
}
