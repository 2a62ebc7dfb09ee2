/* fdleak.c - ground-truth workload: `fdleak [-w] DIR N HOLD`.
 *
 * Makes exactly N descriptors that it never closes: openat(AT_FDCWD,
 * "DIR/leak-K", O_CREAT | O_RDWR) for K = 0..N-1 (the files are created),
 * then sleeps HOLD seconds with all of them open, and exits. -w: wait for a
 * byte on stdin first (gate.h). Prints nothing; exits 0, or 1 on an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

static long arg_count(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || !*s || *end || v < 0 ? -1 : v;
}

int main(int argc, char **argv)
{
	int w = gate_wait(argc, argv);
	char path[4096];
	long n, hold;
	struct timespec ts;

	argv += w;
	argc -= w;
	if (argc != 4 || (n = arg_count(argv[2])) < 0 || (hold = arg_count(argv[3])) < 0) {
		fprintf(stderr, "usage: fdleak [-w] DIR N HOLD\n");
		return 2;
	}
	for (long k = 0; k < n; k++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/leak-%ld", argv[1], k) >= sizeof(path) ||
		    openat(AT_FDCWD, path, O_CREAT | O_RDWR, 0600) < 0) {
			perror("fdleak: open");
			return 1;
		}
	}
	ts.tv_sec = hold;
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 0;
}
