/*
 * timed FILE PROGRAM ARG...: runs PROGRAM with its arguments (execv, no PATH search), waits
 * for it, and writes the wall time it took, in nanoseconds of CLOCK_MONOTONIC from just
 * before the fork to just after the wait, as one decimal line to FILE. Exits with the
 * program's exit status (128 + the signal's number if a signal ended it; 127 if it could
 * not be run; 2 for a bad command line or an unwritable FILE). For make bench's tpm2-tools
 * latencies inside the Linux guest (tests/linux/init), where busybox's date has no %N.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long long start, end;
	int status = 0;
	FILE *out;
	pid_t pid;

	if (argc < 3) {
		(void)fprintf(stderr, "usage: timed FILE PROGRAM ARG...\n");
		return 2;
	}
	start = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("timed: fork");
		return 2;
	}
	if (pid == 0) {
		execv(argv[2], argv + 2);
		perror("timed: execv");
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid) {
		perror("timed: waitpid");
		return 2;
	}
	end = now_ns();
	out = fopen(argv[1], "w");
	if (out == NULL || fprintf(out, "%lld\n", end - start) < 0 || fclose(out) != 0) {
		perror("timed: the time's file");
		return 2;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
