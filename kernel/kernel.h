/* Kernel-wide helpers: the identity map, symbols, exit through isa-debug-exit. */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include "hostif.h"

/* Once on the BSP: the crypto library's CPU features and entropy source (crypto_env.c). */
void crypto_env_init(void);

bool kernel_ram_contains(uint64_t pa, uint64_t len);
/* Firmware tables (ACPI) live outside usable RAM: a read-only pointer to any range below
 * 4 GiB except page 0, or NULL. */
const void *firmware_ptr(uint64_t pa, size_t len);

/* "name+0xoff" for a kernel text address, or "?" (symbols are linked in a second pass). */
const char *kernel_symbol(uint64_t addr, char *buf, size_t size);

extern char __kernel_start[], __kernel_end[], __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[], __data_start[], __data_end[];

#endif
