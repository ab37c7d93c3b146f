/* Finding the MADT: RSDP -> XSDT (or RSDT) -> "APIC", with every table's length checked
 * against the memory it claims and its checksum verified. */
#include "acpi.h"

#include <donjon/bytes.h>

#include <stdbool.h>
#include <stddef.h>

#include "kernel.h"

#define SDT_HEADER 36U
#define MADT_ENTRIES 44U
#define MADT_LOCAL_APIC 0U
#define MADT_APIC_ENABLED 1U

static uint64_t rsdp_pa;

void acpi_set_rsdp(uint64_t pa)
{
	rsdp_pa = pa;
}

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++) {
		sum = (uint8_t)(sum + p[i]);
	}
	return sum == 0U;
}

/* A whole system description table at pa, or NULL if it is not in RAM or corrupt. */
static const uint8_t *table_at(uint64_t pa)
{
	const uint8_t *h = firmware_ptr(pa, SDT_HEADER);

	if (h == NULL) {
		return NULL;
	}
	uint32_t len = load32(h + 4, 0);
	const uint8_t *t = len >= SDT_HEADER ? firmware_ptr(pa, len) : NULL;

	return t != NULL && checksum_ok(t, len) ? t : NULL;
}

static const uint8_t *find_madt(void)
{
	const uint8_t *rsdp = firmware_ptr(rsdp_pa, 36);

	if (rsdp == NULL || !checksum_ok(rsdp, 20)) {
		return NULL;
	}
	bool xsdt = rsdp[15] >= 2U && checksum_ok(rsdp, 36);
	const uint8_t *root = table_at(xsdt ? load64(rsdp + 24, 0) : load32(rsdp + 16, 0));
	unsigned width = xsdt ? 8U : 4U;

	if (root == NULL) {
		return NULL;
	}
	uint32_t len = load32(root + 4, 0);

	for (uint32_t off = SDT_HEADER; off + width <= len; off += width) {
		const uint8_t *t =
			table_at(width == 8U ? load64(root + off, 0) : load32(root + off, 0));

		if (t != NULL && t[0] == 'A' && t[1] == 'P' && t[2] == 'I' && t[3] == 'C') {
			return t;
		}
	}
	return NULL;
}

unsigned acpi_cpu_apic_ids(uint32_t *ids, unsigned max)
{
	const uint8_t *madt = find_madt();
	unsigned n = 0;

	if (madt == NULL) {
		return 0;
	}
	uint32_t len = load32(madt + 4, 0);

	for (uint32_t off = MADT_ENTRIES; off + 2U <= len && n < max;) {
		uint8_t type = madt[off];
		uint8_t elen = madt[off + 1];

		/* A zero or overlong entry would loop or read past the table. */
		if (elen < 2U || off + elen > len) {
			break;
		}
		if (type == MADT_LOCAL_APIC && elen >= 8U &&
		    (load32(madt + off + 4, 0) & MADT_APIC_ENABLED)) {
			ids[n++] = madt[off + 3];
		}
		off += elen;
	}
	return n;
}
