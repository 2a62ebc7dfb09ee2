/* fsyncer.c - ground-truth workload: `fsyncer [-w] FILE N`.
 *
 * Opens FILE (created, truncated) once, then exactly N times writes 4096
 * bytes and calls fsync() on it; closes it. Each write and fsync is checked.
 * -w: wait for a byte on stdin first (gate.h). Prints nothing; exits 0, or 1.
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
	static char buf[4096];
	char *end;
	long n;
	int fd;

	argv += w;
	argc -= w;
	errno = 0;
	n = argc == 3 ? strtol(argv[2], &end, 10) : -1;
	if (argc != 3 || errno || !*argv[2] || *end || n < 0) {
		fprintf(stderr, "usage: fsyncer [-w] FILE N\n");
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	fd = open(argv[1], O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0) {
		perror("fsyncer: open");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fsync(fd) != 0) {
			perror("fsyncer: write/fsync");
			return 1;
		}
	}
	return close(fd) == 0 ? 0 : 1;
}
