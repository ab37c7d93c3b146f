/* Whole-buffer socket reads and writes (sockio.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sockio.h"

int64_t sock_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Moves all len bytes one way, retrying after signals; reads wait at most until deadline
 * (milliseconds of sock_now_ms) unless it is negative. */
static bool transfer(int fd, uint8_t *p, size_t len, bool out, int64_t deadline)
{
	while (len > 0U) {
		ssize_t n = 0;

		if (!out && deadline >= 0) {
			struct pollfd q = { .fd = fd, .events = POLLIN };
			int64_t left = deadline - sock_now_ms();

			if (left <= 0 || poll(&q, 1, (int)left) <= 0) {
				return false;
			}
			n = recv(fd, p, len, MSG_DONTWAIT);
		} else {
			n = out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool sock_write_all(int fd, const void *buf, size_t len)
{
	/* SAFETY: transfer only reads through p when out is true. */
	return transfer(fd, (uint8_t *)(uintptr_t)buf, len, true, -1);
}

bool sock_read_all(int fd, void *buf, size_t len)
{
	return transfer(fd, buf, len, false, -1);
}

bool sock_read_by(int fd, void *buf, size_t len, int64_t deadline)
{
	return transfer(fd, buf, len, false, deadline < 0 ? 0 : deadline);
}
