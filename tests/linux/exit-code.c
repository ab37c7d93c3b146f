/*
 * exit-code VALUE: ends the Linux guest with VALUE (0..255) as its result. It writes VALUE to
 * I/O port 0xF4, where QEMU's "-device isa-debug-exit,iobase=0xf4,iosize=0x04" exits with
 * status (VALUE << 1) | 1. When that port does nothing (no such device), it syncs and powers
 * the machine off (reboot(RB_POWER_OFF)), which QEMU reports as exit status 0; reaching its
 * end means both failed, and it exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	char *end;
	long v;

	if (argc != 2 ||
	    (v = strtol(argv[1], &end, 0), *end || end == argv[1] || v < 0 || v > 255)) {
		(void)fprintf(stderr, "usage: exit-code VALUE (0..255)\n");
		return 2;
	}
	(void)fflush(NULL);
	if (ioperm(DEBUG_EXIT_PORT, 1, 1) == 0)
		outb((unsigned char)v, DEBUG_EXIT_PORT);
	else
		perror("exit-code: ioperm");
	sync();
	reboot(RB_POWER_OFF);
	perror("exit-code: reboot");
	return 1;
}
