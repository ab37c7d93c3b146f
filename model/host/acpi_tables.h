/* The ACPI tables the host gives a guest (ACPI 6.3): RSDP, XSDT, FADT, FACS, DSDT and MADT,
 * built into one buffer the guest sees at a guest-physical address. Under SEV-SNP Linux
 * ignores the MP table, so the MADT is its only description of the vCPUs and the IOAPIC;
 * the FADT gives it the ACPI PM timer, its time reference. The FADT is not hardware-reduced
 * (which forbids the PM timer), so it describes a PM1a event and control block and the
 * FACS that such a FADT requires. Each table's fields are the ones Linux reads: see
 * acpi_tables.c. */
#ifndef MODEL_HOST_ACPI_TABLES_H
#define MODEL_HOST_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Type 0 MADT entries carry an 8-bit processor UID, and UID 0xFF means "every processor"
 * in the NMI entries, so UIDs (the vCPU indices) stop at 0xFE. */
#define ACPI_MAX_VCPUS 255U
/* One override per ISA IRQ at most. */
#define ACPI_MAX_ISOS 16U

/* The register blocks' sizes in I/O ports: PM1 status then PM1 enable (2 bytes each), PM1
 * control, and the PM timer (a 24-bit count at 3.579545 MHz read as 32 bits). */
#define ACPI_PM1_EVT_LEN 4U
#define ACPI_PM1_CNT_LEN 2U
#define ACPI_PM_TMR_LEN 4U

/* The DSDT's \_S5 package names this SLP_TYP: the guest powers off by writing it to
 * PM1a_CNT bits 12:10 with SLP_EN (bit 13). */
#define ACPI_S5_SLP_TYP 5U

/* MPS INTI flags of an interrupt source override: polarity in bits 1:0, trigger mode in
 * bits 3:2 (0 conforms to the bus; 2 is reserved in both). */
#define ACPI_INTI_ACTIVE_HIGH 0x1U
#define ACPI_INTI_ACTIVE_LOW 0x3U
#define ACPI_INTI_EDGE 0x4U
#define ACPI_INTI_LEVEL 0xCU

/* An ISA IRQ wired to another IOAPIC input, or with other polarity or trigger mode. */
struct acpi_iso {
	uint8_t source; /* the ISA IRQ, 0 to 15 */
	uint32_t gsi;
	uint16_t flags; /* ACPI_INTI_* */
};

struct acpi_config {
	const char *oem_id;	  /* 1 to 6 characters, NUL-terminated; padded with spaces */
	uint32_t vcpu_count;	  /* 1 to ACPI_MAX_VCPUS */
	const uint32_t *apic_ids; /* vcpu_count distinct APIC IDs, none 0xFFFFFFFF; vCPU i's
				   * is apic_ids[i], and i is its ACPI processor UID */
	/* I/O port bases of the register blocks: non-zero, inside the 64 KiB port space,
	 * not overlapping one another. */
	uint16_t pm1a_evt_port;
	uint16_t pm1a_cnt_port;
	uint16_t pm_tmr_port;
	uint16_t sci_int; /* the SCI's GSI (its ISA IRQ unless an override moves it) */
	bool cmos_rtc;	  /* an MC146818 RTC at ports 0x70/0x71 */
	bool has_ioapic;
	uint8_t ioapic_id;
	uint32_t ioapic_address;
	uint32_t ioapic_gsi_base;
	uint32_t iso_count; /* at most ACPI_MAX_ISOS, and 0 without an IOAPIC */
	const struct acpi_iso *isos;
};

struct acpi_table_loc {
	uint64_t gpa;
	uint32_t length;
};

struct acpi_layout {
	struct acpi_table_loc rsdp; /* rsdp.gpa is boot_params.acpi_rsdp_addr */
	struct acpi_table_loc facs;
	struct acpi_table_loc xsdt;
	struct acpi_table_loc fadt;
	struct acpi_table_loc madt;
	struct acpi_table_loc dsdt;
	size_t total; /* the bytes used, from buf[0] */
};

/* Builds the tables into buf[0, cap), which the guest will see at gpa (64-byte aligned:
 * the FACS needs that alignment and sits at gpa + 64). The RSDP is at buf[0]. Returns
 * false, with buf untouched and *out zeroed, if cfg is not as described above, if gpa is
 * misaligned or the tables would pass the end of the address space, or if cap is smaller
 * than the tables; otherwise fills *out. */
bool acpi_tables_build(uint8_t *buf, size_t cap, uint64_t gpa, const struct acpi_config *cfg,
		       struct acpi_layout *out);

#endif
