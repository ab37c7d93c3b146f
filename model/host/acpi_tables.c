/* The guest's ACPI tables, laid out in one buffer:
 *
 *   +0    RSDP (36 bytes; revision 2, no RSDT)
 *   +64   FACS (64 bytes, 64-byte aligned)
 *   +128  XSDT (FADT, MADT)
 *   then  FADT, MADT and DSDT, each 8-byte aligned.
 *
 * Field offsets are the ACPI 6.3 specification's (section 5.2). Where Linux reads a field,
 * the comment says how. */
#include "acpi_tables.h"

#include <donjon/bytes.h>
#include <donjon/types.h>

#define RSDP_LEN 36U
#define HEADER_LEN 36U
#define FACS_LEN 64U
#define XSDT_LEN (HEADER_LEN + 2U * 8U)
#define FADT_LEN 276U
#define MADT_FIXED_LEN 44U
#define MADT_LAPIC_LEN 8U
#define MADT_X2APIC_LEN 16U
#define MADT_IOAPIC_LEN 12U
#define MADT_ISO_LEN 10U

#define FACS_OFF 64U
#define XSDT_OFF 128U
#define TABLE_ALIGN 8U
#define FACS_ALIGN 64U

#define OEM_TABLE_ID "DONJONVM"
#define CREATOR_ID "DJON"

/* FADT Flags (offset 112). PWR_BUTTON and SLP_BUTTON set say neither button is a fixed
 * feature; with no control-method button in the DSDT either, there is no button at all. */
#define FADT_WBINVD (1U << 0)  /* required of every new system */
#define FADT_PROC_C1 (1U << 2) /* HLT works on every vCPU */
#define FADT_PWR_BUTTON (1U << 4)
#define FADT_SLP_BUTTON (1U << 5)
#define FADT_FIX_RTC (1U << 6)	      /* no RTC status bits in PM1 */
#define FADT_APIC_PHYSICAL (1U << 19) /* physical destination mode only */

/* FADT IAPC_BOOT_ARCH (offset 109). */
#define BOOT_LEGACY_DEVICES (1U << 0) /* the COM port: an ISA device the DSDT omits */
#define BOOT_NO_VGA (1U << 2)
#define BOOT_NO_CMOS_RTC (1U << 5)

#define GAS_SYSTEM_IO 1U
#define GAS_ACCESS_WORD 2U
#define GAS_ACCESS_DWORD 3U

#define MADT_LAPIC_ADDRESS 0xFEE00000U
#define MADT_TYPE_LAPIC 0U
#define MADT_TYPE_IOAPIC 1U
#define MADT_TYPE_ISO 2U
#define MADT_TYPE_X2APIC 9U
#define MADT_ENABLED 1U
/* APIC IDs from 0xFF up need a type 9 entry; 0xFF itself is the xAPIC broadcast. */
#define X2APIC_FROM_ID 0xFFU

#define ISA_IRQS 16U
#define INTI_RESERVED_BITS 0xFFF0U
#define INTI_POLARITY_RESERVED 0x2U
#define INTI_TRIGGER_RESERVED 0x8U
#define INTI_TRIGGER_MASK 0xCU
#define INTI_POLARITY_MASK 0x3U

#define PORT_SPACE 0x10000U

/* Definition block contents: Name (_S5, Package () { SLP_TYP, SLP_TYP, 0, 0 }), so that
 * Linux's poweroff writes SLP_TYP to PM1a_CNT (the second entry is PM1b's, which does
 * not exist). The bytes: NameOp, the NameSeg "_S5_"; PackageOp, PkgLength 8 (itself and
 * the 7 bytes after it), 4 elements; two BytePrefix SLP_TYP; two ZeroOp. */
static const uint8_t dsdt_aml[] = {
	0x08, '_',  'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, ACPI_S5_SLP_TYP, 0x0A, ACPI_S5_SLP_TYP,
	0x00, 0x00,
};

#define DSDT_LEN (HEADER_LEN + (uint32_t)sizeof(dsdt_aml))

static uint32_t align_up(uint32_t v, uint32_t align)
{
	return (v + align - 1U) & ~(align - 1U);
}

static bool apic_ids_valid(const struct acpi_config *cfg)
{
	if (cfg->apic_ids == NULL) {
		return false;
	}
	for (uint32_t i = 0; i < cfg->vcpu_count; i++) {
		/* Linux skips an entry with ID 0xFFFFFFFF, and two vCPUs cannot share one. */
		if (cfg->apic_ids[i] == UINT32_MAX) {
			return false;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (cfg->apic_ids[j] == cfg->apic_ids[i]) {
				return false;
			}
		}
	}
	return true;
}

static bool ports_valid(const struct acpi_config *cfg)
{
	const uint32_t base[3] = { cfg->pm1a_evt_port, cfg->pm1a_cnt_port, cfg->pm_tmr_port };
	const uint32_t len[3] = { ACPI_PM1_EVT_LEN, ACPI_PM1_CNT_LEN, ACPI_PM_TMR_LEN };

	for (unsigned i = 0; i < 3U; i++) {
		/* ACPICA reports a PM1a block at address 0 as an error, and the PM timer is
		 * the guest's time reference. */
		if (base[i] == 0U || base[i] + len[i] > PORT_SPACE) {
			return false;
		}
		for (unsigned j = 0; j < i; j++) {
			if (base[i] < base[j] + len[j] && base[j] < base[i] + len[i]) {
				return false;
			}
		}
	}
	return true;
}

static bool isos_valid(const struct acpi_config *cfg)
{
	if (cfg->iso_count == 0U) {
		return true;
	}
	/* An override names an IOAPIC input, so there must be an IOAPIC. */
	if (!cfg->has_ioapic || cfg->iso_count > ACPI_MAX_ISOS || cfg->isos == NULL) {
		return false;
	}
	for (uint32_t i = 0; i < cfg->iso_count; i++) {
		const struct acpi_iso *iso = &cfg->isos[i];

		if (iso->source >= ISA_IRQS || (iso->flags & INTI_RESERVED_BITS) != 0U ||
		    (iso->flags & INTI_POLARITY_MASK) == INTI_POLARITY_RESERVED ||
		    (iso->flags & INTI_TRIGGER_MASK) == INTI_TRIGGER_RESERVED) {
			return false;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (cfg->isos[j].source == iso->source) {
				return false;
			}
		}
	}
	return true;
}

/* cfg->oem_id, space-padded to the six bytes of the tables' OEM ID fields. */
static bool oem_id_pad(const char *id, uint8_t oem[6])
{
	unsigned n = 0;

	if (id == NULL) {
		return false;
	}
	while (n < 6U && id[n] != '\0') {
		oem[n] = (uint8_t)id[n];
		n++;
	}
	if (n == 0U || id[n] != '\0') {
		return false;
	}
	for (; n < 6U; n++) {
		oem[n] = ' ';
	}
	return true;
}

static uint32_t madt_length(const struct acpi_config *cfg)
{
	uint32_t len = MADT_FIXED_LEN;

	for (uint32_t i = 0; i < cfg->vcpu_count; i++) {
		len += cfg->apic_ids[i] < X2APIC_FROM_ID ? MADT_LAPIC_LEN : MADT_X2APIC_LEN;
	}
	if (cfg->has_ioapic) {
		len += MADT_IOAPIC_LEN;
	}
	return len + cfg->iso_count * MADT_ISO_LEN;
}

static uint8_t checksum(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++) {
		sum = (uint8_t)(sum + p[i]);
	}
	return (uint8_t)(0U - sum);
}

static void put_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t revision,
		       const uint8_t oem[6])
{
	__builtin_memcpy(t, sig, 4);
	store32(t, 4, len);
	t[8] = revision;
	__builtin_memcpy(t + 10, oem, 6);
	__builtin_memcpy(t + 16, OEM_TABLE_ID, 8);
	store32(t, 24, 1); /* OEM revision */
	__builtin_memcpy(t + 28, CREATOR_ID, 4);
	store32(t, 32, 1); /* creator revision */
}

static void seal(uint8_t *t, uint32_t len)
{
	t[9] = checksum(t, len);
}

static void put_gas_io(uint8_t *g, uint8_t bit_width, uint8_t access, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = bit_width;
	g[2] = 0; /* bit offset */
	g[3] = access;
	store64(g, 4, port);
}

static void build_rsdp(uint8_t *t, const uint8_t oem[6], uint64_t xsdt_gpa)
{
	__builtin_memcpy(t, "RSD PTR ", 8);
	__builtin_memcpy(t + 9, oem, 6);
	t[15] = 2; /* revision: ACPI 2.0 and later, with the XSDT */
	/* RsdtAddress (16) stays 0: Linux uses the XSDT of a revision 2 RSDP. */
	store32(t, 20, RSDP_LEN);
	store64(t, 24, xsdt_gpa);
	t[8] = checksum(t, 20);
	t[32] = checksum(t, RSDP_LEN);
}

static void build_facs(uint8_t *t)
{
	/* No S4BIOS, no waking vector and the global lock free: all zero but the version. */
	__builtin_memcpy(t, "FACS", 4);
	store32(t, 4, FACS_LEN);
	t[32] = 2; /* version */
}

static void build_xsdt(uint8_t *t, const uint8_t oem[6], uint64_t fadt_gpa, uint64_t madt_gpa)
{
	put_header(t, "XSDT", XSDT_LEN, 1, oem);
	store64(t, HEADER_LEN, fadt_gpa);
	store64(t, HEADER_LEN + 8U, madt_gpa);
	seal(t, XSDT_LEN);
}

static void build_fadt(uint8_t *t, const struct acpi_config *cfg, const uint8_t oem[6],
		       uint64_t facs_gpa, uint64_t dsdt_gpa)
{
	uint16_t boot_arch = BOOT_LEGACY_DEVICES | BOOT_NO_VGA;

	/* Without the 8042 flag Linux skips the PS/2 controller; NO_CMOS_RTC stops it
	 * registering the RTC device. */
	if (!cfg->cmos_rtc) {
		boot_arch |= BOOT_NO_CMOS_RTC;
	}
	put_header(t, "FACP", FADT_LEN, 6, oem);
	/* FIRMWARE_CTRL (36) and DSDT (40) stay 0: X_FIRMWARE_CTRL and X_DSDT carry the
	 * addresses (ACPI 5.0 lets only one of the FACS pair be non-zero; ACPICA takes an
	 * X_ field over its 32-bit one). Preferred PM profile (45): 0, unspecified. */
	store16(t, 46, cfg->sci_int);
	/* SMI_CMD (48), ACPI_ENABLE and ACPI_DISABLE stay 0: there is no SMM and no legacy
	 * mode to leave, so ACPICA takes the system as always in ACPI mode. */
	store32(t, 56, cfg->pm1a_evt_port);
	store32(t, 64, cfg->pm1a_cnt_port);
	store32(t, 76, cfg->pm_tmr_port);
	t[88] = ACPI_PM1_EVT_LEN;
	t[89] = ACPI_PM1_CNT_LEN;
	t[91] = ACPI_PM_TMR_LEN;
	/* No PM1b, PM2 or GPE blocks: their addresses and lengths stay 0. C2 and C3 latencies
	 * above 100 and 1000 us: neither state exists. */
	store16(t, 96, 0x0FFF);
	store16(t, 98, 0x0FFF);
	store16(t, 109, boot_arch);
	/* TMR_VAL_EXT (bit 8) clear: the PM timer counts 24 bits. FORCE_APIC_PHYSICAL makes
	 * Linux's x2APIC driver use physical destinations, not logical clusters
	 * (x2apic_fadt_phys()), so the APIC model needs no logical destination mode there. */
	store32(t, 112,
		FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_FIX_RTC |
			FADT_APIC_PHYSICAL);
	/* RESET_REG (116) stays 0: RESET_REG_SUP is clear. */
	t[131] = 3; /* FADT minor version: 6.3 */
	store64(t, 132, facs_gpa);
	store64(t, 140, dsdt_gpa);
	/* The X_ blocks match the 32-bit fields and lengths, as ACPICA checks. */
	put_gas_io(t + 148, ACPI_PM1_EVT_LEN * 8U, GAS_ACCESS_WORD, cfg->pm1a_evt_port);
	put_gas_io(t + 172, ACPI_PM1_CNT_LEN * 8U, GAS_ACCESS_WORD, cfg->pm1a_cnt_port);
	put_gas_io(t + 208, ACPI_PM_TMR_LEN * 8U, GAS_ACCESS_DWORD, cfg->pm_tmr_port);
	seal(t, FADT_LEN);
}

static void build_madt(uint8_t *t, uint32_t len, const struct acpi_config *cfg,
		       const uint8_t oem[6])
{
	uint32_t off = MADT_FIXED_LEN;

	put_header(t, "APIC", len, 5, oem);
	store32(t, 36, MADT_LAPIC_ADDRESS);
	/* Flags (40) stay 0: PCAT_COMPAT clear, the machine has no dual 8259. */
	for (uint32_t i = 0; i < cfg->vcpu_count; i++) {
		uint32_t id = cfg->apic_ids[i];

		/* A Local APIC entry below 0xFF, a Local x2APIC entry from it up: the
		 * specification's rule, which Linux enforces by dropping x2APIC entries
		 * below 0xFF once Local APIC entries exist. */
		if (id < X2APIC_FROM_ID) {
			t[off] = MADT_TYPE_LAPIC;
			t[off + 1U] = MADT_LAPIC_LEN;
			t[off + 2U] = (uint8_t)i; /* ACPI processor UID */
			t[off + 3U] = (uint8_t)id;
			store32(t, off + 4U, MADT_ENABLED);
			off += MADT_LAPIC_LEN;
		} else {
			t[off] = MADT_TYPE_X2APIC;
			t[off + 1U] = MADT_X2APIC_LEN;
			store32(t, off + 4U, id);
			store32(t, off + 8U, MADT_ENABLED);
			store32(t, off + 12U, i); /* ACPI processor UID */
			off += MADT_X2APIC_LEN;
		}
	}
	if (cfg->has_ioapic) {
		t[off] = MADT_TYPE_IOAPIC;
		t[off + 1U] = MADT_IOAPIC_LEN;
		t[off + 2U] = cfg->ioapic_id;
		store32(t, off + 4U, cfg->ioapic_address);
		store32(t, off + 8U, cfg->ioapic_gsi_base);
		off += MADT_IOAPIC_LEN;
	}
	for (uint32_t i = 0; i < cfg->iso_count; i++) {
		t[off] = MADT_TYPE_ISO;
		t[off + 1U] = MADT_ISO_LEN;
		t[off + 2U] = 0; /* bus: ISA */
		t[off + 3U] = cfg->isos[i].source;
		store32(t, off + 4U, cfg->isos[i].gsi);
		store16(t, off + 8U, cfg->isos[i].flags);
		off += MADT_ISO_LEN;
	}
	seal(t, len);
}

static void build_dsdt(uint8_t *t, const uint8_t oem[6])
{
	/* Revision 2: the definition block's integers are 64 bits wide. */
	put_header(t, "DSDT", DSDT_LEN, 2, oem);
	__builtin_memcpy(t + HEADER_LEN, dsdt_aml, sizeof(dsdt_aml));
	seal(t, DSDT_LEN);
}

bool acpi_tables_build(uint8_t *buf, size_t cap, uint64_t gpa, const struct acpi_config *cfg,
		       struct acpi_layout *out)
{
	uint8_t oem[6] = { 0 };

	*out = (struct acpi_layout){ 0 };
	/* Everything is checked, and the size known, before the first byte is written. */
	if (cfg->vcpu_count == 0U || cfg->vcpu_count > ACPI_MAX_VCPUS || !apic_ids_valid(cfg) ||
	    !ports_valid(cfg) || !isos_valid(cfg) || !oem_id_pad(cfg->oem_id, oem) ||
	    !gpa_is_aligned(gpa_init(gpa), FACS_ALIGN)) {
		return false;
	}
	/* Lengths are bounded by ACPI_MAX_VCPUS and ACPI_MAX_ISOS: no overflow below. */
	uint32_t madt_len = madt_length(cfg);
	uint32_t fadt_off = align_up(XSDT_OFF + XSDT_LEN, TABLE_ALIGN);
	uint32_t madt_off = align_up(fadt_off + FADT_LEN, TABLE_ALIGN);
	uint32_t dsdt_off = align_up(madt_off + madt_len, TABLE_ALIGN);
	uint32_t total = dsdt_off + DSDT_LEN;

	if (cap < total || !range_within(gpa, total, UINT64_MAX)) {
		return false;
	}
	__builtin_memset(buf, 0, total);
	build_rsdp(buf, oem, gpa + XSDT_OFF);
	build_facs(buf + FACS_OFF);
	build_xsdt(buf + XSDT_OFF, oem, gpa + fadt_off, gpa + madt_off);
	build_fadt(buf + fadt_off, cfg, oem, gpa + FACS_OFF, gpa + dsdt_off);
	build_madt(buf + madt_off, madt_len, cfg, oem);
	build_dsdt(buf + dsdt_off, oem);

	*out = (struct acpi_layout){
		.rsdp = { gpa, RSDP_LEN },
		.facs = { gpa + FACS_OFF, FACS_LEN },
		.xsdt = { gpa + XSDT_OFF, XSDT_LEN },
		.fadt = { gpa + fadt_off, FADT_LEN },
		.madt = { gpa + madt_off, madt_len },
		.dsdt = { gpa + dsdt_off, DSDT_LEN },
		.total = total,
	};
	return true;
}
