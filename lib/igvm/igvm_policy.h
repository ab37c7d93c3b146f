/* The guest's migration policy (include/donjon/launch.h) written as the options of
 * donjon-igvm build --migrate-policy and donjon-sim --migrate-policy give it: a comma list of
 *   none                 nothing allowed (the default)
 *   out, in              the guest may leave; a guest may arrive
 *   test-key             sessions keyed by the pre-shared test key
 *   same-measurement     the peer attests this launch digest
 *   measurement=HEX      a peer launch digest allowed (96 hex digits; up to 4)
 *   min-tcb=HEX          the peer's lowest REPORTED_TCB, byte by byte */
#ifndef LIB_IGVM_IGVM_POLICY_H
#define LIB_IGVM_IGVM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <donjon/launch.h>

/* The policy spec says, or false with the reason in why. */
bool igvm_migrate_policy_parse(const char *spec, struct launch_migrate_policy *p, char *why,
			       size_t why_len);

#endif
