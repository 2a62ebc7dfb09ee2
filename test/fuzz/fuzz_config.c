/* fuzz_config.c - libFuzzer target: the agent.conf loader, and the fixed
 * point load(print(load(x))): whatever loads must print as text that loads
 * again to the same printout. Built and run by test/fuzz/run.sh config. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"

static char *print(const struct config *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	config_print(c, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, c2;
	struct config_error err;
	char *p1, *p2;
	size_t l1, l2;

	config_init(&c);
	if (config_parse_text(&c, (const char *)data, size, "fuzz.conf", &err) == 0) {
		p1 = print(&c, &l1);
		config_init(&c2);
		if (config_parse_text(&c2, p1, l1, "printed.conf", &err) != 0) {
			fprintf(stderr, "fixed-point violation: the printout does not load: %s\n%s", err.msg, p1);
			abort();
		}
		p2 = print(&c2, &l2);
		if (l1 != l2 || memcmp(p1, p2, l1) != 0) {
			fprintf(stderr, "fixed-point violation: printouts differ\n%s---\n%s", p1, p2);
			abort();
		}
		free(p1);
		free(p2);
		config_release(&c2);
	} else if (!err.msg[0]) {
		fprintf(stderr, "an error without a message\n");
		abort();
	}
	config_release(&c);
	return 0;
}
