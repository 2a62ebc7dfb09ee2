/* spin.c - ground-truth workload: `spin [-w] MS`.
 *
 * Runs on the CPU without a syscall for MS milliseconds of wall time (it
 * reads the clock through the vDSO), then exits. Several of them on fewer
 * CPUs must wait in the run queue. -w: wait for a byte on stdin first
 * (gate.h). Prints nothing; exits 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gate.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	int w = gate_wait(argc, argv);
	unsigned long x = 0;
	long long end;
	char *e;
	long ms;

	argv += w;
	argc -= w;
	errno = 0;
	ms = argc == 2 ? strtol(argv[1], &e, 10) : -1;
	if (argc != 2 || errno || *e || ms < 0) {
		fprintf(stderr, "usage: spin [-w] MS\n");
		return 2;
	}
	end = now_ms() + ms;
	while (now_ms() < end)
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
	/* x is used, so the loop is not optimised away */
	return x == 1 ? 3 : 0;
}
