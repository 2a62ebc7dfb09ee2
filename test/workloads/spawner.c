/* spawner.c - ground-truth workload: `spawner [-w] N PROG [ARG...]`.
 *
 * Exactly N times, one after another: fork(), execv(PROG, [PROG, ARG...])
 * in the child, waitpid() in the parent. Each child is short-lived (PROG is
 * e.g. /bin/true). -w: wait for a byte on stdin first (gate.h). Prints
 * nothing; exits 0, or 1 when a child failed or did not exit 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gate.h"

int main(int argc, char **argv)
{
	int w = gate_wait(argc, argv);
	char *end;
	long n;

	argv += w;
	argc -= w;
	errno = 0;
	n = argc >= 3 ? strtol(argv[1], &end, 10) : -1;
	if (argc < 3 || errno || n < 0 || *end) {
		fprintf(stderr, "usage: spawner [-w] N PROG [ARG...]\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		int st;
		pid_t pid = fork();

		if (pid < 0) {
			perror("spawner: fork");
			return 1;
		}
		if (pid == 0) {
			execv(argv[2], &argv[2]);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "spawner: child %ld failed\n", i);
			return 1;
		}
	}
	return 0;
}
