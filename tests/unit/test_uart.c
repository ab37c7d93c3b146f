/* The 16550A model (model/host/uart.c): Linux's 8250 probe sees a 16550A, and the
 * registers, interrupts and loopback behave as the data sheet says. Register values are
 * written out as numbers here, not taken from the model's header. */
#include "harness.h"
#include "uart.h"

struct sink {
	uint8_t bytes[64];
	unsigned count;
};

static void sink_out(void *ctx, uint8_t byte)
{
	struct sink *s = ctx;

	if (s->count < sizeof(s->bytes)) {
		s->bytes[s->count] = byte;
	}
	s->count++;
}

static struct sink sink;
static struct uart com;

static struct uart *fresh(void)
{
	sink = (struct sink){ 0 };
	uart_init(&com, sink_out, &sink);
	return &com;
}

TEST(uart_reset_values)
{
	struct uart *u = fresh();

	EXPECT_EQ(uart_read(u, 0), 0x00);
	EXPECT_EQ(uart_read(u, 1), 0x00);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	EXPECT_EQ(uart_read(u, 3), 0x00);
	EXPECT_EQ(uart_read(u, 4), 0x00);
	EXPECT_EQ(uart_read(u, 5), 0x60);
	/* A connected terminal: DCD, DSR and CTS, no ring, no changes. */
	EXPECT_EQ(uart_read(u, 6), 0xB0);
	EXPECT_EQ(uart_read(u, 7), 0x00);
	EXPECT_TRUE(!uart_irq_line(u));
	EXPECT_EQ(sink.count, 0);
}

TEST(uart_offsets_past_7_are_no_register)
{
	struct uart *u = fresh();

	uart_write(u, 7, 0x5A);
	uart_write(u, 1, 0x0F);
	EXPECT_EQ(uart_read(u, 8), 0xFF);
	EXPECT_EQ(uart_read(u, 15), 0xFF);
	EXPECT_EQ(uart_read(u, 0x10000), 0xFF);
	uart_write(u, 8, 0x00);
	uart_write(u, 9, 0x00);
	uart_write(u, 0xFFFFFFFFU, 0x00);
	/* Nothing changed: no byte went out, IER and the scratch register are as written. */
	EXPECT_EQ(sink.count, 0);
	EXPECT_EQ(uart_read(u, 1), 0x0F);
	EXPECT_EQ(uart_read(u, 7), 0x5A);
	EXPECT_EQ(uart_read(u, 3), 0x00);
}

/* drivers/tty/serial/8250/8250_port.c autoconfig(), then autoconfig_16550a() and its
 * size_fifo(), step by step as Linux runs them on COM1 (UPF_SKIP_TEST: no loopback test
 * in autoconfig() itself). Each probe's outcome is the one that leads to PORT_16550A. */
TEST(uart_linux_autoconfig_finds_a_16550a)
{
	struct uart *u = fresh();

	/* The IER test: only the low four bits are compared. */
	uint8_t scratch = uart_read(u, 1);

	uart_write(u, 1, 0);
	EXPECT_EQ(uart_read(u, 1) & 0x0F, 0x00);
	uart_write(u, 1, 0x0F);
	EXPECT_EQ(uart_read(u, 1) & 0x0F, 0x0F);
	uart_write(u, 1, scratch);
	uint8_t save_mcr = uart_read(u, 4);
	uint8_t save_lcr = uart_read(u, 3);

	/* EFR (offset 2 under LCR 0xBF) is the FCR on a 16550A. FIFOs on: IIR bits 7:6 = 3. */
	uart_write(u, 3, 0xBF);
	uart_write(u, 2, 0);
	uart_write(u, 3, 0);
	uart_write(u, 2, 0x01);
	EXPECT_EQ(uart_read(u, 2) >> 6, 3);

	/* autoconfig_16550a: no EFR under LCR 0x80 or 0xBF (offset 2 reads the IIR, non-0). */
	uart_write(u, 3, 0x80);
	EXPECT_EQ(uart_read(u, 2), 0xC1);
	uart_write(u, 3, 0xBF);
	EXPECT_EQ(uart_read(u, 2), 0xC1);
	/* Not a National SuperIO: EXCR1 (offset 2 under LCR 0xE0) does not follow MCR.LOOP. */
	uart_write(u, 3, 0);
	uint8_t status1 = uart_read(u, 4);

	uart_write(u, 3, 0xE0);
	uint8_t status2 = uart_read(u, 2);

	EXPECT_EQ((status2 ^ status1) & 0x10, 0);
	uart_write(u, 3, 0);
	uart_write(u, 4, status1 ^ 0x10);
	uart_write(u, 3, 0xE0);
	status2 = uart_read(u, 2);
	uart_write(u, 3, 0);
	uart_write(u, 4, status1);
	EXPECT_EQ((status2 ^ status1) & 0x10, 0);
	/* Not a TI16750: IIR bit 5 stays clear with FCR bit 5, with and without DLAB. */
	uart_write(u, 3, 0);
	uart_write(u, 2, 0x21);
	EXPECT_EQ(uart_read(u, 2) >> 5, 6);
	uart_write(u, 2, 0x01);
	uart_write(u, 3, 0x80);
	uart_write(u, 2, 0x21);
	EXPECT_EQ(uart_read(u, 2) >> 5, 6);
	uart_write(u, 2, 0x01);
	uart_write(u, 3, 0);
	/* Not an XScale: IER bit 6 (UUE) does not stick. */
	uint8_t iersave = uart_read(u, 1);

	uart_write(u, 1, iersave & (uint8_t)~0x40);
	EXPECT_EQ(uart_read(u, 1) & 0x40, 0);
	uart_write(u, 1, iersave | 0x40);
	EXPECT_EQ(uart_read(u, 1) & 0x40, 0);
	uart_write(u, 1, iersave);

	/* size_fifo(): 256 bytes sent in loopback at divisor 1; a 16550A keeps 16 (64 would
	 * make it a U6_16550A). */
	uart_write(u, 3, 0);
	uint8_t old_fcr = uart_read(u, 2);
	uint8_t old_mcr = uart_read(u, 4);

	uart_write(u, 2, 0x07);
	uart_write(u, 4, 0x10);
	uart_write(u, 3, 0x80);
	unsigned old_dl = uart_read(u, 0) | (unsigned)uart_read(u, 1) << 8;

	uart_write(u, 0, 0x01);
	uart_write(u, 1, 0x00);
	uart_write(u, 3, 0x03);
	for (unsigned i = 0; i < 256; i++) {
		uart_write(u, 0, (uint8_t)i);
	}
	unsigned count = 0;
	uint8_t first[16] = { 0 };

	while ((uart_read(u, 5) & 0x01) != 0 && count < 256) {
		uint8_t byte = uart_read(u, 0);

		if (count < sizeof(first)) {
			first[count] = byte;
		}
		count++;
	}
	EXPECT_EQ(count, 16);
	static const uint8_t sent[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

	EXPECT_MEM(first, sent, sizeof(sent));
	uart_write(u, 2, old_fcr);
	uart_write(u, 4, old_mcr);
	uart_write(u, 3, 0x80);
	uart_write(u, 0, (uint8_t)old_dl);
	uart_write(u, 1, (uint8_t)(old_dl >> 8));
	uart_write(u, 3, save_lcr);

	/* The reset at the end of autoconfig(). */
	uart_write(u, 4, save_mcr);
	uart_write(u, 2, 0x01);
	uart_write(u, 2, 0x07);
	uart_write(u, 2, 0x00);
	(void)uart_read(u, 0);
	uart_write(u, 1, 0);

	/* Loopback kept every byte off the line, and the port is back at rest. */
	EXPECT_EQ(sink.count, 0);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	EXPECT_EQ(uart_read(u, 3), 0x00);
	EXPECT_EQ(uart_read(u, 4), 0x00);
	EXPECT_EQ(uart_read(u, 5), 0x60);
	EXPECT_TRUE(!uart_irq_line(u));
}

/* The test autoconfig() runs on ports without UPF_SKIP_TEST, and the MSR changes that
 * entering and leaving loopback make. */
TEST(uart_loopback_connects_mcr_outputs_to_msr_inputs)
{
	struct uart *u = fresh();

	uart_write(u, 4, 0x1A); /* LOOP | OUT2 | RTS */
	EXPECT_EQ(uart_read(u, 6) & 0xF0, 0x90);
	/* That read cleared the change bits; DSR had dropped (0xB0 to 0x90): DDSR. */
	uart_write(u, 4, 0x00);
	EXPECT_EQ(uart_read(u, 6), 0xB2);
	EXPECT_EQ(uart_read(u, 6), 0xB0);
	/* DTR to DSR, RTS to CTS, OUT1 to RI, OUT2 to DCD. */
	uart_write(u, 4, 0x11);
	EXPECT_EQ(uart_read(u, 6), 0x29); /* DSR; CTS and DCD dropped: DCTS, DDCD */
	uart_write(u, 4, 0x12);
	EXPECT_EQ(uart_read(u, 6), 0x13); /* CTS; DSR dropped, CTS rose */
	uart_write(u, 4, 0x14);
	EXPECT_EQ(uart_read(u, 6), 0x41); /* RI rising is no change bit; CTS dropped */
	uart_write(u, 4, 0x18);
	EXPECT_EQ(uart_read(u, 6), 0x8C); /* RI's trailing edge: TERI; DCD rose: DDCD */
	uart_write(u, 4, 0x1F);
	EXPECT_EQ(uart_read(u, 6), 0xF3);
	EXPECT_EQ(uart_read(u, 4), 0x1F);
	/* MCR bits 7:5 do not exist on a 16550A. */
	uart_write(u, 4, 0xE0);
	EXPECT_EQ(uart_read(u, 4), 0x00);
}

TEST(uart_loopback_returns_bytes_without_fifos)
{
	struct uart *u = fresh();

	uart_write(u, 4, 0x10);
	uart_write(u, 0, 'A');
	EXPECT_EQ(sink.count, 0);
	EXPECT_EQ(uart_read(u, 5), 0x61);
	EXPECT_EQ(uart_read(u, 0), 'A');
	EXPECT_EQ(uart_read(u, 5), 0x60);
	EXPECT_EQ(uart_read(u, 0), 0x00);
	/* One holding register: a second byte overwrites the unread first, an overrun. */
	uart_write(u, 0, 'B');
	uart_write(u, 0, 'C');
	EXPECT_EQ(uart_read(u, 5), 0x63);
	EXPECT_EQ(uart_read(u, 5), 0x61);
	EXPECT_EQ(uart_read(u, 0), 'C');
	EXPECT_EQ(uart_read(u, 5), 0x60);
	/* Out of loopback, bytes go to the line again. */
	uart_write(u, 4, 0x00);
	uart_write(u, 0, 'D');
	EXPECT_EQ(sink.count, 1);
	EXPECT_EQ(sink.bytes[0], 'D');
	EXPECT_EQ(uart_read(u, 5), 0x60);
}

TEST(uart_loopback_fifo_keeps_16_and_drops_the_rest)
{
	struct uart *u = fresh();

	uart_write(u, 2, 0x01);
	uart_write(u, 4, 0x10);
	for (unsigned i = 0; i < 17; i++) {
		uart_write(u, 0, (uint8_t)(0x40 + i));
	}
	EXPECT_EQ(uart_read(u, 5), 0x63);
	for (unsigned i = 0; i < 16; i++) {
		EXPECT_EQ(uart_read(u, 0), 0x40 + i);
	}
	EXPECT_EQ(uart_read(u, 5), 0x60);
	/* FCR bit 1 empties the receive FIFO; turning the FIFOs off empties it too. */
	uart_write(u, 0, 1);
	uart_write(u, 0, 2);
	uart_write(u, 2, 0x03);
	EXPECT_EQ(uart_read(u, 5), 0x60);
	uart_write(u, 0, 3);
	uart_write(u, 2, 0x00);
	EXPECT_EQ(uart_read(u, 5), 0x60);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	/* Without bit 0 the other FCR bits do nothing: the FIFOs stay off. */
	uart_write(u, 2, 0xC6);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	EXPECT_EQ(sink.count, 0);
}

TEST(uart_divisor_latch_behind_dlab)
{
	struct uart *u = fresh();

	uart_write(u, 1, 0x05);
	uart_write(u, 3, 0x83);
	uart_write(u, 0, 0x01);
	uart_write(u, 1, 0xFF);
	EXPECT_EQ(uart_read(u, 0), 0x01);
	EXPECT_EQ(uart_read(u, 1), 0xFF);
	EXPECT_EQ(uart_read(u, 3), 0x83);
	/* No byte went out and IER kept its value. */
	EXPECT_EQ(sink.count, 0);
	uart_write(u, 3, 0x03);
	EXPECT_EQ(uart_read(u, 1), 0x05);
	uart_write(u, 0, 'x');
	EXPECT_EQ(sink.count, 1);
	EXPECT_EQ(sink.bytes[0], 'x');
	uart_write(u, 3, 0x80);
	EXPECT_EQ(uart_read(u, 0), 0x01);
	EXPECT_EQ(uart_read(u, 1), 0xFF);
	/* DLAB leaves IIR/FCR and the registers above it alone. */
	EXPECT_EQ(uart_read(u, 2), 0x01);
	EXPECT_EQ(uart_read(u, 5), 0x60);
}

TEST(uart_transmitted_bytes_reach_the_callback)
{
	struct uart *u = fresh();
	static const uint8_t text[] = { 'L', 'i', 'n', 'u', 'x', '\r', '\n', 0x00, 0xFF };

	for (unsigned i = 0; i < sizeof(text); i++) {
		uart_write(u, 0, text[i]);
		/* Transmission is instant: THRE and TEMT after every byte. */
		EXPECT_EQ(uart_read(u, 5), 0x60);
	}
	EXPECT_EQ(sink.count, sizeof(text));
	EXPECT_MEM(sink.bytes, text, sizeof(text));
}

TEST(uart_thre_interrupt_raise_and_clear)
{
	struct uart *u = fresh();

	/* Enabling it with the holding register empty raises it; IIR acknowledges it. */
	uart_write(u, 1, 0x02);
	EXPECT_EQ(uart_read(u, 2), 0x02);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	/* Rewriting IER without a 0-to-1 change of bit 1 does not raise it again. */
	uart_write(u, 1, 0x02);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	/* Each transmitted byte empties the register again: raised anew. LSR reads do not
	 * acknowledge it. */
	uart_write(u, 0, 'a');
	EXPECT_EQ(uart_read(u, 5), 0x60);
	EXPECT_EQ(uart_read(u, 2), 0x02);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	/* Disabled, it is not reported; a byte sent meanwhile leaves nothing pending. */
	uart_write(u, 1, 0x00);
	uart_write(u, 0, 'b');
	EXPECT_EQ(uart_read(u, 2), 0x01);
	/* With FIFOs on, IIR bits 7:6 are set as well. */
	uart_write(u, 2, 0x01);
	uart_write(u, 1, 0x02);
	EXPECT_EQ(uart_read(u, 2), 0xC2);
	EXPECT_EQ(uart_read(u, 2), 0xC1);
	EXPECT_EQ(sink.count, 2);
}

/* serial8250_do_startup()'s checks: THRE reasserted after IER is toggled (else
 * UART_BUG_THRE), and IIR reporting it right after IER.THRI is set (else UART_BUG_TXEN). */
TEST(uart_linux_startup_thre_checks_pass)
{
	struct uart *u = fresh();

	uart_write(u, 2, 0x01);
	uart_write(u, 1, 0x02);
	uint8_t iir1 = uart_read(u, 2);

	uart_write(u, 1, 0);
	uart_write(u, 1, 0x02);
	uint8_t iir = uart_read(u, 2);

	uart_write(u, 1, 0);
	EXPECT_EQ(iir1 & 0x01, 0);
	EXPECT_EQ(iir & 0x01, 0);

	uart_write(u, 1, 0x02);
	uint8_t lsr = uart_read(u, 5);

	iir = uart_read(u, 2);
	uart_write(u, 1, 0);
	EXPECT_EQ(lsr & 0x40, 0x40);
	EXPECT_EQ(iir, 0xC2);
}

TEST(uart_irq_line_gated_by_out2)
{
	struct uart *u = fresh();

	uart_write(u, 1, 0x02);
	EXPECT_TRUE(!uart_irq_line(u));
	uart_write(u, 4, 0x08);
	EXPECT_TRUE(uart_irq_line(u));
	/* OUT1, DTR and RTS do not gate it. */
	uart_write(u, 4, 0x07);
	EXPECT_TRUE(!uart_irq_line(u));
	uart_write(u, 4, 0x0B);
	EXPECT_TRUE(uart_irq_line(u));
	/* Acknowledged: the line drops; the next byte raises it again. */
	EXPECT_EQ(uart_read(u, 2), 0x02);
	EXPECT_TRUE(!uart_irq_line(u));
	uart_write(u, 0, 'z');
	EXPECT_TRUE(uart_irq_line(u));
	/* Loopback forces the OUT2 pin inactive: pending, but the line is low. */
	uart_write(u, 4, 0x18);
	EXPECT_TRUE(!uart_irq_line(u));
	EXPECT_EQ(uart_read(u, 2), 0x02);
	/* Nothing enabled, nothing on the line. */
	uart_write(u, 4, 0x08);
	uart_write(u, 0, 'y');
	uart_write(u, 1, 0x00);
	EXPECT_TRUE(!uart_irq_line(u));
}

TEST(uart_receive_interrupts_in_loopback)
{
	struct uart *u = fresh();

	/* FIFOs on, trigger level 4: below it, a character timeout; at it, data available. */
	uart_write(u, 2, 0x41);
	uart_write(u, 4, 0x10);
	uart_write(u, 1, 0x01);
	EXPECT_EQ(uart_read(u, 2), 0xC1);
	uart_write(u, 0, 1);
	EXPECT_EQ(uart_read(u, 2), 0xCC);
	uart_write(u, 0, 2);
	uart_write(u, 0, 3);
	EXPECT_EQ(uart_read(u, 2), 0xCC);
	uart_write(u, 0, 4);
	EXPECT_EQ(uart_read(u, 2), 0xC4);
	/* Reading IIR does not acknowledge it; reading the data does. */
	EXPECT_EQ(uart_read(u, 2), 0xC4);
	EXPECT_EQ(uart_read(u, 0), 1);
	EXPECT_EQ(uart_read(u, 2), 0xCC);
	EXPECT_EQ(uart_read(u, 0), 2);
	EXPECT_EQ(uart_read(u, 0), 3);
	EXPECT_EQ(uart_read(u, 0), 4);
	EXPECT_EQ(uart_read(u, 2), 0xC1);
	/* Without FIFOs, one byte is data available. */
	uart_write(u, 2, 0x00);
	uart_write(u, 0, 5);
	EXPECT_EQ(uart_read(u, 2), 0x04);
	/* An overrun with line status enabled outranks the data and ends with the LSR read. */
	uart_write(u, 1, 0x05);
	uart_write(u, 0, 6);
	EXPECT_EQ(uart_read(u, 2), 0x06);
	EXPECT_EQ(uart_read(u, 5), 0x63);
	EXPECT_EQ(uart_read(u, 2), 0x04);
	EXPECT_EQ(uart_read(u, 0), 6);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	/* Data outranks THR empty. */
	uart_write(u, 1, 0x03);
	uart_write(u, 0, 7);
	EXPECT_EQ(uart_read(u, 2), 0x04);
	EXPECT_EQ(uart_read(u, 0), 7);
	EXPECT_EQ(uart_read(u, 2), 0x02);
	EXPECT_EQ(sink.count, 0);
}

TEST(uart_modem_status_interrupt)
{
	struct uart *u = fresh();

	uart_write(u, 1, 0x08);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	/* Entering loopback with all outputs off drops DCD, DSR and CTS. */
	uart_write(u, 4, 0x10);
	EXPECT_EQ(uart_read(u, 2), 0x00);
	uart_write(u, 4, 0x18);
	EXPECT_TRUE(!uart_irq_line(u));
	/* Lowest priority: THR empty is reported first. */
	uart_write(u, 1, 0x0A);
	EXPECT_EQ(uart_read(u, 2), 0x02);
	EXPECT_EQ(uart_read(u, 2), 0x00);
	/* Reading MSR acknowledges it. */
	EXPECT_EQ(uart_read(u, 6), 0x8B);
	EXPECT_EQ(uart_read(u, 2), 0x01);
	/* Back out of loopback, with OUT2: the inputs change again and the line rises. */
	uart_write(u, 4, 0x08);
	EXPECT_EQ(uart_read(u, 2), 0x00);
	EXPECT_TRUE(uart_irq_line(u));
	EXPECT_EQ(uart_read(u, 6), 0xB3);
	EXPECT_TRUE(!uart_irq_line(u));
}

/* autoconfig_8250()'s scratch test, which a 16450 and later pass. */
TEST(uart_scratch_register)
{
	struct uart *u = fresh();

	uart_write(u, 7, 0xA5);
	EXPECT_EQ(uart_read(u, 7), 0xA5);
	uart_write(u, 7, 0x5A);
	EXPECT_EQ(uart_read(u, 7), 0x5A);
	/* DLAB does not hide it. */
	uart_write(u, 3, 0x80);
	EXPECT_EQ(uart_read(u, 7), 0x5A);
	EXPECT_EQ(sink.count, 0);
}
