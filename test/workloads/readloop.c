/* readloop.c - ground-truth workload: `readloop N M [WAITFILE]`.
 *
 * Opens /dev/zero once, then makes exactly N read(fd, buf, 4096) calls and
 * exactly M read(fd, buf, 100) calls, each checked to return the full size.
 * With WAITFILE, it first waits (polling with access(), which reads nothing)
 * until WAITFILE exists, so a test can learn its pid before any read happens.
 * The dynamic loader's own reads are 832 bytes: they never equal 4096 or 100.
 * Prints nothing; exits 0, or 1 on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long arg_count(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 0)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	static char buf[4096];
	long n, m;
	int fd;

	if (argc < 3 || argc > 4 || (n = arg_count(argv[1])) < 0 || (m = arg_count(argv[2])) < 0) {
		fprintf(stderr, "usage: readloop N M [WAITFILE]\n");
		return 2;
	}
	if (argc == 4) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		/* at most 60 s */
		for (int i = 0; access(argv[3], F_OK) != 0; i++) {
			if (i > 12000) {
				fprintf(stderr, "readloop: %s never appeared\n", argv[3]);
				return 1;
			}
			nanosleep(&ts, NULL);
		}
	}
	fd = open("/dev/zero", O_RDONLY);
	if (fd < 0) {
		perror("readloop: /dev/zero");
		return 1;
	}
	for (long i = 0; i < n; i++)
		if (read(fd, buf, 4096) != 4096) {
			perror("readloop: read 4096");
			return 1;
		}
	for (long i = 0; i < m; i++)
		if (read(fd, buf, 100) != 100) {
			perror("readloop: read 100");
			return 1;
		}
	close(fd);
	return 0;
}
