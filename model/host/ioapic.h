/* A model of an I/O APIC (Intel 82093AA datasheet: 24 pins, version 0x11) for the guest of
 * the native platform: the guest programs it through its two MMIO registers (IOREGSEL at
 * offset 0x00, IOWIN at 0x10); devices raise and lower its pins; each interrupt it sends is
 * a message the caller delivers to the local APICs it names.
 *
 * Choices: pins are active high unless the entry's polarity says low; a masked pin sends
 * nothing and remembers nothing (an edge while masked is lost, a level one is sent when
 * unmasked); delivery status always reads 0 (a message goes out at once); 32-bit accesses
 * only, at offsets 0x00 and 0x10 (other offsets read 0 and ignore writes). */
#ifndef MODEL_HOST_IOAPIC_H
#define MODEL_HOST_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_PINS 24U
#define IOAPIC_REGSEL 0x00U
#define IOAPIC_WINDOW 0x10U
#define IOAPIC_MMIO_SIZE 0x20U
#define IOAPIC_VERSION ((IOAPIC_PINS - 1U) << 16 | 0x11U)

/* Redirection entry bits. */
#define IOAPIC_RTE_VECTOR 0xFFULL
#define IOAPIC_RTE_DELIVERY_SHIFT 8U
#define IOAPIC_RTE_LOGICAL (1ULL << 11)
#define IOAPIC_RTE_ACTIVE_LOW (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define IOAPIC_RTE_LEVEL (1ULL << 15)
#define IOAPIC_RTE_MASKED (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56U

enum ioapic_delivery {
	IOAPIC_FIXED = 0,
	IOAPIC_LOWEST = 1,
	IOAPIC_SMI = 2,
	IOAPIC_NMI = 4,
	IOAPIC_INIT = 5,
	IOAPIC_EXTINT = 7,
};

/* One interrupt message. */
struct ioapic_msg {
	uint8_t vector;
	enum ioapic_delivery delivery;
	bool logical; /* dest is a logical destination; else an APIC ID (0xFF: all) */
	uint8_t dest;
	bool level;
};

struct ioapic {
	uint8_t id;
	uint8_t regsel;
	uint64_t rte[IOAPIC_PINS];
	bool line[IOAPIC_PINS]; /* each pin's input as the device drives it */
};

/* After reset: every entry masked, edge, active high, vector 0; regsel 0. */
void ioapic_init(struct ioapic *io, uint8_t id);

/* A 32-bit guest access at offset (from the MMIO base). A write may send a message (a level
 * pin unmasked while asserted): *sent says so and *msg has it. */
uint32_t ioapic_read(const struct ioapic *io, uint32_t offset);
void ioapic_write(struct ioapic *io, uint32_t offset, uint32_t value, struct ioapic_msg *msg,
		  bool *sent);

/* A device drives pin to level (true = asserted, before polarity). True, with *msg, when that
 * sends an interrupt: an edge pin's inactive-to-active change, or a level pin becoming active
 * with remote IRR clear (remote IRR is then set until an EOI of its vector). Pins outside
 * 0..23 do nothing. */
bool ioapic_set_line(struct ioapic *io, unsigned pin, bool level, struct ioapic_msg *msg);

/* The local APIC's EOI of a level-triggered vector: remote IRR cleared on the pins with that
 * vector; each of them still active sends again. Returns how many messages it wrote to msgs,
 * in pin order. */
unsigned ioapic_eoi(struct ioapic *io, uint8_t vector, struct ioapic_msg msgs[IOAPIC_PINS]);

#endif
