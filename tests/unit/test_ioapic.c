/* The I/O APIC model (model/host/ioapic.c): the register window, edge and level pins, remote
 * IRR and EOI, masking. Register numbers and bits are written out as numbers here. */
#include "harness.h"
#include "ioapic.h"

static struct ioapic io;

static uint32_t reg_read(unsigned reg)
{
	struct ioapic_msg msg;
	bool sent = true;

	ioapic_write(&io, 0x00, reg, &msg, &sent);
	EXPECT_TRUE(!sent);
	return ioapic_read(&io, 0x10);
}

static bool reg_write(unsigned reg, uint32_t value, struct ioapic_msg *msg)
{
	bool sent = true;

	ioapic_write(&io, 0x00, reg, msg, &sent);
	ioapic_write(&io, 0x10, value, msg, &sent);
	return sent;
}

TEST(ioapic_reset_id_version_and_masked_entries)
{
	ioapic_init(&io, 3);
	EXPECT_EQ(reg_read(0x00), 3U << 24);
	/* 24 entries (max index 23), version 0x11. */
	EXPECT_EQ(reg_read(0x01), 0x00170011U);
	for (unsigned pin = 0; pin < 24; pin++) {
		EXPECT_EQ(reg_read(0x10 + 2 * pin), 0x00010000U);
		EXPECT_EQ(reg_read(0x11 + 2 * pin), 0U);
	}
	/* Past the last entry, and other offsets: 0. */
	EXPECT_EQ(reg_read(0x40), 0U);
	EXPECT_EQ(ioapic_read(&io, 0x04), 0U);
	EXPECT_EQ(ioapic_read(&io, 0x00), 0x40U);
}

TEST(ioapic_edge_pin_sends_on_rising_edge_only)
{
	struct ioapic_msg msg = { 0 };

	ioapic_init(&io, 0);
	/* Pin 4: vector 0x31, fixed, physical, edge, active high, to APIC 2. */
	EXPECT_TRUE(!reg_write(0x18, 0x31, &msg));
	EXPECT_TRUE(!reg_write(0x19, 2U << 24, &msg));
	EXPECT_EQ(reg_read(0x18), 0x31U);
	EXPECT_EQ(reg_read(0x19), 2U << 24);
	EXPECT_TRUE(ioapic_set_line(&io, 4, true, &msg));
	EXPECT_EQ(msg.vector, 0x31);
	EXPECT_EQ(msg.delivery, IOAPIC_FIXED);
	EXPECT_TRUE(!msg.logical);
	EXPECT_EQ(msg.dest, 2);
	EXPECT_TRUE(!msg.level);
	/* Still high: no new edge. Low then high again: one more. */
	EXPECT_TRUE(!ioapic_set_line(&io, 4, true, &msg));
	EXPECT_TRUE(!ioapic_set_line(&io, 4, false, &msg));
	EXPECT_TRUE(ioapic_set_line(&io, 4, true, &msg));
	/* Remote IRR is never set for an edge pin. */
	EXPECT_EQ(reg_read(0x18) & 0x4000U, 0U);
	/* Pins outside 0-23 do nothing. */
	EXPECT_TRUE(!ioapic_set_line(&io, 24, true, &msg));
}

TEST(ioapic_masked_edge_is_lost_and_active_low_inverts)
{
	struct ioapic_msg msg = { 0 };

	ioapic_init(&io, 0);
	EXPECT_TRUE(!reg_write(0x12, 0x00010040, &msg));
	EXPECT_TRUE(!ioapic_set_line(&io, 1, true, &msg));
	EXPECT_TRUE(!reg_write(0x12, 0x00000040, &msg));
	EXPECT_TRUE(!ioapic_set_line(&io, 1, true, &msg));
	/* Active low: the line going low is the edge. */
	EXPECT_TRUE(!reg_write(0x14, 0x00002041, &msg));
	EXPECT_TRUE(!ioapic_set_line(&io, 2, true, &msg));
	EXPECT_TRUE(ioapic_set_line(&io, 2, false, &msg));
	EXPECT_EQ(msg.vector, 0x41);
}

TEST(ioapic_level_pin_waits_for_eoi_and_resends_while_active)
{
	struct ioapic_msg msg = { 0 };
	struct ioapic_msg sent[IOAPIC_PINS];

	ioapic_init(&io, 0);
	/* Pin 9: vector 0x50, level, active high, logical destination 0x01. */
	EXPECT_TRUE(!reg_write(0x22, 0x00008850, &msg));
	EXPECT_TRUE(!reg_write(0x23, 1U << 24, &msg));
	EXPECT_TRUE(ioapic_set_line(&io, 9, true, &msg));
	EXPECT_TRUE(msg.level);
	EXPECT_TRUE(msg.logical);
	EXPECT_EQ(msg.dest, 1);
	EXPECT_EQ(reg_read(0x22), 0x0000C850U);
	/* Remote IRR set: nothing more until the EOI. A guest write to the read-only remote IRR
	 * and delivery status bits changes neither. */
	EXPECT_TRUE(!ioapic_set_line(&io, 9, true, &msg));
	EXPECT_TRUE(!reg_write(0x22, 0x00009850, &msg));
	EXPECT_EQ(reg_read(0x22), 0x0000C850U);
	/* EOI of another vector: nothing. Of 0x50 with the line still high: sent again. */
	EXPECT_EQ(ioapic_eoi(&io, 0x51, sent), 0U);
	EXPECT_EQ(ioapic_eoi(&io, 0x50, sent), 1U);
	EXPECT_EQ(sent[0].vector, 0x50);
	EXPECT_EQ(reg_read(0x22), 0x0000C850U);
	/* Line low, then EOI: remote IRR clear and nothing sent. */
	EXPECT_TRUE(!ioapic_set_line(&io, 9, false, &msg));
	EXPECT_EQ(ioapic_eoi(&io, 0x50, sent), 0U);
	EXPECT_EQ(reg_read(0x22), 0x00008850U);
}

/* Two level pins sharing a vector, both active: one EOI clears both remote IRRs and each
 * sends again (neither is lost until its line changes). */
TEST(ioapic_eoi_resends_every_active_pin_of_the_vector)
{
	struct ioapic_msg msg = { 0 };
	struct ioapic_msg sent[IOAPIC_PINS];

	ioapic_init(&io, 0);
	EXPECT_TRUE(!reg_write(0x22, 0x00008850, &msg)); /* pin 9 */
	EXPECT_TRUE(!reg_write(0x24, 0x00008850, &msg)); /* pin 10 */
	EXPECT_TRUE(!reg_write(0x25, 2U << 24, &msg));
	EXPECT_TRUE(ioapic_set_line(&io, 9, true, &msg));
	EXPECT_TRUE(ioapic_set_line(&io, 10, true, &msg));
	EXPECT_EQ(ioapic_eoi(&io, 0x50, sent), 2U);
	EXPECT_EQ(sent[0].vector, 0x50);
	EXPECT_EQ(sent[1].vector, 0x50);
	EXPECT_EQ(sent[1].dest, 2U);
	EXPECT_EQ(reg_read(0x22), 0x0000C850U);
	EXPECT_EQ(reg_read(0x24), 0x0000C850U);
}

TEST(ioapic_unmasking_an_active_level_pin_sends)
{
	struct ioapic_msg msg = { 0 };

	ioapic_init(&io, 0);
	EXPECT_TRUE(!reg_write(0x30, 0x00018060, &msg));
	EXPECT_TRUE(!ioapic_set_line(&io, 16, true, &msg));
	EXPECT_TRUE(reg_write(0x30, 0x00008060, &msg));
	EXPECT_EQ(msg.vector, 0x60);
	/* Changing the entry to edge drops its remote IRR. */
	EXPECT_TRUE(!reg_write(0x30, 0x00000060, &msg));
	EXPECT_EQ(reg_read(0x30), 0x00000060U);
}
