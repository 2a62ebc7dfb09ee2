/* procmaps.h - the libraries mapped into the test process, from
 * /proc/self/maps, for unit tests that check which library the code would
 * use or that one was never loaded. Include after <cmocka.h>.
 */
#ifndef DIAG_TEST_PROCMAPS_H
#define DIAG_TEST_PROCMAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The realpath of the first library mapped into this process whose file
 * name starts with prefix ("libc.so", "libc-"). */
static inline bool procmaps_lib(const char *const *prefixes, char *out)
{
	char line[PATH_MAX + 256];
	FILE *fp = fopen("/proc/self/maps", "re");
	bool found = false;

	assert_non_null(fp);
	while (!found && fgets(line, sizeof(line), fp)) {
		char *path = strchr(line, '/');
		const char *base;
		size_t i;

		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		base = strrchr(path, '/') + 1;
		for (i = 0; prefixes[i] && !found; i++) {
			if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
				found = realpath(path, out) != NULL;
		}
	}
	fclose(fp);
	return found;
}

#endif
