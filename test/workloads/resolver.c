/* resolver.c - ground-truth workload: `resolver [-w] MODE:NAME:COUNT...`.
 *
 * For each argument, COUNT lookups of NAME through the C library:
 *   gai    getaddrinfo(NAME, NULL, AF_UNSPEC)
 *   num    getaddrinfo with AI_NUMERICHOST: a name that is not an address
 *          fails at once with EAI_NONAME, without asking any server
 *   ghbn   gethostbyname(NAME)
 *   ghbnr  gethostbyname_r(NAME)
 * Prints one line per argument: "MODE NAME OK FAILED". -w: wait for a byte
 * on stdin first (gate.h). Exits 0, or 2 on bad usage.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gate.h"

static int lookup(const char *mode, const char *name)
{
	if (strcmp(mode, "gai") == 0 || strcmp(mode, "num") == 0) {
		struct addrinfo hints, *res = NULL;
		int rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if (strcmp(mode, "num") == 0)
			hints.ai_flags = AI_NUMERICHOST;
		rc = getaddrinfo(name, NULL, &hints, &res);
		if (res)
			freeaddrinfo(res);
		return rc == 0;
	}
	if (strcmp(mode, "ghbn") == 0)
		return gethostbyname(name) != NULL;
	if (strcmp(mode, "ghbnr") == 0) {
		struct hostent he, *out = NULL;
		char buf[8192];
		int herr;

		return gethostbyname_r(name, &he, buf, sizeof(buf), &out, &herr) == 0 && out;
	}
	return -1;
}

int main(int argc, char **argv)
{
	int w = gate_wait(argc, argv);

	argv += w;
	argc -= w;
	if (argc < 2) {
		fprintf(stderr, "usage: resolver [-w] MODE:NAME:COUNT...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		char mode[16], name[256];
		long count, ok = 0, bad = 0;

		if (sscanf(argv[i], "%15[a-z]:%255[^:]:%ld", mode, name, &count) != 3 || count < 0 ||
		    (strcmp(mode, "gai") && strcmp(mode, "num") && strcmp(mode, "ghbn") && strcmp(mode, "ghbnr"))) {
			fprintf(stderr, "resolver: bad argument '%s' (MODE:NAME:COUNT; modes gai num ghbn ghbnr)\n",
				argv[i]);
			return 2;
		}
		for (long k = 0; k < count; k++) {
			if (lookup(mode, name))
				ok++;
			else
				bad++;
		}
		printf("%s %s %ld %ld\n", mode, name, ok, bad);
	}
	return 0;
}
