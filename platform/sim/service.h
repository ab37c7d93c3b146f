/* The simulator's services (platform/sim/service.c): child processes behind the platform
 * interface's plat_service_* calls. */
#ifndef PLATFORM_SIM_SERVICE_H
#define PLATFORM_SIM_SERVICE_H

#include <stddef.h>

#include <donjon/platform.h>

/* How long a service may take over one exchange before it is stopped, by default. */
#define SIM_SERVICE_BUDGET_MS 30000U

void sim_service_set_budget(unsigned ms);

/* Run the program at path as service s: `path --state DIR`, with DIR state_dir, or a new
 * temporary directory (removed at the end) when state_dir is NULL. False with a message in
 * err if it could not be started; a program that cannot be executed starts and dies, and
 * its first exchange says so. */
bool sim_service_start(enum svsm_service s, const char *path, const char *state_dir, char *err,
		       size_t errlen);

/* NULL if service s was never started; "" while it runs (its pid in *pid); otherwise why
 * it was stopped. */
const char *sim_service_state(enum svsm_service s, int *pid);

/* End every service (its input closed, then killed if it has not exited within 2 s) and
 * remove the temporary state directories. */
void sim_service_end_all(void);

#endif
