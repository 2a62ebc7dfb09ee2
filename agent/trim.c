/* trim.c - give back memory an idle agent does not use. */
#include "agent/trim.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	long pages = 0, rss = 0;

	if (!f)
		return 0;
	/* NOLINTNEXTLINE(cert-err34-c): kernel-formatted /proc/self/statm, not input that can overflow */
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	(void)fclose(f); /* read only */
	return rss * 4;
}

long trim_idle(void)
{
	long before = rss_kb(), after;
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	malloc_trim(0);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		int path = 0;

		/* NOLINTNEXTLINE(cert-err34-c): kernel-formatted /proc/self/maps, not input that can overflow */
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path) < 3 || !path)
			continue;
		/* Read-only or executable file mappings only: never data we wrote,
		 * never the stack, heap or anonymous memory. */
		if (line[path] != '/' || perms[1] == 'w' || perms[3] != 'p')
			continue;
		madvise((void *)lo, hi - lo, MADV_PAGEOUT);
	}
	(void)fclose(f); /* read only */
	after = rss_kb();
	return before > after ? before - after : 0;
}
