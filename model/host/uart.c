/* The 16550A's registers and interrupt rules (National Semiconductor PC16550D data sheet),
 * with instant transmission: the transmitter holding register empties as it is written. */
#include "uart.h"

#define IER_RDI 0x01U  /* received data available */
#define IER_THRI 0x02U /* transmitter holding register empty */
#define IER_RLSI 0x04U /* receiver line status */
#define IER_MSI 0x08U  /* modem status */
#define IER_MASK 0x0FU

/* IIR bits 3:0, by priority; bit 0 set means none is pending. */
#define IIR_NONE 0x01U
#define IIR_RLSI 0x06U
#define IIR_RDI 0x04U
#define IIR_TIMEOUT 0x0CU
#define IIR_THRI 0x02U
#define IIR_MSI 0x00U
#define IIR_FIFOS_ON 0xC0U

#define FCR_ENABLE 0x01U
#define FCR_CLEAR_RX 0x02U
#define FCR_DMA 0x08U
#define FCR_TRIGGER_SHIFT 6U
#define FCR_KEPT (FCR_ENABLE | FCR_DMA | (3U << FCR_TRIGGER_SHIFT))

#define LCR_DLAB 0x80U

#define MCR_DTR 0x01U
#define MCR_RTS 0x02U
#define MCR_OUT1 0x04U
#define MCR_OUT2 0x08U
#define MCR_LOOP 0x10U
#define MCR_MASK 0x1FU

#define LSR_DR 0x01U
#define LSR_OE 0x02U
#define LSR_THRE 0x20U
#define LSR_TEMT 0x40U

#define MSR_CTS 0x10U
#define MSR_DSR 0x20U
#define MSR_RI 0x40U
#define MSR_DCD 0x80U
/* Each input bit (7:4) sits four bits above its change bit (3:0); RI's change bit (TERI)
 * records only a trailing edge. */
#define MSR_DELTA_SHIFT 4U
#define MSR_DELTA_BOTH_EDGES 0x0BU

void uart_init(struct uart *u, void (*out)(void *ctx, uint8_t byte), void *ctx)
{
	*u = (struct uart){ .out = out, .ctx = ctx };
}

/* MSR bits 7:4. A connected terminal holds DCD, DSR and CTS and does not ring; in
 * loopback the inputs are the MCR's outputs: DTR to DSR, RTS to CTS, OUT1 to RI, OUT2 to
 * DCD. */
static uint8_t modem_inputs(const struct uart *u)
{
	uint8_t m = u->mcr;

	if ((m & MCR_LOOP) == 0U) {
		return MSR_DCD | MSR_DSR | MSR_CTS;
	}
	return (uint8_t)(((m & MCR_DTR) != 0U ? MSR_DSR : 0U) |
			 ((m & MCR_RTS) != 0U ? MSR_CTS : 0U) |
			 ((m & MCR_OUT1) != 0U ? MSR_RI : 0U) |
			 ((m & MCR_OUT2) != 0U ? MSR_DCD : 0U));
}

static void write_mcr(struct uart *u, uint8_t value)
{
	uint8_t before = modem_inputs(u);

	u->mcr = value & MCR_MASK;
	uint8_t after = modem_inputs(u);
	uint8_t changed = (uint8_t)((before ^ after) >> MSR_DELTA_SHIFT) & MSR_DELTA_BOTH_EDGES;
	uint8_t ri_fell = (uint8_t)((before & (uint8_t)~after & MSR_RI) >> MSR_DELTA_SHIFT);

	u->msr_delta |= changed | ri_fell;
}

static bool fifos_on(const struct uart *u)
{
	return (u->fcr & FCR_ENABLE) != 0U;
}

static void clear_rx(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* A byte the receiver assembled (in loopback, the byte just transmitted). With the FIFO
 * full the new byte is lost; without FIFOs it overwrites the unread one. Either way it is
 * an overrun. */
static void receive(struct uart *u, uint8_t byte)
{
	unsigned capacity = fifos_on(u) ? UART_FIFO_SIZE : 1U;

	if (u->rx_count < capacity) {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
		u->rx_count++;
		return;
	}
	u->overrun = true;
	if (!fifos_on(u)) {
		u->rx[u->rx_head] = byte;
	}
}

static uint8_t take_rx(struct uart *u)
{
	if (u->rx_count == 0U) {
		return 0;
	}
	uint8_t byte = u->rx[u->rx_head];

	u->rx_head = (uint8_t)((u->rx_head + 1U) % UART_FIFO_SIZE);
	u->rx_count--;
	return byte;
}

/* The receive FIFO's interrupt trigger level, FCR bits 7:6. */
static unsigned rx_trigger(const struct uart *u)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };

	return levels[u->fcr >> FCR_TRIGGER_SHIFT];
}

/* IIR bits 3:0: the highest-priority enabled interrupt. Below the trigger level the data
 * sheet raises a character timeout once no byte has moved for four character times; in
 * this model no time passes between accesses, and a guest's next access is always that
 * late, so the timeout is pending as soon as data is. */
static uint8_t pending_interrupt(const struct uart *u)
{
	if ((u->ier & IER_RLSI) != 0U && u->overrun) {
		return IIR_RLSI;
	}
	if ((u->ier & IER_RDI) != 0U && u->rx_count != 0U) {
		return !fifos_on(u) || u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_TIMEOUT;
	}
	if ((u->ier & IER_THRI) != 0U && u->thre_pending) {
		return IIR_THRI;
	}
	if ((u->ier & IER_MSI) != 0U && u->msr_delta != 0U) {
		return IIR_MSI;
	}
	return IIR_NONE;
}

static uint8_t read_iir(struct uart *u)
{
	uint8_t id = pending_interrupt(u);

	/* Reading IIR while it names THR empty is that interrupt's acknowledgement. */
	if (id == IIR_THRI) {
		u->thre_pending = false;
	}
	return (uint8_t)(id | (fifos_on(u) ? IIR_FIFOS_ON : 0U));
}

static uint8_t read_lsr(struct uart *u)
{
	uint8_t lsr = (uint8_t)(LSR_THRE | LSR_TEMT | (u->rx_count != 0U ? LSR_DR : 0U) |
				(u->overrun ? LSR_OE : 0U));

	u->overrun = false;
	return lsr;
}

static uint8_t read_msr(struct uart *u)
{
	uint8_t msr = (uint8_t)(modem_inputs(u) | u->msr_delta);

	u->msr_delta = 0;
	return msr;
}

uint8_t uart_read(struct uart *u, unsigned offset)
{
	bool dlab = (u->lcr & LCR_DLAB) != 0U;

	switch (offset) {
	case UART_RBR_THR:
		return dlab ? u->dll : take_rx(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		return read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return read_lsr(u);
	case UART_MSR:
		return read_msr(u);
	case UART_SCR:
		return u->scr;
	default:
		return 0xFF;
	}
}

static void transmit(struct uart *u, uint8_t byte)
{
	if ((u->mcr & MCR_LOOP) != 0U) {
		receive(u, byte);
	} else {
		u->out(u->ctx, byte);
	}
	/* The write acknowledged any THR-empty interrupt, and the holding register is empty
	 * again at once, which raises it anew. */
	u->thre_pending = true;
}

static void write_ier(struct uart *u, uint8_t value)
{
	uint8_t before = u->ier;

	u->ier = value & IER_MASK;
	/* Enabling the interrupt while the holding register is empty (it always is) raises
	 * it, as Linux's THRE test at startup expects of a real 16550A. */
	if ((before & IER_THRI) == 0U && (u->ier & IER_THRI) != 0U) {
		u->thre_pending = true;
	}
}

static void write_fcr(struct uart *u, uint8_t value)
{
	/* Turning the FIFOs on or off empties them; the other bits are programmed only with
	 * FCR bit 0 set. The transmit FIFO is always empty, so its reset bit does nothing. */
	if (((value ^ u->fcr) & FCR_ENABLE) != 0U) {
		clear_rx(u);
	}
	if ((value & FCR_ENABLE) == 0U) {
		u->fcr = 0;
		return;
	}
	if ((value & FCR_CLEAR_RX) != 0U) {
		clear_rx(u);
	}
	u->fcr = value & FCR_KEPT;
}

void uart_write(struct uart *u, unsigned offset, uint8_t value)
{
	bool dlab = (u->lcr & LCR_DLAB) != 0U;

	switch (offset) {
	case UART_RBR_THR:
		if (dlab) {
			u->dll = value;
		} else {
			transmit(u, value);
		}
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = value;
		} else {
			write_ier(u, value);
		}
		break;
	case UART_IIR_FCR:
		write_fcr(u, value);
		break;
	case UART_LCR:
		u->lcr = value;
		break;
	case UART_MCR:
		write_mcr(u, value);
		break;
	case UART_SCR:
		u->scr = value;
		break;
	default:
		/* LSR and MSR are read-only (LSR's write is a factory test mode). */
		break;
	}
}

bool uart_irq_line(const struct uart *u)
{
	return (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2 && pending_interrupt(u) != IIR_NONE;
}
