/* The serial console (COM1) with log levels. Messages a guest can cause go through
 * log_guest(), which stops printing after a budget so a guest cannot flood the console. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

void console_init(void);
void console_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Always printed, no prefix: test results and reports. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_guest(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Formatting without libc: %s %c %d %u %x %p and l/ll, width and 0 padding. */
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
