/* openmissing.c - ground-truth workload: `openmissing [-w] DIR N`.
 *
 * Makes exactly N calls openat(AT_FDCWD, "DIR/missing-K", O_RDONLY) for
 * K = 0..N-1, in that order; each must fail with ENOENT (the test gives an
 * empty directory). Prints nothing; exits 0, or 1 when an open did not fail
 * with ENOENT. -w: wait for a byte on stdin first (gate.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate.h"

int main(int argc, char **argv)
{
	int w = gate_wait(argc, argv);
	char path[4096];
	char *end;
	long n;

	argv += w;
	argc -= w;
	errno = 0;
	n = argc == 3 ? strtol(argv[2], &end, 10) : -1;
	if (argc != 3 || errno || *argv[2] == '\0' || *end != '\0' || n < 0) {
		fprintf(stderr, "usage: openmissing [-w] DIR N\n");
		return 2;
	}
	for (long k = 0; k < n; k++) {
		int fd;

		if ((size_t)snprintf(path, sizeof(path), "%s/missing-%ld", argv[1], k) >= sizeof(path)) {
			fprintf(stderr, "openmissing: path too long\n");
			return 1;
		}
		fd = openat(AT_FDCWD, path, O_RDONLY);
		if (fd >= 0 || errno != ENOENT) {
			fprintf(stderr, "openmissing: %s: expected ENOENT, got %s\n", path,
				fd >= 0 ? "success" : strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
	}
	return 0;
}
