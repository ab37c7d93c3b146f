/* donjon-sim's TPM endpoint for tpm2-tools (tools/sim/tcti.c), and the host lock that
 * keeps its commands and the command lines apart. */
#ifndef TOOLS_SIM_TCTI_H
#define TOOLS_SIM_TCTI_H

#include <stdint.h>

#include "machine.h"

/* Held while a command line runs and while the endpoint makes a guest's call. */
void sim_host_lock(void);
void sim_host_unlock(void);

/* Listen on 127.0.0.1:port and port + 1 (port 0: a free pair, *bound the first) and serve
 * TPM commands as SVSM_VTPM_CMD calls of the guest on vCPU vcpu with its buffer at buf (a
 * page the guest has validated). NULL on success, otherwise why not. */
const char *sim_tcti_start(struct sim_machine *m, uint16_t port, gpa_t buf, unsigned vcpu,
			   uint16_t *bound);
/* Stop serving; not with the host lock held. */
void sim_tcti_stop(void);

#endif
