/* COM1 console and formatted logging. */
#include "console.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "lock.h"

#define COM1 0x3F8
#define GUEST_LOG_BUDGET 64U

static enum log_level threshold = LOG_INFO;
/* Any CPU can log what its guest caused. */
static atomic_uint guest_messages;
/* One line at a time from any CPU. */
static struct spinlock console_lock = { ATOMIC_FLAG_INIT };

void console_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* divisor latch */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xC7); /* FIFO */
}

void console_set_level(enum log_level level)
{
	threshold = level;
}

static void put(char c)
{
	while ((inb(COM1 + 5) & 0x20) == 0) {
	}
	outb(COM1, (uint8_t)c);
}

static void put_str(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			put('\r');
		}
		put(*s);
	}
}

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void emit(struct out *o, char c)
{
	if (o->len + 1U < o->size) {
		o->buf[o->len] = c;
	}
	o->len++;
}

static void emit_number(struct out *o, uint64_t v, unsigned base, bool negative, int width,
			char pad)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0U);
	if (negative) {
		digits[n++] = '-';
	}
	for (int i = n; i < width; i++) {
		emit(o, pad);
	}
	while (n > 0) {
		emit(o, digits[--n]);
	}
}

size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size, .len = 0 };

	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%') {
			emit(&o, *p);
			continue;
		}
		p++;
		char pad = ' ';
		int width = 0;
		int longs = 0;

		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9') {
			width = width * 10 + (*p++ - '0');
		}
		while (*p == 'l') {
			longs++;
			p++;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v = longs != 0 ? va_arg(ap, int64_t) : va_arg(ap, int);

			emit_number(&o, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, v < 0,
				    width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = longs != 0 ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);

			emit_number(&o, v, *p == 'x' ? 16U : 10U, false, width, pad);
			break;
		}
		case 'p':
			emit(&o, '0');
			emit(&o, 'x');
			emit_number(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false, 16,
				    '0');
			break;
		case 'c':
			emit(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (s = s != NULL ? s : "(null)"; *s != '\0'; s++) {
				emit(&o, *s);
			}
			break;
		}
		case '%':
			emit(&o, '%');
			break;
		default:
			emit(&o, '?');
			break;
		}
	}
	if (size != 0U) {
		buf[o.len < size ? o.len : size - 1U] = '\0';
	}
	return o.len;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[256];

	(void)fmt_vsnprintf(line, sizeof(line), fmt, ap);
	spin_lock(&console_lock);
	put_str(prefix);
	put_str(line);
	put_str("\n");
	spin_unlock(&console_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "ERROR: ", "warning: ", "", "debug: " };
	va_list ap;

	if (level > threshold) {
		return;
	}
	va_start(ap, fmt);
	vlog(prefix[level], fmt, ap);
	va_end(ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_guest(const char *fmt, ...)
{
	va_list ap;

	/* Checked before counting, so that the counter stops within a few of the budget
	 * (one per CPU) and never wraps around to print again. */
	if (atomic_load(&guest_messages) > GUEST_LOG_BUDGET) {
		return;
	}
	unsigned n = atomic_fetch_add(&guest_messages, 1U);

	if (n > GUEST_LOG_BUDGET) {
		return;
	}
	if (n == GUEST_LOG_BUDGET) {
		spin_lock(&console_lock);
		put_str("guest: further guest-caused messages suppressed\n");
		spin_unlock(&console_lock);
		return;
	}
	va_start(ap, fmt);
	vlog("guest: ", fmt, ap);
	va_end(ap);
}

void fmt_hex(char *out, const void *in, size_t len)
{
	const uint8_t *b = in;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = "0123456789abcdef"[b[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[b[i] & 0xFU];
	}
	out[2 * len] = '\0';
}
