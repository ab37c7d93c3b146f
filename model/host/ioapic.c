/* The I/O APIC model (ioapic.h). */
#include "ioapic.h"

#define REG_ID 0x00U
#define REG_VERSION 0x01U
#define REG_ARBITRATION 0x02U
#define REG_RTE_FIRST 0x10U
#define REG_RTE_END (REG_RTE_FIRST + 2U * IOAPIC_PINS)
#define ID_SHIFT 24U
#define ID_MASK 0x0FU
/* What the guest may write in an entry: vector, delivery mode, destination mode, polarity,
 * trigger mode, mask, destination; delivery status and remote IRR are read-only. */
#define RTE_WRITABLE                                                                               \
	(IOAPIC_RTE_VECTOR | 7ULL << IOAPIC_RTE_DELIVERY_SHIFT | IOAPIC_RTE_LOGICAL |              \
	 IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED |                            \
	 0xFFULL << IOAPIC_RTE_DEST_SHIFT)

void ioapic_init(struct ioapic *io, uint8_t id)
{
	*io = (struct ioapic){ .id = (uint8_t)(id & ID_MASK) };
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		io->rte[i] = IOAPIC_RTE_MASKED;
	}
}

static bool active(const struct ioapic *io, unsigned pin)
{
	return io->line[pin] != ((io->rte[pin] & IOAPIC_RTE_ACTIVE_LOW) != 0U);
}

static void message(const struct ioapic *io, unsigned pin, struct ioapic_msg *msg)
{
	uint64_t e = io->rte[pin];

	*msg = (struct ioapic_msg){
		.vector = (uint8_t)(e & IOAPIC_RTE_VECTOR),
		.delivery = (enum ioapic_delivery)((e >> IOAPIC_RTE_DELIVERY_SHIFT) & 7U),
		.logical = (e & IOAPIC_RTE_LOGICAL) != 0U,
		.dest = (uint8_t)(e >> IOAPIC_RTE_DEST_SHIFT),
		.level = (e & IOAPIC_RTE_LEVEL) != 0U,
	};
}

/* A level pin that is active, unmasked and not waiting for its EOI sends now. */
static bool level_send(struct ioapic *io, unsigned pin, struct ioapic_msg *msg)
{
	uint64_t e = io->rte[pin];

	if ((e & IOAPIC_RTE_LEVEL) == 0U ||
	    (e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) != 0U || !active(io, pin)) {
		return false;
	}
	io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
	message(io, pin, msg);
	return true;
}

uint32_t ioapic_read(const struct ioapic *io, uint32_t offset)
{
	unsigned r = io->regsel;

	if (offset == IOAPIC_REGSEL) {
		return r;
	}
	if (offset != IOAPIC_WINDOW) {
		return 0;
	}
	switch (r) {
	case REG_ID:
	case REG_ARBITRATION:
		return (uint32_t)io->id << ID_SHIFT;
	case REG_VERSION:
		return IOAPIC_VERSION;
	default:
		if (r >= REG_RTE_FIRST && r < REG_RTE_END) {
			uint64_t e = io->rte[(r - REG_RTE_FIRST) / 2U];

			return (r & 1U) != 0U ? (uint32_t)(e >> 32) : (uint32_t)e;
		}
		return 0;
	}
}

void ioapic_write(struct ioapic *io, uint32_t offset, uint32_t value, struct ioapic_msg *msg,
		  bool *sent)
{
	unsigned r = io->regsel;

	*sent = false;
	if (offset == IOAPIC_REGSEL) {
		io->regsel = (uint8_t)value;
		return;
	}
	if (offset != IOAPIC_WINDOW) {
		return;
	}
	if (r == REG_ID) {
		io->id = (uint8_t)((value >> ID_SHIFT) & ID_MASK);
		return;
	}
	if (r < REG_RTE_FIRST || r >= REG_RTE_END) {
		return;
	}
	unsigned pin = (r - REG_RTE_FIRST) / 2U;
	uint64_t e = io->rte[pin];
	uint64_t v = (r & 1U) != 0U ? (e & 0xFFFFFFFFULL) | (uint64_t)value << 32
				    : (e & ~0xFFFFFFFFULL) | value;

	io->rte[pin] = (v & RTE_WRITABLE) | (e & IOAPIC_RTE_REMOTE_IRR);
	/* An edge entry has no remote IRR. */
	if ((io->rte[pin] & IOAPIC_RTE_LEVEL) == 0U) {
		io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
	}
	*sent = level_send(io, pin, msg);
}

bool ioapic_set_line(struct ioapic *io, unsigned pin, bool level, struct ioapic_msg *msg)
{
	if (pin >= IOAPIC_PINS) {
		return false;
	}
	bool was = active(io, pin);

	io->line[pin] = level;
	if ((io->rte[pin] & IOAPIC_RTE_LEVEL) != 0U) {
		return level_send(io, pin, msg);
	}
	if (was || !active(io, pin) || (io->rte[pin] & IOAPIC_RTE_MASKED) != 0U) {
		return false;
	}
	message(io, pin, msg);
	return true;
}

unsigned ioapic_eoi(struct ioapic *io, uint8_t vector, struct ioapic_msg msgs[IOAPIC_PINS])
{
	unsigned sent = 0;

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->rte[pin];

		if ((e & IOAPIC_RTE_LEVEL) == 0U || (uint8_t)(e & IOAPIC_RTE_VECTOR) != vector) {
			continue;
		}
		io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
		if (level_send(io, pin, &msgs[sent])) {
			sent++;
		}
	}
	return sent;
}
