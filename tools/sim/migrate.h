/* donjon-sim's host side of live migration: the mailbox and ring in shared memory, the
 * stream to the other simulator (a Unix socket carrying only hellos and records), a guest
 * workload that keeps writing while pages are sent, and the progress a person sees. */
#ifndef TOOLS_SIM_MIGRATE_H
#define TOOLS_SIM_MIGRATE_H

#include "machine.h"

/* How sessions are keyed: auto (the test key when the launch has one and its policy
 * allows it, attested otherwise), or as chosen (donjon-sim --migrate-mode). */
enum sim_migrate_mode {
	SIM_MIGRATE_AUTO,
	SIM_MIGRATE_TEST_KEY,
	SIM_MIGRATE_ATTESTED,
};
void sim_migrate_set_mode(enum sim_migrate_mode mode);

/* Destination: listen on path, take one migration, print its outcome. */
void sim_migrate_incoming(struct sim_machine *m, const char *path);
/* Commands: migrate PATH ROUNDS [COUNTER DIRTYBASE DIRTYPAGES], migcancel, statehash. */
void cmd_migrate(struct sim_machine *m, int argc, char **argv);
void cmd_migcancel(struct sim_machine *m, int argc);
void cmd_statehash(struct sim_machine *m, int argc);

#endif
