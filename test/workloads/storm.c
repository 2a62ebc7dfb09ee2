/* storm.c - ground-truth workload: `storm N`.
 *
 * Opens /dev/zero once and makes exactly N read(fd, buf, 1) calls as fast as
 * it can, each checked to return 1. The dynamic loader's reads are 832 bytes,
 * so `arg3 == 1` selects exactly these N. Prints nothing; exits 0, or 1 on any
 * error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char c;
	char *end;
	long n;
	int fd;

	errno = 0;
	n = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || errno || *argv[1] == '\0' || *end != '\0' || n < 0) {
		fprintf(stderr, "usage: storm N\n");
		return 2;
	}
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0) {
		perror("storm: /dev/zero");
		return 1;
	}
	for (long i = 0; i < n; i++)
		if (read(fd, &c, 1) != 1) {
			perror("storm: read");
			return 1;
		}
	close(fd);
	return 0;
}
