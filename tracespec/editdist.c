/* editdist.c - optimal string alignment distance with an early exit. */
#include "tracespec/editdist.h"

#include <string.h>

int editdist(const char *a, size_t la, const char *b, size_t lb, int bound)
{
	int rows[3][EDITDIST_MAX + 1];
	int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	int prevmin = 0;

	if (la > EDITDIST_MAX || lb > EDITDIST_MAX || (int)(la > lb ? la - lb : lb - la) > bound)
		return bound + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int rowmin;

		cur[0] = (int)i;
		rowmin = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			int v = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			/* a swap of two neighbours is one edit, not two */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < rowmin)
				rowmin = v;
		}
		/* the next row builds on this one and, for swaps, the one before */
		if (rowmin > bound && prevmin > bound)
			return bound + 1;
		prevmin = rowmin;
		{
			int *t = prev2;

			prev2 = prev;
			prev = cur;
			cur = t;
		}
	}
	return prev[lb] > bound ? bound + 1 : prev[lb];
}
