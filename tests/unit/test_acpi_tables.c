/* The guest's ACPI tables (model/host/acpi_tables.c), parsed back by hand the way Linux
 * finds them: RSDP, then the XSDT's entries, then the FADT's X_ pointers. Offsets and
 * values are the ACPI 6.3 specification's, written out here rather than taken from the
 * model. */
#include <string.h>

#include <donjon/bytes.h>

#include "acpi_tables.h"
#include "harness.h"

#define GPA 0x000E0000ULL

static uint8_t buf[4096];
static const uint32_t one_id[1] = { 0 };

static struct acpi_config base_cfg(void)
{
	return (struct acpi_config){
		.oem_id = "DONJON",
		.vcpu_count = 1,
		.apic_ids = one_id,
		.pm1a_evt_port = 0x600,
		.pm1a_cnt_port = 0x604,
		.pm_tmr_port = 0x608,
		.sci_int = 9,
		.cmos_rtc = true,
	};
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++) {
		s = (uint8_t)(s + p[i]);
	}
	return s;
}

/* n characters of s at dst, without its NUL. */
static void put_chars(uint8_t *dst, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dst[i] = (uint8_t)s[i];
	}
}

/* The table at gpa in buf (built at base, total bytes), if it is inside and carries sig;
 * else NULL. */
static const uint8_t *table_at(uint64_t base, size_t total, uint64_t gpa, const char *sig)
{
	if (gpa < base || gpa - base + 36U > total) {
		return NULL;
	}
	const uint8_t *t = buf + (gpa - base);

	return memcmp(t, sig, 4) == 0 && gpa - base + load32(t, 4) <= total ? t : NULL;
}

/* The standard header's fields after the signature, as every table here has them. */
static void expect_header(const uint8_t *t, uint32_t len, uint8_t revision)
{
	EXPECT_EQ(load32(t, 4), len);
	EXPECT_EQ(t[8], revision);
	EXPECT_MEM(t + 10, "DONJON", 6);
	EXPECT_MEM(t + 16, "DONJONVM", 8);
	EXPECT_EQ(load32(t, 24), 1);
	EXPECT_MEM(t + 28, "DJON", 4);
	EXPECT_EQ(load32(t, 32), 1);
	EXPECT_EQ(sum8(t, len), 0);
}

TEST(acpi_one_vcpu_tables_and_pointers)
{
	struct acpi_config cfg = base_cfg();
	struct acpi_layout l;

	memset(buf, 0xA5, sizeof(buf));
	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), GPA, &cfg, &l));
	EXPECT_EQ(l.rsdp.gpa, GPA);
	EXPECT_EQ(l.rsdp.length, 36);
	EXPECT_EQ(l.facs.gpa, GPA + 64);
	EXPECT_EQ(l.facs.length, 64);
	EXPECT_EQ(l.xsdt.gpa, GPA + 128);
	EXPECT_EQ(l.xsdt.length, 52);
	EXPECT_EQ(l.fadt.gpa, GPA + 184);
	EXPECT_EQ(l.fadt.length, 276);
	EXPECT_EQ(l.madt.gpa, GPA + 464);
	EXPECT_EQ(l.madt.length, 52);
	EXPECT_EQ(l.dsdt.gpa, GPA + 520);
	EXPECT_EQ(l.dsdt.length, 50);
	EXPECT_EQ(l.total, 570);
	/* Nothing past the end was written; the padding between tables is zero. */
	EXPECT_EQ(buf[570], 0xA5);
	EXPECT_EQ(buf[36], 0x00);
	EXPECT_EQ(buf[519], 0x00);

	/* RSDP: both checksums, revision 2, no RSDT, the XSDT. */
	const uint8_t *rsdp = buf;

	EXPECT_MEM(rsdp, "RSD PTR ", 8);
	EXPECT_EQ(sum8(rsdp, 20), 0);
	EXPECT_EQ(sum8(rsdp, 36), 0);
	EXPECT_MEM(rsdp + 9, "DONJON", 6);
	EXPECT_EQ(rsdp[15], 2);
	EXPECT_EQ(load32(rsdp, 16), 0);
	EXPECT_EQ(load32(rsdp, 20), 36);
	EXPECT_EQ(load64(rsdp, 24), GPA + 128);
	EXPECT_EQ(rsdp[33] | rsdp[34] | rsdp[35], 0);

	/* XSDT: the FADT, then the MADT. */
	const uint8_t *xsdt = table_at(GPA, l.total, load64(rsdp, 24), "XSDT");

	EXPECT_TRUE(xsdt != NULL);
	if (xsdt == NULL) {
		return;
	}
	expect_header(xsdt, 52, 1);
	const uint8_t *fadt = table_at(GPA, l.total, load64(xsdt, 36), "FACP");
	const uint8_t *madt = table_at(GPA, l.total, load64(xsdt, 44), "APIC");

	EXPECT_TRUE(fadt != NULL && madt != NULL);
	if (fadt == NULL || madt == NULL) {
		return;
	}
	expect_header(fadt, 276, 6);
	EXPECT_EQ(fadt[131], 3);
	expect_header(madt, 52, 5);

	/* The FADT's 64-bit pointers to the FACS and the DSDT; the 32-bit ones are 0. */
	EXPECT_EQ(load32(fadt, 36), 0);
	EXPECT_EQ(load32(fadt, 40), 0);
	EXPECT_EQ(load64(fadt, 132), GPA + 64);
	const uint8_t *facs = table_at(GPA, l.total, load64(fadt, 132), "FACS");
	const uint8_t *dsdt = table_at(GPA, l.total, load64(fadt, 140), "DSDT");

	EXPECT_TRUE(facs != NULL && dsdt != NULL);
	if (facs == NULL || dsdt == NULL) {
		return;
	}
	/* FACS: 64 bytes, 64-byte aligned, version 2, everything else 0 (no checksum). */
	static const uint8_t facs_want[64] = { 'F', 'A', 'C', 'S', 64, [32] = 2 };

	EXPECT_MEM(facs, facs_want, sizeof(facs_want));
	EXPECT_EQ(load64(fadt, 132) % 64, 0);

	/* DSDT: Name (_S5, Package () { 5, 5, 0, 0 }). */
	static const uint8_t aml[14] = { 0x08, '_',  'S',  '5',	 '_',  0x12, 0x08,
					 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };

	expect_header(dsdt, 50, 2);
	EXPECT_MEM(dsdt + 36, aml, sizeof(aml));
	EXPECT_EQ(ACPI_S5_SLP_TYP, 5);
}

/* The FADT byte for byte: what Linux's ACPICA (tbfadt.c) and arch/x86/kernel/acpi/boot.c
 * read, and zero elsewhere. */
TEST(acpi_fadt_fields_exact)
{
	struct acpi_config cfg = base_cfg();
	struct acpi_layout l;
	uint8_t want[276] = { 0 };

	cfg.pm1a_evt_port = 0xB000;
	cfg.pm1a_cnt_port = 0xB004;
	cfg.pm_tmr_port = 0xB008;
	cfg.sci_int = 9;
	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), GPA, &cfg, &l));
	const uint8_t *fadt = buf + (l.fadt.gpa - GPA);

	put_chars(want, "FACP", 4);
	store32(want, 4, 276);
	want[8] = 6;
	put_chars(want + 10, "DONJON", 6);
	put_chars(want + 16, "DONJONVM", 8);
	store32(want, 24, 1);
	put_chars(want + 28, "DJON", 4);
	store32(want, 32, 1);
	store16(want, 46, 9);		/* SCI_INT */
	store32(want, 48, 0);		/* SMI_CMD: none, always in ACPI mode */
	store32(want, 56, 0xB000);	/* PM1a_EVT_BLK */
	store32(want, 64, 0xB004);	/* PM1a_CNT_BLK */
	store32(want, 76, 0xB008);	/* PM_TMR_BLK */
	want[88] = 4;			/* PM1_EVT_LEN */
	want[89] = 2;			/* PM1_CNT_LEN */
	want[91] = 4;			/* PM_TMR_LEN */
	store16(want, 96, 0x0FFF);	/* P_LVL2_LAT: no C2 */
	store16(want, 98, 0x0FFF);	/* P_LVL3_LAT: no C3 */
	store16(want, 109, 0x0005);	/* IAPC_BOOT_ARCH: LEGACY_DEVICES, VGA not present */
	store32(want, 112, 0x00080075); /* WBINVD, C1, no fixed buttons, FIX_RTC, APIC phys */
	want[131] = 3;			/* minor version */
	store64(want, 132, GPA + 64);	/* X_FIRMWARE_CTRL */
	store64(want, 140, l.dsdt.gpa); /* X_DSDT */
	static const uint8_t evt_gas[12] = { 1, 32, 0, 2, 0x00, 0xB0 };
	static const uint8_t cnt_gas[12] = { 1, 16, 0, 2, 0x04, 0xB0 };
	static const uint8_t tmr_gas[12] = { 1, 32, 0, 3, 0x08, 0xB0 };

	memcpy(want + 148, evt_gas, 12); /* X_PM1a_EVT_BLK */
	memcpy(want + 172, cnt_gas, 12); /* X_PM1a_CNT_BLK */
	memcpy(want + 208, tmr_gas, 12); /* X_PM_TMR_BLK */

	EXPECT_MEM(fadt, want, 9);
	EXPECT_MEM(fadt + 10, want + 10, sizeof(want) - 10);
	EXPECT_EQ(sum8(fadt, 276), 0);
	/* TMR_VAL_EXT (bit 8: a 32-bit timer) and HW_REDUCED_ACPI (bit 20) are clear. */
	EXPECT_EQ(load32(fadt, 112) & ((1U << 8) | (1U << 20)), 0);

	/* Without an RTC: CMOS RTC not present (bit 5) as well. */
	cfg.cmos_rtc = false;
	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), GPA, &cfg, &l));
	fadt = buf + (l.fadt.gpa - GPA);
	EXPECT_EQ(load16(fadt, 109), 0x0025);
	EXPECT_EQ(sum8(fadt, 276), 0);
}

TEST(acpi_madt_one_vcpu_exact)
{
	struct acpi_config cfg = base_cfg();
	struct acpi_layout l;
	static const uint8_t entries[8] = { 0, 8, 0, 0, 1, 0, 0, 0 };

	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), GPA, &cfg, &l));
	const uint8_t *madt = buf + (l.madt.gpa - GPA);

	EXPECT_EQ(l.madt.length, 44 + 8);
	EXPECT_EQ(load32(madt, 36), 0xFEE00000U);
	EXPECT_EQ(load32(madt, 40), 0); /* PCAT_COMPAT clear */
	EXPECT_MEM(madt + 44, entries, sizeof(entries));
	EXPECT_EQ(sum8(madt, l.madt.length), 0);
}

/* Eight vCPUs with an IOAPIC and the PC's usual overrides: IRQ 0 on GSI 2, the SCI
 * level-triggered. */
TEST(acpi_madt_eight_vcpus_ioapic_and_overrides_exact)
{
	static const uint32_t ids[8] = { 0, 2, 4, 6, 8, 10, 12, 14 };
	static const struct acpi_iso isos[2] = {
		{ .source = 0, .gsi = 2, .flags = 0 },
		{ .source = 9, .gsi = 9, .flags = ACPI_INTI_ACTIVE_HIGH | ACPI_INTI_LEVEL },
	};
	static const uint8_t want[8 * 8 + 12 + 2 * 10] = {
		0, 8,  0, 0,  1,    0,	  0,	0, /* UID 0, APIC ID 0, enabled */
		0, 8,  1, 2,  1,    0,	  0,	0, /* */
		0, 8,  2, 4,  1,    0,	  0,	0, /* */
		0, 8,  3, 6,  1,    0,	  0,	0, /* */
		0, 8,  4, 8,  1,    0,	  0,	0, /* */
		0, 8,  5, 10, 1,    0,	  0,	0, /* */
		0, 8,  6, 12, 1,    0,	  0,	0, /* */
		0, 8,  7, 14, 1,    0,	  0,	0, /* */
		1, 12, 8, 0,  0x00, 0x00, 0xC0, 0xFE, 0,    0,
		0, 0, /* IOAPIC 8 at 0xFEC00000, GSI 0 */
		2, 10, 0, 0,  2,    0,	  0,	0,    0x00, 0x00, /* IRQ 0 -> GSI 2, conforming */
		2, 10, 0, 9,  9,    0,	  0,	0,    0x0D, 0x00, /* IRQ 9 -> GSI 9, level, high */
	};
	struct acpi_config cfg = base_cfg();
	struct acpi_layout l;

	cfg.vcpu_count = 8;
	cfg.apic_ids = ids;
	cfg.has_ioapic = true;
	cfg.ioapic_id = 8;
	cfg.ioapic_address = 0xFEC00000U;
	cfg.ioapic_gsi_base = 0;
	cfg.iso_count = 2;
	cfg.isos = isos;
	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), GPA, &cfg, &l));
	const uint8_t *madt = buf + (l.madt.gpa - GPA);

	EXPECT_EQ(l.madt.length, 44 + sizeof(want));
	EXPECT_EQ(load32(madt, 4), 44 + sizeof(want));
	EXPECT_EQ(load32(madt, 36), 0xFEE00000U);
	EXPECT_EQ(load32(madt, 40), 0);
	EXPECT_MEM(madt + 44, want, sizeof(want));
	EXPECT_EQ(sum8(madt, l.madt.length), 0);
	/* The DSDT follows, 8-byte aligned, and the FADT still points at it. */
	EXPECT_EQ(l.dsdt.gpa, GPA + 464 + 144);
	EXPECT_EQ(load64(buf + (l.fadt.gpa - GPA), 140), l.dsdt.gpa);
	EXPECT_EQ(l.total, 464 + 144 + 50);
}

/* APIC IDs below 0xFF get Local APIC entries, the others Local x2APIC entries; the
 * processor UID is the vCPU's index either way. */
TEST(acpi_madt_x2apic_entries_from_id_255)
{
	static const uint32_t ids[4] = { 0, 254, 255, 0x12345 };
	static const uint8_t want[8 + 8 + 16 + 16] = {
		0, 8,  0, 0,   1,    0,	   0,	 0,			    /* */
		0, 8,  1, 254, 1,    0,	   0,	 0,			    /* */
		9, 16, 0, 0,   0xFF, 0,	   0,	 0, 1, 0, 0, 0, 2, 0, 0, 0, /* */
		9, 16, 0, 0,   0x45, 0x23, 0x01, 0, 1, 0, 0, 0, 3, 0, 0, 0, /* */
	};
	struct acpi_config cfg = base_cfg();
	struct acpi_layout l;

	cfg.vcpu_count = 4;
	cfg.apic_ids = ids;
	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), GPA, &cfg, &l));
	const uint8_t *madt = buf + (l.madt.gpa - GPA);

	EXPECT_EQ(l.madt.length, 44 + sizeof(want));
	EXPECT_MEM(madt + 44, want, sizeof(want));
	EXPECT_EQ(sum8(madt, l.madt.length), 0);
}

/* Above 4 GiB every pointer is a 64-bit one; the tables move with gpa and nothing else
 * changes. */
TEST(acpi_tables_above_4g_and_oem_id_padding)
{
	static uint8_t low[sizeof(buf)];
	struct acpi_config cfg = base_cfg();
	struct acpi_layout l;
	const uint64_t high = 0x100000000ULL + 0x1000;

	cfg.oem_id = "DJ";
	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), GPA, &cfg, &l));
	memcpy(low, buf, sizeof(low));
	EXPECT_MEM(buf + 9, "DJ    ", 6);
	EXPECT_MEM(buf + (l.madt.gpa - GPA) + 10, "DJ    ", 6);
	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), high, &cfg, &l));
	EXPECT_EQ(l.rsdp.gpa, high);
	EXPECT_EQ(load64(buf, 24), high + 128);
	EXPECT_EQ(load64(buf + 128, 36), high + 184);
	EXPECT_EQ(load64(buf + 128, 44), high + 464);
	EXPECT_EQ(load64(buf + 184, 132), high + 64);
	EXPECT_EQ(load64(buf + 184, 140), high + 520);
	EXPECT_EQ(sum8(buf, 36), 0);
	EXPECT_EQ(sum8(buf + 128, 52), 0);
	EXPECT_EQ(sum8(buf + 184, 276), 0);
	/* The MADT and DSDT hold no address: the same bytes as at GPA. */
	EXPECT_MEM(buf + 464, low + 464, 52);
	EXPECT_MEM(buf + 520, low + 520, 50);
}

static bool refused_untouched(size_t cap, uint64_t gpa, const struct acpi_config *cfg)
{
	struct acpi_layout l;
	static uint8_t pattern[sizeof(buf)];

	memset(buf, 0x5A, sizeof(buf));
	memset(pattern, 0x5A, sizeof(pattern));
	memset(&l, 0xEE, sizeof(l));
	bool ok = acpi_tables_build(buf, cap, gpa, cfg, &l);

	return !ok && memcmp(buf, pattern, sizeof(buf)) == 0 && l.total == 0 && l.rsdp.gpa == 0 &&
	       l.rsdp.length == 0 && l.madt.gpa == 0 && l.dsdt.length == 0;
}

TEST(acpi_refuses_a_buffer_too_small)
{
	struct acpi_config cfg = base_cfg();
	struct acpi_layout l;

	EXPECT_TRUE(refused_untouched(569, GPA, &cfg));
	EXPECT_TRUE(refused_untouched(36, GPA, &cfg));
	EXPECT_TRUE(refused_untouched(0, GPA, &cfg));
	EXPECT_TRUE(acpi_tables_build(buf, 570, GPA, &cfg, &l));
	EXPECT_EQ(l.total, 570);
}

TEST(acpi_refuses_bad_configurations)
{
	static const uint32_t dup[2] = { 3, 3 };
	static const uint32_t invalid[2] = { 0, 0xFFFFFFFFU };
	static uint32_t many[256];
	static const struct acpi_iso bad_source = { .source = 16, .gsi = 16 };
	static const struct acpi_iso bad_flags[3] = {
		{ .source = 1, .gsi = 1, .flags = 0x10 },
		{ .source = 1, .gsi = 1, .flags = 0x2 },
		{ .source = 1, .gsi = 1, .flags = 0x8 },
	};
	static const struct acpi_iso twice[2] = { { .source = 4, .gsi = 4 },
						  { .source = 4, .gsi = 5 } };
	static struct acpi_iso seventeen[17];
	struct acpi_config good = base_cfg();
	struct acpi_config c;

	for (unsigned i = 0; i < 256; i++) {
		many[i] = i;
	}
	for (unsigned i = 0; i < 17; i++) {
		seventeen[i] = (struct acpi_iso){ .source = (uint8_t)(i % 16), .gsi = i };
	}
	good.has_ioapic = true;
	good.ioapic_address = 0xFEC00000U;

	c = good;
	c.vcpu_count = 0;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c = good;
	c.vcpu_count = 256;
	c.apic_ids = many;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c = good;
	c.apic_ids = NULL;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c = good;
	c.vcpu_count = 2;
	c.apic_ids = dup;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c.apic_ids = invalid;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));

	c = good;
	c.pm1a_evt_port = 0;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c = good;
	c.pm_tmr_port = 0;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c = good;
	c.pm1a_cnt_port = 0x603; /* overlaps PM1 enable */
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c = good;
	c.pm_tmr_port = 0x602;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c = good;
	c.pm_tmr_port = 0xFFFD; /* 4 ports from 0xFFFD pass 0xFFFF */
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));

	c = good;
	c.iso_count = 1;
	c.isos = &bad_source;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	for (unsigned i = 0; i < 3; i++) {
		c.isos = &bad_flags[i];
		EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	}
	c.iso_count = 2;
	c.isos = twice;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c.iso_count = 17;
	c.isos = seventeen;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c.iso_count = 1;
	c.isos = NULL;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	/* An override without an IOAPIC. */
	c = good;
	c.has_ioapic = false;
	c.iso_count = 1;
	c.isos = twice;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));

	c = good;
	c.oem_id = "DONJONX";
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c.oem_id = "";
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));
	c.oem_id = NULL;
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA, &c));

	/* gpa not 64-byte aligned, or the tables wrapping past 2^64. */
	EXPECT_TRUE(refused_untouched(sizeof(buf), GPA + 16, &good));
	EXPECT_TRUE(refused_untouched(sizeof(buf), 0xFFFFFFFFFFFFFFC0ULL, &good));

	/* The same configurations made valid are accepted: the refusals above were for the
	 * reason each one names. */
	struct acpi_layout l;

	c = good;
	c.vcpu_count = 255;
	c.apic_ids = many;
	c.iso_count = 16;
	c.isos = seventeen;
	c.pm_tmr_port = 0xFFFC;
	EXPECT_TRUE(acpi_tables_build(buf, sizeof(buf), 0xFFFFFFFFFFFFE000ULL, &c, &l));
	EXPECT_EQ(l.madt.length, 44 + 255 * 8 + 12 + 16 * 10);
}
