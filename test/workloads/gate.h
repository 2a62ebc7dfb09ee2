/* gate.h - the workloads' start gate: with -w first, wait for one byte on
 * standard input before doing anything, so a test can learn the pid and
 * attach a trace first. A read from a pipe makes no other syscall (no
 * polling, no failed stat) that a trace of the workload could count.
 */
#ifndef DIAG_WORKLOAD_GATE_H
#define DIAG_WORKLOAD_GATE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Skip a leading -w in argv (returns how many arguments it took) and,
 * when it is there, wait for a byte on stdin. Exits 1 when stdin ends first. */
static inline int gate_wait(int argc, char **argv)
{
	char c;

	if (argc < 2 || strcmp(argv[1], "-w") != 0)
		return 0;
	if (read(0, &c, 1) != 1) {
		fprintf(stderr, "%s: standard input ended before the start byte\n", argv[0]);
		_exit(1);
	}
	return 1;
}

#endif
