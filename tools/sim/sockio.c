/* Whole-buffer socket reads and writes (sockio.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockio.h"

/* Moves all len bytes one way, retrying after signals. */
static bool transfer(int fd, uint8_t *p, size_t len, bool out)
{
	while (len > 0U) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);

		if (n < 0 && errno == EINTR) {
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
	return transfer(fd, (uint8_t *)(uintptr_t)buf, len, true);
}

bool sock_read_all(int fd, void *buf, size_t len)
{
	return transfer(fd, buf, len, false);
}
