/* The serial console (COM1) with log levels. Messages a guest can cause go through
 * log_guest(), which stops printing after a budget so a guest cannot flood the console. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

#include "hostif.h"

void console_init(void);
void console_set_level(enum log_level level);
/* Formatting without libc: %s %c %d %u %x %p and l/ll, width and 0 padding. */
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
