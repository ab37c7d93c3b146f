/* Per-CPU data, reached through FS: the kernel points each CPU's FS base at its own block.
 * The block is also what code built with a stack protector expects at FS (the canary at
 * %fs:0x28), so Debian's libbearssl.a runs unchanged. */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#include "hostif.h"

/* On each CPU, before it runs any C that may use the stack protector: FS base set to the
 * CPU's block. The BSP's call (index 0) also draws the canary every CPU shares. */
void percpu_init(unsigned index);
/* The calling CPU's index (as smp_start numbered it). */
unsigned percpu_index(void);

#endif
