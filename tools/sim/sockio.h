/* Whole-buffer socket reads and writes for donjon-sim's host sides (migration, the TPM
 * endpoint). */
#ifndef TOOLS_SIM_SOCKIO_H
#define TOOLS_SIM_SOCKIO_H

#include <stdbool.h>
#include <stddef.h>

/* All len bytes, retrying after signals; false if the peer is gone or the socket failed
 * (never SIGPIPE). */
bool sock_write_all(int fd, const void *buf, size_t len);
/* All len bytes; false at end of stream, on a socket timeout or an error. */
bool sock_read_all(int fd, void *buf, size_t len);

#endif
