/* The sample IGVM file (see igvm_sample.h). */
#include "igvm_sample.h"

#include <string.h>

#include "igvm_file.h"
#include "igvm_launch.h"

bool igvm_sample_build(uint8_t **buf, size_t *len)
{
	static uint8_t page_a[IGVM_PAGE], page_b[IGVM_PAGE], vmsa[IGVM_PAGE];
	struct igvm_writer *w = igvm_writer_new();
	struct igvm_supported_platform snp = { SNP_MASK, 2, IGVM_PLATFORM_SEV_SNP, 1, 0 };
	struct igvm_supported_platform native = { NATIVE_MASK, 0, IGVM_PLATFORM_NATIVE, 1, 0 };
	struct igvm_page_data d = { 0x100000, SNP_MASK | NATIVE_MASK, 0, 0, 0, 0 };
	struct igvm_parameter_area area = { IGVM_PAGE, 7, 0 };
	struct igvm_parameter vp_count = { 7, 0 };
	struct igvm_parameter_insert insert = { 0x200000, SNP_MASK | NATIVE_MASK, 7 };
	struct igvm_vp_context vp = { SNP_VMSA_MEASURE_GPA, SNP_MASK, 0, 0, 0 };
	bool ok = w != NULL;

	memset(page_a, 0xA5, sizeof(page_a));
	memset(page_b, 0x5A, sizeof(page_b));
	igvm_reset_vmsa(vmsa, 1, IGVM_VCPU_SIG_EPYC_V4);
	ok = ok && igvm_writer_add(w, IGVM_VHT_SUPPORTED_PLATFORM, &snp, sizeof(snp));
	ok = ok && igvm_writer_add(w, IGVM_VHT_SUPPORTED_PLATFORM, &native, sizeof(native));
	for (unsigned i = 0; ok && i < 3; i++) {
		d.gpa = 0x100000 + i * IGVM_PAGE;
		ok = igvm_writer_add(w, IGVM_VHT_PAGE_DATA, &d, sizeof(d)) &&
		     igvm_writer_add_data(w, 12, i == 1 ? page_b : page_a, IGVM_PAGE, IGVM_PAGE);
	}
	d.gpa = 0x104000;
	ok = ok && igvm_writer_add(w, IGVM_VHT_PAGE_DATA, &d, sizeof(d));
	ok = ok && igvm_writer_add(w, IGVM_VHT_PARAMETER_AREA, &area, sizeof(area));
	ok = ok && igvm_writer_add(w, IGVM_VHT_VP_COUNT_PARAMETER, &vp_count, sizeof(vp_count));
	ok = ok && igvm_writer_add(w, IGVM_VHT_PARAMETER_INSERT, &insert, sizeof(insert));
	ok = ok && igvm_writer_add(w, IGVM_VHT_VP_CONTEXT, &vp, sizeof(vp));
	ok = ok && igvm_writer_add_data(w, 12, vmsa, IGVM_PAGE, IGVM_PAGE);
	ok = ok && igvm_writer_finish(w, 1, buf, len);
	igvm_writer_free(w);
	return ok;
}
