/* PVALIDATE and RMPADJUST as core/ performs them: each platform call followed by the
 * matching update of the page tracking, so the two never drift apart. Callers hold the
 * core lock and have checked alignment and ownership. */
#ifndef CORE_MM_PAGEOPS_H
#define CORE_MM_PAGEOPS_H

#include <donjon/platform.h>

enum rmp_result pageops_pvalidate(gpa_t gpa, enum page_size size, bool validate);

/* Full access for VMPL1..upto_vmpl (the caller and every more privileged VMPL); clears
 * the VMSA bit. Stops at the first failure. */
enum rmp_result pageops_grant(gpa_t gpa, enum page_size size, unsigned upto_vmpl);

/* No access for VMPL1..3; clears the VMSA bit. Stops at the first failure. */
enum rmp_result pageops_revoke(gpa_t gpa, enum page_size size);

/* Put back the VMPL1..3 permissions recorded in saved (from pagestate_get). */
enum rmp_result pageops_restore(gpa_t gpa, enum page_size size, const uint8_t saved[4]);

/* Migration (pagestate.h's held mark): make the RMP grant VMPL1..3 only the recorded
 * permissions ANDed with keep (the tracking keeps its record), or again exactly the
 * recorded ones. Hold stops at the first failure, leaving the page held. */
enum rmp_result pageops_hold(gpa_t gpa, enum page_size size, uint8_t keep);
enum rmp_result pageops_release(gpa_t gpa, enum page_size size);

/* Set the VMSA bit, leaving the VMSA's own VMPL read access only. */
enum rmp_result pageops_make_vmsa(gpa_t gpa, unsigned vmpl);

#endif
