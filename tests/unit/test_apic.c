/* The host's x2APIC model (model/host/apic.c): registers after reset, priorities, the
 * timer's three modes at exact TSC values, IPIs from the ICR, and what #GPs. */
#include <stddef.h>

#include "apic.h"
#include "harness.h"
#include "ticks.h"

#define HZ_3G 3000000000ULL
#define HZ_ODD 2593907117ULL
#define LVT_MASK 0x10000U
#define PERIODIC (1U << 17)
#define DEADLINE (1U << 18)

static uint64_t rd_at(struct apic *a, uint32_t msr, uint64_t tsc, int line)
{
	uint64_t v = 0xDEADBEEF;

	test_expect_true(apic_msr_read(a, msr, tsc, &v), "apic_msr_read", __FILE__, line);
	return v;
}

/* A write that must succeed and send nothing. */
static void wr_at(struct apic *a, uint32_t msr, uint64_t value, uint64_t tsc, int line)
{
	struct apic_ipi out = { 0 };
	bool ipi = true;

	test_expect_true(apic_msr_write(a, msr, value, tsc, &out, &ipi), "apic_msr_write", __FILE__,
			 line);
	test_expect_true(!ipi, "no IPI", __FILE__, line);
}

/* True if the write is refused (#GP). */
static bool gp_write(struct apic *a, uint32_t msr, uint64_t value)
{
	struct apic_ipi out = { 0 };
	bool ipi = true;
	bool ok = apic_msr_write(a, msr, value, 0, &out, &ipi);

	return !ok && !ipi;
}

static bool gp_read(struct apic *a, uint32_t msr)
{
	uint64_t v = 0x1234;
	bool ok = apic_msr_read(a, msr, 0, &v);

	return !ok && v == 0x1234;
}

#define RD(a, msr, tsc) rd_at((a), (msr), (tsc), __LINE__)
#define WR(a, msr, v, tsc) wr_at((a), (msr), (v), (tsc), __LINE__)

static struct apic enabled_apic(uint32_t id, uint64_t hz)
{
	struct apic a;

	EXPECT_TRUE(apic_init(&a, id, id == 0, hz));
	WR(&a, 0x80F, 0x1FF, 0);
	return a;
}

TEST(apic_reset_registers)
{
	struct apic a;
	struct apic bsp;

	EXPECT_TRUE(apic_init(&a, 5, false, HZ_3G));
	EXPECT_TRUE(apic_init(&bsp, 0, true, HZ_3G));
	EXPECT_EQ(RD(&bsp, 0x1B, 0), 0xFEE00D00);
	EXPECT_EQ(RD(&a, 0x1B, 0), 0xFEE00C00);
	EXPECT_EQ(RD(&a, 0x802, 0), 5);
	EXPECT_EQ(RD(&a, 0x803, 0), 0x00060014);
	EXPECT_EQ(RD(&a, 0x808, 0), 0);
	EXPECT_EQ(RD(&a, 0x80A, 0), 0);
	EXPECT_EQ(RD(&a, 0x80D, 0), 0x20);
	EXPECT_EQ(RD(&a, 0x80F, 0), 0xFF);
	for (uint32_t m = 0x810; m <= 0x827; m++) {
		EXPECT_EQ(RD(&a, m, 0), 0);
	}
	EXPECT_EQ(RD(&a, 0x828, 0), 0);
	EXPECT_EQ(RD(&a, 0x82F, 0), LVT_MASK);
	EXPECT_EQ(RD(&a, 0x830, 0), 0);
	for (uint32_t m = 0x832; m <= 0x837; m++) {
		EXPECT_EQ(RD(&a, m, 0), LVT_MASK);
	}
	EXPECT_EQ(RD(&a, 0x838, 0), 0);
	EXPECT_EQ(RD(&a, 0x839, 0), 0);
	EXPECT_EQ(RD(&a, 0x83E, 0), 0);
	EXPECT_EQ(RD(&a, 0x6E0, 0), 0);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	EXPECT_EQ(apic_pending_vector(&a), -1);
	EXPECT_TRUE(!apic_take_nmi(&a));
	EXPECT_EQ(apic_take_level_eoi(&a), -1);
	/* The reserved x2APIC ID, and TSC frequencies the arithmetic cannot take. */
	EXPECT_TRUE(!apic_init(&a, 0xFFFFFFFF, false, HZ_3G));
	EXPECT_TRUE(!apic_init(&a, 1, false, 0));
	EXPECT_TRUE(!apic_init(&a, 1, false, TSC_HZ_MIN - 1));
	EXPECT_TRUE(!apic_init(&a, 1, false, TSC_HZ_MAX + 1));
	EXPECT_EQ(a.id, 5);
	EXPECT_TRUE(apic_init(&a, 0xFFFFFFFE, false, TSC_HZ_MAX));
	EXPECT_EQ(RD(&a, 0x802, 0), 0xFFFFFFFE);
}

TEST(apic_id_and_logical_id)
{
	static const struct {
		uint32_t id, ldr;
	} cases[] = {
		{ 0, 0x00000001 },	{ 15, 0x00008000 },	 { 16, 0x00010001 },
		{ 0x2345, 0x02340020 }, { 0x12345, 0x12340020 }, { 0xFFFFF1, 0xFFFF0002 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct apic a;

		EXPECT_TRUE(apic_init(&a, cases[i].id, false, HZ_3G));
		EXPECT_EQ(RD(&a, 0x802, 0), cases[i].id);
		EXPECT_EQ(RD(&a, 0x80D, 0), cases[i].ldr);
		/* Both are read-only in x2APIC mode. */
		EXPECT_TRUE(gp_write(&a, 0x802, cases[i].id));
		EXPECT_TRUE(gp_write(&a, 0x80D, cases[i].ldr));
		EXPECT_EQ(RD(&a, 0x802, 0), cases[i].id);
	}
}

TEST(apic_tpr_ppr_isr)
{
	struct apic a = enabled_apic(1, HZ_3G);

	apic_accept(&a, 0x51, false);
	EXPECT_EQ(apic_pending_vector(&a), 0x51);
	WR(&a, 0x808, 0x50, 0);
	EXPECT_EQ(RD(&a, 0x80A, 0), 0x50);
	EXPECT_EQ(apic_pending_vector(&a), -1); /* class 5 is not above PPR's class 5 */
	WR(&a, 0x808, 0x4F, 0);
	EXPECT_EQ(RD(&a, 0x80A, 0), 0x4F);
	EXPECT_EQ(apic_pending_vector(&a), 0x51);
	apic_ack(&a, 0x51);
	EXPECT_EQ(RD(&a, 0x822, 0), 0);	      /* IRR word 2 */
	EXPECT_EQ(RD(&a, 0x812, 0), 0x20000); /* ISR: vector 0x51 is word 2 bit 17 */
	EXPECT_EQ(RD(&a, 0x80A, 0), 0x50);    /* the in-service class beats TPR 0x4F */
	WR(&a, 0x808, 0x5F, 0);
	EXPECT_EQ(RD(&a, 0x80A, 0), 0x5F); /* equal classes: PPR is TPR, low bits and all */
	WR(&a, 0x808, 0x4F, 0);
	apic_accept(&a, 0x55, false);
	EXPECT_EQ(apic_pending_vector(&a), -1);
	apic_accept(&a, 0x61, false);
	EXPECT_EQ(apic_pending_vector(&a), 0x61);
	WR(&a, 0x808, 0x70, 0);
	EXPECT_EQ(RD(&a, 0x80A, 0), 0x70);
	EXPECT_EQ(apic_pending_vector(&a), -1);
	/* TPR bits 8-31 are reserved. */
	EXPECT_TRUE(gp_write(&a, 0x808, 0x170));
	EXPECT_EQ(RD(&a, 0x808, 0), 0x70);
	/* apic_ack of a vector not in IRR does nothing. */
	apic_ack(&a, 0x99);
	EXPECT_EQ(RD(&a, 0x814, 0), 0);
}

TEST(apic_priority_order_and_eoi)
{
	struct apic a = enabled_apic(2, HZ_3G);

	apic_accept(&a, 0x30, false);
	apic_accept(&a, 0xEC, false);
	apic_accept(&a, 0x80, false);
	EXPECT_EQ(RD(&a, 0x821, 0), 0x10000); /* 0x30 */
	EXPECT_EQ(RD(&a, 0x824, 0), 1);	      /* 0x80 */
	EXPECT_EQ(RD(&a, 0x827, 0), 0x1000);  /* 0xEC */
	EXPECT_EQ(apic_pending_vector(&a), 0xEC);
	apic_ack(&a, 0xEC);
	EXPECT_EQ(apic_pending_vector(&a), -1);
	WR(&a, 0x80B, 0, 0);
	EXPECT_EQ(RD(&a, 0x817, 0), 0);
	EXPECT_EQ(apic_pending_vector(&a), 0x80);
	apic_ack(&a, 0x80);
	/* A higher class nests; EOI retires the highest in service first. */
	apic_accept(&a, 0xFD, false);
	EXPECT_EQ(apic_pending_vector(&a), 0xFD);
	apic_ack(&a, 0xFD);
	EXPECT_EQ(RD(&a, 0x817, 0), 0x20000000);
	EXPECT_TRUE(gp_write(&a, 0x80B, 1)); /* non-zero EOI */
	EXPECT_EQ(RD(&a, 0x817, 0), 0x20000000);
	WR(&a, 0x80B, 0, 0);
	EXPECT_EQ(RD(&a, 0x817, 0), 0);
	EXPECT_EQ(RD(&a, 0x814, 0), 1);
	EXPECT_EQ(apic_pending_vector(&a), -1);
	WR(&a, 0x80B, 0, 0);
	EXPECT_EQ(RD(&a, 0x814, 0), 0);
	EXPECT_EQ(apic_pending_vector(&a), 0x30);
	/* An EOI with nothing in service changes nothing. */
	WR(&a, 0x80B, 0, 0);
	EXPECT_EQ(apic_pending_vector(&a), 0x30);
	/* Level-triggered: TMR, and the EOI is reported for the IOAPIC; edge ones are not. */
	apic_accept(&a, 0x41, true);
	EXPECT_EQ(RD(&a, 0x81A, 0), 2);
	apic_ack(&a, 0x41);
	WR(&a, 0x80B, 0, 0);
	EXPECT_EQ(apic_take_level_eoi(&a), 0x41);
	EXPECT_EQ(apic_take_level_eoi(&a), -1);
	apic_ack(&a, 0x30);
	WR(&a, 0x80B, 0, 0);
	EXPECT_EQ(apic_take_level_eoi(&a), -1);
	/* A software-disabled APIC drops fixed interrupts, but takes NMIs. */
	struct apic off;

	EXPECT_TRUE(apic_init(&off, 3, false, HZ_3G));
	apic_accept(&off, 0x40, false);
	EXPECT_EQ(RD(&off, 0x822, 0), 0);
	EXPECT_EQ(apic_pending_vector(&off), -1);
	apic_accept_nmi(&off);
	EXPECT_TRUE(apic_take_nmi(&off));
	EXPECT_TRUE(!apic_take_nmi(&off));
}

TEST(apic_illegal_vectors_set_esr)
{
	struct apic a = enabled_apic(1, HZ_3G);
	struct apic_ipi out = { 0 };
	bool ipi = true;

	WR(&a, 0x837, 0xFE, 0); /* LVT error: vector 0xFE, unmasked */
	apic_accept(&a, 5, false);
	EXPECT_EQ(RD(&a, 0x810, 0), 0);		  /* no IRR bit below 16 */
	EXPECT_EQ(apic_pending_vector(&a), 0xFE); /* the error interrupt */
	EXPECT_EQ(RD(&a, 0x828, 0), 0);		  /* not latched until the ESR is written */
	WR(&a, 0x828, 0, 0);
	EXPECT_EQ(RD(&a, 0x828, 0), 0x40); /* receive illegal vector */
	WR(&a, 0x828, 0, 0);
	EXPECT_EQ(RD(&a, 0x828, 0), 0);
	EXPECT_TRUE(gp_write(&a, 0x828, 0x40));
	/* A SELF IPI sends and receives it. */
	WR(&a, 0x83F, 3, 0);
	WR(&a, 0x828, 0, 0);
	EXPECT_EQ(RD(&a, 0x828, 0), 0x60);
	/* A fixed ICR vector below 16 is a send error and sends nothing. */
	EXPECT_TRUE(apic_msr_write(&a, 0x830, (4ULL << 32) | 0x0F, 0, &out, &ipi));
	EXPECT_TRUE(!ipi);
	EXPECT_EQ(RD(&a, 0x830, 0), (4ULL << 32) | 0x0F);
	WR(&a, 0x828, 0, 0);
	EXPECT_EQ(RD(&a, 0x828, 0), 0x20);
	/* Lowest priority is not sent in x2APIC mode: redirectable-IPI error. */
	EXPECT_TRUE(apic_msr_write(&a, 0x830, (4ULL << 32) | 0x130, 0, &out, &ipi));
	EXPECT_TRUE(!ipi);
	WR(&a, 0x828, 0, 0);
	EXPECT_EQ(RD(&a, 0x828, 0), 0x10);
	/* A timer with an illegal vector: an error instead of its interrupt. */
	apic_ack(&a, 0xFE);
	WR(&a, 0x80B, 0, 0);
	WR(&a, 0x83E, 0xB, 0);
	WR(&a, 0x832, 0x08, 0);
	WR(&a, 0x838, 10, 0);
	EXPECT_TRUE(apic_poll_timer(&a, 30)); /* IRR gained the error vector */
	EXPECT_EQ(RD(&a, 0x810, 0), 0);
	EXPECT_EQ(apic_pending_vector(&a), 0xFE);
	WR(&a, 0x828, 0, 30);
	EXPECT_EQ(RD(&a, 0x828, 30), 0x40);
	/* An illegal error vector is logged too, with no interrupt at all. */
	struct apic b = enabled_apic(2, HZ_3G);

	WR(&b, 0x837, 0x05, 0);
	apic_accept(&b, 1, false);
	EXPECT_EQ(apic_pending_vector(&b), -1);
	WR(&b, 0x828, 0, 0);
	EXPECT_EQ(RD(&b, 0x828, 0), 0x40);
	/* A masked error LVT still logs. */
	struct apic c = enabled_apic(3, HZ_3G);

	apic_accept(&c, 15, false);
	EXPECT_EQ(apic_pending_vector(&c), -1);
	WR(&c, 0x828, 0, 0);
	EXPECT_EQ(RD(&c, 0x828, 0), 0x40);
}

TEST(apic_oneshot_timer_exact)
{
	struct apic a = enabled_apic(1, HZ_3G);

	/* 3 GHz TSC: one 1 GHz bus tick every 3 cycles; divide by 1. */
	WR(&a, 0x832, 0xEC, 0);
	WR(&a, 0x83E, 0xB, 0);
	WR(&a, 0x838, 1000, 1000);
	EXPECT_EQ(apic_next_deadline(&a), 4000);
	EXPECT_EQ(RD(&a, 0x838, 1000), 1000);
	EXPECT_EQ(RD(&a, 0x839, 1000), 1000);
	EXPECT_EQ(RD(&a, 0x839, 1002), 1000);
	EXPECT_EQ(RD(&a, 0x839, 1003), 999);
	EXPECT_EQ(RD(&a, 0x839, 2500), 500);
	EXPECT_EQ(RD(&a, 0x839, 3999), 1);
	EXPECT_TRUE(!apic_poll_timer(&a, 3999));
	EXPECT_EQ(apic_pending_vector(&a), -1);
	EXPECT_TRUE(apic_poll_timer(&a, 4000));
	EXPECT_EQ(apic_pending_vector(&a), 0xEC);
	EXPECT_EQ(RD(&a, 0x839, 4000), 0);
	EXPECT_EQ(RD(&a, 0x838, 4000), 1000);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	apic_ack(&a, 0xEC);
	EXPECT_TRUE(!apic_poll_timer(&a, 100000));
	EXPECT_EQ(apic_pending_vector(&a), -1);

	/* An odd TSC frequency, divide by 2: 1000 counts are 2000 bus ticks, 5187.81 cycles. */
	struct apic b = enabled_apic(2, HZ_ODD);

	WR(&b, 0x832, 0xEC, 0);
	WR(&b, 0x83E, 0, 0);
	WR(&b, 0x838, 1000, 77);
	EXPECT_EQ(apic_next_deadline(&b), 77 + 5188);
	EXPECT_EQ(RD(&b, 0x839, 77 + 1000), 808);
	EXPECT_EQ(RD(&b, 0x839, 77 + 5187), 1);
	EXPECT_TRUE(!apic_poll_timer(&b, 77 + 5187));
	EXPECT_TRUE(apic_poll_timer(&b, 77 + 5188));
	EXPECT_EQ(RD(&b, 0x839, 77 + 5188), 0);

	/* Writing 0 to the initial count stops it. */
	WR(&b, 0x838, 50, 10000);
	EXPECT_TRUE(apic_next_deadline(&b) != UINT64_MAX);
	WR(&b, 0x838, 0, 10001);
	EXPECT_EQ(apic_next_deadline(&b), UINT64_MAX);
	EXPECT_EQ(RD(&b, 0x839, 10002), 0);

	/* Masked: it still counts down, but no interrupt and no deadline for the caller. */
	struct apic c = enabled_apic(3, HZ_3G);

	WR(&c, 0x83E, 0xB, 0);
	WR(&c, 0x832, LVT_MASK | 0xEC, 0);
	WR(&c, 0x838, 100, 0);
	EXPECT_EQ(apic_next_deadline(&c), UINT64_MAX);
	EXPECT_EQ(RD(&c, 0x839, 150), 50);
	EXPECT_TRUE(!apic_poll_timer(&c, 1000));
	EXPECT_EQ(apic_pending_vector(&c), -1);
	EXPECT_EQ(RD(&c, 0x839, 1000), 0);
	/* Unmasking after the expiry brings back nothing. */
	WR(&c, 0x832, 0xEC, 1001);
	EXPECT_EQ(apic_next_deadline(&c), UINT64_MAX);
	EXPECT_EQ(apic_pending_vector(&c), -1);
}

TEST(apic_timer_divide_configurations)
{
	static const struct {
		uint32_t config;
		uint64_t divisor;
	} cases[] = {
		{ 0x0, 2 },  { 0x1, 4 },  { 0x2, 8 },	{ 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* A 1 GHz TSC is the bus clock: 3 counts expire after 3 * divisor cycles. */
		struct apic a = enabled_apic(1, 1000000000ULL);

		WR(&a, 0x832, 0xEC, 0);
		WR(&a, 0x83E, cases[i].config, 0);
		EXPECT_EQ(RD(&a, 0x83E, 0), cases[i].config);
		WR(&a, 0x838, 3, 500);
		EXPECT_EQ(apic_next_deadline(&a), 500 + 3 * cases[i].divisor);
		EXPECT_EQ(RD(&a, 0x839, 500 + cases[i].divisor - 1), 3);
		EXPECT_EQ(RD(&a, 0x839, 500 + cases[i].divisor), 2);
		EXPECT_TRUE(!apic_poll_timer(&a, 500 + 3 * cases[i].divisor - 1));
		EXPECT_TRUE(apic_poll_timer(&a, 500 + 3 * cases[i].divisor));
	}
}

TEST(apic_periodic_timer_exact)
{
	struct apic a = enabled_apic(1, HZ_3G);

	/* Divide by 4, count 10: 40 bus ticks, 120 cycles a period. */
	WR(&a, 0x83E, 0x1, 0);
	WR(&a, 0x832, PERIODIC | 0xEC, 0);
	WR(&a, 0x838, 10, 0);
	EXPECT_EQ(apic_next_deadline(&a), 120);
	EXPECT_EQ(RD(&a, 0x839, 11), 10);
	EXPECT_EQ(RD(&a, 0x839, 12), 9);
	EXPECT_EQ(RD(&a, 0x839, 119), 1);
	EXPECT_TRUE(apic_poll_timer(&a, 120));
	EXPECT_EQ(apic_next_deadline(&a), 240);
	EXPECT_EQ(RD(&a, 0x839, 120), 10);
	EXPECT_EQ(RD(&a, 0x839, 132), 9);
	apic_ack(&a, 0xEC);
	WR(&a, 0x80B, 0, 133);
	/* Missed expiries (240 ... 960) become one interrupt; the next is on the grid. */
	EXPECT_TRUE(apic_poll_timer(&a, 1000));
	EXPECT_EQ(apic_pending_vector(&a), 0xEC);
	EXPECT_EQ(apic_next_deadline(&a), 1080);
	EXPECT_EQ(RD(&a, 0x839, 1000), 7);
	/* IRR already set: a further expiry changes nothing. */
	EXPECT_TRUE(!apic_poll_timer(&a, 1080));
	EXPECT_EQ(apic_next_deadline(&a), 1200);
	/* A divide change goes on from the current count at the new rate: at 1100, 20 cycles
	 * (6 bus ticks) after the reload at 1080, the count is 10 - floor(6 / 4) = 9; divided
	 * by 1, 9 ticks are 27 cycles, then periods of 30. */
	WR(&a, 0x83E, 0xB, 1100);
	EXPECT_EQ(RD(&a, 0x839, 1100), 9);
	EXPECT_EQ(apic_next_deadline(&a), 1127);
	EXPECT_EQ(RD(&a, 0x839, 1126), 1);
	EXPECT_TRUE(!apic_poll_timer(&a, 1126));
	EXPECT_TRUE(!apic_poll_timer(&a, 1127)); /* IRR still set */
	EXPECT_EQ(apic_next_deadline(&a), 1157);
	EXPECT_EQ(RD(&a, 0x839, 1127), 10);
	/* Periodic to one-shot mid-period: the count runs out and stops. */
	WR(&a, 0x832, 0xEC, 1130);
	EXPECT_EQ(RD(&a, 0x839, 1130), 9);
	EXPECT_EQ(apic_next_deadline(&a), 1157);
	apic_ack(&a, 0xEC);
	EXPECT_TRUE(apic_poll_timer(&a, 1157));
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	EXPECT_EQ(RD(&a, 0x839, 2000), 0);
	/* A deadline beyond 2^64 cycles saturates rather than wrapping into the past. */
	WR(&a, 0x83E, 0xA, UINT64_MAX - 100);
	WR(&a, 0x838, 0xFFFFFFFF, UINT64_MAX - 100);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	EXPECT_EQ(RD(&a, 0x839, UINT64_MAX - 1), 0xFFFFFFFF);
}

TEST(apic_tsc_deadline_timer)
{
	struct apic a = enabled_apic(1, HZ_ODD);

	WR(&a, 0x832, DEADLINE | 0xEC, 0);
	EXPECT_EQ(RD(&a, 0x832, 0), 0x400EC);
	WR(&a, 0x6E0, 5000, 1000);
	EXPECT_EQ(RD(&a, 0x6E0, 1000), 5000);
	EXPECT_EQ(apic_next_deadline(&a), 5000);
	EXPECT_TRUE(!apic_poll_timer(&a, 4999));
	EXPECT_TRUE(apic_poll_timer(&a, 5000));
	EXPECT_EQ(apic_pending_vector(&a), 0xEC);
	EXPECT_EQ(RD(&a, 0x6E0, 5000), 0);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	apic_ack(&a, 0xEC);
	WR(&a, 0x80B, 0, 5001);
	/* A deadline already passed fires at the write. */
	WR(&a, 0x6E0, 900, 6000);
	EXPECT_EQ(apic_pending_vector(&a), 0xEC);
	EXPECT_EQ(RD(&a, 0x6E0, 6000), 0);
	apic_ack(&a, 0xEC);
	WR(&a, 0x80B, 0, 6001);
	/* Writing 0 disarms. */
	WR(&a, 0x6E0, 7000, 6002);
	WR(&a, 0x6E0, 0, 6003);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	EXPECT_TRUE(!apic_poll_timer(&a, 8000));
	EXPECT_EQ(apic_pending_vector(&a), -1);
	/* The count registers do nothing in this mode. */
	WR(&a, 0x838, 100, 8001);
	EXPECT_EQ(RD(&a, 0x838, 8001), 0);
	EXPECT_EQ(RD(&a, 0x839, 8001), 0);
	/* Masked: the deadline passes (the MSR reads 0 after) without an interrupt. */
	WR(&a, 0x832, LVT_MASK | DEADLINE | 0xEC, 8002);
	WR(&a, 0x6E0, 9000, 8003);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	EXPECT_EQ(RD(&a, 0x6E0, 8999), 9000);
	EXPECT_EQ(RD(&a, 0x6E0, 9000), 0);
	EXPECT_EQ(apic_pending_vector(&a), -1);
	/* Leaving TSC-deadline mode disarms it; the MSR then reads 0 and ignores writes. */
	WR(&a, 0x832, DEADLINE | 0xEC, 9001);
	WR(&a, 0x6E0, 20000, 9002);
	WR(&a, 0x832, 0xEC, 9003);
	EXPECT_EQ(RD(&a, 0x6E0, 9003), 0);
	WR(&a, 0x6E0, 30000, 9004);
	EXPECT_EQ(RD(&a, 0x6E0, 9004), 0);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	EXPECT_TRUE(!apic_poll_timer(&a, 40000));
	/* Entering it stops a one-shot count and clears the initial count. */
	WR(&a, 0x838, 1000, 40001);
	EXPECT_TRUE(apic_next_deadline(&a) != UINT64_MAX);
	WR(&a, 0x832, DEADLINE | 0xEC, 40002);
	EXPECT_EQ(RD(&a, 0x838, 40002), 0);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
}

static struct apic_ipi send_ok(struct apic *a, uint64_t icr, int line)
{
	struct apic_ipi out = { 0 };
	bool ipi = false;

	test_expect_true(apic_msr_write(a, 0x830, icr, 0, &out, &ipi), "ICR write", __FILE__, line);
	test_expect_true(ipi, "an IPI", __FILE__, line);
	return out;
}

static bool sends_nothing(struct apic *a, uint64_t icr)
{
	struct apic_ipi out = { 0 };
	bool ipi = true;

	return apic_msr_write(a, 0x830, icr, 0, &out, &ipi) && !ipi;
}

#define SEND(a, icr) send_ok((a), (icr), __LINE__)

TEST(apic_icr_encodings)
{
	struct apic a = enabled_apic(3, HZ_3G);
	struct apic_ipi p;

	p = SEND(&a, (5ULL << 32) | 0xFD);
	EXPECT_EQ(p.mode, APIC_IPI_FIXED);
	EXPECT_EQ(p.dest_kind, APIC_IPI_PHYSICAL);
	EXPECT_EQ(p.dest, 5);
	EXPECT_EQ(p.source, 3);
	EXPECT_EQ(p.vector, 0xFD);
	EXPECT_EQ(RD(&a, 0x830, 0), (5ULL << 32) | 0xFD);
	p = SEND(&a, 0xC0000 | 0xFC);
	EXPECT_EQ(p.dest_kind, APIC_IPI_ALL_BUT_SELF);
	EXPECT_EQ(p.dest, 0);
	EXPECT_EQ(p.vector, 0xFC);
	p = SEND(&a, 0x40000 | 0xF6);
	EXPECT_EQ(p.dest_kind, APIC_IPI_SELF);
	EXPECT_EQ(p.vector, 0xF6);
	p = SEND(&a, 0x80000 | 0xFB);
	EXPECT_EQ(p.dest_kind, APIC_IPI_ALL);
	p = SEND(&a, (0x00020005ULL << 32) | 0x800 | 0xFB);
	EXPECT_EQ(p.dest_kind, APIC_IPI_LOGICAL);
	EXPECT_EQ(p.dest, 0x00020005);
	EXPECT_EQ(p.vector, 0xFB);
	p = SEND(&a, (7ULL << 32) | 0x400);
	EXPECT_EQ(p.mode, APIC_IPI_NMI);
	EXPECT_EQ(p.dest, 7);
	EXPECT_EQ(p.vector, 0);
	p = SEND(&a, 0xC0000 | 0x400);
	EXPECT_EQ(p.mode, APIC_IPI_NMI);
	EXPECT_EQ(p.dest_kind, APIC_IPI_ALL_BUT_SELF);
	p = SEND(&a, (8ULL << 32) | 0xC500); /* INIT, level, assert */
	EXPECT_EQ(p.mode, APIC_IPI_INIT);
	EXPECT_EQ(p.dest, 8);
	p = SEND(&a, (8ULL << 32) | 0x69A);
	EXPECT_EQ(p.mode, APIC_IPI_SIPI);
	EXPECT_EQ(p.vector, 0x9A);
	/* Bit 12 (delivery status in xAPIC mode) is ignored. */
	p = SEND(&a, (1ULL << 32) | 0x10F1);
	EXPECT_EQ(p.vector, 0xF1);
	EXPECT_EQ(RD(&a, 0x830, 0), (1ULL << 32) | 0xF1);
	/* Accepted, nothing sent: INIT de-assert, SMI, reserved modes, shorthands the SDM
	 * calls invalid with anything but fixed. */
	EXPECT_TRUE(sends_nothing(&a, (8ULL << 32) | 0x8500));
	EXPECT_TRUE(sends_nothing(&a, (8ULL << 32) | 0x200));
	EXPECT_TRUE(sends_nothing(&a, (8ULL << 32) | 0x3FD));
	EXPECT_TRUE(sends_nothing(&a, (8ULL << 32) | 0x7FD));
	EXPECT_TRUE(sends_nothing(&a, 0x40000 | 0x400));
	EXPECT_TRUE(sends_nothing(&a, 0x80000 | 0x600));
	WR(&a, 0x828, 0, 0);
	EXPECT_EQ(RD(&a, 0x828, 0), 0);
	EXPECT_EQ(RD(&a, 0x830, 0), 0x80600);
	/* Reserved bits: 13, 16, 17, 20-31. */
	EXPECT_TRUE(gp_write(&a, 0x830, 0x20FD));
	EXPECT_TRUE(gp_write(&a, 0x830, 0x100FD));
	EXPECT_TRUE(gp_write(&a, 0x830, 0x200FD));
	EXPECT_TRUE(gp_write(&a, 0x830, 0x100000FD));
	EXPECT_EQ(RD(&a, 0x830, 0), 0x80600);
}

TEST(apic_ipi_destinations)
{
	struct apic sender = enabled_apic(3, HZ_3G);
	struct apic other = enabled_apic(5, HZ_3G);
	struct apic c20 = enabled_apic(0x20, HZ_3G);
	struct apic c21 = enabled_apic(0x21, HZ_3G);
	struct apic c22 = enabled_apic(0x22, HZ_3G);
	struct apic_ipi p;

	p = SEND(&sender, (5ULL << 32) | 0xFD);
	EXPECT_TRUE(apic_ipi_targets(&other, &p));
	EXPECT_TRUE(!apic_ipi_targets(&sender, &p));
	EXPECT_TRUE(!apic_ipi_targets(&c20, &p));
	/* Cluster 2, members 0 and 2: x2APIC IDs 0x20 and 0x22. */
	p = SEND(&sender, (0x00020005ULL << 32) | 0x800 | 0xFB);
	EXPECT_TRUE(apic_ipi_targets(&c20, &p));
	EXPECT_TRUE(!apic_ipi_targets(&c21, &p));
	EXPECT_TRUE(apic_ipi_targets(&c22, &p));
	EXPECT_TRUE(!apic_ipi_targets(&other, &p)); /* cluster 0, member 5 */
	p = SEND(&sender, (0x00000020ULL << 32) | 0x800 | 0xFB);
	EXPECT_TRUE(apic_ipi_targets(&other, &p));
	EXPECT_TRUE(!apic_ipi_targets(&c21, &p)); /* member 1 of cluster 2, not 0 */
	p = SEND(&sender, 0xC0000 | 0xFC);
	EXPECT_TRUE(!apic_ipi_targets(&sender, &p));
	EXPECT_TRUE(apic_ipi_targets(&other, &p));
	EXPECT_TRUE(apic_ipi_targets(&c21, &p));
	p = SEND(&sender, 0x40000 | 0xF6);
	EXPECT_TRUE(apic_ipi_targets(&sender, &p));
	EXPECT_TRUE(!apic_ipi_targets(&other, &p));
	p = SEND(&sender, 0x80000 | 0xFB);
	EXPECT_TRUE(apic_ipi_targets(&sender, &p));
	EXPECT_TRUE(apic_ipi_targets(&c22, &p));
	/* 0xFFFFFFFF broadcasts in both destination modes. */
	p = SEND(&sender, (0xFFFFFFFFULL << 32) | 0xFD);
	EXPECT_TRUE(apic_ipi_targets(&c21, &p) && apic_ipi_targets(&sender, &p));
	p = SEND(&sender, (0xFFFFFFFFULL << 32) | 0x800 | 0xFD);
	EXPECT_TRUE(apic_ipi_targets(&c21, &p) && apic_ipi_targets(&other, &p));
	/* Delivering one: the target's IRR. */
	p = SEND(&sender, (5ULL << 32) | 0xFD);
	apic_accept(&other, p.vector, false);
	EXPECT_EQ(apic_pending_vector(&other), 0xFD);
	/* The SELF IPI register delivers here at once, and is write-only. */
	WR(&sender, 0x83F, 0xF6, 0);
	EXPECT_EQ(apic_pending_vector(&sender), 0xF6);
	EXPECT_TRUE(gp_read(&sender, 0x83F));
	EXPECT_TRUE(gp_write(&sender, 0x83F, 0x1F6));
}

TEST(apic_gp_cases)
{
	struct apic a = enabled_apic(4, HZ_3G);
	static const uint32_t reserved[] = { 0x800, 0x801, 0x804, 0x807, 0x809, 0x80C, 0x80E,
					     0x829, 0x82E, 0x831, 0x83A, 0x83D, 0x840, 0x8FF };
	static const uint32_t read_only[] = { 0x802, 0x803, 0x80A, 0x80D, 0x810, 0x817,
					      0x818, 0x81F, 0x820, 0x827, 0x839 };

	WR(&a, 0x808, 0x20, 0);
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		EXPECT_TRUE(gp_read(&a, reserved[i]));
		EXPECT_TRUE(gp_write(&a, reserved[i], 0));
	}
	for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
		EXPECT_TRUE(gp_write(&a, read_only[i], 0));
	}
	EXPECT_TRUE(gp_read(&a, 0x80B)); /* EOI is write-only */
	/* Not the APIC's MSRs at all. */
	EXPECT_TRUE(gp_read(&a, 0x900));
	EXPECT_TRUE(gp_write(&a, 0x7FF, 0));
	/* The upper 32 bits of everything but the ICR are reserved. */
	EXPECT_TRUE(gp_write(&a, 0x808, 1ULL << 32));
	EXPECT_TRUE(gp_write(&a, 0x80B, 1ULL << 32));
	EXPECT_TRUE(gp_write(&a, 0x838, 1ULL << 40));
	/* SVR: EOI-broadcast suppression (bit 12) is not offered; 10, 11, 13-31 reserved. */
	EXPECT_TRUE(gp_write(&a, 0x80F, 0x11FF));
	EXPECT_TRUE(gp_write(&a, 0x80F, 0x5FF));
	EXPECT_TRUE(gp_write(&a, 0x80F, 0x800001FF));
	WR(&a, 0x80F, 0x3FF, 0); /* focus-checking disable is writable */
	EXPECT_EQ(RD(&a, 0x80F, 0), 0x3FF);
	/* LVT reserved bits and the reserved timer mode. */
	EXPECT_TRUE(gp_write(&a, 0x832, 0x600EC));
	EXPECT_TRUE(gp_write(&a, 0x832, 0x4EC)); /* the timer has no delivery mode */
	EXPECT_TRUE(gp_write(&a, 0x835, 0x800)); /* LINT0 bit 11 */
	EXPECT_TRUE(gp_write(&a, 0x837, 0x4FE)); /* error: no delivery mode */
	EXPECT_TRUE(gp_write(&a, 0x833, 0x20000));
	EXPECT_TRUE(gp_write(&a, 0x82F, 0x8000)); /* CMCI has no trigger mode */
	for (uint32_t m = 0x832; m <= 0x837; m++) {
		EXPECT_EQ(RD(&a, m, 0), LVT_MASK);
	}
	/* Read-only bits inside an LVT (delivery status, remote IRR) are ignored. */
	WR(&a, 0x835, 0x1000 | 0x4000 | 0x8000 | 0x2000 | 0x700, 0);
	EXPECT_EQ(RD(&a, 0x835, 0), 0xA700);
	WR(&a, 0x834, 0x1400, 0); /* perf: NMI, as Linux sets it */
	EXPECT_EQ(RD(&a, 0x834, 0), 0x400);
	/* Divide configuration: bit 2 and bits 4-31. */
	EXPECT_TRUE(gp_write(&a, 0x83E, 0x4));
	EXPECT_TRUE(gp_write(&a, 0x83E, 0x13));
	EXPECT_EQ(RD(&a, 0x83E, 0), 0);
	/* APIC_BASE: only its current value; leaving x2APIC mode, disabling or moving it
	 * is refused. */
	WR(&a, 0x1B, 0xFEE00C00, 0);
	EXPECT_TRUE(gp_write(&a, 0x1B, 0xFEE00800)); /* x2APIC to xAPIC */
	EXPECT_TRUE(gp_write(&a, 0x1B, 0xFEE00400)); /* EXTD without EN */
	EXPECT_TRUE(gp_write(&a, 0x1B, 0xFEE00000)); /* disabled */
	EXPECT_TRUE(gp_write(&a, 0x1B, 0xFED00C00)); /* moved */
	EXPECT_TRUE(gp_write(&a, 0x1B, 0xFEE00D00)); /* the BSP flag */
	EXPECT_TRUE(gp_write(&a, 0x1B, 0xFEE00C01)); /* reserved bit 0 */
	EXPECT_EQ(RD(&a, 0x1B, 0), 0xFEE00C00);
	/* Nothing the refused writes touched changed. */
	EXPECT_EQ(RD(&a, 0x808, 0), 0x20);
	EXPECT_EQ(RD(&a, 0x838, 0), 0);
	EXPECT_EQ(RD(&a, 0x828, 0), 0);
	WR(&a, 0x828, 0, 0);
	EXPECT_EQ(RD(&a, 0x828, 0), 0);
}

TEST(apic_software_disable_masks_lvts)
{
	struct apic a = enabled_apic(1, HZ_3G);

	WR(&a, 0x832, 0xEC, 0);
	WR(&a, 0x835, 0x700, 0);
	WR(&a, 0x837, 0xFE, 0);
	WR(&a, 0x838, 1000, 0);
	EXPECT_TRUE(apic_next_deadline(&a) != UINT64_MAX);
	WR(&a, 0x80F, 0xFF, 10);
	EXPECT_EQ(RD(&a, 0x832, 10), 0x100EC);
	EXPECT_EQ(RD(&a, 0x835, 10), 0x10700);
	EXPECT_EQ(RD(&a, 0x837, 10), 0x100FE);
	EXPECT_EQ(apic_next_deadline(&a), UINT64_MAX);
	/* The mask cannot be cleared while disabled. */
	WR(&a, 0x832, 0xEC, 20);
	EXPECT_EQ(RD(&a, 0x832, 20), 0x100EC);
	EXPECT_TRUE(!apic_poll_timer(&a, 100000));
	EXPECT_EQ(apic_pending_vector(&a), -1);
	/* Re-enabling leaves them masked until written. */
	WR(&a, 0x80F, 0x1FF, 100001);
	EXPECT_EQ(RD(&a, 0x832, 100001), 0x100EC);
	WR(&a, 0x832, 0xEC, 100002);
	EXPECT_EQ(RD(&a, 0x832, 100002), 0xEC);
}

/* An interrupt offered to a running guest: the same vector sent again before the run ends
 * is a second interrupt, pending after the first was taken (an IPI that a guest's handler
 * has already made room for must not vanish); one not taken goes back, merged. */
TEST(apic_offer_keeps_a_second_arrival)
{
	struct apic a = enabled_apic(1, HZ_3G);

	apic_accept(&a, 0xFB, false);
	EXPECT_EQ(apic_pending_vector(&a), 0xFB);
	apic_offer(&a, 0xFB);
	EXPECT_EQ(RD(&a, 0x827, 0), 0); /* IRR word 7: offered, not pending */
	apic_accept(&a, 0xFB, false);	/* sent again while the guest runs */
	apic_offer_end(&a, 0xFB, true);
	EXPECT_EQ(RD(&a, 0x817, 0), 1U << 27);	/* ISR: the first, in service */
	EXPECT_EQ(RD(&a, 0x827, 0), 1U << 27);	/* IRR: the second, pending */
	EXPECT_EQ(apic_pending_vector(&a), -1); /* behind the first until its EOI */
	WR(&a, 0x80B, 0, 0);			/* EOI */
	EXPECT_EQ(apic_pending_vector(&a), 0xFB);
	/* Not taken: back in IRR, one interrupt whether or not it came again meanwhile. */
	apic_offer(&a, 0xFB);
	apic_accept(&a, 0xFB, false);
	apic_offer_end(&a, 0xFB, false);
	EXPECT_EQ(RD(&a, 0x827, 0), 1U << 27);
	EXPECT_EQ(RD(&a, 0x817, 0), 0);
	apic_offer(&a, 0xFB);
	apic_offer_end(&a, 0xFB, false);
	EXPECT_EQ(RD(&a, 0x827, 0), 1U << 27);
	/* Offering a vector not in IRR, or ending an offer never made, changes nothing. */
	apic_offer(&a, 0x40);
	apic_offer_end(&a, 0x41, true);
	EXPECT_EQ(RD(&a, 0x812, 0) | RD(&a, 0x817, 0), 0);
	EXPECT_EQ(RD(&a, 0x827, 0), 1U << 27);
}
