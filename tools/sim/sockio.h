/* Whole-buffer socket reads and writes for donjon-sim's host sides (migration, the TPM
 * endpoint). */
#ifndef TOOLS_SIM_SOCKIO_H
#define TOOLS_SIM_SOCKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* All len bytes, retrying after signals; false if the peer is gone or the socket failed
 * (never SIGPIPE). */
bool sock_write_all(int fd, const void *buf, size_t len);
/* All len bytes; false at end of stream, on a socket timeout or an error. */
bool sock_read_all(int fd, void *buf, size_t len);

/* The same, but false if they have not all arrived by deadline (sock_now_ms). */
bool sock_read_by(int fd, void *buf, size_t len, int64_t deadline);
/* Milliseconds of CLOCK_MONOTONIC. */
int64_t sock_now_ms(void);

#endif
