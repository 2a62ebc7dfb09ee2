/* connrefused.c - ground-truth workload: `connrefused [-w] PORT N`.
 *
 * Exactly N times: a TCP socket, a blocking connect() to 127.0.0.1:PORT
 * that must fail with ECONNREFUSED (the test gives a port nothing listens
 * on), and close(). -w: wait for a byte on stdin first (gate.h). Prints
 * nothing; exits 0, or 1 when a connect did anything else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gate.h"

int main(int argc, char **argv)
{
	int w = gate_wait(argc, argv);
	struct sockaddr_in sa;
	char *end;
	long port, n;

	argv += w;
	argc -= w;
	errno = 0;
	port = argc == 3 ? strtol(argv[1], &end, 10) : -1;
	n = argc == 3 ? strtol(argv[2], NULL, 10) : -1;
	if (argc != 3 || errno || port < 1 || port > 65535 || n < 0) {
		fprintf(stderr, "usage: connrefused [-w] PORT N\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0) {
			perror("connrefused: socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != ECONNREFUSED) {
			fprintf(stderr, "connrefused: connect %ld: expected ECONNREFUSED, got %s\n", i,
				errno ? strerror(errno) : "success");
			return 1;
		}
		close(fd);
	}
	return 0;
}
