/* A model of a 16550A UART as a PC's COM port (eight I/O ports from a base): what the
 * host gives a guest as its serial console. Transmission is instant: a byte written to the
 * transmitter goes to the output callback at once, so the transmitter always reads empty.
 * Nothing arrives from outside; received data exists only in loopback. One lock per UART
 * is the caller's: the functions here do not synchronise. */
#ifndef MODEL_HOST_UART_H
#define MODEL_HOST_UART_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets from the base port. With LCR.DLAB set, 0 and 1 are the divisor latch. */
#define UART_RBR_THR 0U
#define UART_IER 1U
#define UART_IIR_FCR 2U
#define UART_LCR 3U
#define UART_MCR 4U
#define UART_LSR 5U
#define UART_MSR 6U
#define UART_SCR 7U
#define UART_PORT_COUNT 8U

/* The depth of the 16550A's receive FIFO. */
#define UART_FIFO_SIZE 16U

struct uart {
	void (*out)(void *ctx, uint8_t byte);
	void *ctx;
	uint8_t ier; /* the four enable bits (7:4 read 0 on a 16550A) */
	uint8_t fcr; /* FIFO enable, DMA mode and receive trigger; 0 with FIFOs off */
	uint8_t lcr; /* as written; bit 7 is DLAB */
	uint8_t mcr; /* bits 4:0 as written (7:5 read 0) */
	uint8_t scr; /* the scratch register */
	uint8_t dll; /* the divisor latch */
	uint8_t dlm;
	uint8_t msr_delta; /* MSR bits 3:0: input changes since MSR was last read */
	bool overrun;	   /* LSR.OE: a received byte was lost; cleared by reading LSR */
	bool thre_pending; /* THR emptied (or its interrupt was enabled) since IIR last
			    * reported the THR-empty interrupt */
	uint8_t rx_head;   /* the receive FIFO: rx_count bytes from rx[rx_head] on */
	uint8_t rx_count;  /* at most 1 with FIFOs off (the 16450's holding register) */
	uint8_t rx[UART_FIFO_SIZE];
};

/* The state after a master reset (the 16550A's reset values; the scratch register and the
 * divisor latch, undefined there, are 0). out receives each byte the guest transmits
 * outside loopback, with ctx. */
void uart_init(struct uart *u, void (*out)(void *ctx, uint8_t byte), void *ctx);

/* A guest's IN or OUT of one byte at base + offset. Offsets of 8 and above are no
 * register: they read 0xFF and writes to them are ignored. Reads have the 16550A's side
 * effects: RBR takes a received byte (0 when there is none), IIR acknowledges a THR-empty
 * interrupt it reports, LSR clears the overrun flag, MSR clears the change bits. */
uint8_t uart_read(struct uart *u, unsigned offset);
void uart_write(struct uart *u, unsigned offset, uint8_t value);

/* The level of the UART's ISA IRQ line: an enabled interrupt is pending, and MCR.OUT2 is
 * set (a PC gates the UART's interrupt output with the OUT2 pin) outside loopback (which
 * forces the OUT2 pin inactive). */
bool uart_irq_line(const struct uart *u);

#endif
